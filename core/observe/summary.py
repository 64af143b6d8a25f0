"""What a step's page shows of its output, gathered in one task per chunk and one to join
them: the preview (every n-th pixel of each axis) and, for values, the histogram's counts;
and after the stitch, the same of each tile with its thumbnails (``lazy_tile_summaries``).

As slices and reductions of the array, the preview and the counts were a task per chunk
each plus a tree of sums: 37 tasks over 4 x 4 chunks, where each task costs about a
millisecond on a cluster. Here in ``core`` rather than beside the dashboard's previews:
the tasks run on a cluster's workers, which get the package ``core`` (``core.runtime.shipping``).
"""

from __future__ import annotations

import dask.array as da
import numpy as np
from dask import delayed
from dask.delayed import Delayed

from .histogram import HISTOGRAM_BINS, block_counts, counted_range

__all__ = ["chunk_summary", "joined_summary", "lazy_summary", "lazy_tile_summaries", "tile_summary"]


def chunk_summary(block: np.ndarray, first_row: int, first_col: int, stride: int, value_range) -> tuple:
    """This chunk's preview pixels (from ``first_row``, ``first_col`` on, every ``stride``-th)
    and, if ``value_range`` is given, its counts (``block_counts``)."""
    preview = np.ascontiguousarray(block[first_row::stride, first_col::stride])
    counts = None if value_range is None else block_counts(block, *value_range).reshape(HISTOGRAM_BINS)
    return preview, counts


def joined_summary(summaries: list[list[tuple]]) -> tuple[np.ndarray, np.ndarray | None]:
    """The chunks' previews joined as their grid, and their counts summed (or None)."""
    preview = np.block([[piece for piece, _ in row] for row in summaries])
    counts = [c for row in summaries for _, c in row]
    return preview, None if counts[0] is None else np.sum(counts, axis=0)


def lazy_summary(array: da.Array, stride: int, value_range: tuple[float, float] | None = None) -> Delayed:
    """``(array[::stride, ::stride], counts)`` computed as one task per chunk and one to join
    them; the counts over ``value_range`` as ``lazy_histogram`` counts them, or None."""
    value_range = None if value_range is None else counted_range(value_range)
    row_starts = np.cumsum((0, *array.chunks[0][:-1]))
    col_starts = np.cumsum((0, *array.chunks[1][:-1]))
    blocks = array.to_delayed(optimize_graph=False)
    summary = delayed(chunk_summary, pure=True)
    rows = [
        [summary(blocks[i, j], int(-top % stride), int(-left % stride), stride, value_range) for j, left in enumerate(col_starts)]
        for i, top in enumerate(row_starts)
    ]
    return delayed(joined_summary, pure=True)(rows)


def tile_summary(tile: np.ndarray, gray: np.ndarray, first_row: int, first_col: int, stride: int, value_range) -> tuple:
    """What the pages show of one tile after the stitch: its thumbnail and its grayscale's
    (every ``stride``-th pixel from the tile's corner), its piece of the stitched image's
    preview (``chunk_summary``'s, from ``first_row``, ``first_col``) and its grayscale's counts."""
    piece, counts = chunk_summary(gray, first_row, first_col, stride, value_range)
    thumbs = (np.ascontiguousarray(tile[::stride, ::stride]), np.ascontiguousarray(gray[::stride, ::stride]))
    return (*thumbs, piece, counts)


def lazy_tile_summaries(tiles: list[list[da.Array]], grays: list[list[da.Array]], stride: int, value_range) -> Delayed:
    """``(tile thumbnails, grayscale thumbnails, stitched preview, counts)``: the thumbnails
    as the tiles' grid of lists, the preview and counts of the image the grays stitch into,
    as one task per tile and one to join them (512 thumbnail slices, 256 counts, a tree of
    sums and 256 preview slices at 16 x 16 tiles, where each task costs a cluster about a
    millisecond)."""
    row_starts = np.cumsum((0, *(row[0].shape[0] for row in grays[:-1])))
    col_starts = np.cumsum((0, *(gray.shape[1] for gray in grays[0][:-1])))
    summary = delayed(tile_summary, pure=True)
    value_range = counted_range(value_range)
    rows = [
        [summary(_block(tile), _block(gray), int(-top % stride), int(-left % stride), stride, value_range)
         for tile, gray, left in zip(tile_row, gray_row, col_starts)]
        for tile_row, gray_row, top in zip(tiles, grays, row_starts)
    ]
    return delayed(_joined_tiles, pure=True)(rows)


def _block(array: da.Array):
    """The array as one delayed value: its block itself where it has one, with no task added."""
    if array.npartitions == 1:
        return array.to_delayed(optimize_graph=False).ravel()[0]
    return array


def _joined_tiles(rows: list[list[tuple]]) -> tuple:
    tile_thumbs = [[summary[0] for summary in row] for row in rows]
    gray_thumbs = [[summary[1] for summary in row] for row in rows]
    preview, counts = joined_summary([[summary[2:] for summary in row] for row in rows])
    return tile_thumbs, gray_thumbs, preview, counts
