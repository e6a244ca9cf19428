"""Grouping faces into people: pure functions, numpy arrays in and labels out.

Chinese whispers (Biemann 2006, the method dlib uses for face clustering) over the graph whose
edges join each face to its ``K`` nearest faces when their Euclidean distance is under a
threshold. It needs no number of groups, and takes seeds: nodes that keep their label (faces
already placed) and pull free nodes towards it, which is how new faces join existing people.
The edge weight is ``1 - d / threshold`` (closer faces pull harder).

Everything here is vectorised so that a million faces fit in seconds and bounded memory: the
graph is CSR arrays (no per-node Python objects), and each round of Chinese whispers updates a
random block of nodes at once (a sort of their (node, neighbour label) pairs) instead of one node
at a time. Blocks of a sixteenth of the nodes keep what the one-at-a-time version does: a node
sees the labels its neighbours took in earlier blocks of the same round, and ties between
neighbours that swap labels are broken by the next round's shuffle. Only nodes whose
neighbourhood changed are looked at again.

The storage of people (which face belongs to whom, names, corrections) is in
:mod:`facefinder.core.people`; the measurements that chose the threshold are in the README.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from .progress import Progress

DEFAULT_CLUSTER_THRESHOLD = 1.0
"""Edge threshold (Euclidean distance between unit embeddings). Lower than the verification
threshold (1.2): a group is built from chains of edges, so each edge must be surer than a single
yes/no verdict (README, "Quality")."""

NEIGHBOURS = 10
"""K: edges per face before the threshold (a face has at most K + incoming edges)."""

ITERATIONS = 30
"""Rounds of Chinese whispers at most (it usually settles in under ten)."""

BLOCKS = 16
"""Each round updates the nodes in this many random blocks (see the module docstring)."""

# progress(stage, done, total) with the stages 'neighbours', 'grouping', 'saving'


class Cancelled(Exception):
    """``should_stop()`` said stop."""


# -- neighbours --------------------------------------------------------------------------------
def knn(emb: np.ndarray, k: int = NEIGHBOURS, rows: np.ndarray | None = None,
        should_stop: Callable[[], bool] | None = None, progress: Progress | None = None,
        max_distance: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The exact ``k`` nearest other rows of each of ``rows`` (default: all) of ``emb``
    (N, 128) unit float32, optionally only those closer than ``max_distance``.

    Returns ``(index (R, k') int64 into emb, distance (R, k') float32)``, nearest first,
    k' = min(k, N-1); missing neighbours are index -1, distance inf. Blocked matrix products:
    O(R * N) time, O(1024 * N) memory; for large libraries the caller uses the HNSW index."""
    n = len(emb)
    rows = np.arange(n) if rows is None else np.asarray(rows, np.int64)
    k = min(k, n - 1)
    if k <= 0 or len(rows) == 0:
        return np.zeros((len(rows), 0), np.int64), np.zeros((len(rows), 0), np.float32)
    emb = np.ascontiguousarray(emb, np.float32)
    idx = np.full((len(rows), k), -1, np.int64)
    dist = np.full((len(rows), k), np.inf, np.float32)
    # Unit vectors: d^2 = 2 - 2 cos, so "closer than max_distance" is "cos above min_sim".
    min_sim = None if max_distance is None else 1.0 - max_distance ** 2 / 2.0
    block = 1024
    for start in range(0, len(rows), block):
        if should_stop and should_stop():
            raise Cancelled
        stop = min(len(rows), start + block)
        part_rows = rows[start:stop]
        sims = emb[part_rows] @ emb.T
        sims[np.arange(stop - start), part_rows] = -np.inf  # not itself
        if min_sim is None:
            part = np.argpartition(sims, n - k, axis=1)[:, n - k:]
            ps = np.take_along_axis(sims, part, axis=1)
            order = np.argsort(-ps, axis=1)
            idx[start:stop] = np.take_along_axis(part, order, axis=1)
            ps = np.take_along_axis(ps, order, axis=1)
            dist[start:stop] = np.sqrt(np.maximum(2.0 - 2.0 * ps, 0.0))
        else:
            # Few pairs are close: pick them out, rank them within each row (much faster than a
            # partition of the whole block).
            r, c = np.nonzero(sims > min_sim)
            vals = sims[r, c]
            order = np.lexsort((-vals, r))
            r, c, vals = r[order], c[order], vals[order]
            rank = np.arange(len(r)) - np.searchsorted(r, r)
            keep = rank < k
            r, c, vals, rank = r[keep], c[keep], vals[keep], rank[keep]
            idx[start + r, rank] = c
            dist[start + r, rank] = np.sqrt(np.maximum(2.0 - 2.0 * vals, 0.0))
        if progress:
            progress("neighbours", stop, len(rows))
    return idx, dist


