"""How long each stage's tasks ran, measured with a dask scheduler callback."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import dask.array as da
from dask.callbacks import Callback
from dask.highlevelgraph import HighLevelGraph

from .stages import Pipeline

__all__ = ["STAGE_NAMES", "ProgressCallback", "StageTimer", "layer_owners", "stage_of_layer"]

STAGE_NAMES = ("read", "grayscale", "stitch", "sobel", "clip")


def layer_owners(stages: dict[str, list[da.Array]]) -> dict[str, str]:
    """Map every graph layer to the first stage (in the dict's order) whose arrays use it."""
    owner: dict[str, str] = {}
    for stage, arrays in stages.items():
        for name in HighLevelGraph.merge(*(a.dask for a in arrays)).layers:
            owner.setdefault(name, stage)
    return owner


def stage_of_layer(pipeline: Pipeline) -> dict[str, str]:
    """Map every graph layer of ``pipeline`` to the stage that added it."""
    return layer_owners(
        {
            "read": [t for row in pipeline.tiles for t in row],
            "grayscale": [g for row in pipeline.gray for g in row],
            "stitch": [pipeline.stitched],
            "sobel": [pipeline.edges],
            "clip": [pipeline.clipped],
        }
    )


@dataclass
class StageTimer(Callback):
    """Adds up, per stage, the seconds that tasks ran (across all threads).

    A task's time runs from its submission to its result; the local schedulers submit a
    task only when a thread is free for it, so this is its run time plus a little overhead.

    Compute with ``optimize_graph=False`` while it is active: graph optimisation fuses
    tasks of neighbouring stages under new names, which would blur the attribution.
    Tasks of layers that belong to no stage (storing the result, say) count as ``other``.
    """

    owner: dict[str, str]
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    tasks: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self):
        super().__init__()
        self._started: dict = {}
        self._lock = threading.Lock()

    def _pretask(self, key, dsk, state):
        self._started[key] = time.perf_counter()

    def _posttask(self, key, result, dsk, state, worker_id):
        elapsed = time.perf_counter() - self._started.pop(key)
        stage = self.owner.get(key[0] if isinstance(key, tuple) else key, "other")
        with self._lock:
            self.seconds[stage] += elapsed
            self.tasks[stage] += 1


class ProgressCallback(Callback):
    """Calls ``report(done, total)`` as tasks finish, at most every ``interval`` seconds.

    The local schedulers run these hooks in the thread that called ``compute``, so
    ``report`` may update a user interface owned by that thread.
    """

    def __init__(self, report, interval: float = 0.1):
        super().__init__()
        self._report = report
        self._interval = interval

    def _start_state(self, dsk, state):
        self._total = sum(len(state[k]) for k in ("ready", "waiting", "running", "finished"))
        self._done = len(state["finished"])
        self._last = 0.0

    def _posttask(self, key, result, dsk, state, worker_id):
        self._done += 1
        now = time.perf_counter()
        if now - self._last >= self._interval:
            self._last = now
            self._report(self._done, self._total)

    def _finish(self, dsk, state, errored):
        if not errored:
            self._report(self._total, self._total)
