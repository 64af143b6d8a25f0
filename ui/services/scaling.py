"""What parallelism buys: the pipeline timed on 1, 2, ... N worker threads, and on grids.

Each run computes the chain's result with Dask's threaded scheduler and ``num_workers=k``.
Threads, not a ``distributed`` cluster: the app's local cluster is itself one
single-threaded worker per core, as threads of this process, so k threads measure the
same hardware without the cluster's scheduling cost per task; and a sweep on threads
cannot be slowed or skewed by other sessions' tasks queued on the shared cluster.

Every run reduces the result to one float64 sum instead of gathering them: the
reduction adds one tiny task per chunk (timed apart, as ``other``), nothing full-resolution
comes back to this process, and the sum is a checksum that must not depend on the workers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dask
import dask.system
import numpy as np
from dask.callbacks import Callback

from core.errors import PipelineError
from core.observe import StageTimer, for_this_compute, stage_of_layer, task_count
from core.pipeline import DEFAULT_CHAIN, Pipeline, Step, TileSet, build_pipeline, image_digest, partition_cached

__all__ = [
    "GRID_SIZES",
    "GridPoint",
    "GridScaling",
    "MeasurementCancelled",
    "ScalingPoint",
    "WorkerScaling",
    "amdahl_serial_fraction",
    "checksum_of",
    "default_worker_counts",
    "measure_grids",
    "measure_workers",
    "timed_stages",
]

#: Square grids for the task-overhead sweep: 1 x 1 up to the sidebar's largest, 16 x 16.
GRID_SIZES = (1, 2, 4, 8, 16)
#: Beyond this many cores, worker counts double instead of stepping by one: a run per
#: count on a 64-core server would take minutes, and doubling draws the same curve.
STEP_BY_ONE_UP_TO = 8

Report = Callable[[int, int], None]
Cancelled = Callable[[], bool]


class MeasurementCancelled(PipelineError):
    """The caller's ``cancelled()`` said stop; nothing measured so far is returned."""


@dataclass(frozen=True)
class ScalingPoint:
    """One worker count: the fastest of its runs, and where that run's task time went."""

    workers: int
    wall: float  # seconds from submitting the graph to having the checksum
    stage_seconds: dict[str, float]  # task seconds per stage (``timed_stages``), summed over threads
    tasks: int  # every task run: the pipeline's and those summing its result
    checksum: float  # float64 sum of the result
    pipeline_tasks: int  # the pipeline's own, as the Tasks page and the step pages count them

    @property
    def task_seconds(self) -> float:
        """Seconds its tasks computed, summed over threads."""
        return sum(self.stage_seconds.values())


@dataclass(frozen=True)
class WorkerScaling:
    """A sweep over worker counts, with the ideal line and Amdahl's law fitted to it."""

    points: tuple[ScalingPoint, ...]  # by increasing worker count, starting at 1

    @property
    def workers(self) -> list[int]:
        return [p.workers for p in self.points]

    @property
    def walls(self) -> list[float]:
        return [p.wall for p in self.points]

    @property
    def ideal_walls(self) -> list[float]:
        """Perfect scaling: one worker's time divided by the number of workers."""
        return [self.points[0].wall / k for k in self.workers]

    @property
    def speedups(self) -> list[float]:
        """One worker's time over each count's time."""
        return [self.points[0].wall / p.wall for p in self.points]

    @property
    def serial_fraction(self) -> float | None:
        return amdahl_serial_fraction(self.workers, self.walls)

    def amdahl_speedup(self, workers: int) -> float | None:
        """The speed-up Amdahl's law predicts with the fitted serial fraction."""
        serial = self.serial_fraction
        return None if serial is None else 1.0 / (serial + (1.0 - serial) / workers)


@dataclass(frozen=True)
class GridPoint:
    """One grid of the task-overhead sweep: the fastest of its runs."""

    rows: int
    cols: int
    tasks: int  # every task run, as ``ScalingPoint.tasks``
    wall: float
    stage_seconds: dict[str, float]
    pipeline_tasks: int

    @property
    def task_seconds(self) -> float:
        return sum(self.stage_seconds.values())


@dataclass(frozen=True)
class GridScaling:
    points: tuple[GridPoint, ...]
    workers: int  # threads every grid ran on


