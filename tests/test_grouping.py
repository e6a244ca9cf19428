"""The pure grouping functions (numpy in, labels out), on small arrays whose answer is known.

The grouping of real photos through a library is tested in ``test_people.py``."""

from __future__ import annotations

import numpy as np
import pytest

from facefinder.core import grouping
from facefinder.core.grouping import (Cancelled, chinese_whispers, edge_graph, group_labels,
                                      knn, pairwise_scores)


def blobs(centres: int, per: int, spread: float = 0.03, seed: int = 0
          ) -> tuple[np.ndarray, np.ndarray]:
    """``centres`` tight groups of ``per`` unit vectors (about 0.4 apart within a group, 1.4
    between groups) and each vector's group."""
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, 128))
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    v = np.repeat(c, per, axis=0) + rng.normal(0, spread, (centres * per, 128))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32), \
        np.repeat(np.arange(centres), per)


def graph(edges: list[tuple[int, int, float]], n: int):
    """CSR arrays of an undirected graph given as (a, b, weight) edges."""
    idx = np.full((n, n), -1, np.int64)
    dist = np.full((n, n), np.inf, np.float32)
    used = [0] * n
    for a, b, w in edges:
        idx[a, used[a]], dist[a, used[a]] = b, (1.0 - w)  # threshold 1: weight = 1 - d
        used[a] += 1
    return edge_graph(idx, dist, 1.0)


def test_knn_is_exact():
    emb, _ = blobs(5, 8, spread=0.2)
    idx, dist = knn(emb, 4)
    full = np.linalg.norm(emb[:, None] - emb[None], axis=2)
    np.fill_diagonal(full, np.inf)
    want = np.argsort(full, axis=1, kind="stable")[:, :4]
    np.testing.assert_allclose(dist, np.take_along_axis(full, want, axis=1), atol=1e-5)
    assert (idx != np.arange(len(emb))[:, None]).all()
    # Only those closer than max_distance; the rest are -1 / inf.
    near_idx, near = knn(emb, 4, max_distance=0.5)
    assert ((near < 0.5) == (near_idx >= 0)).all() and np.isinf(near[near_idx < 0]).all()
    np.testing.assert_allclose(near[near_idx >= 0], dist[near_idx >= 0], atol=1e-5)


def test_edge_graph_is_undirected_once_per_direction_and_thresholded():
    # 0-1 found from both ends, 1-2 from one end, 2-3 too far.
    idx = np.array([[1, -1], [0, 2], [3, -1], [-1, -1]])
    dist = np.array([[0.2, np.inf], [0.2, 0.5], [1.5, np.inf], [np.inf, np.inf]], np.float32)
    indptr, nbrs, weights = edge_graph(idx, dist, 1.0)
    edges = {(a, int(nbrs[e]), round(float(weights[e]), 4))
             for a in range(4) for e in range(indptr[a], indptr[a + 1])}
    assert edges == {(0, 1, 0.8), (1, 0, 0.8), (1, 2, 0.5), (2, 1, 0.5)}
    assert indptr.tolist() == [0, 1, 3, 4, 4]
    # Rows given: neighbours of rows 2 and 5 of a 6-node graph.
    indptr, nbrs, _ = edge_graph(np.array([[5], [2]]), np.array([[0.1], [0.1]]), 1.0,
                                 rows=np.array([2, 5]), n=6)
    assert indptr.tolist() == [0, 0, 0, 1, 1, 1, 2] and nbrs.tolist() == [5, 2]


def test_chinese_whispers_finds_the_groups_of_blobs():
    emb, truth = blobs(6, 8)
    labels = group_labels(emb)
    assert pairwise_scores(truth, labels) == (1.0, 1.0)
    assert len(set(labels.tolist())) == 6


def test_seeds_keep_their_label_and_pull_free_nodes():
    emb, truth = blobs(3, 6)
    seeds = np.full(len(emb), -1, np.int64)
    seeds[0:4], seeds[6:10] = 100, 200  # two known people; two new faces of each
    labels = group_labels(emb, seeds=seeds)
    assert (labels[truth == 0] == 100).all() and (labels[truth == 1] == 200).all()
    third = set(labels[truth == 2].tolist())
    assert len(third) == 1 and third.isdisjoint({100, 200}) and min(third) > 200


def test_forbidden_labels_are_never_taken():
    emb, truth = blobs(2, 6)
    seeds = np.full(len(emb), -1, np.int64)
    seeds[[0, 1, 2, 5]] = 7  # faces 3 and 4 are new; 3 was moved out of person 7 by the user
    labels = group_labels(emb, seeds=seeds, forbidden={3: {7}})
    assert labels[3] != 7 and labels[4] == 7


def test_the_heaviest_label_wins_and_ties_go_to_the_smallest():
    # Node 0 (free) between seeds: label 5 pulls with 0.3 + 0.3, label 9 with 0.5.
    indptr, nbrs, weights = graph([(0, 1, 0.3), (0, 2, 0.3), (0, 3, 0.5)], 4)
    labels = chinese_whispers(indptr, nbrs, weights, np.array([0, 5, 5, 9]),
                              np.array([False, True, True, True]))
    assert labels.tolist() == [5, 5, 5, 9]
    indptr, nbrs, weights = graph([(0, 1, 0.5), (0, 2, 0.5)], 3)
    labels = chinese_whispers(indptr, nbrs, weights, np.array([0, 9, 4]),
                              np.array([False, True, True]))
    assert labels.tolist() == [4, 9, 4]
    # A node whose only neighbour's label is forbidden keeps its own.
    labels = chinese_whispers(indptr, nbrs, weights, np.array([0, 9, 4]),
                              np.array([False, True, True]), forbidden={0: {4, 9}})
    assert labels[0] == 0


