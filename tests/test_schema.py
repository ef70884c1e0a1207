"""The wire models keep unknown fields and never invent absent ones."""

from __future__ import annotations

from hearkit.schema import Job, JobList, ProblemDetails


def test_absent_fields_stay_absent_and_unknown_fields_survive() -> None:
    raw = {"job_id": "job_EQ50YmH3D5S6WcoJUs8Io75P", "status": "queued", "brand_new": {"x": 1}}
    job = Job.model_validate(raw)
    assert job.to_api() == raw


def test_list_page_always_carries_next_cursor() -> None:
    page = JobList.model_validate({"object": "list", "data": [], "has_more": False, "next_cursor": None})
    assert page.to_api() == {"object": "list", "data": [], "has_more": False, "next_cursor": None}


def test_problem_code_is_last_segment_of_type() -> None:
    problem = ProblemDetails.model_validate(
        {"type": "https://api.pyai.com/problems/idempotency_conflict", "status": 409}
    )
    assert problem.code == "idempotency_conflict"
