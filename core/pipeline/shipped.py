"""Tiles for workers that cannot read this machine's tile folder: each tile file's bytes
travel in the graph, as data of the task that writes the file into its worker's own
directory and reads it back, as ``dask_image.imread`` would read it there.

The worker that ran a tile's task holds its file from then on. If that worker is lost, the
scheduler runs the task again on another from the graph, which still holds the bytes: the
tiles come from the source, not from a disk that is gone. The cost is the tiles' bytes in
the graph, sent once to the scheduler and kept there as long as a result needs them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import dask
import dask.array as da
import dask.utils
import numpy as np

from .chunked import ChunkedTiles
from .tiling import TileSet, partition

__all__ = ["ShippedTiles", "in_place", "read_shipped_tile", "shipped", "tile_paths", "tiles_in_graph"]

#: The folder, in a worker's local directory, that holds the tiles it was sent.
SHIPPED_FOLDER = "shipped-tiles"


@dataclass(frozen=True)
class ShippedTiles(TileSet):
    """A ``TileSet`` of files on this machine whose bytes go to the workers in the graph
    (``read_arrays``), for workers that cannot read them where they are."""

    def read_arrays(self) -> list[list[da.Array]]:
        """Each tile as a lazy array: one task per tile, its file's bytes its data, that
        writes the file on its worker and reads it there."""
        import pims  # imported with dask_image.imread by core.pipeline.build

        rows, cols = self.grid
        token = hashlib.sha256(f"{self.folder}|{self.digest}|{self.row_edges}|{self.col_edges}".encode()).hexdigest()
        folder = f"{token[:32]}-{rows:02d}x{cols:02d}"
        read = dask.delayed(read_shipped_tile, pure=True)
        arrays = []
        for r in range(rows):
            arrays.append([])
            for c in range(cols):
                path = self.path(r, c)
                with pims.open(os.fspath(path)) as frames:  # the shape and type imread finds
                    shape, dtype = frames.frame_shape, np.dtype(frames.pixel_type)
                name = f"tile_r{r:03d}_c{c:03d}{path.suffix}"
                # As a NumPy array, not bytes: pickled out of band, the file's bytes are not
                # copied once more into the graph's pickle.
                data = np.fromfile(path, np.uint8)
                task = read(data, folder, name, dask_key_name=f"read-shipped-tile-{token[:16]}-{r}-{c}")
                arrays[-1].append(da.from_delayed(task, shape, dtype, name=f"tile-{token[:16]}-{r}-{c}"))
        return arrays


def tiles_in_graph(tiles: TileSet):
    """A context in which Dask's warning of a large graph (``distributed.admin.
    large-graph-warning-threshold``) allows for the bytes of ``tiles`` if they are shipped:
    there they are meant to be."""
    if not isinstance(tiles, ShippedTiles):
        return contextlib.nullcontext()
    carried = sum(os.path.getsize(path) for path in tile_paths(tiles))
    allowed = dask.utils.parse_bytes(dask.config.get("distributed.admin.large-graph-warning-threshold", "10MB"))
    return dask.config.set({"distributed.admin.large-graph-warning-threshold": carried + allowed})


def _local_directory() -> str:
    """The directory of the worker running this task, or the temp folder outside one."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):
        return tempfile.gettempdir()


def read_shipped_tile(data: np.ndarray, folder: str, name: str) -> np.ndarray:
    """The pixels of a tile file sent as ``data`` (its bytes, uint8): the file is written as ``name`` into
    ``folder`` of this worker's directory (unless there already) and read back with
    ``pims``, the reader under ``dask_image.imread``, so that every format of tile reads
    as it does from a shared folder."""
    import pims

    directory = os.path.join(_local_directory(), SHIPPED_FOLDER, folder)
    path = os.path.join(directory, name)
    if not (os.path.exists(path) and os.path.getsize(path) == data.nbytes):
        os.makedirs(directory, exist_ok=True)
        partial = f"{path}.{os.getpid()}-{os.urandom(4).hex()}.partial"  # two tasks may write it at once
        data.tofile(partial)
        os.replace(partial, path)
    with pims.open(path) as frames:
        return np.asanyarray(frames[0:1])[0]  # as dask_image.imread's own read of a frame


def tile_paths(tiles: TileSet) -> list[Path]:
    """The files a pipeline of ``tiles`` reads: its tile files, or the one TIFF or OME-Zarr
    store its regions come from."""
    if isinstance(tiles, ChunkedTiles):
        return [Path(tiles.folder)]
    return [path for row in tiles.paths for path in row]


def shipped(tiles: TileSet, folder: Path) -> ShippedTiles:
    """``tiles`` sent to the workers in the graph. Regions of a TIFF or an OME-Zarr are
    first written here as tile files of the same grid, into ``folder``."""
    if isinstance(tiles, ChunkedTiles):
        # Rows then columns: ``da.block`` would join the innermost lists along the last
        # axis, a colour image's channels.
        mosaic = da.concatenate([da.concatenate(row, axis=1) for row in tiles.read_arrays()], axis=0)
        tiles = partition(mosaic, *tiles.grid, folder, digest=tiles.digest)
    return ShippedTiles(**_fields(tiles))


def in_place(tiles: TileSet) -> TileSet:
    """``tiles`` read where they are, as threads of this process read them."""
    return TileSet(**_fields(tiles)) if isinstance(tiles, ShippedTiles) else tiles


def _fields(tiles: TileSet) -> dict:
    return {name: getattr(tiles, name) for name in TileSet.__dataclass_fields__}
