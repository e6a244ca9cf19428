"""FaceNet (Inception-ResNet-v1, 20170512-110547) as a TensorFlow function or a LiteRT model.

The ``.h5`` file's ``model_config`` describes the graph, but its 21 Lambda layers hold Python 3.6
bytecode, so Keras cannot load it on a current Python. Instead :func:`compile_model` reads the
config as data, folds every inference-time BatchNormalization into the convolution or dense layer
before it, and writes a *fast form*: one ``.npz`` with the folded weights and the graph as JSON.
:class:`FaceNet` builds a ``tf.function`` from that file in well under a second, where rebuilding
from the ``.h5`` takes several. :class:`FaceNetLite` runs the same function converted once to a
float32 ``.tflite`` file (see :mod:`facefinder.core.tflite`), without importing TensorFlow.

Shapes: input ``(N, 160, 160, 3)`` float32, prewhitened (see :mod:`facefinder.core.align`);
output ``(N, 128)`` float32, L2-normalized.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import ModelDamagedError
from .model_files import REF_SHAPES, by_last_dim, check_lite, compare, record_written, \
    reference_input, verify
from .paths import cache_dir
from .tflite import LiteModel, bundled_model, convert_concrete_function, ensure_model
from .weights import FAST_FORM_VERSION, WEIGHTS_SHA256, facenet_lite_name

INPUT_SIZE = 160
EMBEDDING_DIM = 128
_BN_EPS_DEFAULT = 1e-3


def fast_form_path() -> Path:
    return cache_dir() / f"facenet-{WEIGHTS_SHA256[:12]}-folded-v{FAST_FORM_VERSION}.npz"


def fingerprint() -> str:
    """Identifies the weights *and* the way they are run; stored in every library."""
    return f"facenet-20170512-110547:{WEIGHTS_SHA256[:16]}:v{FAST_FORM_VERSION}"


def _layer_weights(h5file, name: str) -> dict[str, np.ndarray]:
    group = h5file["model_weights"][name]
    out = {}
    for wname in group.attrs.get("weight_names", []):
        wname = wname.decode() if isinstance(wname, bytes) else wname
        short = wname.split("/")[-1].split(":")[0]
        out[short] = np.asarray(group[wname], dtype=np.float32)
    return out


def compile_model(h5_path: Path, out_path: Path | None = None) -> Path:
    """Turn the Keras ``.h5`` into the folded fast form; returns its path.

    Each op in the resulting graph is a dict with ``op`` in {input, conv, dense, relu, concat,
    maxpool, scalesum, gap} and ``inputs`` naming earlier ops; conv and dense carry folded
    ``w``/``b`` arrays in the archive under ``<name>/w`` and ``<name>/b``.
    """
    import h5py  # only needed once, when the fast form is made

    out_path = Path(out_path or fast_form_path())
    with h5py.File(h5_path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        layers = config["config"]["layers"]
        consumers: dict[str, list[str]] = {}
        for layer in layers:
            for node in layer["inbound_nodes"]:
                for inbound in node:
                    consumers.setdefault(inbound[0], []).append(layer["name"])
        alias: dict[str, str] = {}  # layer folded away -> the op that now produces its output
        ops: list[dict] = []
        arrays: dict[str, np.ndarray] = {}
        by_name = {layer["name"]: layer for layer in layers}

        def src(name: str) -> str:
            while name in alias:
                name = alias[name]
            return name

        for layer in layers:
            cls, cfg, name = layer["class_name"], layer["config"], layer["name"]
            inputs = [src(inb[0]) for node in layer["inbound_nodes"] for inb in node]
            if cls == "InputLayer":
                ops.append({"name": name, "op": "input", "inputs": []})
            elif cls in ("Conv2D", "Dense"):
                w = _layer_weights(f, name)
                kernel = w["kernel"]
                bias = w.get("bias", np.zeros(kernel.shape[-1], np.float32))
                nxt = consumers.get(name, [])
                if len(nxt) == 1 and by_name[nxt[0]]["class_name"] == "BatchNormalization":
                    bn_name = nxt[0]
                    bn = _layer_weights(f, bn_name)
                    eps = by_name[bn_name]["config"].get("epsilon", _BN_EPS_DEFAULT)
                    gamma = bn.get("gamma", np.ones_like(bn["moving_mean"]))
                    beta = bn.get("beta", np.zeros_like(bn["moving_mean"]))
                    inv = gamma / np.sqrt(bn["moving_variance"] + eps)
                    kernel = kernel * inv  # broadcasts over the output-channel axis
                    bias = (bias - bn["moving_mean"]) * inv + beta
                    alias[bn_name] = name
                arrays[f"{name}/w"] = kernel.astype(np.float32)
                arrays[f"{name}/b"] = bias.astype(np.float32)
                op = {"name": name, "op": "conv" if cls == "Conv2D" else "dense", "inputs": inputs}
                if cls == "Conv2D":
                    op["strides"] = list(cfg["strides"])
                    op["padding"] = cfg["padding"].upper()
                if cfg.get("activation", "linear") not in ("linear", None):
                    raise ValueError(f"unexpected fused activation in {name}")
                ops.append(op)
            elif cls == "BatchNormalization":
                if name not in alias:
                    raise ValueError(f"BatchNormalization {name} does not follow a conv/dense")
            elif cls == "Activation":
                if cfg["activation"] != "relu":
                    raise ValueError(f"unexpected activation {cfg['activation']} in {name}")
                ops.append({"name": name, "op": "relu", "inputs": inputs})
            elif cls == "Concatenate":
                ops.append({"name": name, "op": "concat", "inputs": inputs})
            elif cls == "MaxPooling2D":
                ops.append({
                    "name": name, "op": "maxpool", "inputs": inputs,
                    "pool": list(cfg["pool_size"]), "strides": list(cfg["strides"]),
                    "padding": cfg["padding"].upper(),
                })
            elif cls == "Lambda":
                # Every Lambda in this model is `inputs[0] + inputs[1] * scale` (ScaleSum).
                ops.append({
                    "name": name, "op": "scalesum", "inputs": inputs,
                    "scale": float(cfg["arguments"]["scale"]),
                })
            elif cls == "GlobalAveragePooling2D":
                ops.append({"name": name, "op": "gap", "inputs": inputs})
            elif cls == "Dropout":
                alias[name] = inputs[0]  # identity at inference
            else:
                raise ValueError(f"unsupported layer {cls} ({name})")
        output = src(config["config"]["output_layers"][0][0])
    graph = {"version": FAST_FORM_VERSION, "ops": ops, "output": output}
    arrays["__graph__"] = np.frombuffer(json.dumps(graph).encode(), dtype=np.uint8)
    fd, tmp = tempfile.mkstemp(prefix=".facenet-", suffix=".npz", dir=out_path.parent)
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        data = Path(tmp).read_bytes()
        os.replace(tmp, out_path)
        record_written(out_path, data)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out_path


def load_fast_form(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The graph and folded arrays of a fast-form file; ModelDamagedError when unreadable."""
    try:
        with np.load(path) as z:
            graph = json.loads(bytes(z["__graph__"]).decode())
            arrays = {k: z[k] for k in z.files if k != "__graph__"}
    except Exception as exc:  # zipfile.BadZipFile, zlib.error, KeyError, ValueError, OSError
        raise ModelDamagedError(f"The FaceNet fast-form file {path} is damaged ({exc}).",
                                path) from None
    return graph, arrays


