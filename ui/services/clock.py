"""How the pages write a time, so that one quantity reads as one number on every page:
what it measures, where it ran, and a precision that never shows a short time as 0.00 s.

Two kinds of time are shown. **Wall time** is what a clock on the wall measures, from the
start of a run to its end. **Task time** adds up how long each task computed, over every
thread: it stays about the same however many threads share the work, and comes to more
than the wall time when they run side by side. The browser's task view writes times as
``duration`` does (``seconds`` in ``ui/components/dask_view/logic/words.js``).
"""

from __future__ import annotations

__all__ = ["TASK_TIME", "WALL_TIME", "duration", "runs_on_words"]

WALL_TIME = "wall time"
TASK_TIME = "task time"
#: Where the pipeline ran, as ``core.runtime.Runner.kind`` names it.
RUNNER_WORDS = {
    "threads": "threads in the server",
    "local": "a local Dask cluster",
    "remote": "a Dask cluster",
}


def duration(seconds: float) -> str:
    """``2.50 s``; under a second in milliseconds, ``86.3 ms``, with two decimals under
    ten (``0.31 ms``): stitching's microseconds are not nothing."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    milliseconds = 1000 * seconds
    return f"{milliseconds:.{2 if milliseconds < 10 else 1}f} ms"


def runs_on_words(
    kind: str, *, address: str = "", starting: bool = False, small_tiles: bool = False, kept: bool = False
) -> str:
    """Where a page's stages ran, for a sentence: ``a local Dask cluster``; threads while
    the cluster starts, for tiles too small for it, or ``kept`` from a run made on threads
    while it started, say so. A remote cluster is named by its ``address``; a local one's
    (``inproc://...``) would mean nothing to a visitor."""
    if starting:
        return "threads in the server while the cluster starts"
    if kept:
        return "threads in the server (run while the cluster started, and kept)"
    if small_tiles:
        return "threads in the server, for tiles this small"
    if kind == "remote" and address:
        return f"a Dask cluster at {address}"
    return RUNNER_WORDS[kind]
