"""Implementation of :mod:`hearkit.client` (a shared core and two thin I/O shells)."""
