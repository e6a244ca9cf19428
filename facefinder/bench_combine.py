"""``facefinder bench combine LIBRARY``: searching with several photos of one person, nearest to
any of them or to their mean: which ranks that person's other photos better (mAP, P@5)? On a
library indexed from one folder per person (``../shared/data/faces``), the largest face of each
photo. See :func:`facefinder.core.multi_query.measure_combine`."""

from __future__ import annotations

import json

import numpy as np

from .bench_grouping import largest_faces
from .core.library import Library
from .core.multi_query import measure_combine


def main(args) -> int:
    lib = Library.open(args.library, None, create=False)
    try:
        scored, truth = largest_faces(lib)
        ids, emb = lib.embeddings_of(scored.tolist())
    finally:
        lib.close()
    order = {f: i for i, f in enumerate(scored.tolist())}
    labels = [truth[order[f]] for f in ids.tolist()]
    # Only folders of one person count (groups/ and nonfaces/ are not identities).
    keep = np.array([lbl not in ("groups", "nonfaces") for lbl in labels])
    scores = measure_combine(emb[keep], [lbl for lbl, k in zip(labels, keep) if k],
                             tuple(args.queries), args.trials, seed=args.seed,
                             min_faces=args.min_faces)
    if args.json:
        print(json.dumps([s.__dict__ for s in scores]))
        return 0
    print(f"{int(keep.sum())} faces (largest of each photo), {len(set(labels))} folders; "
          f"{args.trials} random query sets per identity and size; identities with at least "
          f"{args.min_faces} faces")
    print("| query photos | combine | trials | mAP | R-precision |\n"
          "| --- | --- | --- | --- | --- |")
    for s in scores:
        print(f"| {s.queries} | {s.combine} | {s.trials} | {s.map:.3f} | {s.r_precision:.3f} |")
    return 0