def ensure_fast_form(h5_path: Path) -> Path:
    """The fast form for ``h5_path``, compiling it first if it is missing or unreadable."""
    path = fast_form_path()
    if path.is_file():
        try:
            with np.load(path) as z:
                if "__graph__" in z.files:
                    return path
        except Exception:  # damaged: made again below
            pass
    return compile_model(h5_path, path)


def _forward_function(fast_form: Path):
    """A Python function ``x (N, 160, 160, 3) -> (N, 128)`` of TensorFlow ops, with the folded
    weights as constants. Imports TensorFlow. Used by :class:`FaceNet` and the lite converter."""
    import tensorflow as tf

    graph, arrays = load_fast_form(fast_form)
    consts = {k: tf.constant(v) for k, v in arrays.items()}
    ops = graph["ops"]
    output = graph["output"]

    def forward(x):
        values = {}
        for op in ops:
            kind, ins = op["op"], [values[i] for i in op["inputs"]]
            if kind == "input":
                y = x
            elif kind == "conv":
                y = tf.nn.conv2d(ins[0], consts[op["name"] + "/w"], op["strides"], op["padding"])
                y = tf.nn.bias_add(y, consts[op["name"] + "/b"])
            elif kind == "dense":
                y = tf.matmul(ins[0], consts[op["name"] + "/w"]) + consts[op["name"] + "/b"]
            elif kind == "relu":
                y = tf.nn.relu(ins[0])
            elif kind == "concat":
                y = tf.concat(ins, axis=-1)
            elif kind == "maxpool":
                y = tf.nn.max_pool2d(ins[0], op["pool"], op["strides"], op["padding"])
            elif kind == "scalesum":
                y = ins[0] + ins[1] * op["scale"]
            elif kind == "gap":
                y = tf.reduce_mean(ins[0], axis=[1, 2])
            else:  # pragma: no cover - compile_model only emits the kinds above
                raise ValueError(kind)
            values[op["name"]] = y
        return tf.math.l2_normalize(values[output], axis=1)

    return forward


