"""The ``hearkit`` command line: a thin layer over the library (every command calls public API)."""
