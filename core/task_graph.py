"""The real task graph of a pipeline, one node per task, with the piece of the image each holds.

Every task is placed on the stitched image where its output is a piece of it: a tile's
read and grayscale tasks on that tile, each chunk of the stitched image and of every step
on its chunk's slices, and the pieces ``map_overlap`` cuts, joins and trims on the slices
their task specs name. A filter task's output is trimmed back to its chunk afterwards, so
its region is that chunk and it ``reads`` the chunk plus the border its neighbours lend.
Tasks whose outputs are not pixels (a histogram, a threshold level, label offsets) have no
region. Nothing here runs a task.
"""

from __future__ import annotations

import functools
import operator
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import accumulate

import dask.array as da
import graphviz
from dask._task_spec import Alias, DataNode, Task, convert_legacy_graph
from dask.highlevelgraph import HighLevelGraph
from dask.utils import funcname, key_split

from .graphs import layer_graph
from .stages import Pipeline
from .timing import stage_of_layer

__all__ = ["OTHER_STAGE", "Region", "TaskGraph", "TaskNode", "task_graph_of"]

#: (top, bottom, left, right), half-open, in pixels of the stitched image.
Region = tuple[int, int, int, int]

#: The stage of tasks that no stage of the pipeline added.
OTHER_STAGE = "other"


@dataclass(frozen=True)
class TaskNode:
    """One task: what it is, which stage added it, and which pixels it holds and reads."""

    key: str  # str() of the dask key
    name: str  # dask.utils.key_split of the key: "sobel", "getitem", "map_read_frame"...
    stage: str  # "read", "grayscale", "stitch", a step's label (core.chain.step_labels), or "other"
    block: tuple[int, ...] | None  # the chunk index in the key, if it has one
    region: Region | None  # the pixels its output holds; None if its output is not pixels
    reads: Region | None  # the pixels its inputs hold, where more than ``region``
    tile: tuple[int, int] | None  # the tile whose region holds ``region`` (or whose file it names)


