"""Fixtures of the command-line area: a real local engine, shared with the client tests."""

from tests.client.conftest import local_engine

__all__ = ["local_engine"]
