"""Write the full-resolution result block by block, never gathering it in memory."""

from __future__ import annotations

import os
import threading
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dask
import dask.array as da
import numpy as np
from dask.system import CPU_COUNT
from numpy.lib.format import open_memmap
from PIL import Image

from .png_stream import channels_of, deflate_strip, write_png_strips

__all__ = [
    "NpyFile",
    "atomic_path",
    "deflated_png_strips",
    "to_uint8",
    "write_deflated_png",
    "write_png",
    "write_results",
]

#: zlib level of the PNGs: 1 compresses edge maps nearly as well as the default, several
#: times faster.
PNG_LEVEL = 1


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


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path`` that replaces it only if the block succeeds.

    The temporary name is this writer's own (process and thread), so that writers of the
    same file at once (two sessions, two servers) never write into each other's, and a
    reader finds the old file or the new one, never half of one.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_png(pixels: np.ndarray, target) -> None:
    """Encode a small 8-bit picture as PNG into a path (atomically) or a binary file object.

    Pillow chooses a filter per row, which keeps photos small for the browser.
    """
    if hasattr(target, "write"):
        Image.fromarray(pixels).save(target, format="PNG", compress_level=PNG_LEVEL)
        return
    with atomic_path(target) as partial:
        Image.fromarray(pixels).save(partial, format="PNG", compress_level=PNG_LEVEL)


class NpyFile:
    """A ``dask.array.store`` target that writes each 2-D block into an ``.npy`` file of
    ``dtype`` (float32 values, a uint8 mask, int32 labels: whatever the result holds).

    The object pickles as a path, so threads, and workers of a cluster that share the
    disk, can all write their blocks. Rows are written with ``pwrite`` rather than through
    a memory map: nothing has to be synced page by page (syncing a memory map took 0.65 s
    for a 256-MB result here, the writes 0.2 s), and closing the file is what makes the
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


#: Strips of the PNG per core: each core gets about two, so that one slow strip does not
#: hold the others back, and no more, since every strip is a task (about 1 ms of
#: scheduling on a cluster) and a rechunk of its row of tiles.
PNG_STRIPS_PER_CORE = 2
#: ...but no strip shorter than this, whose compression would cost less than its task.
MIN_PNG_STRIP_ROWS = 64


def png_strip_rows(height: int, cores: int = CPU_COUNT) -> int:
    """Rows of the PNG compressed by one task: two strips per core, or fewer, longer ones
    for short images."""
    return max(MIN_PNG_STRIP_ROWS, -(-height // (PNG_STRIPS_PER_CORE * cores)))


def _strip_rows(row_chunks: tuple[int, ...], strip_rows: int) -> tuple[int, ...]:
    """Each row chunk cut into near-equal strips of at most ``strip_rows`` rows: a strip
    never spans two row chunks, so it waits only for its own row of tiles."""
    strips = []
    for rows in row_chunks:
        strips += [len(part) for part in np.array_split(np.arange(rows), -(-rows // strip_rows))]
    return tuple(strips)


def deflated_png_strips(pixels: da.Array, *, strip_rows: int | None = None) -> list:
    """One lazy ``DeflatedStrip`` per strip of at most ``strip_rows`` rows (default:
    ``png_strip_rows``) of an 8-bit dask array, (H, W) grayscale or (H, W, 3) RGB, top to
    bottom; ``write_png_strips`` joins them into a PNG."""
    strip_rows = strip_rows or png_strip_rows(pixels.shape[0])
    # Task-based rechunking, each strip gathered from its own row of tiles; naming the
    # method also spares a run on threads importing distributed to look for a cluster.
    whole_rows = pixels.shape[1:]  # every column (and colour) of a row in one strip
    strips = pixels.rechunk((_strip_rows(pixels.chunks[0], strip_rows), *whole_rows), method="tasks")
    blocks = strips.to_delayed(optimize_graph=False).ravel()
    deflate = dask.delayed(deflate_strip, pure=True)
    return [deflate(block, last=i == len(blocks) - 1, level=PNG_LEVEL) for i, block in enumerate(blocks)]


def write_deflated_png(file, picture: da.Array, strips) -> None:
    """Write the PNG of ``picture`` into a binary file from its ``deflated_png_strips``,
    computed: its size and colours are ``picture``'s."""
    height, width = picture.shape[:2]
    write_png_strips(file, width, height, strips, channels=channels_of(picture))


def _compute_in_order(compute, collections: list, what: str) -> list:
    """``compute(collections, what)``'s values, in the order of ``collections``.

    ``dask.compute`` with graph optimisation (dask 2026.8) returns the values of mixed
    collections grouped by type, dask arrays apart from delayed objects, whatever order
    they were given in; handed over already grouped, they come back in the order given.
    """
    first_of_type: dict[type, int] = {}
    for i, collection in enumerate(collections):
        first_of_type.setdefault(type(collection), i)
    order = sorted(range(len(collections)), key=lambda i: (first_of_type[type(collections[i])], i))
    values = [None] * len(collections)
    for i, value in zip(order, compute([collections[i] for i in order], what)):
        values[i] = value
    return values


def write_results(
    result: da.Array, picture: da.Array, npy_path, png_path, *, zarr_path=None, also_compute=(), compute=None
) -> list:
    """Store ``result`` as a ``.npy`` of its own dtype unless ``npy_path`` is None, and as
    an OME-Zarr multiscale image if ``zarr_path`` is given, and its 8-bit ``picture`` (a
    uint8 dask array, (H, W) grayscale or (H, W, 3) RGB, such as ``core.pictures.
    to_picture`` makes) as a PNG, in one pass over the graph: each block is computed once
    for every file. ``also_compute`` are more lazy collections (a region table, say)
    computed in the same pass; their values are returned, in order.

    The threads or workers that compute the blocks write them into the ``.npy`` (on a
    cluster, a file on storage the workers share) and compress the PNG in strips of rows;
    only the compressed strips come back to this process, which writes them in order, so
    no full-resolution array is gathered here. ``compute(collections, what)`` computes a
    list of collections and returns their results, ``what`` saying in words what it does
    (default: ``dask.compute``), so the caller chooses scheduler, progress and timing.
    """
    channels_of(picture)  # refuses anything a PNG cannot hold before any work
    with ExitStack() as cleanup:
        stores = []
        if npy_path is not None:
            target = NpyFile(cleanup.enter_context(atomic_path(npy_path)), result.shape, result.dtype)
            stores.append(da.store(result, target, lock=False, compute=False))
        if zarr_path is not None:
            from .ome_zarr import atomic_folder, store_multiscale  # imports zarr: only when asked

            zarr_partial = cleanup.enter_context(atomic_folder(zarr_path))
            stores += store_multiscale(result, zarr_partial, name=Path(zarr_path).name.split(".")[0])
        strips = deflated_png_strips(picture)
        png_partial = cleanup.enter_context(atomic_path(png_path))
        compute = compute or (lambda collections, what: list(dask.compute(*collections)))
        values = _compute_in_order(
            compute, [*stores, *strips, *also_compute], "computing the blocks, storing them and compressing the PNG"
        )
        compressed, also_values = values[len(stores):len(stores) + len(strips)], values[len(stores) + len(strips):]
        with open(png_partial, "wb") as file:
            write_deflated_png(file, picture, compressed)
    return list(also_values)