@dataclass(frozen=True)
class TaskGraph:
    """Every task that computes a pipeline's arrays, and the grid they are placed on."""

    nodes: tuple[TaskNode, ...]  # in a topological order
    edges: tuple[tuple[int, int], ...]  # (dependency, dependent), indices into nodes
    image_shape: tuple[int, int]
    row_edges: tuple[int, ...]  # tile boundaries, as core.tiling.split_edges
    col_edges: tuple[int, ...]
    # The collapsed view's DOT source (core.graphs.layer_graph of the same graph): text, so
    # that the whole graph stays plain data for the page.
    overview: str = field(default="", repr=False, compare=False)

    def dot(self) -> str:
        """DOT source with one node per task, named ``t<index>`` and with ``id`` set to the
        same, so that the SVG group of node ``i`` is ``#t<i>``; its class names its stage
        (``stage-sobel``), its tooltip the key. Colours are left to the page's style sheet.

        Written once per graph: a page draws it and offers it for download on every rerun
        (51 ms for the 1,716 tasks of a 16 x 16 grid here)."""
        return self._dot

    @functools.cached_property
    def _dot(self) -> str:
        # Left to right: the graph is a few tasks deep and hundreds of tiles wide, and a tall
        # column fits a scrolling page. Fewer rounds of crossing reduction (mclimit) are what
        # make thousands of tasks lay out in seconds: with viz.js in node, measured while
        # other work ran, 4,676 tasks (16 x 16, Sobel and clip) took 4.6 s against 30.6 s,
        # and 3,298 (8 x 8, Gaussian to labels) 11.6 s against 52.6 s.
        digraph = graphviz.Digraph(
            graph_attr={"rankdir": "LR", "ranksep": "0.3", "nodesep": "0.05", "mclimit": "0.1"},
            node_attr={"shape": "box", "fontname": "helvetica", "fontsize": "10", "height": "0.2"},
            edge_attr={"arrowsize": "0.4"},
        )
        for index, node in enumerate(self.nodes):
            digraph.node(
                f"t{index}", label=_short_label(node), tooltip=node.key, id=f"t{index}",
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


def stage_slug(stage: str) -> str:
    """A stage's label as a CSS class name: ``gaussian 2`` -> ``gaussian-2``."""
    return re.sub(r"[^a-z0-9]+", "-", stage.lower()).strip("-") or OTHER_STAGE


def _short_label(node: TaskNode) -> str:
    # The name and the key's indices, as dask prints fractional ones for overlap pieces.
    key_parts = _key_indices(node.key)
    return f"{node.name} {key_parts}" if key_parts else node.name


def _key_indices(key: str) -> str:
    match = re.fullmatch(r"\('[^']*',\s*(.*)\)", key)
    if not match:
        return ""
    parts = [p.strip() for p in match[1].split(",") if p.strip()]
    return ",".join(f"{float(p):.3g}" if "." in p else p for p in parts)


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
    placement = _Placement(graph, specs, pipeline, row_edges, col_edges)
    regions, reads, tiles = placement.place(order)

    nodes = tuple(
        TaskNode(
            key=str(key), name=key_split(key), stage=owner.get(layer_of.get(key, ""), OTHER_STAGE),
            block=_block(key), region=regions.get(key), reads=reads.get(key), tile=tiles.get(key),
        )
        for key in order
    )
    edges = tuple(
        sorted((index[dep], index[key]) for key in order for dep in specs[key].dependencies if dep in index)
    )
    return TaskGraph(
        nodes=nodes, edges=edges, image_shape=tuple(pipeline.stitched.shape), row_edges=row_edges,
        col_edges=col_edges, overview=layer_graph(graph).source,
    )


def _block(key) -> tuple[int, ...] | None:
    if isinstance(key, tuple) and len(key) > 1 and all(isinstance(i, int) for i in key[1:]):
        return tuple(key[1:])
    return None


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


# -- where each task lies on the image -----------------------------------------------------


class _Placement:
    """Regions from what the graph says: the tiles' layers, the chunks of image-shaped
    arrays, and the slicing, joining and trimming that the task specs spell out."""

    def __init__(self, graph: HighLevelGraph, specs: dict, pipeline: Pipeline, row_edges, col_edges):
        self.graph, self.specs = graph, specs
        self.image_shape = tuple(pipeline.stitched.shape)
        self.row_edges, self.col_edges = row_edges, col_edges
        self.tile_of_layer = {}
        for r, (reads, grays) in enumerate(zip(pipeline.tile_arrays, pipeline.gray_tiles)):
            for c, (tile, gray) in enumerate(zip(reads, grays)):
                for name in (*tile.dask.layers, *gray.dask.layers):
                    self.tile_of_layer[name] = (r, c)
        self.chunks = {
            name: annotations["chunks"]
            for name, layer in graph.layers.items()
            if (annotations := layer.collection_annotations or {}).get("chunks") is not None
        }

    def place(self, order: list) -> tuple[dict, dict, dict]:
        regions: dict = {}
        tiles: dict = {}
        for key in order:
            region, tile = self._forward(key, regions)
            if region is not None:
                regions[key] = region
            if tile is not None:
                tiles[key] = tile
        for key in reversed(order):  # an alias names what its target holds
            spec = self.specs[key]
            if isinstance(spec, Alias) and key in regions and spec.target not in regions:
                regions[spec.target] = regions[key]
        self._trim_filters(order, regions)
        reads = {}
        for key in order:
            borrowed = self._reads(key, regions)
            if borrowed is not None:
                reads[key] = borrowed
        for key, region in regions.items():
            tiles[key] = self.tile_holding(region) or tiles.get(key)
        return regions, reads, {k: v for k, v in tiles.items() if v is not None}

    def _forward(self, key, regions: dict) -> tuple[Region | None, tuple[int, int] | None]:
        name = key[0] if isinstance(key, tuple) else key
        spec = self.specs[key]
        if isinstance(spec, Task) and _reduces(spec.func):
            return None, None
        if name in self.tile_of_layer:
            tile = self.tile_of_layer[name]
            # The file-name array serves the tile without holding any of its pixels.
            return (None if self._block_shape(key) is None else self.tile_region(*tile)), tile
        if (region := self._chunk_region(key)) is not None:
            return region, None
        if isinstance(spec, Alias):
            return regions.get(spec.target), None
        if isinstance(spec, Task):
            return self._task_region(key, spec, regions), None
        return None, None

    def _block_shape(self, key) -> tuple[int, ...] | None:
        """The shape of a key's chunk, from its own layer's chunks, if at least 2-D."""
        name = key[0] if isinstance(key, tuple) else key
        block = _block(key)
        chunks = self.chunks.get(name)
        if block is None or chunks is None or len(block) != len(chunks) or len(chunks) < 2:
            return None
        return tuple(chunks[axis][i] for axis, i in enumerate(block))

    def _chunk_region(self, key) -> Region | None:
        """A chunk of an array shaped like the image lies at its chunk's slices."""
        name = key[0] if isinstance(key, tuple) else key
        chunks, block = self.chunks.get(name), _block(key)
        if chunks is None or block is None or len(chunks) != 2 or len(block) != 2:
            return None
        if tuple(sum(c) for c in chunks) != self.image_shape:
            return None
        (rows, cols), (i, j) = chunks, block
        top, left = sum(rows[:i]), sum(cols[:j])
        return top, top + rows[i], left, left + cols[j]

    def _task_region(self, key, spec: Task, regions: dict) -> Region | None:
        inputs = [regions[d] for d in spec.dependencies if d in regions]
        if spec.func is operator.getitem and len(spec.args) == 2 and len(inputs) == 1:
            return _sliced(inputs[0], _literal(spec.args[1]))
        if "concatenate" in funcname(spec.func) and inputs and len(inputs) == len(spec.dependencies):
            return _joined(inputs)
        shape = self._block_shape(key)
        if shape is not None and len(inputs) == 1 and shape[:2] == _shape(inputs[0]):
            return inputs[0]  # a blockwise function of one piece that keeps its shape
        return None

    def _trim_filters(self, order: list, regions: dict) -> None:
        """``map_overlap`` filters a chunk with its borrowed border, then trims the border
        off: the filter computes only the trimmed chunk's pixels."""
        trims = defaultdict(list)
        for key in order:
            spec = self.specs[key]
            if key_split(key) == "trim" and key in regions:
                for dep in spec.dependencies:
                    trims[dep].append(regions[key])
        for key, kept in trims.items():
            if key in regions and len(set(kept)) == 1 and _inside(kept[0], regions[key]):
                regions[key] = kept[0]

    def _reads(self, key, regions: dict) -> Region | None:
        region = regions.get(key)
        inputs = [regions[d] for d in self.specs[key].dependencies if d in regions]
        if region is None or not inputs:
            return None
        covered = _bounds(inputs)
        return covered if covered != region and _inside(region, covered) else None

    def tile_region(self, row: int, col: int) -> Region:
        return self.row_edges[row], self.row_edges[row + 1], self.col_edges[col], self.col_edges[col + 1]

    def tile_holding(self, region: Region) -> tuple[int, int] | None:
        top, bottom, left, right = region
        rows = [r for r in range(len(self.row_edges) - 1) if self.row_edges[r] <= top and bottom <= self.row_edges[r + 1]]
        cols = [c for c in range(len(self.col_edges) - 1) if self.col_edges[c] <= left and right <= self.col_edges[c + 1]]
        return (rows[0], cols[0]) if rows and cols else None


#: Per-chunk functions of dask's reductions (``min``, ``max``, ``sum``...): their layers
#: are named with the input's chunks, and only afterwards does the array say each chunk
#: became one number.
_CHUNK_REDUCTIONS = {"sum", "prod", "min", "max", "mean", "var", "std", "any", "all", "argmin", "argmax"}


def _reduces(func) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    module, name = getattr(func, "__module__", ""), getattr(func, "__name__", "")
    return module == "dask.array.reductions" or (module == "dask.array.chunk" and name.lstrip("nan") in _CHUNK_REDUCTIONS)


def _literal(arg):
    return arg.value if isinstance(arg, DataNode) else arg


def _shape(region: Region) -> tuple[int, int]:
    top, bottom, left, right = region
    return bottom - top, right - left


def _sliced(region: Region, index) -> Region | None:
    """The part of ``region`` that ``piece[index]`` holds, for two plain slices."""
    if not isinstance(index, tuple) or len(index) != 2 or not all(isinstance(s, slice) for s in index):
        return None
    top, _, left, _ = region
    (start_r, stop_r, step_r), (start_c, stop_c, step_c) = (s.indices(n) for s, n in zip(index, _shape(region)))
    if step_r != 1 or step_c != 1 or stop_r < start_r or stop_c < start_c:
        return None
    return top + start_r, top + stop_r, left + start_c, left + stop_c


def _bounds(regions: list[Region]) -> Region:
    return (
        min(r[0] for r in regions), max(r[1] for r in regions), min(r[2] for r in regions), max(r[3] for r in regions)
    )


def _joined(pieces: list[Region]) -> Region | None:
    """The rectangle that pieces join into, if they tile it exactly (no gaps, no overlap)."""
    bounds = _bounds(pieces)
    area = sum(h * w for h, w in map(_shape, pieces))
    height, width = _shape(bounds)
    return bounds if area == height * width and len(set(pieces)) == len(pieces) else None


def _inside(inner: Region, outer: Region) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1] and outer[2] <= inner[2] and inner[3] <= outer[3]
