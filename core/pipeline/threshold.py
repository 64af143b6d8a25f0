"""The threshold stage: a mask of the pixels above a level, Otsu's or a given one.

Otsu's level comes from a histogram summed over every chunk, so it equals
``skimage.filters.threshold_otsu`` on the whole image.
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
from skimage.filters import threshold_otsu

from ..errors import PipelineError
from .chunks import as_float

__all__ = ["OTSU_BINS", "otsu_threshold", "threshold", "threshold_level", "value_implies_method"]

#: Bins of the Otsu histogram: scikit-image's default.
OTSU_BINS = 256


def _block_histogram(block: np.ndarray, lo, hi) -> np.ndarray:
    return np.histogram(block, bins=OTSU_BINS, range=(lo, hi))[0]


def _otsu_from_histogram(histograms: list[np.ndarray], lo, hi, dtype):
    if lo == hi:  # one value everywhere: scikit-image returns it
        return lo
    # The bin edges as np.histogram makes them for this range and dtype, as
    # scikit-image's histogram does for the whole image.
    edges = np.histogram_bin_edges(np.empty(0, dtype), bins=OTSU_BINS, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2.0
    return threshold_otsu(hist=(np.sum(histograms, axis=0), centres))


def otsu_threshold(image: da.Array) -> da.Array:
    """Otsu's threshold of the whole image as a lazy 0-d array: ``skimage.filters.
    threshold_otsu``'s histogram (256 bins from the minimum to the maximum), summed over
    the chunks."""
    # The extremes and the blocks as delayed objects of the image's own graph: handing the
    # 0-d arrays to each delayed call, or letting ``to_delayed`` optimise, made every call
    # finalize its own copy of the graph, which read each tile 11 times for 4 chunks.
    lo, hi = (extreme.to_delayed(optimize_graph=False).item() for extreme in (image.min(), image.max()))
    histogram = dask.delayed(_block_histogram, pure=True)
    histograms = [histogram(block, lo, hi) for block in image.to_delayed(optimize_graph=False).ravel()]
    threshold = dask.delayed(_otsu_from_histogram, pure=True)(histograms, lo, hi, image.dtype)
    return da.from_delayed(threshold, shape=(), dtype=image.dtype)


def threshold_level(image: da.Array, method: str, value: float):
    """The level a threshold compares ``image`` with: Otsu's, as a lazy 0-d array, or
    ``value`` as given (NumPy compares a float32 image with a Python float in float32)."""
    return otsu_threshold(as_float(image)) if method == "otsu" else value


def threshold(image: da.Array, method: str, value: float) -> da.Array:
    """1 where ``image`` is above the threshold, else 0 (scikit-image's convention)."""
    return (as_float(image) > threshold_level(image, method, value)).astype(np.uint8)


def value_implies_method(values: dict, given: set[str]) -> dict:
    if "value" in given and "method" in given and values["method"] != "value":
        raise PipelineError("threshold takes method=otsu or value=V, not both")
    if "value" in given:
        return {**values, "method": "value"}
    return values
