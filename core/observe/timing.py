"""How long each stage's tasks ran: local schedulers' callbacks, or a cluster's task stream."""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

import dask.array as da
from dask.highlevelgraph import HighLevelGraph

from ..pipeline.build import Pipeline
from .progress import TaskClock

__all__ = [
    "StageTimer",
    "StageTimes",
    "StageTiming",
    "compute_spans",
    "layer_owners",
    "stage_of_layer",
    "stage_timing",
]


def layer_owners(stages: dict[str, list[da.Array]]) -> dict[str, str]:
    """Map every graph layer to the first stage (in the dict's order) whose arrays use it."""
    owner: dict[str, str] = {}
    for stage, arrays in stages.items():
        for name in HighLevelGraph.merge(*(a.dask for a in arrays)).layers:
            owner.setdefault(name, stage)
    return owner


def stage_of_layer(pipeline: Pipeline) -> dict[str, str]:
    """Map every graph layer of ``pipeline`` to the stage that added it (read,
    grayscale, stitch, then the names of ``Pipeline.stages``)."""
    return layer_owners({name: arrays for name, arrays in pipeline.stages().items()})


@dataclass
class StageTimes:
    """Seconds that tasks ran per stage (summed over threads and workers), and where.

    ``owner`` maps graph layers to stages; tasks of other layers (storing the result,
    say) count as ``other``. ``workers`` maps each layer to the workers that ran it.
    ``spans`` keeps each task's (start, stop), for ``wall_seconds``.
    """

    owner: dict[str, str]
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    tasks: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    workers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    spans: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))

    def record(self, key, spans: list[tuple[float, float]], worker: str) -> None:
        """One task that ran during ``spans``, (start, stop) pairs on one clock."""
        layer = key[0] if isinstance(key, tuple) else key
        stage = self.owner.get(layer, "other")
        self.seconds[stage] += sum(stop - start for start, stop in spans)
        self.tasks[stage] += 1
        self.workers[layer].add(worker)
        self.spans[stage].extend(spans)

    def wall_seconds(self) -> dict[str, float]:
        """Per stage, the time during which at least one of its tasks ran: the length of
        the union of their (start, stop) spans.

        Task seconds (``seconds``) add up over threads, so they stay the same however many
        cores run them; this is what shrinks when more cores run a stage in parallel.
        Stages overlap in time (one tile is read while another is filtered), so these
        add up to more than the compute's wall time.
        """
        return {stage: _union_length(spans) for stage, spans in self.spans.items()}


def _union_length(spans: list[tuple[float, float]]) -> float:
    total, reached = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop > reached:
            total += stop - max(start, reached)
            reached = stop
    return total


class StageTimer(TaskClock):
    """Fills a ``StageTimes`` from the local schedulers' task hooks.

    Compute with ``optimize_graph=False`` while it is active: graph optimisation fuses
    tasks of neighbouring stages under new names, which would blur the attribution.
    """

    def __init__(self, owner: dict[str, str]):
        self.times = StageTimes(owner)
        super().__init__(lambda key, start, stop, thread: self.times.record(key, [(start, stop)], "this process"))


def compute_spans(record: dict) -> list[tuple[float, float]]:
    """The (start, stop) spans in which a task of ``distributed``'s task stream computed, on
    its worker's clock (the spans of one cluster compare among themselves); transfers and
    disk reads left out."""
    return [(s["start"], s["stop"]) for s in record["startstops"] if s["action"] == "compute"]


@dataclass
class StageTiming:
    """What ``stage_timing`` measures into, and how."""

    times: StageTimes
    #: On threads: give it to each compute of the block (``for_this_compute``); None on a
    #: cluster, whose task stream is read instead.
    timer: StageTimer | None


@contextmanager
def stage_timing(owner: dict[str, str], client=None):
    """Measure stage times of the computations inside the block, on threads or a cluster.

    On threads each compute of the block must be given ``timing.timer``; with a
    ``distributed.Client`` the scheduler's task stream is read, and the block must wait
    for its results before it ends.
    """
    if client is None:
        timer = StageTimer(owner)
        yield StageTiming(timer.times, timer)
        return
    from distributed import get_task_stream

    times = StageTimes(owner)
    with get_task_stream(client) as stream:
        yield StageTiming(times, None)
    for record in stream.data:
        times.record(record["key"], compute_spans(record), record["worker"])
