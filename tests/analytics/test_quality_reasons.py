"""A greyed metric names every flag that affects it, the roles doubt first (U4 finding 9: SpokenWOZ's
swapped channels read "rep talk ratio 63.7% (unattributed_speech)", hiding roles_maybe_swapped)."""

from __future__ import annotations

from hearkit.quality import grey_metrics, view_of
from hearkit.schema import Quality, QualityFlag


def test_every_affecting_flag_is_named_roles_doubt_first() -> None:
    coverage = QualityFlag(
        code="unattributed_speech",
        meaning="15% of the detected voice is in no speaker's segment",
        severity="warning",
        affects=["talk_ratio"],
    )
    roles = QualityFlag(
        code="roles_maybe_swapped",
        meaning="channel 1 introduces itself as the rep",
        severity="warning",
        affects=["roles"],
    )
    view = view_of(
        Quality(trust="medium", flags=[coverage, roles]), ["talk_ratio_rep", "questions_rep", "words_rep"]
    )
    assert view.greyed["talk_ratio_rep"].split(":")[0] == "roles_maybe_swapped, unattributed_speech"
    assert "channel 1 introduces itself" in view.greyed["talk_ratio_rep"]
    assert "15% of the detected voice" in view.greyed["talk_ratio_rep"]
    assert view.greyed["questions_rep"] == "roles_maybe_swapped: channel 1 introduces itself as the rep"
    assert "words_rep" not in view.greyed
    items = grey_metrics([{"label": "rep talk ratio", "value": "63.7%"}], view, {})
    assert items[0]["unreliable"].split(":")[0] == "roles_maybe_swapped, unattributed_speech"
