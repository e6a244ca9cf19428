"""The core's one-line notices (a damaged index rebuilt, a damaged model made again) in the
window's status bar.

The core reports them through the ``facefinder.notice`` logger
(:func:`facefinder.core.errors.notice`), from whatever thread noticed. :class:`NoticeBridge`
is a logging handler that re-emits each as a Qt signal, queued to the GUI thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from ..core.errors import NOTICE_LOGGER


class NoticeBridge(QObject):
    """``notice(str)`` is emitted (on the GUI thread, via a queued connection) for each notice."""

    notice = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._handler = _Handler(self)
        logger = logging.getLogger(NOTICE_LOGGER)
        logger.addHandler(self._handler)
        logger.setLevel(logging.WARNING)

    def detach(self) -> None:
        logging.getLogger(NOTICE_LOGGER).removeHandler(self._handler)


class _Handler(logging.Handler):
    def __init__(self, bridge: NoticeBridge) -> None:
        super().__init__(logging.WARNING)
        self._bridge = bridge

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._bridge.notice.emit(record.getMessage())
        except RuntimeError:  # the window is gone (shutting down)
            pass
