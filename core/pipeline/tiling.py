"""Split an image into an R x C grid of tile files, as if each part lived on its own machine.

Tiles are uncompressed TIFF: tifffile writes one an order of magnitude faster than PNG
without compression, and two faster than PNG at its default level (benchmarks/RESULTS.md,
"Figures quoted in the code before 2026-12-07"), and it keeps 16-bit colour. A tile folder
is complete or absent: it is written under a temporary name and renamed into place, so a
reader never sees half a tile, and a folder whose manifest matches the image and grid is
reused, never rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
from dask.system import CPU_COUNT

from ..errors import PipelineError
from ..runtime.disk_cache import touch

__all__ = [
    "TileSet",
    "cache_folder",
    "check_grid",
    "image_digest",
    "partition",
    "partition_cached",
    "split_edges",
]

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class TileSet:
    """Where the tiles of one image and grid live, and which pixels each one holds.

    The tiles are files, read with ``dask_image.imread``: those ``partition`` writes
    (``tile_r000_c001.tif``), or an input's own (``files``, ``core.pipeline.inputs``).
    """

    folder: Path
    digest: str
    image_shape: tuple[int, ...]
    dtype: str
    row_edges: tuple[int, ...]  # rows + 1 pixel offsets, numpy.array_split style
    col_edges: tuple[int, ...]
    #: Each tile's file, row by row, where they are an input's own rather than named by
    #: ``tile_name`` in ``folder``.
    files: tuple[tuple[str, ...], ...] | None = None

    @property
    def grid(self) -> tuple[int, int]:
        return len(self.row_edges) - 1, len(self.col_edges) - 1

    def path(self, row: int, col: int) -> Path:
        if self.files is not None:
            return Path(self.files[row][col])
        return self.folder / tile_name(row, col)

    @property
    def paths(self) -> list[list[Path]]:
        rows, cols = self.grid
        return [[self.path(r, c) for c in range(cols)] for r in range(rows)]

    @property
    def mean_tile_pixels(self) -> float:
        rows, cols = self.grid
        return self.image_shape[0] * self.image_shape[1] / (rows * cols)

    def tile_shape(self, row: int, col: int) -> tuple[int, ...]:
        height = self.row_edges[row + 1] - self.row_edges[row]
        width = self.col_edges[col + 1] - self.col_edges[col]
        return (height, width, *self.image_shape[2:])


def tile_name(row: int, col: int) -> str:
    # Zero-padded so that natural and plain sorting agree.
    return f"tile_r{row:03d}_c{col:03d}.tif"


def split_edges(length: int, parts: int) -> tuple[int, ...]:
    """Offsets of ``parts`` pieces of ``length``, sized as ``numpy.array_split`` sizes them."""
    base, extra = divmod(length, parts)
    sizes = [base + 1] * extra + [base] * (parts - extra)
    return tuple(int(x) for x in np.concatenate([[0], np.cumsum(sizes)]))


#: Rows hashed by one thread: hashlib releases the GIL, so strips hash in parallel.
DIGEST_STRIP_BYTES = 16 * 2**20


def image_digest(image: np.ndarray) -> str:
    """SHA-256 over the pixels' shape, dtype and the SHA-256 of each strip of rows: equal
    digests mean equal images.

    One SHA-256 over the whole image is one serial pass, paid on every upload; the strips
    are hashed by a thread each.
    """
    rows_per_strip = max(1, DIGEST_STRIP_BYTES // max(1, image[:1].nbytes))
    starts = range(0, max(len(image), 1), rows_per_strip)

    def strip_digest(top: int) -> bytes:
        strip = np.ascontiguousarray(image[top : top + rows_per_strip])
        return hashlib.sha256(strip.reshape(-1).view(np.uint8)).digest()

    with ThreadPoolExecutor(max_workers=CPU_COUNT) as pool:
        strips = list(pool.map(strip_digest, starts))
    h = hashlib.sha256(f"{image.shape}|{image.dtype.str}|".encode())
    for digest in strips:
        h.update(digest)
    return h.hexdigest()


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def check_grid(image_shape: tuple[int, ...], rows: int, cols: int) -> None:
    """Raise ``PipelineError`` unless every tile of a ``rows x cols`` grid gets a pixel.

    Grid and image are both given rows first, so that the two numbers to compare sit
    side by side, and the message ends with the largest grid that fits.
    """
    if rows < 1 or cols < 1:
        raise PipelineError(
            f"the grid must have at least 1 row and 1 column, got {_count(rows, 'row')} and {_count(cols, 'column')}"
        )
    height, width = image_shape[:2]
    if rows > height or cols > width:
        raise PipelineError(
            f"a grid of {_count(rows, 'row')} and {_count(cols, 'column')} does not fit an image of "
            f"{_count(height, 'row')} and {_count(width, 'column')} of pixels: every tile needs at least "
            f"one pixel, so use at most {_count(height, 'row')} and {_count(width, 'column')}"
        )


def partition(
    image: np.ndarray, rows: int, cols: int, folder: str | os.PathLike, *, digest: str | None = None
) -> TileSet:
    """Write ``image`` as ``rows x cols`` tile files into ``folder``.

    Tile edges follow ``numpy.array_split``, so every pixel lands in exactly one tile. If
    ``folder`` already holds the tiles of this image and grid they are reused; otherwise the
    tiles are written in parallel into a temporary folder beside it that then replaces it.

    Parameters
    ----------
    image : ndarray or dask array, shape (H, W) or (H, W, 3)
        A dask array (an image already in other tiles, say) is computed tile by tile, each
        in a thread of its own.
    rows, cols : int
        The grid, at least 1 x 1 and at most one tile per pixel.
    folder : path-like
    digest : str, optional
        ``image_digest(image)`` if the caller already has it; required for a dask array.

    Returns
    -------
    TileSet

    Raises
    ------
    PipelineError
        If the grid is empty or larger than the image.
    """
    check_grid(image.shape, rows, cols)
    folder = Path(folder)
    tiles = TileSet(
        folder=folder,
        digest=digest or image_digest(image),
        image_shape=tuple(image.shape),
        dtype=image.dtype.str,
        row_edges=split_edges(image.shape[0], rows),
        col_edges=split_edges(image.shape[1], cols),
    )
    if _read_manifest(folder) == _manifest(tiles):
        touch(folder)  # recently used: pruning the cache removes it last
        return tiles

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the tiles from other readers
        _write_tiles(image, tiles, staging)
        (staging / MANIFEST).write_text(json.dumps(_manifest(tiles)))
        _swap_into_place(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tiles


def partition_cached(
    image: np.ndarray, rows: int, cols: int, cache_root: str | os.PathLike, *, digest: str | None = None
) -> TileSet:
    """``partition`` into a content-addressed folder of ``cache_root``: one per image and grid."""
    digest = digest or image_digest(image)
    return partition(image, rows, cols, cache_folder(cache_root, digest, rows, cols), digest=digest)


def cache_folder(cache_root: str | os.PathLike, digest: str, rows: int, cols: int) -> Path:
    """The folder ``partition_cached`` uses for this image digest and grid."""
    return Path(cache_root) / f"{digest[:32]}-{rows:02d}x{cols:02d}"


def _manifest(tiles: TileSet) -> dict:
    return {
        "digest": tiles.digest,
        "image_shape": list(tiles.image_shape),
        "dtype": tiles.dtype,
        "row_edges": list(tiles.row_edges),
        "col_edges": list(tiles.col_edges),
    }


def _read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def _write_tiles(image: np.ndarray, tiles: TileSet, folder: Path) -> None:
    rows, cols = tiles.grid

    def write(position: tuple[int, int]) -> None:
        r, c = position
        block = image[
            tiles.row_edges[r] : tiles.row_edges[r + 1], tiles.col_edges[c] : tiles.col_edges[c + 1]
        ]
        if hasattr(block, "compute"):  # a lazy image: this thread computes its piece alone
            block = block.compute(scheduler="sync")
        tifffile.imwrite(folder / tile_name(r, c), block, photometric=_photometric(image))

    positions = [(r, c) for r in range(rows) for c in range(cols)]
    with ThreadPoolExecutor(max_workers=CPU_COUNT) as pool:
        list(pool.map(write, positions))  # list() re-raises the first failure


def _photometric(image: np.ndarray) -> str:
    return "rgb" if image.ndim == 3 else "minisblack"


def _swap_into_place(staging: Path, folder: Path) -> None:
    """Rename ``staging`` to ``folder``; an older folder there is moved aside and removed."""
    try:
        os.rename(staging, folder)
        return
    except OSError:
        if not folder.exists():
            raise
    if _read_manifest(folder) == _read_manifest(staging):
        return  # another writer finished the same tiles first
    retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}-old-", dir=folder.parent))
    os.rename(folder, retired / "tiles")
    os.rename(staging, folder)
    shutil.rmtree(retired, ignore_errors=True)
