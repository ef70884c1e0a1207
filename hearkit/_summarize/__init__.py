"""Internals of :mod:`hearkit.summarize`: turns input, offline extraction, the LLM path."""