def default_worker_counts(cores: int | None = None) -> list[int]:
    """1, 2, ... ``cores`` (up to ``STEP_BY_ONE_UP_TO``, then doubling, and ``cores`` last).

    ``cores`` defaults to ``dask.system.CPU_COUNT``, which, unlike ``os.cpu_count()``,
    counts only the cores this process may use (CPU affinity, cgroup quotas).
    """
    cores = max(1, cores or dask.system.CPU_COUNT)
    counts = list(range(1, min(cores, STEP_BY_ONE_UP_TO) + 1))
    while counts[-1] * 2 < cores:
        counts.append(counts[-1] * 2)
    if counts[-1] != cores:
        counts.append(cores)
    return counts


def amdahl_serial_fraction(workers: Sequence[int], walls: Sequence[float]) -> float | None:
    """The serial fraction ``s`` of Amdahl's law, ``T(k) = T(1) * (s + (1 - s) / k)``,
    fitted by least squares to the wall times (None with fewer than two worker counts).

    ``T(k) = a + b / k`` is linear in ``1 / k``: ``a`` is the serial time, ``b`` the
    parallel one, and ``s = a / (a + b)``. Whatever does not shrink with more workers
    counts as serial here: code that runs on one thread, but also contention for memory
    bandwidth or the GIL, and other programs on the machine. The result is clamped to
    [0, 1]: noise can make a fit superlinear (``a < 0``) or slower with more workers.
    """
    if len(set(workers)) < 2:
        return None
    design = np.column_stack([np.ones(len(workers)), 1.0 / np.asarray(workers, float)])
    (serial, parallel), *_ = np.linalg.lstsq(design, np.asarray(walls, float), rcond=None)
    if parallel <= 0:
        return 1.0
    return float(min(max(serial / (serial + parallel), 0.0), 1.0))


class _Watch(Callback):
    """Counts finished tasks for ``report`` and stops the graph when ``cancelled()``.

    The threaded scheduler calls these hooks in the thread that called ``compute``, before
    it submits each task and after each finishes, so raising in ``_pretask`` stops the run
    at its next task; tasks already running finish, and their results are dropped.
    """

    def __init__(self, report: Report | None, cancelled: Cancelled | None, total: int, interval: float = 0.1):
        super().__init__()
        self._report, self._cancelled = report, cancelled
        self.total, self.done = total, 0
        self._interval, self._last = interval, 0.0

    def check(self) -> None:
        if self._cancelled is not None and self._cancelled():
            raise MeasurementCancelled("the measurement was cancelled")

    def _pretask(self, key, dsk, state):
        self.check()

    def _posttask(self, key, result, dsk, state, worker_id):
        self.done += 1
        now = time.perf_counter()
        if self._report is not None and now - self._last >= self._interval:
            self._last = now
            self._report(self.done, self.total)


def timed_stages(pipeline: Pipeline) -> tuple[str, ...]:
    """The stages whose task seconds are reported, in pipeline order; ``other`` is the sum
    that stands in for gathering the result."""
    return (*pipeline.stages(), "other")


def checksum_of(pipeline: Pipeline):
    """What each run computes: the chain's result summed in float64, lazily."""
    return pipeline.result.sum(dtype=np.float64)


def _timed_run(
    pipeline: Pipeline, owner: dict[str, str], workers: int, watch: _Watch
) -> tuple[float, dict[str, float], float]:
    """Wall seconds, task seconds per stage and the checksum of one run on ``workers`` threads."""
    timer = StageTimer(owner)
    checksum = checksum_of(pipeline)
    started = time.perf_counter()
    # ``optimize_graph=False`` keeps each task under its stage's layer name (see StageTimer).
    (total,) = dask.compute(
        checksum, scheduler="threads", num_workers=workers, optimize_graph=False, **for_this_compute(timer, watch),
    )
    wall = time.perf_counter() - started
    seconds = {stage: float(timer.times.seconds.get(stage, 0.0)) for stage in timed_stages(pipeline)}
    return wall, seconds, float(total)


def _best_of(runs: list[tuple[float, dict[str, float], float]]) -> tuple[float, dict[str, float], float]:
    # The fastest run is the one least disturbed by anything else on the machine.
    return min(runs, key=lambda run: run[0])


