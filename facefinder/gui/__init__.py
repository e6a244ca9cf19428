"""The PySide6 desktop app. Importing this package loads no model: see :mod:`.app`."""
