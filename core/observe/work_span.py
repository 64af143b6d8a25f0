"""Work and span of a recorded run, and what more workers would buy.

The work is the time every task ran, added up: what one worker would need. The span is the
longest chain of tasks that each need the one before: what no number of workers can beat.
Their ratio bounds the speed-up of any number of workers. Between the two, the recorded
durations replayed through a list scheduler that respects the graph's dependencies predict
the wall time on k workers; each task also pays a scheduling cost (``scheduling_cost``,
measured on threads or on a cluster), less what its recorded duration already holds
(``cost_beyond_recording``). Nothing here draws; the pages and benchmarks do.
"""

from __future__ import annotations

import functools
import heapq
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import dask.threaded
from dask.task_spec import Task, TaskRef

from ..runtime.cluster import THREADS
from .replay import RecordedRun
from .task_graph import TaskGraph

__all__ = [
    "MOST_WORKERS", "WorkSpan", "cost_beyond_recording", "list_schedule", "longest_chain", "scheduling_cost", "work_span",
]

#: The predictions go up to this many workers.
MOST_WORKERS = 64

Edges = Sequence[tuple[int, int]]


def _topological(count: int, edges: Edges) -> tuple[list[int], list[list[int]], list[int]]:
    """A topological order of tasks 0..count-1, each task's dependents, and its number of
    dependencies."""
    dependents: list[list[int]] = [[] for _ in range(count)]
    waiting = [0] * count
    for dependency, dependent in edges:
        dependents[dependency].append(dependent)
        waiting[dependent] += 1
    order = [task for task in range(count) if waiting[task] == 0]
    left = list(waiting)
    for task in order:  # grows while it is read
        for dependent in dependents[task]:
            left[dependent] -= 1
            if left[dependent] == 0:
                order.append(dependent)
    if len(order) != count:
        raise ValueError("the task graph has a cycle")
    return order, dependents, waiting


def longest_chain(durations: Sequence[float], edges: Edges) -> tuple[float, list[int]]:
    """The span: the largest sum of durations along a chain of dependent tasks, and that
    chain's tasks, first to last."""
    if not durations:
        return 0.0, []
    order, dependents, _ = _topological(len(durations), edges)
    finish = list(map(float, durations))  # the longest chain ending with each task
    before = [-1] * len(durations)
    for task in order:
        for dependent in dependents[task]:
            if finish[task] + durations[dependent] > finish[dependent]:
                finish[dependent] = finish[task] + durations[dependent]
                before[dependent] = task
    last = max(range(len(durations)), key=finish.__getitem__)
    chain = [last]
    while before[chain[-1]] >= 0:
        chain.append(before[chain[-1]])
    return finish[last], chain[::-1]


def list_schedule(
    durations: Sequence[float], edges: Edges, workers: int, priority: Sequence[float] | None = None
) -> float:
    """The wall time of running the tasks on ``workers`` workers, each task starting as soon
    as its dependencies are done and a worker is free; among ready tasks the one of lowest
    ``priority`` first (by default, the lowest index). No task is ever split or moved."""
    if workers < 1:
        raise ValueError(f"at least one worker, got {workers}")
    count = len(durations)
    priority = range(count) if priority is None else priority
    _, dependents, waiting = _topological(count, edges)
    waiting = list(waiting)
    ready = [(priority[task], task) for task in range(count) if waiting[task] == 0]
    heapq.heapify(ready)
    running: list[tuple[float, int]] = []  # (finish time, task)
    now = 0.0
    while ready or running:
        while ready and len(running) < workers:
            _, task = heapq.heappop(ready)
            heapq.heappush(running, (now + durations[task], task))
        now, task = heapq.heappop(running)
        for dependent in dependents[task]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, (priority[dependent], dependent))
    return now


@dataclass(frozen=True)
class WorkSpan:
    """A recorded run's tasks as a list scheduler sees them: durations (seconds, in the
    task graph's order), dependencies, and the order the run started them."""

    durations: tuple[float, ...]
    edges: tuple[tuple[int, int], ...]
    started: tuple[float, ...]  # each task's start in the run: the scheduler's priority
    measured: float  # the recorded run's wall time
    recorded_workers: int  # threads that ran its tasks
    where: str = THREADS  # where it was recorded: "threads", or the scheduler's address

    @property
    def work(self) -> float:
        return sum(self.durations)

    @functools.cached_property
    def _longest(self) -> tuple[float, list[int]]:
        return longest_chain(self.durations, self.edges)

    @property
    def span(self) -> float:
        return self._longest[0]

    @property
    def span_tasks(self) -> list[int]:
        """The tasks of the longest chain, first to last, as indices into the graph."""
        return self._longest[1]

    @property
    def parallelism(self) -> float:
        """Work over span: the largest speed-up any number of workers can give."""
        return self.work / self.span if self.span > 0 else 1.0

    def predict(self, workers: int, per_task: float = 0.0) -> float:
        """Seconds on ``workers`` workers: the recorded durations, each plus ``per_task``
        seconds of scheduling, through ``list_schedule`` in the order the run started them."""
        return list_schedule([d + per_task for d in self.durations], self.edges, workers, self.started)

    def predictions(self, per_task: float = 0.0, most: int = MOST_WORKERS) -> list[float]:
        """``predict`` for 1, 2, ... ``most`` workers."""
        return [self.predict(k, per_task) for k in range(1, most + 1)]


def work_span(graph: TaskGraph, run: RecordedRun) -> WorkSpan:
    """The work and span of ``run``, a recording of ``graph``'s tasks (``record_run``);
    a task the run did not record (a literal its scheduler never ran) counts as instant."""
    by_key = {task.key: task for task in run.tasks}
    runs = [by_key.get(node.key) for node in graph.nodes]
    latest = run.wall
    return WorkSpan(
        durations=tuple(0.0 if task is None else task.stop - task.start for task in runs),
        edges=tuple(graph.edges),
        started=tuple(latest if task is None else task.start for task in runs),
        measured=run.wall,
        recorded_workers=len({(task.worker, task.thread) for task in run.tasks}) or 1,
        where=run.where,
    )


def cost_beyond_recording(cost: float, where: str, threads_cost: float) -> float:
    """The cost per task a prediction adds to durations recorded ``where``, for a scheduler
    whose cost per task is ``cost``. On threads a task's recorded time already runs from
    its submission to its result (``observe.progress.TaskClock``), so it holds the threads'
    own cost, ``threads_cost``; a cluster's task stream records the compute alone."""
    return max(0.0, cost - (threads_cost if where == THREADS else 0.0))


def _nothing(*_):
    return None


def scheduling_cost(scheduler=THREADS, tasks: int = 300) -> float:
    """Seconds one task adds beyond its own work: a chain of ``tasks`` tasks that do
    nothing, each waiting for the one before, timed on threads (the threaded scheduler, one
    worker) or on the cluster of the ``distributed.Client`` given, divided by ``tasks``.

    The chain measures a task's whole round trip: handed out, run, reported done, its
    dependent released. Keys are new on every call, so that a cluster cannot hand back
    results it already holds.
    """
    name = f"nothing-{uuid.uuid4().hex[:8]}"
    keys = [(name, i) for i in range(tasks)]
    graph = {key: Task(key, _nothing, *([TaskRef(keys[i - 1])] if i else [])) for i, key in enumerate(keys)}
    started = time.perf_counter()
    if hasattr(scheduler, "get"):
        scheduler.get(graph, keys[-1])
    else:
        dask.threaded.get(graph, keys[-1], num_workers=1)
    return (time.perf_counter() - started) / tasks
