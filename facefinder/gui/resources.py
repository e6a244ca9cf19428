"""Runtime resources that ship with the package: the app icon and the translations."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator
from PySide6.QtGui import QIcon

RESOURCES = Path(__file__).resolve().parent / "resources"
ICONS = RESOURCES / "icons"
TRANSLATIONS = RESOURCES / "translations"


def app_icon() -> QIcon:
    """The app icon at every size that was drawn (see resources/icons/make_icon.py)."""
    icon = QIcon()
    for png in sorted(ICONS.glob("facefinder-*.png")):
        icon.addFile(str(png))
    return icon


def install_translator(app: QCoreApplication, locale: QLocale | None = None) -> QTranslator | None:
    """Load the app's translation for ``locale`` (the system's by default), and Qt's own for the
    standard buttons when it is available. Returns the app translator, or None (English); Qt's
    one, if loaded, is its ``qt`` attribute."""
    locale = locale or QLocale.system()
    translator = QTranslator(app)
    if not translator.load(locale, "facefinder", "_", str(TRANSLATIONS)):
        return None
    app.installTranslator(translator)
    translator.qt = None
    try:
        from PySide6.QtCore import QLibraryInfo

        qt = QTranslator(app)
        if qt.load(locale, "qtbase", "_",
                   QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            app.installTranslator(qt)
            translator.qt = qt
    except Exception:  # Qt's own translations are optional
        pass
    return translator
