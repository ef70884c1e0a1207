"""Fixtures of the webhooks area: result shapes and a real local engine, shared with the client tests."""

from tests.client.conftest import local_engine, stereo_job

__all__ = ["local_engine", "stereo_job"]
