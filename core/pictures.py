"""A step's output as 8-bit pixels for the screen and the PNG: values mapped black..white,
masks black and white, labels in colour."""

from __future__ import annotations

import dask.array as da
import numpy as np
from skimage.color import colorlabel

from .results import to_uint8

__all__ = ["LABEL_PALETTE", "label_colours", "to_picture"]

#: scikit-image's colours for labels, as 8-bit RGB. The colour depends on the label alone,
#: so that chunks coloured apart agree (``label2rgb`` numbers the labels it is given afresh).
LABEL_PALETTE = np.array(
    [np.rint(np.multiply(colorlabel.color_dict[name], 255)) for name in colorlabel.DEFAULT_COLORS], np.uint8
)


def label_colours(labels: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: label n in ``LABEL_PALETTE[(n - 1) % len]``, background (0) black."""
    colours = LABEL_PALETTE[(labels.astype(np.int64) - 1) % len(LABEL_PALETTE)]
    colours[labels == 0] = 0
    return colours


def _mask_pixels(mask: np.ndarray) -> np.ndarray:
    return (mask != 0).astype(np.uint8) * np.uint8(255)


def to_picture(values, kind: str, value_range: tuple[float, float]):
    """8-bit pixels of a step's output (NumPy or dask): (H, W) for values and masks,
    (H, W, 3) for labels. Values in ``value_range`` map to black..white."""
    lazy = isinstance(values, da.Array)
    if kind == "labels":
        if lazy:
            return values.map_blocks(
                label_colours, dtype=np.uint8, new_axis=2, chunks=values.chunks + ((3,),), token="label-colours"
            )
        return label_colours(values)
    if kind == "mask":
        return values.map_blocks(_mask_pixels, dtype=np.uint8, token="mask-pixels") if lazy else _mask_pixels(values)
    lo, hi = value_range
    clipped = da.clip(values, lo, hi) if lazy else np.clip(values, lo, hi)
    return to_uint8(clipped, lo, hi)
