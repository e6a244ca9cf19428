"""Update and compile the app's translations.

Run from the repository root: ``python resources/translations/build.py``.

1. ``pyside6-lupdate`` collects every ``tr()`` / ``QCoreApplication.translate()`` string of
   ``facefinder/gui`` into ``resources/translations/facefinder_<lang>.ts`` (kept in git, so
   translators can use Qt Linguist on it);
2. strings without a translation yet are filled from ``<lang>.json``
   (``{"Context|source text": "translation"}``);
3. ``pyside6-lrelease`` compiles ``facefinder/gui/resources/translations/facefinder_<lang>.qm``,
   which ships with the package and is loaded when the system locale matches.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GUI = ROOT / "facefinder" / "gui"
OUT = GUI / "resources" / "translations"
LANGS = ["ja"]


def tool(name: str) -> str:
    found = shutil.which(f"pyside6-{name}", path=str(Path(sys.executable).parent)) \
        or shutil.which(f"pyside6-{name}") or shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install PySide6 (pyside6-{name})")
    return found


def fill(ts: Path, table: dict[str, str]) -> tuple[int, int]:
    """Fill empty translations from ``table``; returns (translated, total)."""
    tree = ET.parse(ts)
    done = total = 0
    for ctx in tree.getroot().iter("context"):
        name = ctx.findtext("name") or ""
        for msg in ctx.iter("message"):
            total += 1
            source = msg.findtext("source") or ""
            tr = msg.find("translation")
            text = table.get(f"{name}|{source}")
            if text:
                tr.text = text
                tr.attrib.pop("type", None)  # no longer "unfinished"
            if tr.text and tr.attrib.get("type") not in ("unfinished", "vanished", "obsolete"):
                done += 1
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    return done, total


def main() -> int:
    sources = sorted(str(p.relative_to(ROOT)) for p in GUI.glob("*.py"))
    OUT.mkdir(parents=True, exist_ok=True)
    for lang in LANGS:
        ts = HERE / f"facefinder_{lang}.ts"
        subprocess.run([tool("lupdate"), *sources, "-no-obsolete", "-target-language", lang,
                        "-ts", str(ts)], cwd=ROOT, check=True)
        table = json.loads((HERE / f"{lang}.json").read_text(encoding="utf-8"))
        done, total = fill(ts, table)
        print(f"{lang}: {done} of {total} strings translated")
        subprocess.run([tool("lrelease"), str(ts), "-qm", str(OUT / f"facefinder_{lang}.qm")],
                       cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
