"""Each chunk of an array computed in one task, where the workers share this process's memory.

A filter borrows pixels from its neighbours through ``map_overlap``, which cuts every
neighbour's edge as a task of its own, joins them, filters and trims: 132 tasks for a
Sobel over 4 x 4 chunks. Dask's own optimization fuses the join into the filter but keeps
the 100 cuts. On a cluster every task costs time on the scheduler and its workers (about
0.7 ms on the local cluster, which runs in the app's process), so there the cuts were
most of a filter step's wall time (``python -m benchmarks.fusion``).

``fused_chunks`` fuses into each output chunk's task every task that only it uses: the
cuts, the join, the filter and the trim, leaving one task per chunk that reads its
neighbours' chunks whole. That is free where the workers share memory (threads, or the
local cluster's in-process workers) and costly where they do not: a worker on another
machine would receive whole chunks rather than their edges, so ``shares_memory`` says
where to use it.
"""

from __future__ import annotations

import dask
import dask.array as da
from dask.core import flatten
from dask.task_spec import Alias, Task

from .cluster import THREADS

__all__ = ["fused_chunks", "shares_memory"]

#: Distributed's scheme for a scheduler in this process (``LocalCluster(processes=False)``).
IN_PROCESS = "inproc://"


def shares_memory(scheduler) -> bool:
    """Whether ``scheduler``'s workers are threads of this process: the threaded scheduler
    or a cluster whose scheduler this process runs."""
    if scheduler == THREADS or scheduler in ("sync", "synchronous", "single-threaded"):
        return True
    address = getattr(getattr(scheduler, "scheduler", None), "address", "") or ""
    return address.startswith(IN_PROCESS)


def fused_chunks(array: da.Array) -> da.Array:
    """``array`` with each chunk's task holding every task that only this chunk needs.

    Tasks that other chunks also need (a neighbour's whole chunk, a persisted input) stay
    as they are. The chunks keep their keys, so what is built on the result (a preview,
    a histogram) refers to them as before.
    """
    (optimized,) = dask.optimize(array)
    graph = dict(optimized.__dask_graph__())
    chunk_keys = set(flatten(optimized.__dask_keys__()))
    users: dict = {}
    for key, node in graph.items():
        for dependency in getattr(node, "dependencies", ()):
            users.setdefault(dependency, set()).add(key)
    for chunk_key in chunk_keys:
        group = _only_used_by(chunk_key, graph, users, chunk_keys)
        if len(group) > 1:
            graph[chunk_key] = Task.fuse(*(graph[key] for key in group), key=chunk_key)
            for key in group - {chunk_key}:
                del graph[key]
    return da.Array(graph, optimized.name, optimized.chunks, dtype=optimized.dtype)


def _only_used_by(chunk_key, graph: dict, users: dict, chunk_keys: set) -> set:
    """``chunk_key`` and the tasks below it that nothing outside this set uses."""
    group, todo = {chunk_key}, [chunk_key]
    while todo:
        for dependency in graph[todo.pop()].dependencies:
            node = graph.get(dependency)
            if (
                dependency not in group and dependency not in chunk_keys
                and isinstance(node, (Task, Alias)) and users[dependency] <= group
            ):
                group.add(dependency)
                todo.append(dependency)
    return group