def _input_spec():
    import tensorflow as tf

    return tf.TensorSpec([None, INPUT_SIZE, INPUT_SIZE, 3], tf.float32)


def _check_batch(batch: np.ndarray) -> np.ndarray:
    batch = np.asarray(batch, dtype=np.float32)
    if batch.ndim != 4 or batch.shape[1:] != (INPUT_SIZE, INPUT_SIZE, 3):
        raise ValueError(f"expected (N, 160, 160, 3), got {batch.shape}")
    return batch


class FaceNet:
    """The embedding network on full TensorFlow. Create it on the thread that will use it.

    ``embed(batch)``: ``(N, 160, 160, 3)`` float32 prewhitened -> ``(N, 128)`` float32, unit norm.
    """

    def __init__(self, fast_form: Path):
        import tensorflow as tf

        self._fn = tf.function(_forward_function(fast_form), input_signature=[_input_spec()])
        self._fn.get_concrete_function()  # trace now, not on the first face
        self.sha256 = verify(fast_form, lambda: compare(
            "FaceNet", by_last_dim([self.embed(reference_input(REF_SHAPES["facenet"]))]),
            fast_form, "facenet"), "FaceNet")

    def embed(self, batch: np.ndarray) -> np.ndarray:
        batch = _check_batch(batch)
        if len(batch) == 0:
            return np.zeros((0, EMBEDDING_DIM), np.float32)
        return self._fn(batch).numpy().astype(np.float32, copy=False)


# -- LiteRT -----------------------------------------------------------------------------------

def lite_path() -> Path:
    """The cached FaceNet ``.tflite``, named by the weights' sha and both format versions (the one
    shipped inside a packaged app, if any)."""
    name = facenet_lite_name()
    return bundled_model(name) or cache_dir() / name


def ensure_lite_model(h5_path: Path) -> Path:
    """The FaceNet ``.tflite``, converting it first (with TensorFlow, a minute or so, once) when
    it is missing. Float32, no quantization. Does not import TensorFlow when it is cached."""
    def make() -> bytes:
        fast = ensure_fast_form(h5_path)
        return convert_concrete_function(_forward_function(fast), [_input_spec()])

    return ensure_model(lite_path(), make)


class FaceNetLite:
    """The embedding network on LiteRT (XNNPack, one thread per core). Same ``embed`` contract
    as :class:`FaceNet`; create it on the thread that will use it."""

    def __init__(self, tflite_path: Path, num_threads: int | None = None):
        self._model = LiteModel(tflite_path, num_threads)
        self.sha256 = check_lite(self._model, Path(tflite_path), "FaceNet", "facenet")

    def embed(self, batch: np.ndarray) -> np.ndarray:
        batch = _check_batch(batch)
        if len(batch) == 0:
            return np.zeros((0, EMBEDDING_DIM), np.float32)
        return self._model.run(batch)[0].astype(np.float32, copy=False)

