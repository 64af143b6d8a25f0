"""The pipeline, each stage a lazy dask array built from the one before.

read tiles -> grayscale per tile -> stitch -> the user's chain of steps (``stage_table``);
the tutorial's chain is Sobel x, then clip to [0, 1].
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import dask.array as da
import numpy as np
from skimage.color import rgb2gray
from skimage.util import img_as_float32

from .chain import Step, step_labels
from .loading import as_gray_or_rgb
from .stage_table import DEFAULT_CHAIN, chain_arrays
from .tile_reader import imread
from .tiling import TileSet

__all__ = ["Pipeline", "build_pipeline", "read_tiles", "stitch", "to_grayscale"]

TileGrid = list[list[da.Array]]


@dataclass(frozen=True)
class Pipeline:
    """Every stage of one run, as lazy dask arrays sharing one graph."""

    tile_arrays: TileGrid  # uint8/uint16, one array per tile file
    gray_tiles: TileGrid  # float32 in [0, 1]
    stitched: da.Array  # float32, (H, W), chunked by tile
    chain: tuple[Step, ...]
    steps: tuple[da.Array, ...]  # each step's output, in the chain's order

    @property
    def result(self) -> da.Array:
        """The last step's output, or the stitched image for an empty chain."""
        return self.steps[-1] if self.steps else self.stitched

    def with_chain(self, chain: tuple[Step, ...]) -> Pipeline:
        """This pipeline's tiles, grayscale and stitched image, with ``chain`` after them."""
        return dataclasses.replace(self, chain=tuple(chain), steps=tuple(chain_arrays(self.stitched, chain)))

    def stages(self) -> dict[str, list[da.Array]]:
        """Every stage's arrays by name, in order: read, grayscale, stitch, then one name
        per step (``step_labels``)."""
        return {
            "read": [t for row in self.tile_arrays for t in row],
            "grayscale": [g for row in self.gray_tiles for g in row],
            "stitch": [self.stitched],
            **{name: [array] for name, array in zip(step_labels(self.chain), self.steps)},
        }


def read_tiles(tiles: TileSet) -> TileGrid:
    """Each tile as a lazy array: a tile file read with ``dask_image.imread``, or as a
    ``TileSet`` of another kind reads its own (``read_arrays``): a region of a chunked
    image (``ChunkedTiles``), a piece of an image decoded as the run goes
    (``StreamedTiles``), a file sent to the workers in the graph (``ShippedTiles``).

    One ``imread`` per file: given a glob, ``imread`` assumes every file has the first one's
    shape, which uneven tiles do not.
    """
    if hasattr(tiles, "read_arrays"):
        return tiles.read_arrays()
    return [[imread(str(path))[0] for path in row] for row in tiles.paths]


GRAY_STRIP_ROWS = 128


def _gray_block(block: np.ndarray) -> np.ndarray:
    # A tile file's alpha (gray and alpha, RGBA) is composited over white first, as
    # ``load_image`` composites a whole image's.
    if block.ndim == 3 and block.shape[2] in (2, 4):
        block = as_gray_or_rgb(block, "tile")
    # float32 before rgb2gray: it then computes in float32, several times faster than
    # through float64, within 1.3e-7 of the float64 result (the timings: benchmarks/RESULTS.md,
    # "Figures quoted in the code before 2026-12-07").
    if block.ndim == 2:
        return img_as_float32(block)
    # Strips of rows keep the float copy of the colours small enough for the allocator to
    # reuse: a whole 2048 x 2048 tile's (48 MB) is fresh memory every time, slower and more
    # variable (the grayscale stage of ``python -m benchmarks.bench``; benchmarks/RESULTS.md,
    # "Figures quoted in the code before 2026-12-07").
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


def build_pipeline(tiles: TileSet, chain: tuple[Step, ...] = DEFAULT_CHAIN) -> Pipeline:
    """All stages for a tile set, lazily; nothing is read until something is computed."""
    tile_arrays = read_tiles(tiles)
    gray_tiles = to_grayscale(tile_arrays)
    return Pipeline(tile_arrays, gray_tiles, stitch(gray_tiles), (), ()).with_chain(chain)
