"""How tile files are read: ``dask_image.imread``, with pims learning a tile's shape from
its header.

``dask_image.imread`` opens each file with ``pims.open`` while it builds the graph, to learn
the array's shape and type. pims' reader for PNG and JPEG (``ImageReader``) decodes the
whole file to know them, so every tile was decoded twice, the first time one tile after
another before the run began: over a quarter of a one-core run (``python -m
benchmarks.inputs``; benchmarks/RESULTS.md, "Images already in tiles").

``HeaderFirstReader`` plugs into pims as pims' ``open`` takes new readers: any
``FramesSequence`` subclass for the file's extension, tried first when its
``class_priority`` is above the built-in ones' (``tests/test_tile_reader.py`` fails if
``pims.open`` stops choosing it). It reads the header at open and decodes when a frame is
read, through pims' own ``ImageReader``, so the pixels are the ones it gave before. A mode
whose decoded shape the header does not say plainly is declined (pims then falls back to its
own reader, decoding at open as before).
"""

from __future__ import annotations

import importlib
import sys
import threading
import warnings

import numpy as np
from PIL import Image

__all__ = ["HeaderFirstReader", "import_without_matplotlib", "imread"]


def import_without_matplotlib(module: str):
    """Import ``module`` while matplotlib cannot be imported, unless it already is.

    pims, under ``dask_image.imread``, imports ``matplotlib.pyplot`` for display helpers
    that this project never calls, and does without them when matplotlib is missing: a
    good share of the command line's imports (``python -X importtime``;
    benchmarks/RESULTS.md, "After the parallel outputs"), checked by ``tests/test_cli.py``,
    ``test_a_run_on_threads_imports_neither_distributed_nor_matplotlib``.

    From another thread (Streamlit runs each script in one) only ``matplotlib.pyplot`` is
    hidden, 0.24 s of a fresh server's first page: the server's other threads draw with
    matplotlib, which must never vanish from under them, but nothing in the app imports pyplot.
    """
    hidden = "matplotlib" if threading.current_thread() is threading.main_thread() else "matplotlib.pyplot"
    if hidden in sys.modules:
        return importlib.import_module(module)
    sys.modules[hidden] = None  # makes `import matplotlib(.pyplot)` raise ImportError
    try:
        return importlib.import_module(module)
    finally:
        del sys.modules[hidden]


pims = import_without_matplotlib("pims")
imread = import_without_matplotlib("dask_image.imread").imread

#: Pillow's modes whose array from pims' ``ImageReader`` the header tells: channels (0 for
#: 2-D) and type. Palette and 1-bit images, CMYK JPEGs and the rest go to pims' own reader.
_SHAPE_FROM_HEADER = {
    "L": (0, np.uint8), "LA": (2, np.uint8), "RGB": (3, np.uint8), "RGBA": (4, np.uint8),
    "I;16": (0, np.uint16), "I;16B": (0, np.uint16), "I;16L": (0, np.uint16),
}


class HeaderFirstReader(pims.FramesSequence):
    """One image file as pims' ``ImageReader`` reads it, decoded only when its frame is
    read; its shape and type come from the header."""

    class_priority = 20  # above ImageReader's 12: pims.open tries this one first

    @classmethod
    def class_exts(cls):
        return {"png", "jpg", "jpeg"}

    def __init__(self, filename: str):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's warnings come again at decode
            with Image.open(filename) as image:
                mode, (width, height) = image.mode, image.size
        if mode not in _SHAPE_FROM_HEADER:
            raise ValueError(f"a {mode} image's decoded shape is not in its header")  # pims tries the next reader
        channels, dtype = _SHAPE_FROM_HEADER[mode]
        self._filename = filename
        self._shape = (height, width, channels) if channels else (height, width)
        self._dtype = np.dtype(dtype)

    def get_frame(self, i: int):
        frame = pims.ImageReader(self._filename).get_frame(0)
        if frame.shape != self._shape or frame.dtype != self._dtype:
            raise ValueError(
                f"{self._filename} decoded to {frame.shape} {frame.dtype}, its header said {self._shape} {self._dtype}"
            )
        return frame

    def __len__(self) -> int:
        return 1

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def pixel_type(self) -> np.dtype:
        return self._dtype
