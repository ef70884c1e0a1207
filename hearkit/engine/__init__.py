"""The local PyAI-compatible engine (``hearkit serve``): the embedded default.

``LocalEngine`` runs the server in-process; ``EngineSettings`` configures it; ``create_app``
builds the ASGI app. Imported lazily so that ``hearkit.engine.transcriber`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hearkit.engine.app import create_app
    from hearkit.engine.local import LocalEngine
    from hearkit.engine.settings import EngineSettings

__all__ = ["EngineSettings", "LocalEngine", "create_app"]

_LAZY = {
    "EngineSettings": "hearkit.engine.settings",
    "LocalEngine": "hearkit.engine.local",
    "create_app": "hearkit.engine.app",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        from hearkit._extras import require

        require("local", "hearkit's local engine (used by PyAI() when PYAI_API_KEY is not set)")

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hearkit.engine' has no attribute {name!r}")
