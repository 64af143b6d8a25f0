"""The real task graph of a pipeline, one node per task, with the piece of the image each holds.

Every task is placed on the stitched image where its output is a piece of it
(``placement``); tasks whose outputs are not pixels (a histogram, a threshold level, label
offsets) have no region. The graph is drawn as DOT, one node per task, and as an
overview (``overview``). Nothing here runs a task.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import accumulate

import dask.array as da
import graphviz

# The task specs are public (``dask.task_spec``); ``convert_legacy_graph`` is not: it turns a
# graph's legacy tuples (such as dask-image's read tasks) into those specs, as dask's own
# schedulers do (``dask.local``), and no public function does; tests/test_task_graph.py,
# test_dasks_private_convert_legacy_graph_still_reads_a_legacy_graph, fails if it changes.
from dask._task_spec import convert_legacy_graph
from dask.highlevelgraph import HighLevelGraph
from dask.utils import key_split

from ..pipeline.build import Pipeline
from .overview import layer_graph
from .placement import Placement, Region, block_of
from .task_words import OTHER_STAGE, stage_slug, task_words
from .timing import stage_of_layer

__all__ = ["OTHER_STAGE", "TaskGraph", "TaskNode", "stage_slug", "task_graph_of"]

@dataclass(frozen=True)
class TaskNode:
    """One task: what it is, which stage added it, and which pixels it holds and reads."""

    key: str  # str() of the dask key
    name: str  # dask.utils.key_split of the key: "sobel", "getitem", "map_read_frame"...
    stage: str  # "read", "grayscale", "stitch", a step's label (core.pipeline.step_labels), or "other"
    block: tuple[int, ...] | None  # the chunk index in the key, if it has one
    region: Region | None  # the pixels its output holds; None if its output is not pixels
    reads: Region | None  # the pixels its inputs hold, where more than ``region``
    tile: tuple[int, int] | None  # the tile whose region holds ``region`` (or whose file it names)

    @property
    def label(self) -> str:
        """What the task does and where (``read tile (1, 2)``): its box's text, never its key."""
        return task_words(self.key, self.name, self.stage, self.block, self.tile)

    @property
    def label_lines(self) -> str:
        """``label`` with its place on a second line: the box in the graph, half as wide."""
        return task_words(self.key, self.name, self.stage, self.block, self.tile, lines=True)


@dataclass(frozen=True)
class TaskGraph:
    """Every task that computes a pipeline's arrays, and the grid they are placed on."""

    nodes: tuple[TaskNode, ...]  # in a topological order
    edges: tuple[tuple[int, int], ...]  # (dependency, dependent), indices into nodes
    image_shape: tuple[int, int]
    row_edges: tuple[int, ...]  # tile boundaries, as core.pipeline.split_edges
    col_edges: tuple[int, ...]
    # The collapsed view's DOT source (overview.layer_graph of the same graph): text, so
    # that the whole graph stays plain data for the page.
    overview: str = field(default="", repr=False, compare=False)

    def dot(self) -> str:
        """DOT source with one node per task, named ``t<index>`` and with ``id`` set to the
        same, so that the SVG group of node ``i`` is ``#t<i>``; its label says what the task
        does and where (``task_words``), its class names its stage (``stage-sobel``), its
        tooltip the key. Colours are left to the page's style sheet.

        Written once per graph: a page draws it and offers it for download on every rerun,
        and writing it for thousands of tasks is not free (benchmarks/RESULTS.md, "Figures
        quoted in the code before 2026-12-07")."""
        return self._dot

    @functools.cached_property
    def _dot(self) -> str:
        # Left to right: the graph is a few tasks deep and hundreds of tiles wide, and a tall
        # column fits a scrolling page. Fewer rounds of crossing reduction (mclimit) are what
        # make thousands of tasks lay out in seconds rather than tens of seconds with viz.js
        # (tests/test_task_graph.py lays the DOT out with it in node; the figures are in
        # benchmarks/RESULTS.md, "Figures quoted in the code before 2026-12-07").
        digraph = graphviz.Digraph(
            graph_attr={"rankdir": "LR", "ranksep": "0.3", "nodesep": "0.05", "mclimit": "0.1"},
            node_attr={"shape": "box", "fontname": "helvetica", "fontsize": "10", "height": "0.2"},
            edge_attr={"arrowsize": "0.4"},
        )
        for index, node in enumerate(self.nodes):
            digraph.node(
                f"t{index}", label=node.label_lines, tooltip=node.key, id=f"t{index}",
                _attributes={"class": f"stage-{stage_slug(node.stage)}"},
            )
        for dependency, dependent in self.edges:
            digraph.edge(f"t{dependency}", f"t{dependent}")
        return digraph.source

    def overview_dot(self) -> str:
        """The collapsed view: one node per kind of layer, with its task count."""
        return self.overview

    def tasks_of_tile(self, row: int, col: int) -> list[int]:
        """Indices of the nodes placed on tile (row, col)."""
        return [i for i, node in enumerate(self.nodes) if node.tile == (row, col)]


