"""The local PyAI-compatible engine (``hearkit serve``): the embedded default."""
