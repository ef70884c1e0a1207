"""CallSet.load_sample names its sources when given another (a typo'd source was read as the mono
results with the stereo roles, and failed on the roles map with words about channel numbers)."""

from __future__ import annotations

import pytest

from hearkit.record import CallSet


def test_an_unknown_sample_source_is_named() -> None:
    """load_sample('stored') read the mono results with the stereo roles and failed on a roles map."""
    with pytest.raises(ValueError, match=r"source must be 'stereo', 'mono' or 'truth', not 'stored'"):
        CallSet.load_sample("stored")  # type: ignore[arg-type]
