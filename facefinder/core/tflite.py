"""Running converted models with LiteRT (TensorFlow Lite), and choosing the backend.

Full TensorFlow takes seconds to import; LiteRT's interpreter about a tenth of a second. So the
networks are converted to ``.tflite`` files in the cache once, with TensorFlow (the only place in
this module that imports it is :func:`convert_concrete_function`), and run with LiteRT afterwards.

Backends: ``"lite"`` (LiteRT for MTCNN and FaceNet), ``"tf"`` (full TensorFlow, the original
code path, kept as a fallback) and ``"auto"`` (lite when ``ai_edge_litert`` is importable, else
tf). ``FACEFINDER_BACKEND`` sets the default.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from .environment import quiet_native_logs
from .errors import ModelDamagedError, ModelUnavailableError, os_error_sentence
from .model_files import record_written

BACKENDS = ("auto", "lite", "tf")

# LiteRT reads this when its library loads (every import of it, and of TensorFlow, goes through
# this module or comes after it).
quiet_native_logs()


def lite_available() -> bool:
    """Whether the LiteRT interpreter can be imported (without importing TensorFlow)."""
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(requested: str | None = None) -> str:
    """``"lite"`` or ``"tf"`` for a requested backend (``None``: ``FACEFINDER_BACKEND``, else auto).

    Raises ValueError for an unknown name, and for ``"lite"`` when LiteRT is not installed.
    """
    name = (requested or os.environ.get("FACEFINDER_BACKEND") or "auto").strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")
    if name == "auto":
        return "lite" if lite_available() else "tf"
    if name == "lite" and not lite_available():
        raise ValueError("the lite backend needs the ai-edge-litert package")
    return name


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and os.replace, so a
    reader (or a second process converting at the same time) never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.stem + "-", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def is_tflite_file(path: Path) -> bool:
    """A cheap validity check: the file exists and carries the TFLite flatbuffer identifier."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return len(head) == 8 and head[4:8] == b"TFL3"


def convert_concrete_function(fn: Callable, input_specs: list) -> bytes:
    """Convert a Python function of TensorFlow ops to a float32 ``.tflite`` flatbuffer.

    ``input_specs``: ``tf.TensorSpec`` list (``None`` dims stay dynamic). Variables the function
    reads (Keras weights) are frozen into constants. No quantization or other optimization:
    FaceNet distances must keep their meaning. Imports TensorFlow.
    """
    import logging

    import tensorflow as tf

    concrete = tf.function(fn, input_signature=input_specs).get_concrete_function()
    # Without a trackable object the converter takes its older path, which freezes captured
    # variables into the model (the newer one kept the MTCNN weights out of the file); it logs
    # a deprecation warning for that, which users need not see.
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)
    try:
        converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        return converter.convert()
    finally:
        absl.setLevel(level)


class LiteModel:
    """One ``.tflite`` model in a LiteRT interpreter, re-shaped on demand.

    ``run(*inputs)`` returns the outputs as float32 numpy arrays, in the order given by
    ``output_order`` (names or indices of the model's output tensors; default: as stored).
    Not thread-safe: use from one thread at a time.
    """

    def __init__(self, path: Path, num_threads: int | None = None,
                 output_order: list[int] | None = None):
        from ai_edge_litert.interpreter import Interpreter

        try:
            with _quiet_stderr():  # LiteRT prints "INFO: Created ... XNNPACK delegate" on fd 2
                self._interp = Interpreter(model_path=str(path),
                                           num_threads=num_threads or os.cpu_count() or 1)
        except (ValueError, RuntimeError) as exc:  # truncated or not a model at all
            raise ModelDamagedError(f"The face model file {path} is damaged and cannot be "
                                    f"loaded ({str(exc).splitlines()[0]}).", path) from None
        self._inputs = [d["index"] for d in self._interp.get_input_details()]
        outs = self._interp.get_output_details()
        self._outputs = [outs[i]["index"] for i in (output_order or range(len(outs)))]
        self._shapes: list[tuple[int, ...]] | None = None

    @property
    def output_names(self) -> list[str]:
        return [d["name"] for d in self._interp.get_output_details()]

    def run(self, *inputs: np.ndarray) -> list[np.ndarray]:
        shapes = [tuple(x.shape) for x in inputs]
        replan = shapes != self._shapes
        if replan:
            # Resizing re-plans the graph (a few ms); only when the input shape changes.
            for index, shape in zip(self._inputs, shapes):
                self._interp.resize_tensor_input(index, list(shape), strict=False)
            with _quiet_stderr():
                self._interp.allocate_tensors()
            self._shapes = shapes
        for index, x in zip(self._inputs, inputs):
            self._interp.set_tensor(index, np.ascontiguousarray(x, dtype=np.float32))
        if replan:
            with _quiet_stderr(first_invoke=True):  # the delegate is applied on the first invoke
                self._interp.invoke()
        else:
            self._interp.invoke()
        return [self._interp.get_tensor(i).copy() for i in self._outputs]


def bundled_model(name: str) -> Path | None:
    """A converted model shipped inside a packaged (PyInstaller) app, ``sys._MEIPASS/models/name``,
    if there is one: a packaged app has no TensorFlow to convert models with."""
    base = getattr(sys, "_MEIPASS", None)
    if base:
        path = Path(base) / "models" / name
        if is_tflite_file(path):
            return path
    return None


def ensure_model(path: Path, make: Callable[[], bytes]) -> Path:
    """``path`` if it holds a model already (or the packaged app ships one of that name), else
    ``make()`` (which may import TensorFlow) is written there atomically first."""
    bundled = bundled_model(Path(path).name)
    if bundled is not None:
        return bundled
    if not is_tflite_file(path):
        try:
            with _quiet_stderr(always=True):  # TensorFlow's start-up chatter (oneDNN, absl)
                data = make()
        except ImportError as exc:
            raise ModelDamagedError(
                f"The face model {Path(path).name} is missing or damaged, and TensorFlow, which "
                f"makes it, is not installed ({exc}); reinstall facefinder.", path) from None
        try:
            write_atomic(path, data)
        except OSError as exc:
            raise ModelUnavailableError(
                os_error_sentence(exc, "cannot write the converted face model") +
                "; facefinder needs a writable cache folder (or set FACEFINDER_CACHE_DIR)."
            ) from None
        record_written(path, data)
    return path


_announced = False  # LiteRT logs its delegate line once per process, on the first invoke
_quiet_lock = threading.Lock()


@contextlib.contextmanager
def _quiet_stderr(first_invoke: bool = False, always: bool = False):
    """Silence the C++ runtime's informational lines (written straight to file descriptor 2)
    until the first model has run, so the CLI keeps its promise of one line on stderr per error
    even when TF_CPP_MIN_LOG_LEVEL was set low by the user. FACEFINDER_DEBUG=1 keeps them.

    fd 2 is process-wide: the swap is serialised by a lock (two threads interleaving it could
    leave stderr pointing at /dev/null) and stops once the line has been printed, so later
    re-planning (every PNet pyramid level) does not touch stderr at all. ``always``: silence it
    even after that (a model conversion, which imports TensorFlow)."""
    global _announced
    if (_announced and not always) or os.environ.get("FACEFINDER_DEBUG"):
        yield
        return
    with _quiet_lock:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no usable fd 2 (a GUI app on Windows)
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
            if first_invoke:
                _announced = True
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
