"""Write the full-resolution result block by block, never gathering it in memory."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import dask
import dask.array as da
import numpy as np
from numpy.lib.format import open_memmap
from PIL import Image

__all__ = ["atomic_path", "to_uint8", "write_png", "write_results"]


def to_uint8(clipped: da.Array, lo: float, hi: float) -> da.Array:
    """Map ``[lo, hi]`` linearly onto ``0..255``."""
    return ((clipped - lo) * (255.0 / (hi - lo))).round().astype(np.uint8)


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path`` that replaces it only if the block succeeds."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_png(pixels: np.ndarray, target) -> None:
    """Encode 8-bit pixels as PNG into a path (atomically) or a binary file object.

    Level 1 compresses edge maps nearly as well as the default level, several times faster.
    """
    if hasattr(target, "write"):
        Image.fromarray(pixels).save(target, format="PNG", compress_level=1)
        return
    with atomic_path(target) as partial:
        Image.fromarray(pixels).save(partial, format="PNG", compress_level=1)


class NpyFile:
    """A ``dask.array.store`` target that writes each block into an ``.npy`` file on disk.

    Each write opens the file as a memory map, so the object pickles as a path: threads and
    workers of a cluster that share the disk can all write their blocks.
    """

    def __init__(self, path: str | os.PathLike, shape: tuple[int, ...], dtype):
        self.path = os.fspath(path)
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        open_memmap(self.path, mode="w+", dtype=self.dtype, shape=self.shape).flush()

    def __setitem__(self, index, block: np.ndarray) -> None:
        out = np.load(self.path, mmap_mode="r+")
        out[index] = block
        out.flush()


def write_results(clipped: da.Array, lo: float, hi: float, npy_path, png_path, *, compute=None) -> None:
    """Store ``clipped`` as a float32 ``.npy`` and an 8-bit PNG in one pass over the graph.

    Blocks go straight to files on disk, written by whichever thread or worker computed
    them; the PNG is encoded from a memory-mapped 8-bit copy, so no full-resolution array
    is gathered in this process. ``compute(storing)`` runs the storing graph (default:
    ``dask.compute``), so the caller chooses scheduler, progress and timing.
    """
    png_path = Path(png_path)
    eight_bit_path = png_path.with_name(f".{png_path.name}.u8.npy")
    try:
        with atomic_path(npy_path) as npy_partial:
            storing = da.store(
                [clipped.astype(np.float32), to_uint8(clipped, lo, hi)],
                [
                    NpyFile(npy_partial, clipped.shape, np.float32),
                    NpyFile(eight_bit_path, clipped.shape, np.uint8),
                ],
                lock=False,
                compute=False,
            )
            (compute or dask.compute)(storing)
        write_png(np.load(eight_bit_path, mmap_mode="r"), png_path)
    finally:
        eight_bit_path.unlink(missing_ok=True)
