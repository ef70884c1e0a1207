"""hearkit: conversation intelligence for recorded sales and support calls."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
