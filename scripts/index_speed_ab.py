"""Indexing speed of this tree against another (a baseline), in the same run, alternating.

    python scripts/index_speed_ab.py BASELINE_TREE [--photos 30] [--rounds 3] [--flip]

Makes the ``facefinder bench`` corpus (4000x3000 JPEGs with 4 real faces each), then times
``facefinder index`` of it into a fresh library (a fresh process: start-up included), with
``PYTHONPATH`` set to this tree and to ``BASELINE_TREE`` in turn, ``--rounds`` times each.
``--flip`` adds a third arm: this tree with flip averaging switched on in the default pipeline
(two FaceNet passes per face), to measure what it would cost. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
FLIP = ("import sys; from dataclasses import replace; from facefinder.core import align; "
        "p = align.PIPELINES[align.DEFAULT_PIPELINE]; "
        "align.PIPELINES[p.name] = replace(p, flip=True); "
        "from facefinder.cli import main; sys.exit(main(sys.argv[1:]))")


def run(tree: Path, corpus: Path, work: Path, flip: bool = False) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree), FACEFINDER_DATA_DIR=str(work / "data"))
    lib = Path(tempfile.mkdtemp(dir=work, prefix="lib-"))
    cmd = ([sys.executable, "-c", FLIP] if flip else [sys.executable, "-m", "facefinder.cli"])
    t0 = time.perf_counter()
    subprocess.run([*cmd, "index", str(corpus), "--library", str(lib), "-q"], env=env,
                   check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("baseline", type=Path)
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flip", action="store_true")
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from facefinder.bench import _default_data, make_large_corpus

    data = args.data or _default_data()
    with tempfile.TemporaryDirectory(prefix="facefinder-ab-") as tmp:
        work = Path(tmp)
        corpus = work / "large"
        make_large_corpus(data, corpus, args.photos)
        arms = {"this tree": (HERE, False), "baseline": (args.baseline.resolve(), False)}
        if args.flip:
            arms["this tree, flip averaging"] = (HERE, True)
        times: dict[str, list[float]] = {k: [] for k in arms}
        run(HERE, corpus, work)  # warm the OS file cache and the model cache
        for _ in range(args.rounds):
            for name, (tree, flip) in arms.items():
                times[name].append(run(tree, corpus, work, flip))
    out = {"date": time.strftime("%Y-%m-%d"), "photos": args.photos, "size": "4000x3000",
           "faces_per_photo": 4, "rounds": args.rounds}
    for name, ts in times.items():
        med = statistics.median(ts)
        out[name] = {"seconds": [round(t, 1) for t in ts], "median_s": round(med, 1),
                     "photos_per_s": round(args.photos / med, 3)}
    base = out["baseline"]["photos_per_s"]
    for name in times:
        out[name]["vs_baseline"] = round(out[name]["photos_per_s"] / base, 3)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
