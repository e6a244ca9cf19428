"""The one progress callback type every long core operation takes."""

from __future__ import annotations

from typing import Callable

Progress = Callable[[str, int, int], None]
"""``progress(message, done, total)``: a sentence for the user, and how far it is; ``total`` is 0
when unknown (then ``done`` means nothing)."""
