"""facefinder: find look-alike faces in photo folders."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("facefinder")
except PackageNotFoundError:  # running from a source tree or a frozen app
    __version__ = "0.1.0"
