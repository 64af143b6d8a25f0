"""An image stored in blocks in one file or store, a TIFF of tiles or strips or an OME-Zarr,
read region by region: each tile of the grid is one task that decodes only the blocks
under it, so the image is read in parallel and never whole.

The grid follows the blocks unless the caller gives one: blocks grouped into tiles of
about ``TILE_SIDE`` pixels a side (full-width bands of strips for a striped TIFF, whose
strips span every column), so no block is decoded twice. A grid given explicitly cuts
where it says; a block under two tiles is then decoded by both.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import tifffile

from ..errors import PipelineError
from .loading import as_gray_or_rgb
from .tiling import TileSet, check_grid, split_edges

__all__ = ["TILE_SIDE", "ChunkedTiles", "open_ome_zarr", "open_tiff", "read_region"]

#: The side of a tile when the grid follows the blocks: large enough that a task's work
#: outweighs its scheduling, small enough to give every core several tiles and to keep
#: few in memory at once: a 1-GPix TIFF's run peaks a third lower than with 2048 in the
#: same time, where 1024 is slower (``python -m benchmarks.inputs --gigapixel``;
#: benchmarks/RESULTS.md, "Images already in tiles").
TILE_SIDE = 1536
_TYPES = ("uint8", "uint16")


@dataclass(frozen=True)
class ChunkedTiles(TileSet):
    """A ``TileSet`` whose tiles are regions of one TIFF or OME-Zarr image (``folder`` is
    the file or store), read with ``read_region`` rather than from files of their own."""

    kind: str = "TIFF"  # or "OME-Zarr"
    array: str = ""  # the OME-Zarr's full-resolution array, within the store
    axes: tuple[str, ...] = ("y", "x")  # the array's axes, as stored

    def read_arrays(self) -> list[list[da.Array]]:
        """Each tile as a lazy array, one task each: (h, w) gray or (h, w, 3) RGB."""
        rows, cols = self.grid
        token = hashlib.sha256(f"{self.folder}|{self.digest}".encode()).hexdigest()[:16]
        read = dask.delayed(read_region, pure=True)
        return [
            [
                da.from_delayed(
                    read(self.kind, os.fspath(self.folder), self.array, self.axes, self.region(r, c),
                         dask_key_name=f"read-region-{token}-{r}-{c}"),
                    self.tile_shape(r, c), np.dtype(self.dtype), name=f"tile-{token}-{r}-{c}",
                )
                for c in range(cols)
            ]
            for r in range(rows)
        ]

    def region(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) of a tile, in pixels of the image."""
        return self.row_edges[row], self.row_edges[row + 1], self.col_edges[col], self.col_edges[col + 1]


def read_region(kind: str, path: str, array: str, axes: tuple[str, ...], region: tuple[int, int, int, int]):
    """The pixels of ``region`` of a TIFF or OME-Zarr image, (h, w) gray or (h, w, 3) RGB,
    alpha composited over white; only the blocks under it are decoded."""
    top, bottom, left, right = region
    if kind == "TIFF":
        pixels = tifffile.imread(path, selection=(slice(top, bottom), slice(left, right)))
    else:
        import zarr

        stored = zarr.open_array(os.path.join(path, array), mode="r")
        index = tuple(
            slice(top, bottom) if axis == "y" else slice(left, right) if axis == "x" else slice(None) if axis == "c"
            else 0 for axis in axes
        )
        kept = [axis for axis in axes if axis in ("y", "x", "c")]
        pixels = np.moveaxis(stored[index], [kept.index(axis) for axis in ("y", "x")], [0, 1])
    return as_gray_or_rgb(pixels, kind)


def _grouped_edges(length: int, block: int, side: int) -> tuple[int, ...]:
    """Edges every few blocks, about ``side`` pixels apart, on block borders."""
    step = block * max(1, round(side / block))
    return (*range(0, length, step), length)