# -- building it ---------------------------------------------------------------------------


def task_graph_of(pipeline: Pipeline, arrays=None) -> TaskGraph:
    """The task graph that computes ``pipeline.result`` (or ``arrays``, one dask array or a
    list of them), as it runs unoptimised (``optimize_graph=False``, as the app and the
    command line compute), each task placed on the stitched image where it can be."""
    arrays = [pipeline.result] if arrays is None else ([arrays] if isinstance(arrays, da.Array) else list(arrays))
    graph = HighLevelGraph.merge(*(a.__dask_graph__() for a in arrays))
    specs = convert_legacy_graph(graph.to_dict())
    order = _topological(specs)
    index = {key: i for i, key in enumerate(order)}
    owner = stage_of_layer(pipeline)
    layer_of = _layer_of_keys(graph, owner, list(pipeline.stages()))

    row_edges, col_edges = (tuple(accumulate(map(int, sizes), initial=0)) for sizes in pipeline.stitched.chunks)
    placement = Placement(graph, specs, pipeline, row_edges, col_edges)
    regions, reads, tiles = placement.place(order)

    nodes = tuple(
        TaskNode(
            key=str(key), name=key_split(key), stage=owner.get(layer_of.get(key, ""), OTHER_STAGE),
            block=block_of(key), region=regions.get(key), reads=reads.get(key), tile=tiles.get(key),
        )
        for key in order
    )
    edges = tuple(
        sorted((index[dep], index[key]) for key in order for dep in specs[key].dependencies if dep in index)
    )
    return TaskGraph(
        nodes=nodes, edges=edges, image_shape=tuple(pipeline.stitched.shape), row_edges=row_edges,
        col_edges=col_edges, overview=layer_graph(graph, owner).source,
    )


def _layer_of_keys(graph: HighLevelGraph, stage_of: dict[str, str], stages: list[str]) -> dict:
    """Each key's layer: the one named after it, else the earliest stage's that holds it.

    An overlap layer holds the ``getitem`` pieces it cuts; a layer of delayed calls (the
    Otsu threshold's, the labels') also holds copies of the tasks before it, which belong
    to the stage that made them.
    """
    rank = {stage: i for i, stage in enumerate(stages)}
    layers = sorted(graph.layers, key=lambda name: rank.get(stage_of.get(name), len(rank)))
    layer_of = {}
    for name in layers:
        for key in graph.layers[name]:
            if (key[0] if isinstance(key, tuple) else key) == name or key not in layer_of:
                layer_of[key] = name
    return layer_of


def _topological(specs: dict) -> list:
    """Keys with every dependency before its dependents, in the graph's own order otherwise."""
    dependents = defaultdict(list)
    waiting = {}
    for key, spec in specs.items():
        deps = [d for d in spec.dependencies if d in specs]
        waiting[key] = len(deps)
        for dep in deps:
            dependents[dep].append(key)
    ready = [key for key, count in waiting.items() if count == 0]
    ready.reverse()  # a stack: depth first, so each tile's chain stays together
    order = []
    while ready:
        key = ready.pop()
        order.append(key)
        for dependent in reversed(dependents[key]):
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    if len(order) != len(specs):
        raise ValueError("the task graph has a cycle")
    return order


