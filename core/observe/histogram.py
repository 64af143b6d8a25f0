"""How a stage's values are spread: counts in equal bins over a range, chunk by chunk.

Here rather than beside the dashboard's previews, which use it: the counting runs as tasks
on a cluster's scheduler and workers, and what a task calls must be in the package shipped
to them (``core.runtime.shipping``).
"""

from __future__ import annotations

import dask.array as da
import numpy as np

__all__ = ["HISTOGRAM_BINS", "bin_edges", "block_counts", "counted_range", "lazy_histogram"]

HISTOGRAM_BINS = 200


def block_counts(block: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """How many of the block's values fall in each bin, as (1, 1, ``HISTOGRAM_BINS``).

    Scaled to bin numbers in float32 and counted with ``np.bincount``: about half of
    ``np.histogram``'s time, and a fifth on clipped values (every value on the last edge
    goes through its slow correction); ``da.histogram``, which hands NumPy the bins' edges
    to search, took most of a clip change's time (``benchmarks/dashboard.py``). Values outside the range count in the end bins (the
    ranges are bounds, so only rounding puts a value there); a value within float32
    rounding of a bin's edge may count in the bin beside it.
    """
    scaled = np.subtract(block, np.float32(lo), dtype=np.float32)
    scaled *= np.float32(HISTOGRAM_BINS / (hi - lo))
    bins = scaled.astype(np.intp)
    np.clip(bins, 0, HISTOGRAM_BINS - 1, out=bins)
    return np.bincount(bins.ravel(), minlength=HISTOGRAM_BINS).reshape(1, 1, HISTOGRAM_BINS)


def counted_range(value_range: tuple[float, float]) -> tuple[float, float]:
    """The range the bins cover: ``value_range``, one wide where it is empty."""
    lo, hi = value_range
    return lo, hi if hi > lo else lo + 1.0


def bin_edges(value_range: tuple[float, float]) -> np.ndarray:
    """The edges of the ``HISTOGRAM_BINS`` bins over ``value_range`` (``counted_range``)."""
    return np.histogram_bin_edges(np.empty(0), HISTOGRAM_BINS, counted_range(value_range))


def lazy_histogram(values: da.Array, value_range: tuple[float, float]) -> tuple[da.Array, np.ndarray]:
    """Lazy counts of every value in ``HISTOGRAM_BINS`` equal bins over ``value_range``
    (``block_counts`` per chunk, summed), and the bins' edges."""
    lo, hi = counted_range(value_range)
    rows, cols = values.numblocks
    per_chunk = values.map_blocks(
        block_counts, lo, hi, new_axis=2, chunks=((1,) * rows, (1,) * cols, (HISTOGRAM_BINS,)),
        dtype=np.int64, meta=np.empty((0, 0, 0), np.int64), token="histogram",
    )
    return per_chunk.sum(axis=(0, 1)), bin_edges(value_range)
