"""Measurements of the project against other pipelines and of its own choices; run from the
repository root (``python -m benchmarks.bench``), not imported by ``core``, ``ui`` or the app."""
