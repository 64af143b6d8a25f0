"""Where each task of a pipeline's graph lies on the stitched image, from what the graph says.

A tile's read and grayscale tasks lie on that tile; each chunk of the stitched image and of
every step on its chunk's slices; the pieces ``map_overlap`` cuts, joins and trims on the
slices their task specs name. A filter task's output is trimmed back to its chunk
afterwards, so its region is that chunk and it ``reads`` the chunk plus the border its
neighbours lend. Tasks whose outputs are not pixels have no region.
"""

from __future__ import annotations

import functools
import operator
from collections import defaultdict

from dask.highlevelgraph import HighLevelGraph
from dask.task_spec import Alias, DataNode, Task
from dask.utils import funcname, key_split

from ..pipeline.build import Pipeline

__all__ = ["Placement", "Region", "block_of"]

#: (top, bottom, left, right), half-open, in pixels of the stitched image.
Region = tuple[int, int, int, int]


def block_of(key) -> tuple[int, ...] | None:
    """The chunk index in a dask key, if it has one: ``('sobel-ab12', 0, 3)`` -> ``(0, 3)``."""
    if isinstance(key, tuple) and len(key) > 1 and all(isinstance(i, int) for i in key[1:]):
        return tuple(key[1:])
    return None


class Placement:
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
        block = block_of(key)
        chunks = self.chunks.get(name)
        if block is None or chunks is None or len(block) != len(chunks) or len(chunks) < 2:
            return None
        return tuple(chunks[axis][i] for axis, i in enumerate(block))

    def _chunk_region(self, key) -> Region | None:
        """A chunk of an array shaped like the image lies at its chunk's slices."""
        name = key[0] if isinstance(key, tuple) else key
        chunks, block = self.chunks.get(name), block_of(key)
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
    return module == "dask.array.reductions" or (module == "dask.array.chunk" and name.removeprefix("nan") in _CHUNK_REDUCTIONS)


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
