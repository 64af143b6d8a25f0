"""How long each stage's tasks ran: local schedulers' callbacks, or a cluster's task stream."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

import dask.array as da
from dask.callbacks import Callback
from dask.highlevelgraph import HighLevelGraph

from .stages import Pipeline

__all__ = [
    "ProgressCallback",
    "StageTimer",
    "StageTimes",
    "StageTiming",
    "TaskClock",
    "compute_spans",
    "for_this_compute",
    "layer_owners",
    "stage_of_layer",
    "stage_timing",
    "wait_with_progress",
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


def for_this_compute(*callbacks: Callback | None) -> dict:
    """The keyword arguments that run ``callbacks`` during one compute on the local
    schedulers, and no other: ``dask.compute(x, **for_this_compute(timer, progress))``.

    ``with callback:`` registers it for the whole process, and the server computes several
    visitors' pages at once on threads: each would see the others' tasks. Worse, a compute
    given no callbacks takes the registered ones for its own run and hands them back only
    when it ends, so a run that starts meanwhile reports nothing.

    Without any, the compute runs those registered with ``with``, as dask does by default:
    the app registers none; a test may, to watch from outside.
    """
    given = [callback._callback for callback in callbacks if callback is not None]
    return {"callbacks": given} if given else {}


class TaskClock(Callback):
    """Calls ``record(key, start, stop, thread)`` for every task the local schedulers run,
    on ``time.perf_counter``'s clock; ``thread`` is the scheduler's ``worker_id``.

    A task's time runs from its submission to its result; the local schedulers submit a
    task only when a thread is free for it, so this is its run time plus a little overhead.
    ``record`` is called under a lock, from the thread that called ``compute``.
    """

    def __init__(self, record):
        super().__init__()
        self._record = record
        self._started: dict = {}
        self._lock = threading.Lock()

    def _pretask(self, key, dsk, state):
        self._started[key] = time.perf_counter()

    def _posttask(self, key, result, dsk, state, worker_id):
        stopped = time.perf_counter()
        with self._lock:
            self._record(key, self._started.pop(key), stopped, worker_id)


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


def wait_with_progress(collections, report=None, interval: float = 0.1) -> None:
    """Wait for persisted collections on a cluster, calling ``report(done, total)`` with
    the tasks behind them that the scheduler has finished, from this thread.

    Collections persisted on threads are already computed, and return at once.
    """
    from distributed import futures_of
    from distributed.diagnostics.progressbar import ProgressBar

    from .cluster import raise_first_error

    futures = futures_of(collections)
    if not futures:
        return

    class TaskCounts(ProgressBar):
        # distributed's progress feed, which counts every task the futures depend on.
        done, total = 0, 0

        def _draw_bar(self, remaining, all, **kwargs):
            self.total, self.done = all, all - remaining

    client = futures[0].client
    counts = TaskCounts(futures, scheduler=client.scheduler.address, interval=interval)
    client.loop.add_callback(counts.listen)
    caught_up_by = None
    while True:
        finished = all(f.done() for f in futures)
        if finished and caught_up_by is None:
            caught_up_by = time.monotonic() + 1.0  # the feed runs a little behind the futures
        if report and counts.total:
            report(counts.done, counts.total)
        if finished and (counts.done == counts.total > 0 or time.monotonic() > caught_up_by):
            break
        time.sleep(interval)
    raise_first_error(futures)


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
