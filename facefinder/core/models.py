"""Every model file the engine needs, together: made ahead of time, and their reference values.

The one module that knows all the models at once (FaceNet from the weights, MTCNN's three nets),
above each of them; for ``facefinder model fetch`` and for the maintainers' reference values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import facenet, mtcnn_lite, weights
from .model_files import REF_SHAPES, REFS_FILE, by_last_dim, reference_input
from .tflite import LiteModel


def prepare_lite_models(weights_file: Path) -> list[Path]:
    """Convert every model the lite backend needs (FaceNet from ``weights_file``, and MTCNN's
    three nets) into the cache where missing; for ``facefinder model fetch``, so that the first
    search does not pay for the conversion (about half a minute, with TensorFlow). Returns the
    paths."""
    return [facenet.ensure_lite_model(weights_file), *mtcnn_lite.ensure_lite_models().values()]


def write_refs() -> None:
    """Compute the reference outputs from the cached models and store them in the package;
    FaceNet's are cross-checked against the TensorFlow function built from the weights."""
    refs: dict = {}
    h5 = weights.fetch_weights()
    lite = LiteModel(facenet.ensure_lite_model(h5))
    x = reference_input(REF_SHAPES["facenet"])
    out = by_last_dim(lite.run(x))
    tf_out = facenet.FaceNet(facenet.ensure_fast_form(h5)).embed(x)
    assert float(np.max(np.abs(tf_out - out["128"]))) < 1e-4, "LiteRT and TensorFlow disagree"
    refs["facenet"] = {k: np.round(v.astype(np.float64), 6).tolist() for k, v in out.items()}
    for net, path in mtcnn_lite.ensure_lite_models().items():
        out = by_last_dim(LiteModel(path).run(reference_input(REF_SHAPES[net])))
        refs[net] = {k: np.round(v.astype(np.float64), 6).tolist() for k, v in out.items()}
    REFS_FILE.write_text(json.dumps(refs, separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--write-refs"]:
        write_refs()
        print(f"wrote {REFS_FILE}")
