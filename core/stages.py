"""The pipeline's stages, each a lazy dask array built from the one before.

read tiles -> grayscale per tile -> stitch -> Sobel -> clip
"""

from __future__ import annotations

import importlib
import math
import sys
import threading
from dataclasses import dataclass

import dask.array as da
import dask_image.ndfilters
import numpy as np
from skimage.color import rgb2gray
from skimage.util import img_as_float32

from .errors import PipelineError
from .tiling import TileSet

__all__ = [
    "MIN_CHUNKS_PER_AXIS",
    "MIN_SOBEL_CHUNK",
    "SOBEL_MODES",
    "Pipeline",
    "build_pipeline",
    "clip",
    "merge_small_chunks",
    "read_tiles",
    "sobel",
    "sobel_range",
    "stitch",
    "to_grayscale",
]

#: Sobel modes: derivative along x (columns, the tutorial's), along y (rows), or both.
SOBEL_MODES = ("x", "y", "magnitude")

TileGrid = list[list[da.Array]]


def _import_without_matplotlib(module: str):
    """Import ``module`` while matplotlib cannot be imported, unless it already is.

    pims, under ``dask_image.imread``, imports ``matplotlib.pyplot`` for display helpers
    that this project never calls, and does without them when matplotlib is missing:
    0.24 s of the command line's 0.9 s of imports here. Only from a program's main thread:
    a server importing this from one of its threads (Streamlit runs each script in one)
    must not hide matplotlib from the others, which draw with it.
    """
    if "matplotlib" in sys.modules or threading.current_thread() is not threading.main_thread():
        return importlib.import_module(module)
    sys.modules["matplotlib"] = None  # makes `import matplotlib` raise ImportError
    try:
        return importlib.import_module(module)
    finally:
        del sys.modules["matplotlib"]


imread = _import_without_matplotlib("dask_image.imread").imread


@dataclass(frozen=True)
class Pipeline:
    """Every stage of one run, as lazy dask arrays sharing one graph."""

    tiles: TileGrid  # uint8/uint16, one array per tile file
    gray: TileGrid  # float32 in [0, 1]
    stitched: da.Array  # float32, (H, W), chunked by tile
    edges: da.Array  # float32 Sobel response
    clipped: da.Array  # edges clipped to [lo, hi]


def read_tiles(tiles: TileSet) -> TileGrid:
    """Each tile file as a lazy array, read with ``dask_image.imread``.

    One ``imread`` per file: given a glob, ``imread`` assumes every file has the first one's
    shape, which uneven tiles do not.
    """
    return [[imread(str(path))[0] for path in row] for row in tiles.paths]


GRAY_STRIP_ROWS = 128


def _gray_block(block: np.ndarray) -> np.ndarray:
    # float32 before rgb2gray: it then computes in float32, 3.5x faster than through
    # float64 on a 2048 x 2048 tile here, within 1.3e-7 of the float64 result.
    if block.ndim == 2:
        return img_as_float32(block)
    # Strips of rows keep the float copy of the colours small enough for the allocator to
    # reuse: a whole 2048 x 2048 tile's (48 MB) is fresh memory every time, which made 16
    # tiles on two threads take 0.16-0.44 s here against 0.11-0.13 s in strips.
    gray = np.empty(block.shape[:2], np.float32)
    for top in range(0, block.shape[0], GRAY_STRIP_ROWS):
        rows = slice(top, top + GRAY_STRIP_ROWS)
        gray[rows] = rgb2gray(img_as_float32(block[rows]))
    return gray


def to_grayscale(tiles: TileGrid) -> TileGrid:
    """Grayscale float32 in [0, 1] per tile, with ``map_blocks`` so nothing runs eagerly.

    ``rgb2gray`` on a whole dask array would compute it and return NumPy.
    """
    return [
        [
            tile.map_blocks(
                _gray_block,
                drop_axis=[2] if tile.ndim == 3 else [],
                dtype=np.float32,
                meta=np.empty((0, 0), np.float32),
                token="grayscale",
            )
            for tile in row
        ]
        for row in tiles
    ]


def stitch(tiles: TileGrid) -> da.Array:
    """One (H, W) array from the grid of 2-D tiles; its chunks are the tiles."""
    return da.block(tiles)


