"""The task view's arguments, from a ``TaskGraph``, a recorded run and a picture of the image,
and the view itself (``ui/components/dask_view/tasks.js``).

The arguments are plain lists, one entry per task in the graph's order, so that a graph of
thousands of tasks travels to the browser as a few hundred kilobytes of JSON. The view names
a task by its label, what it does and where (``core.observe.task_words``); Dask's keys stay
in the DOT source's tooltips, for the download, and the view shows none.
"""

from __future__ import annotations

import base64

from core.observe import TaskGraph, stage_slug
from core.runtime import THREADS

from .dask_view import dask_view
from .plots import stage_colour

__all__ = [
    "GRAPH_HEIGHT", "PICTURE_SIDE", "picture_uri", "show_task_view", "task_view_args", "thread_labels", "where_words",
]

#: Pixels of the graph's panel: room for a few hundred tasks at a readable size, the rest
#: is a wheel away.
GRAPH_HEIGHT = 480
#: The tile picture's long side: it fills a third of a wide page.
PICTURE_SIDE = 480
#: Decimals of the replay's seconds: microseconds, finer than any task here.
TIME_DECIMALS = 6


def _stages(graph: TaskGraph) -> tuple[list[list[str]], list[int]]:
    """The stages in the order tasks meet them: [name, colour, CSS class] each, and each
    task's index into that list."""
    names = list(dict.fromkeys(node.stage for node in graph.nodes))
    position = {name: i for i, name in enumerate(names)}
    stages = [[name, stage_colour(name), f"stage-{stage_slug(name)}"] for name in names]
    return stages, [position[node.stage] for node in graph.nodes]


def thread_labels(run) -> dict[tuple[str, int], str]:
    """A short name for every (worker, thread) of a recorded run: ``thread 1`` on threads in
    the server, ``worker 2 · thread 1`` on a cluster (the workers numbered by their
    addresses, as the Cluster page numbers them). Threads are numbered from 1 in the order
    they started their first task: their own ids are long numbers that say nothing."""
    workers = sorted({task.worker for task in run.tasks})
    number = {worker: i + 1 for i, worker in enumerate(workers)}
    threads_seen: dict[str, int] = {}
    order: dict[tuple[str, int], tuple[int, int]] = {}  # (worker number, thread number)
    for task in run.tasks:  # in the order they started
        pair = (task.worker, task.thread)
        if pair not in order:
            threads_seen[task.worker] = threads_seen.get(task.worker, 0) + 1
            order[pair] = (number[task.worker], threads_seen[task.worker])
    return {
        pair: f"thread {thread}" if len(workers) == 1 else f"worker {worker} · thread {thread}"
        for pair, (worker, thread) in sorted(order.items(), key=lambda item: item[1])
    }


def _run_args(graph: TaskGraph, run) -> dict:
    labels = thread_labels(run)
    row = {pair: i for i, pair in enumerate(labels)}
    by_key = {task.key: task for task in run.tasks}
    spans = []
    for node in graph.nodes:
        task = by_key.get(node.key)
        spans.append(
            None if task is None
            else [row[task.worker, task.thread], round(task.start, TIME_DECIMALS), round(task.stop, TIME_DECIMALS)]
        )
    return {
        "wall": round(run.wall, TIME_DECIMALS), "where": where_words(run), "threads": list(labels.values()), "task": spans,
    }


def where_words(run) -> str:
    """Where a recorded run ran, for a sentence: ``threads in the server`` or ``the Dask
    cluster's workers`` (the Cluster page gives its address: a local one's means nothing
    to a visitor)."""
    return "threads in the server" if run.where == THREADS else "the Dask cluster's workers"


def picture_uri(png: bytes) -> str:
    """The PNG as a ``data:`` address: the view shows it without asking the server, or
    anyone else, for a file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def task_view_args(
    graph: TaskGraph, *, run=None, picture: bytes | None = None, mode: str = "tasks",
    height: int = GRAPH_HEIGHT, signature: str = "", span: list[int] | None = None,
) -> dict:
    """What ``tasks.js`` draws: the graph's DOT sources, each task's stage, region, reads
    and tile, the image's grid (with ``picture``, a small PNG of the image, for the tile
    picture), and, after a ``run``, when and where each task ran, and its ``span`` (the
    longest chain of tasks, ``core.observe.work_span``) for the view to highlight.

    ``signature`` names this graph and run: the view keeps its layout, zoom and replay
    time across reruns of the page while it stays the same.
    """
    stages, stage_of_task = _stages(graph)
    args = {
        "dot": graph.dot(),
        "overview": graph.overview_dot(),
        "mode": mode,
        "height": height,
        "stages": stages,
        "nodes": {
            "stage": stage_of_task,
            "label": [node.label for node in graph.nodes],
            "region": [list(node.region) if node.region else None for node in graph.nodes],
            "reads": [list(node.reads) if node.reads else None for node in graph.nodes],
            "tile": [list(node.tile) if node.tile else None for node in graph.nodes],
        },
        "image": None,
        "run": None if run is None else {**_run_args(graph, run), "span": list(span or [])},
        "signature": signature,
    }
    if picture is not None:
        args["image"] = {
            "shape": list(graph.image_shape),
            "row_edges": list(graph.row_edges),
            "col_edges": list(graph.col_edges),
            "picture": picture_uri(picture),
        }
    return args


def show_task_view(graph: TaskGraph, *, key: str, **options) -> None:
    """The task view in the page: ``options`` as ``task_view_args`` takes them."""
    args = task_view_args(graph, **options)
    dask_view("tasks", key=key, **args)