def _tiles(path: Path, kind: str, shape: tuple[int, ...], dtype, blocks: tuple[int, int], grid, **extra) -> ChunkedTiles:
    height, width = shape[:2]
    if grid is None:
        row_edges = _grouped_edges(height, blocks[0], TILE_SIDE if blocks[1] < width else TILE_SIDE**2 // width)
        col_edges = _grouped_edges(width, blocks[1], TILE_SIDE)
    else:
        check_grid(shape, *grid)
        row_edges, col_edges = split_edges(height, grid[0]), split_edges(width, grid[1])
    stat = os.stat(path)
    return ChunkedTiles(
        folder=path.resolve(), digest=hashlib.sha256(f"{path.resolve()}|{stat.st_mtime_ns}".encode()).hexdigest(),
        image_shape=tuple(shape), dtype=np.dtype(dtype).str, row_edges=tuple(row_edges), col_edges=tuple(col_edges),
        kind=kind, **extra,
    )


def _channels(samples: int, where: str) -> tuple[int, ...]:
    """The image's channel axis after compositing alpha: none for gray, 3 for colour."""
    if samples in (1, 2):
        return ()
    if samples in (3, 4):
        return (3,)
    raise PipelineError(f"{where} has {samples} channels: the pipeline reads gray, gray and alpha, RGB or RGBA")


def open_tiff(path: Path, grid: tuple[int, int] | None) -> ChunkedTiles:
    """A TIFF (or BigTIFF) stored in tiles or strips, its first page read region by region.

    Raises ``PipelineError`` for what this reader does not take: colour models other than
    gray and RGB, other than 8 or 16 bits, a rotated page (an orientation tag).
    """
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            if page.photometric not in (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.RGB):
                raise PipelineError(f"{path.name} is a {page.photometric.name} TIFF: tiled TIFFs are read gray or RGB")
            if str(page.dtype) not in _TYPES or int(page.tags.valueof(274, 1)) != 1:
                raise PipelineError(f"{path.name}: tiled TIFFs are read 8 or 16 bits a sample, not rotated")
            samples = page.samplesperpixel
            shape = (page.imagelength, page.imagewidth, *_channels(samples, path.name))
            blocks = (page.tilelength, page.tilewidth) if page.is_tiled else (page.rowsperstrip, page.imagewidth)
            dtype = page.dtype
    except PipelineError:
        raise
    except (OSError, ValueError, tifffile.TiffFileError) as e:
        raise PipelineError(f"cannot read the TIFF {path.name}: {e}") from None
    return _tiles(path, "TIFF", shape, dtype, (min(blocks[0], shape[0]), blocks[1]), grid)


def _multiscales(store: Path) -> dict:
    """The first multiscale image's metadata: OME-NGFF 0.5 (zarr v3) or 0.4 (zarr v2)."""
    for name, key in (("zarr.json", "attributes"), (".zattrs", None)):
        if (store / name).exists():
            attributes = json.loads((store / name).read_text())
            attributes = attributes.get(key, {}) if key else attributes
            multiscales = attributes.get("ome", attributes).get("multiscales")
            if multiscales:
                return multiscales[0]
    raise PipelineError(f"{store.name} holds no OME-Zarr image: its metadata names no multiscales")


def open_ome_zarr(store: Path, grid: tuple[int, int] | None) -> ChunkedTiles:
    """An OME-Zarr image's full-resolution level, read chunk by chunk; axes other than y, x
    and a channel axis (time, z) must hold one plane."""
    import zarr

    multiscale = _multiscales(store)
    names = tuple(axis["name"] if isinstance(axis, dict) else axis for axis in multiscale.get("axes", ("y", "x")))
    types = {axis["name"]: axis.get("type") for axis in multiscale.get("axes", ()) if isinstance(axis, dict)}
    axes = tuple("c" if types.get(name) == "channel" or name == "c" else name for name in names)
    level = multiscale["datasets"][0]["path"]
    try:
        stored = zarr.open_array(store / level, mode="r")
    except (OSError, ValueError, KeyError) as e:
        raise PipelineError(f"cannot read {store.name}/{level}: {e}") from None
    if not {"y", "x"} <= set(axes) or len(axes) != stored.ndim:
        raise PipelineError(f"{store.name}'s axes {names} do not name y and x for its {stored.ndim}-D array")
    sizes = dict(zip(axes, stored.shape))
    many = [f"{size} {name}" for name, size in sizes.items() if name not in ("y", "x", "c") and size != 1]
    if many:
        raise PipelineError(f"{store.name} holds {', '.join(many)} planes: the pipeline reads one 2-D image")
    if str(stored.dtype) not in _TYPES:
        raise PipelineError(f"{store.name} holds {stored.dtype} values: the pipeline reads 8 or 16 bits a sample")
    shape = (sizes["y"], sizes["x"], *_channels(sizes.get("c", 1), store.name))
    chunks = dict(zip(axes, stored.chunks))
    return _tiles(store, "OME-Zarr", shape, stored.dtype, (chunks["y"], chunks["x"]), grid, array=level, axes=axes)


def grid_of(tiles: TileSet) -> str:
    """The grid in words: ``6 x 6 tiles of about 1366 x 1366 pixels``."""
    rows, cols = tiles.grid
    height, width = (math.ceil(side / parts) for side, parts in zip(tiles.image_shape[:2], tiles.grid))
    return f"{rows} x {cols} tiles of about {height} x {width} pixels"
