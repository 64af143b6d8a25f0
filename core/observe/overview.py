"""How many tasks a graph holds, and its collapsed view: one node per kind of layer.

The collapsed view is a ``graphviz.Digraph``; nothing here renders it (the browser lays it
out with Graphviz in WebAssembly), so the ``dot`` program is not needed. Task by task,
graphs are ``task_graph``'s.
"""

from __future__ import annotations

from collections import defaultdict

import graphviz
from dask.base import is_dask_collection
from dask.highlevelgraph import HighLevelGraph
from dask.utils import key_split

from .task_words import OTHER_STAGE, overview_words, stage_slug

__all__ = ["layer_graph", "task_count"]


def _as_list(collections) -> list:
    """One dask collection or an iterable of them, as a list (an Array is iterable too)."""
    return [collections] if is_dask_collection(collections) else list(collections)


def _merged_graph(collections) -> HighLevelGraph:
    return HighLevelGraph.merge(*(c.__dask_graph__() for c in _as_list(collections)))


def task_count(collections) -> int:
    """Number of tasks needed to compute ``collections`` (a dask array or an iterable).

    Counted by key: a layer of delayed calls also holds the tasks of the graph before it
    (the Otsu threshold's, the labels'), which would otherwise count twice.
    """
    return len(_merged_graph(collections).to_dict())


def layer_graph(graph: HighLevelGraph, stage_of_layer: dict[str, str] | None = None) -> graphviz.Digraph:
    """One node per operation: layers of the same kind at the same depth are merged.

    Each tile has its own read and grayscale layers, so a 16 x 16 grid has hundreds of
    layers side by side; grouping them by name and depth keeps one node per step while a
    later layer of a common kind (``getitem`` at the end, say) stays a node of its own.
    With ``stage_of_layer`` (``timing.stage_of_layer``) each box says what it does as the
    task graph's boxes do, and carries its stage's class (``stage-sobel``), which the
    page colours; its tooltip keeps Dask's name for the operation.
    """
    stage_of_layer = stage_of_layer or {}
    depth: dict[str, int] = {}
    for name in _topological(graph.dependencies):
        depth[name] = 1 + max((depth[d] for d in graph.dependencies[name]), default=-1)
    group_of = {name: (stage_of_layer.get(name, OTHER_STAGE), key_split(name), depth[name]) for name in graph.layers}
    tasks: dict[tuple, int] = defaultdict(int)
    layers: dict[tuple, int] = defaultdict(int)
    for name, count in _tasks_per_layer(graph).items():
        tasks[group_of[name]] += count
        layers[group_of[name]] += 1
    edges = {
        (group_of[dep], group_of[name])
        for name, deps in graph.dependencies.items()
        for dep in deps
        if group_of[dep] != group_of[name]
    }
    # Top to bottom, in reading order, an arrow from a box to the boxes that use it: a few
    # boxes in a column fit the panel with words that can be read, where a row of them
    # (as the task graph runs, left to right) would be a thin line.
    digraph = graphviz.Digraph(
        graph_attr={"rankdir": "TB", "ranksep": "0.25"}, node_attr={"shape": "box", "fontname": "helvetica"}
    )
    for group, n_tasks in sorted(tasks.items(), key=lambda item: item[0][2]):
        stage, kind, _ = group
        count = f"{n_tasks:,} task{'s' if n_tasks > 1 else ''}"
        if layers[group] > 1:
            count += f" in {layers[group]} layers"
        digraph.node(
            _node_name(group), label=f"{overview_words(kind, stage)}\n{count}", tooltip=kind,
            _attributes={"class": f"stage-{stage_slug(stage)}"},
        )
    for dependency, dependent in sorted(edges):
        digraph.edge(_node_name(dependency), _node_name(dependent))
    return digraph


def _node_name(group: tuple[str, str, int]) -> str:
    stage, kind, level = group
    return f"{stage_slug(stage)}-{kind}-{level}"


def _tasks_per_layer(graph: HighLevelGraph) -> dict[str, int]:
    """Tasks per layer, each counted once: in the layer named after it, else in the first
    layer that holds it. Layers of delayed calls also hold copies of the tasks before them
    (the Otsu threshold's, the labels'), which would otherwise count again."""
    owner = {}
    for name, layer in graph.layers.items():
        for key in layer:
            if (key[0] if isinstance(key, tuple) else key) == name or key not in owner:
                owner[key] = name
    counts = dict.fromkeys(graph.layers, 0)
    for name in owner.values():
        counts[name] += 1
    return counts


def _topological(dependencies: dict[str, set[str]]) -> list[str]:
    order: list[str] = []
    done: set[str] = set()
    for start in dependencies:
        stack = [(start, False)]
        while stack:
            name, expanded = stack.pop()
            if name in done:
                continue
            if expanded:
                done.add(name)
                order.append(name)
                continue
            stack.append((name, True))
            stack.extend((d, False) for d in dependencies[name] if d not in done)
    return order
