"""The result as a ``.npy`` file, written block by block by whoever computes each block
(or here, as each block arrives, where the workers have disks of their own)."""

from __future__ import annotations

import os

import numpy as np
from numpy.lib.format import open_memmap

from .formats import OutputFormat, Planned, Result

__all__ = ["NPY", "NpyFile"]


class NpyFile:
    """A ``dask.array.store`` target that writes each 2-D block into an ``.npy`` file of
    ``dtype`` (float32 values, a uint8 mask, int32 labels: whatever the result holds).

    The object pickles as a path, so threads, and workers of a cluster that share the
    disk, can all write their blocks. Rows are written with ``pwrite`` rather than through
    a memory map: nothing has to be synced page by page, which cost more than the writes
    themselves (``python benchmarks/zarr_vs_npy.py`` times the ``.npy``; benchmarks/RESULTS.md,
    "Figures quoted in the code before 2026-12-07"), and closing the file is what makes the
    data visible to other machines on network storage.
    """

    def __init__(self, path: str | os.PathLike, shape: tuple[int, int], dtype):
        self.path = os.fspath(path)
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        open_memmap(self.path, mode="w+", dtype=self.dtype, shape=self.shape).flush()
        self.offset = os.path.getsize(self.path) - self.dtype.itemsize * int(np.prod(self.shape))

    def __setitem__(self, index: tuple[slice, slice], block: np.ndarray) -> None:
        (top, _, _), (left, _, _) = (part.indices(size) for part, size in zip(index, self.shape))
        block = np.ascontiguousarray(block, dtype=self.dtype)
        row_bytes = self.shape[1] * self.dtype.itemsize
        start = self.offset + top * row_bytes + left * self.dtype.itemsize
        fd = os.open(self.path, os.O_WRONLY)
        try:
            for i, row in enumerate(block):
                if os.pwrite(fd, row, start + i * row_bytes) != row.nbytes:
                    raise OSError(f"short write to {self.path}")
        finally:
            os.close(fd)


def _plan(result: Result, path) -> Planned:
    return Planned(stores=[(result.array, NpyFile(path, result.array.shape, result.array.dtype))])


NPY = OutputFormat(
    "npy", "result.npy",
    "the result at full resolution, in its own type: float32 values, a uint8 0/1 mask or int32 labels",
    _plan,
)