def test_pairs_and_cliques_settle_on_one_label():
    """Two free nodes joined only to each other would swap labels forever if updated at the
    same moment; a pair, a triangle and a clique of 30 each end as one group."""
    for n in (2, 3, 30):
        edges = [(i, j, 0.9) for i in range(n) for j in range(i + 1, n)]
        indptr, nbrs, weights = graph(edges, n)
        for seed in range(5):
            labels = chinese_whispers(indptr, nbrs, weights, np.arange(n), np.zeros(n, bool),
                                      seed=seed)
            assert len(set(labels.tolist())) == 1, (n, seed, labels)


def test_isolated_and_frozen_nodes_are_left_alone():
    indptr, nbrs, weights = graph([(1, 2, 0.9)], 4)
    labels = chinese_whispers(indptr, nbrs, weights, np.array([10, 11, 12, 13]),
                              np.array([False, True, False, False]))
    assert labels.tolist() == [10, 11, 11, 13]


def test_blocks_match_one_at_a_time_on_many_groups(monkeypatch):
    """Updating a sixteenth of the nodes at once (the vectorised version) finds the same groups
    as updating them one at a time."""
    emb, truth = blobs(40, 12, spread=0.06, seed=3)
    idx, dist = knn(emb, 10, max_distance=1.0)
    g = edge_graph(idx, dist, 1.0)
    start = np.arange(len(emb))
    free = np.zeros(len(emb), bool)
    blocked = chinese_whispers(*g, start, free)
    monkeypatch.setattr(grouping, "BLOCKS", len(emb))  # one node per block
    single = chinese_whispers(*g, start, free)
    assert pairwise_scores(truth, blocked) == pairwise_scores(truth, single) == (1.0, 1.0)


def test_should_stop_cancels():
    emb, _ = blobs(3, 5)
    with pytest.raises(Cancelled):
        group_labels(emb, should_stop=lambda: True)
    seen = []
    group_labels(emb, progress=lambda *a: seen.append(a[0]))
    assert {"neighbours", "grouping"} <= set(seen)


def test_pairwise_scores():
    assert pairwise_scores(["a", "a", "b", "b"], [1, 1, 2, 2]) == (1.0, 1.0)
    # One group of everything: precision 2 right pairs of 6, recall all.
    assert pairwise_scores(["a", "a", "b", "b"], [0, 0, 0, 0]) == (pytest.approx(2 / 6), 1.0)
    # All apart: no predicted pairs (precision 1 by convention), recall 0.
    assert pairwise_scores(["a", "a", "b"], [1, 2, 3]) == (1.0, 0.0)


def test_linked_neighbours_ranks_a_nodes_links_by_distance():
    emb, _ = blobs(2, 4, spread=0.1)
    links = np.full((8, 6), -1, np.int32)
    links[0, :5] = [7, 3, 1, 0, 2]  # a far one, three near ones, itself
    links[1, :2] = [0, 5]
    near, dist = grouping.linked_neighbours(links, emb, np.array([0, 1, 4]), k=3)
    d = np.linalg.norm(emb[0] - emb[[1, 2, 3, 7]], axis=1)
    want = np.array([1, 2, 3, 7])[np.argsort(d)][:3]
    assert near[0].tolist() == want.tolist() and (np.diff(dist[0]) >= 0).all()
    assert near[2].tolist() == [-1, -1, -1] and np.isinf(dist[2]).all()  # node 4: no links
    # Only eligible nodes, only under max_distance.
    eligible = np.ones(8, bool)
    eligible[want[0]] = False
    near, dist = grouping.linked_neighbours(links, emb, np.array([0, 1]), k=3,
                                            eligible=eligible, max_distance=1.0)
    assert want[0] not in near[0] and 7 not in near[0] and 5 not in near[1]
    np.testing.assert_allclose(dist[0][near[0] >= 0],
                               np.linalg.norm(emb[0] - emb[near[0][near[0] >= 0]], axis=1),
                               atol=1e-5)


def test_one_more_hop_finds_the_faces_hnsw_links_left_out():
    """Each face linked to only one other face of its person (and to strangers), as HNSW's
    spread-out links can leave it: alone that splits people; one more hop does not."""
    emb, truth = blobs(8, 5, spread=0.06, seed=2)
    n = len(emb)
    rng = np.random.default_rng(1)
    links = np.full((n, 6), -1, np.int32)
    for i in range(n):
        group = np.flatnonzero(truth == truth[i])
        links[i, 0] = group[(np.searchsorted(group, i) + 1) % len(group)]  # the next one only
        links[i, 1:] = rng.choice(np.flatnonzero(truth != truth[i]), 5, replace=False)
    near, dist = grouping.linked_neighbours(links, emb, np.arange(n), max_distance=1.0)
    assert ((near >= 0).sum(axis=1) == 1).all()
    alone = chinese_whispers(*edge_graph(near, dist, 1.0), np.arange(n), np.zeros(n, bool))
    assert pairwise_scores(truth, alone)[1] < 0.8  # rings of five: split
    wide, wdist = grouping.widen(near, emb, np.arange(n), max_distance=1.0)
    assert ((wide >= 0).sum(axis=1) >= 2).all()
    assert (truth[wide[wide >= 0]] == np.repeat(truth, (wide >= 0).sum(axis=1))).all()
    labels = chinese_whispers(*edge_graph(wide, wdist, 1.0), np.arange(n), np.zeros(n, bool))
    assert pairwise_scores(truth, labels) == (1.0, 1.0)
