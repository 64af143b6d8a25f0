"""The region table of a labelled image: area, centroid, bounding box, mean intensity.

``dask_image.ndmeasure`` measures one label at a time: its ``area``, ``mean`` and
``center_of_mass`` build a graph over the whole image per label, and ``find_objects`` loops
over the labels in Python: tens of thousands of regions take minutes, and ``area`` on a large
image runs out of memory (benchmarks/RESULTS.md, "Labels"). Here each chunk is measured once
with a pandas group-by over its labelled pixels, and the chunks' partial tables are combined:
work in proportion to the pixels, whatever the number of regions (``tests/test_regions.py``,
``test_thousands_of_regions_take_time_in_proportion_to_the_pixels``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dask
import dask.array as da
import numpy as np

from ..pipeline.chain import ResultKind
from .formats import OutputFormat, Planned, Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["REGIONS", "REGION_COLUMNS", "region_table"]

#: The table's columns. Rows and columns are pixel indices; ``bottom`` and ``right`` are
#: one past the region, as in scikit-image's ``bbox``; ``mean_intensity`` is of the
#: grayscale image in [0, 1].
REGION_COLUMNS = (
    "label", "area", "centroid_row", "centroid_col", "top", "left", "bottom", "right", "mean_intensity",
)

_SUMS = {"area": ("row", "size"), "row_sum": ("row", "sum"), "col_sum": ("col", "sum"),
         "intensity_sum": ("intensity", "sum")}
_EXTREMES = {"top": ("row", "min"), "left": ("col", "min"), "bottom": ("row", "max"), "right": ("col", "max")}


def _chunk_regions(labels: np.ndarray, intensity: np.ndarray, top: int, left: int) -> pd.DataFrame:
    import pandas as pd  # imported where a table is made: only a label stage needs pandas

    rows, cols = np.nonzero(labels)
    pixels = pd.DataFrame({
        "label": labels[rows, cols], "row": rows + top, "col": cols + left,
        "intensity": intensity[rows, cols].astype(np.float64),
    })
    return pixels.groupby("label").agg(**_SUMS, **_EXTREMES)


def _combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    import pandas as pd

    joined = pd.concat(parts).groupby(level=0)
    sums = joined[list(_SUMS)].sum()
    extremes = pd.concat([joined[["top", "left"]].min(), joined[["bottom", "right"]].max()], axis=1)
    table = pd.DataFrame({
        "label": sums.index.astype(np.int64),
        "area": sums["area"].to_numpy(np.int64),
        "centroid_row": (sums["row_sum"] / sums["area"]).to_numpy(),
        "centroid_col": (sums["col_sum"] / sums["area"]).to_numpy(),
        "top": extremes["top"].to_numpy(np.int64),
        "left": extremes["left"].to_numpy(np.int64),
        "bottom": extremes["bottom"].to_numpy(np.int64) + 1,
        "right": extremes["right"].to_numpy(np.int64) + 1,
        "mean_intensity": (sums["intensity_sum"] / sums["area"]).to_numpy(),
    })
    return table.reset_index(drop=True)


def region_table(labels: da.Array, intensity: da.Array):
    """A lazy (``dask.delayed``) ``pandas.DataFrame`` with one row per label of ``labels``
    (0 is background), in label order, with ``REGION_COLUMNS``; ``intensity`` is the
    grayscale image the mean is taken of."""
    intensity = intensity.rechunk(labels.chunks, method="tasks")
    tops = np.cumsum((0, *labels.chunks[0][:-1]))
    lefts = np.cumsum((0, *labels.chunks[1][:-1]))
    # Unoptimised, the blocks keep their task names: computed with the labels' other
    # outputs (the .npy, the picture), the table shares their tasks instead of running the
    # whole chain again under optimised names.
    label_blocks = labels.to_delayed(optimize_graph=False)
    intensity_blocks = intensity.to_delayed(optimize_graph=False)
    measure = dask.delayed(_chunk_regions, pure=True)
    parts = [
        measure(label_blocks[i, j], intensity_blocks[i, j], int(top), int(left))
        for i, top in enumerate(tops)
        for j, left in enumerate(lefts)
    ]
    return dask.delayed(_combine, pure=True)(parts)


def _plan(result: Result, path) -> Planned:
    return Planned([region_table(result.array, result.intensity)], lambda values: values[0].to_csv(path, index=False))


REGIONS = OutputFormat(
    "regions", "regions.csv",
    "after a label stage, one row per region: its area, centroid, bounding box and mean intensity",
    _plan, kinds=frozenset({ResultKind.LABELS}),
)
