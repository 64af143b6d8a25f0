"""What a step's page shows of its output, gathered in one task per chunk and one to join
them: the preview (every n-th pixel of each axis) and, for values, the histogram's counts.

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

__all__ = ["chunk_summary", "joined_summary", "lazy_summary"]


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
