"""A step's output as 8-bit pixels for the screen and the PNG: values mapped black..white,
masks black and white, labels in colour."""

from __future__ import annotations

import dask.array as da
import numpy as np
from skimage.color import colorlabel

from ..pipeline.chain import ResultKind

__all__ = ["LABEL_PALETTE", "label_colours", "to_picture", "to_uint8"]


def _scale_to_uint8(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    # In place after the first subtraction: one temporary instead of four per block.
    scaled = np.subtract(values, lo, dtype=np.float32)
    scaled *= np.float32(255.0 / (hi - lo))
    np.rint(scaled, out=scaled)
    return scaled.astype(np.uint8)


def to_uint8(clipped, lo: float, hi: float):
    """Map ``[lo, hi]`` linearly onto ``0..255``, for a NumPy or a dask array."""
    if isinstance(clipped, da.Array):
        return clipped.map_blocks(_scale_to_uint8, lo, hi, dtype=np.uint8, token="to-uint8")
    return _scale_to_uint8(clipped, lo, hi)


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


def _values_picture(values, value_range: tuple[float, float]):
    lo, hi = value_range
    clipped = da.clip(values, lo, hi) if isinstance(values, da.Array) else np.clip(values, lo, hi)
    return to_uint8(clipped, lo, hi)


def _mask_picture(mask, value_range):
    if isinstance(mask, da.Array):
        return mask.map_blocks(_mask_pixels, dtype=np.uint8, token="mask-pixels")
    return _mask_pixels(mask)


def _labels_picture(labels, value_range):
    if isinstance(labels, da.Array):
        return labels.map_blocks(
            label_colours, dtype=np.uint8, new_axis=2, chunks=(*labels.chunks, (3,)), token="label-colours"
        )
    return label_colours(labels)


#: How each kind of result becomes pixels: values black..white over their range, a mask
#: black and white, labels in colour (RGB).
_PICTURES = {
    ResultKind.VALUES: _values_picture,
    ResultKind.MASK: _mask_picture,
    ResultKind.LABELS: _labels_picture,
}


def to_picture(values, kind: ResultKind, value_range: tuple[float, float]):
    """8-bit pixels of a result of ``kind`` (NumPy or dask): (H, W) for values and masks,
    (H, W, 3) for labels. Values in ``value_range`` map to black..white."""
    return _PICTURES[ResultKind(kind)](values, value_range)
