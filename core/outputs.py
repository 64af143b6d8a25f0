"""The files a run leaves for its chain's result, typed by what the last step holds.

``result.npy`` (float32 values, a uint8 0/1 mask, or integer labels), ``result.png`` (its
picture: values mapped black..white over the last step's output range, a mask black and
white, labels in colour), ``regions.csv`` after a ``label`` step, and on request
``result.ome.zarr``; all in one pass over the graph (``core.results.write_results``). An
earlier run's ``regions.csv`` or ``result.ome.zarr`` that this run does not write is
removed, so that the folder holds one run's files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dask.array as da
import numpy as np

from .chain import Step
from .filters import GRAYSCALE_RANGE, STAGES, output_ranges
from .pictures import to_picture
from .results import atomic_path, write_results
from .stages import Pipeline

__all__ = [
    "REGIONS_CSV",
    "RESULT_NPY",
    "RESULT_PNG",
    "RESULT_ZARR",
    "result_array",
    "result_kind",
    "result_picture",
    "result_range",
    "write_outputs",
]

RESULT_NPY = "result.npy"
RESULT_PNG = "result.png"
RESULT_ZARR = "result.ome.zarr"
REGIONS_CSV = "regions.csv"

def result_kind(chain: tuple[Step, ...]) -> str:
    """What the result holds (``core.chain.KINDS``): the last step's kind, or values for
    an empty chain."""
    return STAGES[chain[-1].stage].kind if chain else "values"


def result_range(chain: tuple[Step, ...]) -> tuple[float, float]:
    """The bounds of the result's values, which its picture maps to black..white."""
    return output_ranges(chain)[-1] if chain else GRAYSCALE_RANGE


def result_array(result: da.Array, chain: tuple[Step, ...]) -> da.Array:
    """``result``, the output of ``chain``'s last step, as it is stored: float32 values, a
    uint8 0/1 mask, labels in their own integer type."""
    kind = result_kind(chain)
    if kind == "values":
        return result.astype(np.float32)
    if kind == "mask":
        return result.astype(np.uint8)
    return result


def result_picture(result: da.Array, chain: tuple[Step, ...]) -> da.Array:
    """The 8-bit picture of ``result`` for its PNG: (H, W) for values and masks, (H, W, 3)
    RGB for labels."""
    return to_picture(result, result_kind(chain), result_range(chain))


def write_outputs(pipeline: Pipeline, out: Path, *, zarr: bool = False, compute=None) -> list[str]:
    """Write the result's files into ``out``; return their names, in the order written.

    ``compute`` is ``write_results``'s: it chooses the scheduler, progress and timing.
    """
    result = result_array(pipeline.result, pipeline.chain)
    regions = []
    if result_kind(pipeline.chain) == "labels":
        from .regions import region_table  # imports pandas, 0.26 s here: only for labels

        regions.append(region_table(result, pipeline.stitched))
    tables = write_results(
        result, result_picture(result, pipeline.chain), out / RESULT_NPY, out / RESULT_PNG,
        zarr_path=out / RESULT_ZARR if zarr else None, also_compute=regions, compute=compute,
    )
    written = [RESULT_NPY, RESULT_PNG] + ([RESULT_ZARR] if zarr else [])
    if regions:
        (table,) = tables
        with atomic_path(out / REGIONS_CSV) as partial:
            table.to_csv(partial, index=False)
        written.append(REGIONS_CSV)
    _remove_stale(out, {REGIONS_CSV, RESULT_ZARR} - set(written))
    return written


def _remove_stale(out: Path, names: set[str]) -> None:
    # An earlier run's regions or zarr in the same folder would describe another result
    # beside this run's result.npy.
    for name in names:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
