"""Fixtures of the charts tests: the report's call frames (sample-call truth, hostile markup)."""

from tests.report.conftest import hostile, sample

__all__ = ["hostile", "sample"]
