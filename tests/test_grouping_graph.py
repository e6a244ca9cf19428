"""``edge_graph`` and ``chinese_whispers`` tested directly against plain reference code (loops
over Python dicts, written from their docstrings), on random graphs: numpy in, labels out.

The hand-made cases are in ``test_grouping.py``; grouping real photos in ``test_people.py``."""

from __future__ import annotations

import numpy as np
import pytest

from facefinder.core.grouping import ITERATIONS, chinese_whispers, edge_graph


def random_knn(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(idx (n, k), dist (n, k))`` of the kind kNN gives, made awkward on purpose: missing
    neighbours (-1, inf), a node listed as its own neighbour, the same edge from both ends (with
    a different distance from each end, as rounding can give) and distances on the threshold."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, (n, k))
    dist = rng.choice([0.1, 0.3, 0.5, 0.7, 0.9, 1.0, 1.2], (n, k)).astype(np.float32)
    idx[rng.random((n, k)) < 0.15] = -1
    dist[idx < 0] = np.inf
    idx[0, 0], dist[0, 0] = 0, 0.0  # a self-edge
    return idx, dist


def reference_edges(idx, dist, threshold, rows=None) -> dict[tuple[int, int], float]:
    """``{(a, b): weight}`` both ways, per the docstring: an edge under ``threshold`` between
    different nodes, once per undirected pair (its first occurrence, scanning rows in order),
    weighted ``1 - d / threshold``."""
    rows = range(len(idx)) if rows is None else rows
    first: dict[tuple[int, int], float] = {}
    for r, row in enumerate(rows):
        for b, d in zip(idx[r], dist[r]):
            if b < 0 or d >= threshold or b == row:
                continue
            key = (min(row, int(b)), max(row, int(b)))
            first.setdefault(key, float(d))
    out = {}
    for (a, b), d in first.items():
        out[(a, b)] = out[(b, a)] = 1.0 - d / threshold
    return out


def csr_edges(indptr, nbrs, weights) -> dict[tuple[int, int], float]:
    out = {}
    for a in range(len(indptr) - 1):
        for j in range(indptr[a], indptr[a + 1]):
            assert (a, int(nbrs[j])) not in out, "an edge listed twice from one end"
            out[(a, int(nbrs[j]))] = float(weights[j])
    return out


@pytest.mark.parametrize("seed", range(5))
def test_edge_graph_matches_the_reference(seed):
    idx, dist = random_knn(40, 6, seed)
    threshold = 1.0
    indptr, nbrs, weights = edge_graph(idx, dist, threshold)
    assert indptr.shape == (41,) and indptr[0] == 0 and indptr[-1] == len(nbrs) == len(weights)
    assert np.all(np.diff(indptr) >= 0)
    got, want = csr_edges(indptr, nbrs, weights), reference_edges(idx, dist, threshold)
    assert got.keys() == want.keys()
    for key, w in want.items():
        assert got[key] == pytest.approx(w, abs=1e-6), key
    # a distance equal to the threshold is no edge, and weights stay in (0, 1]
    assert np.all((weights > 0) & (weights <= 1))


def test_edge_graph_of_some_rows_over_more_nodes():
    idx, dist = random_knn(30, 5, seed=7)
    rows = np.arange(100, 130)
    idx = np.where(idx >= 0, idx * 3 + 40, -1)  # neighbours spread over 200 nodes
    indptr, nbrs, weights = edge_graph(idx, dist, 0.8, rows=rows, n=200)
    assert len(indptr) == 201
    assert csr_edges(indptr, nbrs, weights).keys() == \
        reference_edges(idx, dist, 0.8, rows=rows.tolist()).keys()


def best_label(node, labels, edges, banned) -> int:
    """The docstring's rule for one node: the allowed neighbour label with the largest summed
    weight (ties: the smallest label); its own label when it has no allowed one."""
    score: dict[int, float] = {}
    for (a, b), w in edges.items():
        if a == node and (node, labels[b]) not in banned:
            score[labels[b]] = score.get(labels[b], 0.0) + w
    if not score:
        return int(labels[node])
    top = max(score.values())
    return min(lab for lab, s in score.items() if s >= top - 1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_chinese_whispers_ends_where_every_free_node_holds_its_best_label(seed):
    rng = np.random.default_rng(seed)
    n = 60
    idx, dist = random_knn(n, 5, seed)
    graph = edge_graph(idx, dist, 1.0)
    labels = np.arange(n, dtype=np.int64) * 2  # labels need not be 0..n-1
    frozen = rng.random(n) < 0.2
    forbidden = {int(a): {int(rng.integers(0, n)) * 2} for a in rng.integers(0, n, 8)}
    out = chinese_whispers(*graph, labels, frozen, forbidden, seed=seed)
    edges = csr_edges(*graph)
    banned = {(a, lab) for a, labs in forbidden.items() for lab in labs}
    assert out.dtype == np.int64 and out.shape == (n,)
    assert np.array_equal(out[frozen], labels[frozen])  # frozen nodes keep theirs
    lonely = np.diff(graph[0]) == 0
    assert np.array_equal(out[lonely], labels[lonely])  # and nodes without an edge
    assert set(out.tolist()) <= set(labels.tolist())  # only labels that were there
    for a in range(n):
        assert (a, int(out[a])) not in banned or out[a] == labels[a]
        if not frozen[a] and not lonely[a]:
            assert out[a] == best_label(a, out, edges, banned), a  # nothing left to change
    assert np.array_equal(labels, np.arange(n) * 2)  # the caller's array is not changed


def test_chinese_whispers_repeats_itself_for_a_seed_and_reports_each_round():
    idx, dist = random_knn(80, 6, seed=3)
    graph = edge_graph(idx, dist, 1.0)
    start, free = np.arange(80), np.zeros(80, bool)
    rounds = []
    first = chinese_whispers(*graph, start, free, seed=11,
                             progress=lambda stage, done, total: rounds.append((stage, done,
                                                                                total)))
    assert np.array_equal(first, chinese_whispers(*graph, start, free, seed=11))
    assert rounds and [r[1] for r in rounds] == list(range(1, len(rounds) + 1))
    assert {(r[0], r[2]) for r in rounds} == {("grouping", ITERATIONS)}


def test_chinese_whispers_refuses_negative_labels():
    indptr, nbrs, weights = edge_graph(np.array([[1], [0]]), np.array([[0.2], [0.2]]), 1.0)
    with pytest.raises(ValueError):
        chinese_whispers(indptr, nbrs, weights, np.array([-1, 3]), np.zeros(2, bool))
