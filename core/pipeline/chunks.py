"""Chunks a filter runs on: tiles too small to pay for their tasks merged with their
neighbours, and integer images made float before filtering."""

from __future__ import annotations

import math

import dask.array as da
import numpy as np

__all__ = ["MIN_CHUNKS_PER_AXIS", "MIN_FILTER_CHUNK", "as_float", "filter_input", "merge_small_chunks"]

#: Tiles narrower than this are merged with their neighbours before a filter. Every task
#: costs scheduling time on a cluster, more than filtering a 256 x 256 tile takes, so
#: merging pays on a cluster: see ``python benchmarks/dashboard.py`` (a 16-MPix upload up
#: to 16 x 16 tiles on the local cluster, the Sobel mode change) and benchmarks/RESULTS.md,
#: "Chunk size on a cluster".
MIN_FILTER_CHUNK = 1024
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


def merge_small_chunks(image: da.Array, min_size: int | None = None, min_count: int = MIN_CHUNKS_PER_AXIS) -> da.Array:
    """``image`` with runs of neighbouring chunks merged until each is ``min_size`` a side,
    keeping at least ``min_count`` chunks per axis (or all of them, if there are fewer).

    Chunk borders stay on tile borders, so the rechunk only concatenates whole tiles.
    ``min_size`` defaults to ``MIN_FILTER_CHUNK`` as it is when called (tests set it to 1
    to keep every tile border a chunk border).
    """
    min_size = MIN_FILTER_CHUNK if min_size is None else min_size
    chunks = tuple(_grouped(sizes, min_size, min_count) for sizes in image.chunks)
    return image if chunks == image.chunks else image.rechunk(chunks, method="tasks")


def as_float(image: da.Array) -> da.Array:
    # A mask or labels filtered as they are would keep their integer type and wrap around.
    return image if image.dtype == np.float32 else image.astype(np.float32)


def filter_input(image: da.Array) -> da.Array:
    return merge_small_chunks(as_float(image))
