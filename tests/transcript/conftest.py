"""Fixtures of the transcript area: the documented result shapes, shared with the client tests."""

from tests.client.conftest import mono_job, offloaded_job, stereo_job

__all__ = ["mono_job", "offloaded_job", "stereo_job"]