def sobel_range(mode: str) -> tuple[float, float]:
    """Bounds of the Sobel response for a grayscale image in [0, 1]; both are reached.

    Each derivative lies in [-4, 4]. They cannot both reach 4 at one pixel: the largest
    magnitude, at a corner such as ``[[0, 0, 1], [0, 0, 1], [0, 1, 1]]``, is sqrt(4² + 2²).
    """
    _check_mode(mode)
    return (0.0, float(np.sqrt(20.0))) if mode == "magnitude" else (-4.0, 4.0)


def _check_mode(mode: str) -> None:
    if mode not in SOBEL_MODES:
        raise PipelineError(f"the Sobel mode must be one of {', '.join(SOBEL_MODES)}, got {mode!r}")


#: Tiles narrower than this are merged with their neighbours before the Sobel filter.
#: Every task costs about a millisecond of scheduling on a cluster, more than filtering a
#: 256 x 256 tile: at 16 MPix in a 16 x 16 grid, the edge stage took 4.2 s on the app's
#: local cluster with one chunk per tile, 1.5 s with 8 x 8 chunks, 0.65 s with 4 x 4.
MIN_SOBEL_CHUNK = 1024
#: ...but never into fewer than this many chunks per axis, so that every core has work
#: and the filter still borrows pixels across chunk borders, as the demo shows.
MIN_CHUNKS_PER_AXIS = 4


def _grouped(sizes: tuple[int, ...], min_size: int, min_count: int) -> tuple[int, ...]:
    per_group = min(math.ceil(min_size / min(sizes)), len(sizes) // min_count)
    if per_group <= 1:
        return sizes
    groups = [sum(sizes[i:i + per_group]) for i in range(0, len(sizes), per_group)]
    if len(sizes) % per_group:  # a short remainder joins the group before it
        groups[-2:] = [groups[-2] + groups[-1]]
    return tuple(groups)


def merge_small_chunks(
    image: da.Array, min_size: int = MIN_SOBEL_CHUNK, min_count: int = MIN_CHUNKS_PER_AXIS
) -> da.Array:
    """``image`` with runs of neighbouring chunks merged until each is ``min_size`` a side,
    keeping at least ``min_count`` chunks per axis (or all of them, if there are fewer).

    Chunk borders stay on tile borders, so the rechunk only concatenates whole tiles.
    """
    chunks = tuple(_grouped(sizes, min_size, min_count) for sizes in image.chunks)
    return image if chunks == image.chunks else image.rechunk(chunks, method="tasks")


def sobel(gray: da.Array, mode: str = "x", *, min_chunk: int = MIN_SOBEL_CHUNK) -> da.Array:
    """Sobel derivative along x (axis -1), along y (axis 0), or the gradient magnitude.

    Tiles smaller than ``min_chunk`` pixels a side are merged first (``merge_small_chunks``);
    the result does not depend on the chunks.
    """
    _check_mode(mode)
    gray = merge_small_chunks(gray, min_chunk)
    if mode == "x":
        return dask_image.ndfilters.sobel(gray, axis=-1)
    if mode == "y":
        return dask_image.ndfilters.sobel(gray, axis=0)
    return da.hypot(
        dask_image.ndfilters.sobel(gray, axis=0), dask_image.ndfilters.sobel(gray, axis=-1)
    )


def check_clip(lo: float, hi: float) -> None:
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise PipelineError(f"the clip range needs LO < HI, got {lo:g} and {hi:g}")


def clip(edges: da.Array, lo: float, hi: float) -> da.Array:
    """``edges`` limited to ``[lo, hi]``."""
    check_clip(lo, hi)
    as_edges = edges.dtype.type  # NumPy scalars of float64 would promote float32 edges
    return da.clip(edges, as_edges(lo), as_edges(hi))


def build_pipeline(
    tiles: TileSet, *, mode: str = "x", lo: float = 0.0, hi: float = 1.0, min_chunk: int = MIN_SOBEL_CHUNK
) -> Pipeline:
    """All stages for a tile set, lazily; nothing is read until something is computed."""
    _check_mode(mode)
    check_clip(lo, hi)
    read = read_tiles(tiles)
    gray = to_grayscale(read)
    stitched = stitch(gray)
    edges = sobel(stitched, mode, min_chunk=min_chunk)
    return Pipeline(read, gray, stitched, edges, clip(edges, lo, hi))
