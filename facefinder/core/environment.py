"""The process environment facefinder sets for the native libraries it loads, in one place.

Each setting is a default (``os.environ.setdefault``): a value the user set wins. They must be
in place before the library that reads them loads (TensorFlow and LiteRT read their log level
when their shared library is loaded; Ray reads its settings when it is imported).
"""

from __future__ import annotations

import os

NATIVE_LOG_LEVEL = "2"
"""TensorFlow/LiteRT C++ log level for the core: 2 hides INFO and WARNING (LiteRT prints
"INFO: Created TensorFlow Lite XNNPACK delegate" on every start at the default)."""
CLI_LOG_LEVEL = "3"
"""The CLI also hides TensorFlow's ERROR-level start-up chatter: its promise is one line on
stderr per error."""


def quiet_native_logs(level: str = NATIVE_LOG_LEVEL) -> None:
    """Default ``TF_CPP_MIN_LOG_LEVEL`` to ``level`` (the first caller's level wins)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", level)


def cli_environment() -> None:
    """The command line's settings: quieter logs, and TensorFlow's oneDNN kernels on."""
    quiet_native_logs(CLI_LOG_LEVEL)
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def ray_environment(local: bool = True) -> None:
    """Ray's settings: no usage statistics; ``local``: keep a private local Ray on the loopback
    interface (no probe of the network for this machine's address)."""
    if local:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
