"""One run of a pipeline recorded task by task: which thread ran each task, and when.

The page replays it: a timeline per worker thread, and the task graph and the tiles going
waiting -> running -> done under a time slider. The keys are those of
``core.observe.task_graph.task_graph_of``: the graph runs unoptimised, as it is drawn.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import dask.threaded

# The task specs are public (``dask.task_spec``); ``convert_legacy_graph`` is not: it turns a
# graph's legacy tuples (such as dask-image's read tasks) into those specs, as dask's own
# schedulers do (``dask.local``), and no public function does; tests/test_task_graph.py,
# test_dasks_private_convert_legacy_graph_still_reads_a_legacy_graph, fails if it changes.
from dask._task_spec import convert_legacy_graph
from dask.base import tokenize
from dask.core import flatten
from dask.task_spec import DataNode, Task, TaskRef

from ..pipeline.build import Pipeline
from ..runtime.cluster import THREADS
from .progress import ProgressCallback, TaskClock, for_this_compute, wait_with_progress
from .timing import compute_spans

__all__ = ["THIS_PROCESS", "RecordedRun", "TaskRun", "record_run"]

#: The worker of every task run on threads.
THIS_PROCESS = "this process"


@dataclass(frozen=True)
class TaskRun:
    """When and where one task ran."""

    key: str  # str() of the dask key, as TaskNode.key
    worker: str  # THIS_PROCESS on threads, the worker's address on a cluster
    thread: int  # the local scheduler's worker_id, or the task stream's thread
    start: float  # seconds since the run's first task started
    stop: float


@dataclass(frozen=True)
class RecordedRun:
    """Every task of one run, in the order they started."""

    tasks: tuple[TaskRun, ...]
    wall: float  # seconds from the first start to the last stop
    where: str  # "threads", or the scheduler's address


def record_run(pipeline: Pipeline, scheduler=THREADS, on_progress=None, array=None) -> RecordedRun:
    """Run every task of ``pipeline.result``'s graph (or of ``array``'s, a dask array built
    on the pipeline, such as the Speed-up page's checksum) once, on threads or on the
    cluster of the ``distributed.Client`` given as ``scheduler``, and record each one.

    Each block of the result is handed to a task that keeps only its size, so blocks are
    freed as they are made and nothing of full resolution stays in memory or on the
    workers; those tasks are not recorded, as they are not in the drawn graph.
    ``on_progress(done, total)`` is called as tasks finish.
    """
    result = pipeline.result if array is None else array
    graph = convert_legacy_graph(dict(result.__dask_graph__()))
    sinks = _block_sizes(list(flatten(result.__dask_keys__())))
    client = scheduler if hasattr(scheduler, "get_task_stream") else None
    if client is None:
        runs, where = _run_on_threads({**_as_tasks(graph), **sinks}, list(sinks), on_progress), THREADS
    else:
        runs, where = _run_on_cluster(client, {**graph, **sinks}, list(sinks), on_progress), client.scheduler.address
    drawn = {str(key) for key in graph}
    return _relative([run for run in runs if run.key in drawn], where)


def _nbytes(block) -> int:
    return int(getattr(block, "nbytes", 0))


def _block_sizes(keys: list) -> dict:
    """A task per block that keeps only the block's size in bytes."""
    name = "nbytes-" + tokenize(keys)
    return {(name, i): Task((name, i), _nbytes, TaskRef(key)) for i, key in enumerate(keys)}


def _as_tasks(graph: dict) -> dict:
    """The graph with its literal values (the tiles' file names) as tasks that return them.

    The local schedulers put literals in their results at the start without running them,
    so no callback would see them; a cluster runs them as tasks. As tasks they are
    recorded the same way on both.
    """
    return {key: Task(key, _identity, node) if isinstance(node, DataNode) else node for key, node in graph.items()}


def _identity(value):
    return value


def _run_on_threads(graph: dict, keys: list, on_progress) -> list[TaskRun]:
    runs = []
    clock = TaskClock(lambda key, start, stop, thread: runs.append(TaskRun(str(key), THIS_PROCESS, thread, start, stop)))
    progress = ProgressCallback(on_progress) if on_progress else None
    # The threaded scheduler's function, not its name: nothing is optimised, and
    # distributed is not imported to look for a client.
    dask.threaded.get(graph, keys, **for_this_compute(clock, progress))
    return runs


def _renamed(key, suffix: str):
    return (f"{key[0]}-{suffix}", *key[1:]) if isinstance(key, tuple) else f"{key}-{suffix}"


def _run_on_cluster(client, graph: dict, keys: list, on_progress) -> list[TaskRun]:
    """The graph under keys of this run's own: a cluster that already holds a key (the
    stitched image the pages persisted) would hand it over instead of running its tasks."""
    from distributed import get_task_stream

    suffix = "run-" + uuid.uuid4().hex[:8]
    fresh = {key: _renamed(key, suffix) for key in graph}
    original = {str(new): str(old) for old, new in fresh.items()}
    renamed = {fresh[key]: node.substitute(fresh, key=fresh[key]) for key, node in graph.items()}
    with get_task_stream(client) as stream:
        futures = client.get(renamed, [fresh[key] for key in keys], sync=False)
        wait_with_progress(futures, on_progress)
        del futures  # only sizes, but the cluster need not keep them
    runs = []
    for record in stream.data:
        spans = compute_spans(record)
        key = original.get(str(record["key"]))
        if spans and key:  # a task that failed or moved may have no compute span of its own
            start, stop = min(s for s, _ in spans), max(s for _, s in spans)
            runs.append(TaskRun(key, record["worker"], int(record["thread"]), start, stop))
    return runs


def _relative(runs: list[TaskRun], where: str) -> RecordedRun:
    """Times from the first start, tasks in the order they started."""
    if not runs:
        return RecordedRun((), 0.0, where)
    first = min(run.start for run in runs)
    tasks = tuple(
        sorted(
            (TaskRun(run.key, run.worker, run.thread, run.start - first, run.stop - first) for run in runs),
            key=lambda run: (run.start, run.stop),
        )
    )
    return RecordedRun(tasks, max(run.stop for run in tasks), where)
