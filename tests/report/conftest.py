"""Fixtures of the report tests: small hand-built call frames and one headless Chromium."""
