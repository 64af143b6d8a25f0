"""Every file a run writes, from the chain's result: ``write`` and its ``FORMATS`` (npy, PNG,
OME-Zarr, the region table, the task graph), the pictures each kind of result is drawn as,
and the deep-zoom tiles the dashboard's pixel zoom loads."""

from .formats import OutputFormat, Planned, Result, result_of
from .pictures import label_colours, to_picture, to_uint8
from .writer import FORMATS, OPTIONAL_FORMATS, write

__all__ = [
    "FORMATS",
    "OPTIONAL_FORMATS",
    "OutputFormat",
    "Planned",
    "Result",
    "label_colours",
    "result_of",
    "to_picture",
    "to_uint8",
    "write",
]
