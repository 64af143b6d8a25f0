"""How long each stage's tasks ran, measured with a dask scheduler callback."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from dask.callbacks import Callback
from dask.highlevelgraph import HighLevelGraph

from .stages import Pipeline

__all__ = ["STAGE_NAMES", "StageTimer", "stage_of_layer"]

STAGE_NAMES = ("read", "grayscale", "stitch", "sobel", "clip")


def stage_of_layer(pipeline: Pipeline) -> dict[str, str]:
    """Map every graph layer of ``pipeline`` to the stage that added it."""
    stage_arrays = (
        [t for row in pipeline.tiles for t in row],
        [g for row in pipeline.gray for g in row],
        [pipeline.stitched],
        [pipeline.edges],
        [pipeline.clipped],
    )
    owner: dict[str, str] = {}
    for stage, arrays in zip(STAGE_NAMES, stage_arrays):
        for name in HighLevelGraph.merge(*(a.dask for a in arrays)).layers:
            owner.setdefault(name, stage)
    return owner


@dataclass
class StageTimer(Callback):
    """Adds up, per stage, the seconds that tasks ran (across all threads).

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
