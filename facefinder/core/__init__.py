"""The face engine: no Qt here, ever (an import-linter contract and a test enforce it)."""
