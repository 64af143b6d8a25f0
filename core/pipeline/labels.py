"""The label stage: connected regions numbered across chunk borders.

``dask_image.ndmeasure.label``'s method, written on the chunks' delayed values (see
``label``).
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import scipy.ndimage
import scipy.sparse

from .chunks import merge_small_chunks

__all__ = ["label"]

# -- labels ------------------------------------------------------------------------------


def _offset_labels(labels: np.ndarray, offset) -> np.ndarray:
    return np.where(labels > 0, labels + np.int32(offset), np.int32(0)).astype(np.int32)


def _label_offsets(*counts: int) -> np.ndarray:
    """Each chunk's first label less one, in row-major order, then the number of labels."""
    return np.cumsum([0, *counts])


def _border_strip(axis: int, *before_then_after: np.ndarray) -> np.ndarray:
    """The two-pixel-wide strip along one border between rows (``axis`` 0) or columns (1) of
    chunks: the last line of each chunk before it beside the first line of the chunk after."""
    half = len(before_then_after) // 2
    pairs = [
        np.concatenate([np.take(before, [-1], axis=axis), np.take(after, [0], axis=axis)], axis=axis)
        for before, after in zip(before_then_after[:half], before_then_after[half:])
    ]
    return np.concatenate(pairs, axis=1 - axis)


def _touching_pairs(strip: np.ndarray, structure: np.ndarray) -> np.ndarray:
    """(2, M) pairs of labels that touch across a two-pixel-wide strip along a chunk border.

    Labels are unique to their chunk, so two labels joined by the strip's own connected
    regions are one region (``dask_image.ndmeasure``'s rule for chunk faces).
    """
    joined, _ = scipy.ndimage.label(strip > 0, structure)
    pairs = np.unique(np.stack([joined.ravel(), strip.ravel()], axis=1), axis=0)
    pairs = pairs[pairs[:, 0] > 0]  # sorted by joined region, then label
    same_region = np.flatnonzero(np.diff(pairs[:, 0]) == 0)
    return np.stack([pairs[same_region, 1], pairs[same_region + 1, 1]])


def _final_labels(offsets: np.ndarray, *pairs: np.ndarray) -> np.ndarray:
    """For every provisional label (0..total), its final label: one per connected group,
    numbered 1..N in the order of the provisional labels, 0 kept for the background."""
    total = int(offsets[-1]) + 1
    i, j = np.concatenate([np.empty((2, 0), np.int64), *pairs], axis=1)
    import scipy.sparse.csgraph  # imported here: only a label stage needs it

    graph = scipy.sparse.coo_matrix((np.ones(len(i)), (i, j)), shape=(total, total))
    _, groups = scipy.sparse.csgraph.connected_components(graph, directed=False)
    return groups.astype(np.int32)  # label 0 is node 0, alone: group 0


def label(image: da.Array, connectivity: int) -> da.Array:
    """Connected regions of the non-zero pixels, numbered 1..N (0: background); a region
    that crosses chunk borders gets one number.

    ``dask_image.ndmeasure.label``'s method: ``scipy.ndimage.label`` on each chunk, labels
    made unique by offsets, pairs of labels that touch across chunk borders, connected
    components of those pairs, and a relabelling. Written here on the chunks' delayed
    values because ``dask_image.ndmeasure.label`` wraps slices of the dask array in
    ``dask.delayed``, which copies the graph before them once per chunk and per border
    (``optimize_graph`` or not): after an Otsu threshold, whose histogram every chunk
    depends on, the 303 x 384 coins in 2 x 2 tiles took 16,587 tasks, against 304 with the
    threshold computed first (the times: benchmarks/RESULTS.md, "Labels").
    """
    structure = scipy.ndimage.generate_binary_structure(2, connectivity)
    image = merge_small_chunks(image)
    blocks = image.to_delayed(optimize_graph=False)
    # Delayed values are passed one by one, never in a list: for a list, dask.delayed
    # optimises and culls the whole graph behind it, each time, and building a 16 x 16
    # grid's labels took seconds (benchmarks/RESULTS.md, "Labels").
    labelled = [[dask.delayed(scipy.ndimage.label, nout=2, pure=True)(b, structure) for b in row] for row in blocks]
    offsets = dask.delayed(_label_offsets, pure=True)(*(n for row in labelled for _, n in row))
    unique = [[dask.delayed(_offset_labels, pure=True)(labels, offsets[i * len(row) + j])
               for j, (labels, _) in enumerate(row)] for i, row in enumerate(labelled)]
    strip = dask.delayed(_border_strip, pure=True)
    pairs = [
        *(strip(0, *unique[i - 1], *unique[i]) for i in range(1, len(unique))),
        *(strip(1, *(row[j - 1] for row in unique), *(row[j] for row in unique)) for j in range(1, len(unique[0]))),
    ]
    touching = dask.delayed(_touching_pairs, pure=True)
    final = dask.delayed(_final_labels, pure=True)(offsets, *(touching(s, structure) for s in pairs))
    relabel = dask.delayed(lambda final, labels: final[labels], pure=True)
    return da.block([
        [da.from_delayed(relabel(final, labels), (height, width), np.int32) for labels, width in zip(row, image.chunks[1])]
        for row, height in zip(unique, image.chunks[0])
    ])
