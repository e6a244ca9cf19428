"""One app per user and data folder: a second start ("Open with facefinder" on a photo, the
menu entry clicked again) hands its photos to the window already open and ends.

The open app listens on a local socket (:class:`QLocalServer`: a Unix socket on Linux and macOS,
a named pipe on Windows), named for the user and the data folder (``FACEFINDER_DATA_DIR``), so
two data folders are two apps. A start first tries to connect: when an app answers, it sends one
JSON line, ``{"open": [absolute paths]}``, waits for ``ok`` and exits; otherwise it opens its own
window and listens. A socket left behind by an app that crashed answers nobody and is replaced.
Where Qt's network module is missing (a bundle built without it), every start is its own app.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

CONNECT_MS = 1500
"""How long a start waits for an open app to accept the connection and answer, in ms."""


def server_name() -> str:
    """The socket's name for this user and data folder."""
    from ..core.paths import data_dir

    try:
        user = getpass.getuser()
    except Exception:  # no user name in the environment
        user = "user"
    key = hashlib.sha1(f"{user}\0{data_dir()}".encode("utf-8", "replace")).hexdigest()[:16]
    return f"facefinder-{key}"


def _network():
    try:
        from PySide6 import QtNetwork

        return QtNetwork
    except ImportError:
        return None


def hand_over(paths: list[str], name: str | None = None, timeout_ms: int = CONNECT_MS) -> bool:
    """Give ``paths`` to the app already open (which shows its window); True when one took
    them, False when none is open (start the app here)."""
    net = _network()
    if net is None:
        return False
    sock = net.QLocalSocket()
    sock.connectToServer(name or server_name())
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write((json.dumps({"open": list(paths)}) + "\n").encode("utf-8"))
    if not sock.waitForBytesWritten(timeout_ms):
        sock.abort()
        return False
    answer = b""
    while b"\n" not in answer and sock.waitForReadyRead(timeout_ms):
        answer += bytes(sock.readAll().data())
    sock.disconnectFromServer()
    return answer.startswith(b"ok")


class InstanceServer(QObject):
    """Listens for later starts; ``pathsReceived(list)`` carries what each one was given (an
    empty list: it was only started again, show the window)."""

    pathsReceived = Signal(list)

    def __init__(self, parent: QObject | None = None, name: str | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self.server = None
        self._buffers: dict = {}

    def listen(self) -> bool:
        """Start listening; False where the socket cannot be made (the app still works)."""
        net = _network()
        if net is None:
            return False
        self.server = net.QLocalServer(self)
        self.server.setSocketOptions(net.QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)
        if not self.server.listen(self.name):
            # No app answered the hand-over, so the socket is a crashed app's: replace it.
            net.QLocalServer.removeServer(self.name)
            if not self.server.listen(self.name):
                log.warning("cannot listen for other starts: %s", self.server.errorString())
                return False
        return True

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def _accept(self) -> None:
        while self.server is not None and self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            self._buffers[sock] = b""
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(lambda s=sock: self._gone(s))

    def _gone(self, sock) -> None:
        self._buffers.pop(sock, None)
        sock.deleteLater()

    def _read(self, sock) -> None:
        data = self._buffers.get(sock, b"") + bytes(sock.readAll().data())
        if b"\n" not in data:
            self._buffers[sock] = data
            return
        line = data.split(b"\n", 1)[0]
        self._buffers[sock] = b""
        try:
            paths = [str(p) for p in json.loads(line.decode("utf-8")).get("open", [])]
        except (ValueError, AttributeError, UnicodeDecodeError):
            log.warning("another start sent something unexpected: %r", line[:200])
            sock.write(b"error\n")
            return
        sock.write(b"ok\n")
        sock.flush()
        self.pathsReceived.emit(paths)