def linked_neighbours(links: np.ndarray, vectors: np.ndarray, rows: np.ndarray,
                      k: int = NEIGHBOURS, eligible: np.ndarray | None = None,
                      max_distance: float | None = None, should_stop=None,
                      block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest of the nodes each of ``rows`` is linked to in a neighbour graph (the
    bottom layer of an HNSW index: ``links`` (N, L) int node indices, -1 for none), by the
    distances between ``vectors`` (N, 128) unit float32.

    ``eligible`` (N,) bool: only those nodes count. Returns ``(index (R, k) int64, distance
    (R, k) float32)`` nearest first, -1 / inf where fewer are linked (or under
    ``max_distance``). Memory: a block of rows at a time (``block * L * 128`` floats)."""
    rows = np.asarray(rows, np.int64)
    idx = np.full((len(rows), k), -1, np.int64)
    dist = np.full((len(rows), k), np.inf, np.float32)

    def one_block(start: int) -> None:
        part = rows[start:start + block]
        nb = links[part].astype(np.int64)
        ok = (nb >= 0) & (nb != part[:, None])
        nb[~ok] = 0
        if eligible is not None:
            ok &= eligible[nb]
        # Unit vectors: d^2 = 2 - 2 a.b, one batched matrix product per block.
        dots = np.matmul(vectors[nb], vectors[part][:, :, None])[:, :, 0]
        d = np.sqrt(np.maximum(2.0 - 2.0 * dots, 0.0)).astype(np.float32)
        d[~ok] = np.inf
        if max_distance is not None:
            d[d >= max_distance] = np.inf
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        dk = np.take_along_axis(d, order, axis=1)
        ik = np.where(np.isfinite(dk), np.take_along_axis(nb, order, axis=1), -1)
        idx[start:start + len(part), :dk.shape[1]] = ik
        dist[start:start + len(part), :dk.shape[1]] = dk

    _in_blocks(len(rows), block, one_block, should_stop)
    return idx, dist


def widen(idx: np.ndarray, vectors: np.ndarray, rows: np.ndarray, k: int = NEIGHBOURS,
          max_distance: float = DEFAULT_CLUSTER_THRESHOLD, width: int = 3, should_stop=None,
          block: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Each of ``rows``'s ``k`` nearest among its neighbours and its nearest neighbours'
    neighbours, closer than ``max_distance``: ``(index (R, k) int64, distance (R, k)
    float32)``, -1 / inf where fewer.

    ``idx`` (N, K): every node's neighbours, nearest first (-1: none), e.g. from
    :func:`linked_neighbours`; ``vectors`` (N, 128) unit float32. The second hop goes through
    the ``width`` nearest neighbours of each node and takes their ``width`` nearest: HNSW's
    links are chosen to spread out (a link is dropped when the node it leads to is closer to
    one already kept), so a face keeps only one to three of its own person's other faces, and
    its person's other faces are among their nearest."""
    rows = np.asarray(rows, np.int64)
    w = min(width, idx.shape[1])
    out_i = np.full((len(rows), k), -1, np.int64)
    out_d = np.full((len(rows), k), np.inf, np.float32)

    def one_block(start: int) -> None:
        part = rows[start:start + block]
        one = idx[part]
        two = idx[np.maximum(one[:, :w], 0), :w].reshape(len(part), -1)
        two[np.repeat(one[:, :w] < 0, w, axis=1)] = -1
        cand = np.sort(np.concatenate([one, two], axis=1), axis=1)
        dup = np.zeros(cand.shape, bool)
        dup[:, 1:] = cand[:, 1:] == cand[:, :-1]
        bad = dup | (cand < 0) | (cand == part[:, None])
        cand[bad] = 0
        dots = np.matmul(vectors[cand], vectors[part][:, :, None])[:, :, 0]
        d = np.sqrt(np.maximum(2.0 - 2.0 * dots, 0.0)).astype(np.float32)
        d[bad | (d >= max_distance)] = np.inf
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        dk = np.take_along_axis(d, order, axis=1)
        out_i[start:start + len(part), :dk.shape[1]] = np.where(
            np.isfinite(dk), np.take_along_axis(cand, order, axis=1), -1)
        out_d[start:start + len(part), :dk.shape[1]] = dk

    _in_blocks(len(rows), block, one_block, should_stop)
    return out_i, out_d


def _in_blocks(n: int, block: int, work: Callable[[int], None], should_stop=None) -> None:
    """``work(start)`` for every block of ``n`` rows, on as many threads as there are cores (at
    most 4): numpy lets go of the interpreter lock while it gathers, multiplies and sorts."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    starts = list(range(0, n, block))
    threads = max(1, min(4, os.cpu_count() or 1, len(starts)))
    if threads == 1:
        for start in starts:
            if should_stop and should_stop():
                raise Cancelled
            work(start)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="facefinder-grouping") as pool:
        for wave in range(0, len(starts), 4 * threads):
            if should_stop and should_stop():
                raise Cancelled
            for future in [pool.submit(work, s) for s in starts[wave:wave + 4 * threads]]:
                future.result()


# -- the graph ---------------------------------------------------------------------------------
def edge_graph(idx: np.ndarray, dist: np.ndarray, threshold: float,
               rows: np.ndarray | None = None, n: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The undirected graph of kNN edges under ``threshold`` in CSR form over ``n`` nodes:
    ``(indptr (n+1,) int64, neighbours (E,) int32, weights (E,) float32 = 1 - d / threshold)``.

    ``idx``/``dist`` (R, k) hold the neighbours of ``rows`` (default: every node; index -1 =
    none). An edge found from both ends appears once per direction."""
    idx = np.asarray(idx)
    if rows is None:
        rows = np.arange(len(idx))
    n = len(idx) if n is None else int(n)
    r, c = np.nonzero((np.asarray(dist) < threshold) & (idx >= 0))
    a = np.asarray(rows, np.int64)[r]
    b = idx[r, c].astype(np.int64)
    d = np.asarray(dist, np.float32)[r, c]
    del r, c
    mine = a != b
    a, b, d = a[mine], b[mine], d[mine]
    # Each undirected edge once: key (low end, high end), first occurrence kept.
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    del a, b
    key = lo * n + hi
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.ones(len(key), bool)
    first[1:] = key[1:] != key[:-1]
    pick = order[first]
    del key, order, first
    lo, hi, d = lo[pick], hi[pick], d[pick]
    src = np.concatenate([lo, hi])
    dst = np.concatenate([hi, lo]).astype(np.int32 if n < 2**31 else np.int64)
    w = (1.0 - np.concatenate([d, d]) / threshold).astype(np.float32)
    del lo, hi, d
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, dst[order], w[order]


# -- Chinese whispers --------------------------------------------------------------------------
def chinese_whispers(indptr: np.ndarray, nbrs: np.ndarray, weights: np.ndarray,
                     labels: np.ndarray, frozen: np.ndarray,
                     forbidden: Mapping[int, set[int]] | None = None,
                     iterations: int = ITERATIONS, seed: int = 0,
                     should_stop: Callable[[], bool] | None = None,
                     progress: Progress | None = None,
                     apart: np.ndarray | None = None) -> np.ndarray:
    """Chinese whispers label propagation over a CSR graph (see :func:`edge_graph`).

    ``labels`` (N,) int64 >= 0 start labels (distinct per free node, or a person's label for
    seeds); ``frozen`` (N,) bool: nodes that keep their label (they still pass it on);
    ``forbidden``: node -> labels it must never take. In each round the free nodes, in random
    blocks, take the label with the largest summed edge weight among their neighbours (ties: the
    smallest label), until no label changes. Returns the new labels (N,) int64.

    ``apart`` (N,) int64, optional: a cannot-link class per node (the photo a face is in; -1:
    none). A free node never takes a label that another node of its class holds, so two faces
    of one photo never end up as one person (unless seeds already put them there). Start labels
    must already respect it (distinct free labels do)."""
    labels = np.array(labels, np.int64, copy=True)
    n = len(labels)
    indptr = np.asarray(indptr, np.int64)
    free = ~np.asarray(frozen, bool) & (np.diff(indptr) > 0)
    if n == 0 or not free.any():
        return labels
    if labels.min() < 0:
        raise ValueError("labels must be >= 0")
    base = int(labels.max()) + 1  # (node, label) pairs are keyed node * base + label
    banned = _pair_keys(forbidden, base, n)
    rng = np.random.default_rng(seed)
    active = free.copy()
    together = _shared_classes(apart, n)
    for it in range(iterations):
        if should_stop and should_stop():
            raise Cancelled
        todo = np.flatnonzero(active)
        if len(todo) == 0:
            break
        active[:] = False
        rng.shuffle(todo)
        size = -(-len(todo) // BLOCKS)
        changed = 0
        for start in range(0, len(todo), size):
            nodes = todo[start:start + size]
            best = _best_labels(nodes, indptr, nbrs, weights, labels, base, banned,
                                None if together is None else (apart, together))
            differs = best != labels[nodes]
            if together is not None:
                differs &= _first_of_class(nodes, best, differs, apart)
            moved = nodes[differs]
            if len(moved):
                labels[moved] = best[differs]
                changed += len(moved)
                active[nbrs[_edge_positions(indptr, moved)]] = True
        active &= free
        if progress:
            progress("grouping", it + 1, iterations)
        if changed == 0:
            break
    return labels


def _edge_positions(indptr: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Positions in the CSR arrays of every edge of ``nodes``, node by node."""
    starts = indptr[nodes]
    counts = indptr[nodes + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    return np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)


def _shared_classes(apart: np.ndarray | None, n: int) -> np.ndarray | None:
    """The nodes whose cannot-link class holds another node too (sorted), or None when no class
    does (then the rule costs nothing)."""
    if apart is None:
        return None
    apart = np.asarray(apart, np.int64)
    if len(apart) != n:
        raise ValueError("apart must have one class per node")
    nodes = np.flatnonzero(apart >= 0)
    if len(nodes) < 2:
        return None
    order = np.argsort(apart[nodes], kind="stable")
    cls = apart[nodes][order]
    shared = np.zeros(len(cls), bool)
    shared[1:] |= cls[1:] == cls[:-1]
    shared[:-1] |= cls[:-1] == cls[1:]
    out = np.sort(nodes[order][shared])
    return out if len(out) else None


def _class_label_keys(apart: np.ndarray, together: np.ndarray, labels: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``(sorted class * L + label keys of the nodes in shared classes, L)``: which labels each
    class holds now, with how many nodes (repeated keys)."""
    span = int(labels.max()) + 1
    return np.sort(apart[together] * span + labels[together]), np.asarray(span)


def _first_of_class(nodes: np.ndarray, best: np.ndarray, moving: np.ndarray,
                    apart: np.ndarray) -> np.ndarray:
    """Of the nodes of one block moving to a label, only the first of each (class, label) may:
    two faces of one photo updated in the same block could otherwise both take it."""
    keep = np.ones(len(nodes), bool)
    cls = apart[nodes]
    idx = np.flatnonzero(moving & (cls >= 0))
    if len(idx) < 2:
        return keep
    span = int(best.max()) + 1
    key = cls[idx] * span + best[idx]
    order = np.argsort(key, kind="stable")
    dup = np.zeros(len(idx), bool)
    dup[1:] = key[order][1:] == key[order][:-1]
    keep[idx[order][dup]] = False
    return keep


def _best_labels(nodes: np.ndarray, indptr: np.ndarray, nbrs: np.ndarray,
                 weights: np.ndarray, labels: np.ndarray, base: int,
                 banned: np.ndarray, apart: tuple[np.ndarray, np.ndarray] | None = None
                 ) -> np.ndarray:
    """For each of ``nodes``: the allowed neighbour label with the largest summed weight (ties:
    the smallest label), or its own label when it has none. ``apart``: ``(class per node, nodes
    in shared classes)``: a label another node of the node's class holds is not allowed."""
    best = labels[nodes].copy()
    e = _edge_positions(indptr, nodes)
    if len(e) == 0:
        return best
    owner = np.repeat(np.arange(len(nodes), dtype=np.int64), np.diff(indptr)[nodes])
    key = owner * base + labels[nbrs[e]]
    order = np.argsort(key, kind="stable")
    key = key[order]
    w = weights[e][order].astype(np.float64)
    head = np.ones(len(key), bool)
    head[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(head)
    score = np.add.reduceat(w, starts)
    key = key[starts]
    own, lab = np.divmod(key, base)
    if len(banned):
        ok = ~_in_sorted(nodes[own] * base + lab, banned)
        own, lab, score = own[ok], lab[ok], score[ok]
        if len(own) == 0:
            return best
    if apart is not None and len(own):
        classes, together = apart
        held, span = _class_label_keys(classes, together, labels)
        cls = classes[nodes[own]]
        fits = (cls >= 0) & (lab < span)
        key = np.where(fits, cls * span + np.minimum(lab, span - 1), -1)
        # Nodes of the class holding that label, less the node itself when it holds it.
        count = np.searchsorted(held, key, side="right") - np.searchsorted(held, key)
        count -= (labels[nodes[own]] == lab) & fits
        ok = ~(fits & (count > 0))
        own, lab, score = own[ok], lab[ok], score[ok]
        if len(own) == 0:
            return best
    # Groups are sorted by (owner, label): the first maximum of each owner has the smallest label.
    first = np.ones(len(own), bool)
    first[1:] = own[1:] != own[:-1]
    starts = np.flatnonzero(first)
    top = np.maximum.reduceat(score, starts)
    top_of = np.repeat(top, np.diff(np.append(starts, len(own))))
    cand = np.flatnonzero(score >= top_of)
    keep = np.ones(len(cand), bool)
    keep[1:] = own[cand[1:]] != own[cand[:-1]]
    cand = cand[keep]
    best[own[cand]] = lab[cand]
    return best


def _pair_keys(forbidden: Mapping[int, set[int]] | None, base: int, n: int) -> np.ndarray:
    """Sorted ``node * base + label`` keys of the forbidden pairs (labels that cannot occur are
    dropped)."""
    if not forbidden:
        return np.zeros(0, np.int64)
    keys = [int(node) * base + int(lab) for node, labs in forbidden.items() if 0 <= node < n
            for lab in labs if 0 <= lab < base]
    return distinct(np.asarray(keys, np.int64))


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array (a sort: numpy's hashing ``np.unique``
    was 100 times slower on a million keys here)."""
    values = np.sort(np.asarray(values).ravel())
    keep = np.ones(len(values), bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _in_sorted(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    pos = np.searchsorted(table, values)
    pos[pos == len(table)] = 0
    return table[pos] == values


# -- all at once -------------------------------------------------------------------------------
def group_labels(emb: np.ndarray, threshold: float = DEFAULT_CLUSTER_THRESHOLD,
                 seeds: np.ndarray | None = None, forbidden: Mapping[int, set[int]] | None = None,
                 k: int = NEIGHBOURS, should_stop=None, progress=None,
                 apart: np.ndarray | None = None) -> np.ndarray:
    """Group ``emb`` (N, 128) unit vectors (exact neighbours); returns (N,) int64 labels.

    ``seeds`` (N,) int64: a label >= 0 fixes that row's label (a known person); -1 rows are free
    and start in their own label (``max(seeds) + 1 + row``). ``forbidden``: row -> labels.
    ``apart`` (N,): cannot-link classes (see :func:`chinese_whispers`)."""
    n = len(emb)
    if seeds is None:
        seeds = np.full(n, -1, np.int64)
    frozen = seeds >= 0
    base = int(seeds.max()) + 1 if n and frozen.any() else 0
    labels = np.where(frozen, seeds, base + np.arange(n)).astype(np.int64)
    if n < 2:
        return labels
    idx, dist = knn(emb, k, should_stop=should_stop, progress=progress, max_distance=threshold)
    indptr, nbrs, weights = edge_graph(idx, dist, threshold)
    return chinese_whispers(indptr, nbrs, weights, labels, frozen, forbidden,
                            should_stop=should_stop, progress=progress, apart=apart)


def pairwise_scores(truth, predicted) -> tuple[float, float]:
    """Pairwise (precision, recall) of a grouping: over all pairs of items put in one group, the
    share that are one true identity; over all pairs of one identity, the share put in one
    group. ``truth``, ``predicted``: one label per item (any hashable values)."""
    _, t = np.unique(np.asarray(truth), return_inverse=True)
    _, p = np.unique(np.asarray(predicted), return_inverse=True)

    def pairs(counts: np.ndarray) -> int:
        counts = counts.astype(np.int64)
        return int((counts * (counts - 1) // 2).sum())

    both = np.sort(t.astype(np.int64) * (p.max() + 1 if len(p) else 1) + p)
    starts = np.flatnonzero(np.diff(both, prepend=-1))
    tp = pairs(np.diff(np.append(starts, len(both))))
    pp = pairs(np.bincount(p)) if len(p) else 0
    tt = pairs(np.bincount(t)) if len(t) else 0
    return (tp / pp if pp else 1.0), (tp / tt if tt else 1.0)