def measure_workers(
    tiles: TileSet,
    *,
    chain: tuple[Step, ...] = DEFAULT_CHAIN,
    workers: Sequence[int] | None = None,
    repeats: int = 1,
    report: Report | None = None,
    cancelled: Cancelled | None = None,
) -> WorkerScaling:
    """Run the pipeline on each number of worker threads and time it.

    Parameters
    ----------
    tiles : TileSet
        The image's tile files for one grid.
    chain : tuple of Step
        The steps after stitching, as for ``build_pipeline``.
    workers : sequence of int, optional
        Thread counts to try; 1 is always added, as the baseline of the speed-ups.
        Default: ``default_worker_counts()``.
    repeats : int
        Runs per count; the fastest is kept. Repeats go round all counts in turn, so that a
        slow spell of the machine touches every count rather than all runs of one.
    report : callable, optional
        ``report(done, total)`` with the tasks finished over the whole sweep, at most every
        0.1 s, from the calling thread.
    cancelled : callable, optional
        Polled before every task; when it returns True the sweep stops.

    Returns
    -------
    WorkerScaling

    Raises
    ------
    MeasurementCancelled
        If ``cancelled()`` returned True.
    PipelineError
        If a worker count is below 1, or the settings are invalid.
    """
    counts = sorted(set(default_worker_counts() if workers is None else workers) | {1})
    if counts[0] < 1 or repeats < 1:
        raise PipelineError(f"worker counts and repeats must be at least 1, got {counts} and {repeats}")
    pipeline = build_pipeline(tiles, chain)
    owner = stage_of_layer(pipeline)
    tasks = task_count(checksum_of(pipeline))
    pipeline_tasks = task_count(pipeline.result)
    watch = _Watch(report, cancelled, tasks * len(counts) * repeats)
    runs: dict[int, list] = {k: [] for k in counts}
    for _ in range(repeats):
        for k in counts:
            watch.check()  # between runs too: a graph may finish before any check fires
            runs[k].append(_timed_run(pipeline, owner, k, watch))
    if report is not None:
        report(watch.total, watch.total)
    points = []
    for k in counts:
        wall, seconds, checksum = _best_of(runs[k])
        points.append(ScalingPoint(k, wall, seconds, tasks, checksum, pipeline_tasks))
    return WorkerScaling(tuple(points))


def measure_grids(
    image: np.ndarray,
    cache_root: str | os.PathLike,
    *,
    grids: Sequence[int] = GRID_SIZES,
    chain: tuple[Step, ...] = DEFAULT_CHAIN,
    workers: int | None = None,
    repeats: int = 1,
    digest: str | None = None,
    report: Report | None = None,
    cancelled: Cancelled | None = None,
) -> GridScaling:
    """Time the pipeline on square grids of tiles, all on the same number of threads.

    More tiles mean more tasks, each with its own scheduling cost; this shows where the
    overhead outgrows the parallelism. Tiles are written with ``partition_cached`` under
    ``cache_root`` before anything is timed (writing them is not part of the times).

    Parameters
    ----------
    image : ndarray
    cache_root : path-like
        The tile cache; each grid's tiles are written once and reused.
    grids : sequence of int
        ``g`` stands for a ``g x g`` grid; grids with more tiles than the image has rows or
        columns are left out.
    workers : int, optional
        Threads per run, by default ``dask.system.CPU_COUNT``.
    chain, repeats, report, cancelled
        As for ``measure_workers``.

    Returns
    -------
    GridScaling

    Raises
    ------
    MeasurementCancelled
        If ``cancelled()`` returned True.
    PipelineError
        If no grid fits the image, or the settings are invalid.
    """
    workers = workers or dask.system.CPU_COUNT
    if workers < 1 or repeats < 1:
        raise PipelineError(f"workers and repeats must be at least 1, got {workers} and {repeats}")
    digest = digest or image_digest(image)
    fitting = sorted({g for g in grids if g >= 1 and g <= min(image.shape[:2])})
    if not fitting:
        raise PipelineError(f"none of the grids {list(grids)} fits a {image.shape[1]} x {image.shape[0]} image")
    watch = _Watch(report, cancelled, 0)
    prepared = []
    for g in fitting:
        watch.check()
        tiles = partition_cached(image, g, g, cache_root, digest=digest)
        pipeline = build_pipeline(tiles, chain)
        tasks = task_count(checksum_of(pipeline))
        prepared.append((g, pipeline, stage_of_layer(pipeline), tasks, task_count(pipeline.result)))
    watch.total = sum(tasks for *_, tasks, _ in prepared) * repeats
    runs: dict[int, list] = {g: [] for g in fitting}
    for _ in range(repeats):
        for g, pipeline, owner, *_ in prepared:
            watch.check()
            runs[g].append(_timed_run(pipeline, owner, workers, watch))
    if report is not None:
        report(watch.total, watch.total)
    points = []
    for g, _pipeline, _owner, tasks, pipeline_tasks in prepared:
        wall, seconds, _checksum = _best_of(runs[g])
        points.append(GridPoint(g, g, tasks, wall, seconds, pipeline_tasks))
    return GridScaling(tuple(points), workers)

