"""Compare's smaller points of issue 13: the first photo shows at once (not "…") while the
second is still to be chosen, and a face crop never overlaps its file name."""

from __future__ import annotations

from guihelpers import drop, file_mime
from helpers import HOPKINS_1


def test_the_first_photo_shows_at_once_and_crops_do_not_cover_the_captions(qtbot, settings):
    from facefinder.gui.main_window import MainWindow

    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    try:
        dialog = w.show_compare()
        qtbot.waitExposed(dialog)
        drop(dialog.first, file_mime(HOPKINS_1))
        assert dialog.first.path == str(HOPKINS_1)
        pix = dialog.first.image.pixmap()
        assert pix is not None and not pix.isNull()  # the photo, not a "…" placeholder
        assert dialog.first.image.text() != "…"
        dialog.resize(50, 50)  # as small as the user can make it
        qtbot.wait(50)
        for slot in (dialog.first, dialog.second):
            image, caption = slot.image.geometry(), slot.caption.geometry()
            assert caption.top() >= image.bottom(), (image, caption)
            assert caption.height() >= slot.caption.fontMetrics().height()
        dialog.close()
    finally:
        w.close()
