"""Images that are already in tiles: tile files (by glob and grid, or a folder of named
tiles), a tiled or striped TIFF, an OME-Zarr image. Each opens as the tiles the pipeline
reads in parallel, checked first, and never decoded whole.

- Tile files are read as they are, with ``dask_image.imread``: the tutorial's
  (``python -m core 'parts/save_part_*.png' --grid 2x3``, numbered row by row from 000)
  or a folder named as ``partition`` names them (``tile_r000_c001.png``, any format).
- A TIFF or an OME-Zarr is read region by region (``core.pipeline.chunked``): each tile of
  the grid decodes only the TIFF tiles or strips, or the zarr chunks, under it.

Anything wrong with a tile set (a missing or extra tile, tiles that do not fit together,
mixed colour modes) is a ``PipelineError`` naming the tile and the problem.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import warnings
from pathlib import Path

import dask.array as da
import numpy as np
import tifffile
from PIL import Image, UnidentifiedImageError

from ..errors import PipelineError
from .build import read_tiles
from .chunked import open_ome_zarr, open_tiff
from .loading import as_gray_or_rgb
from .tiling import TileSet, partition

__all__ = [
    "TILE_FILE", "is_tiled_input", "open_tiled_input", "retiled", "tile_files_by_glob", "tile_files_in_folder",
]

#: A tile's file in a folder of tiles: its row and column, zero-padded as ``partition``
#: writes them, and any image format.
TILE_FILE = re.compile(r"tile_r(\d+)_c(\d+)\.[A-Za-z0-9]+")
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
#: Pillow's modes a tile may have, and what ``dask_image.imread`` gives for them: channels
#: (0 for 2-D) and type. Alpha is composited over white by the grayscale stage.
_PILLOW_MODES = {
    "L": (0, "uint8"), "1": (0, "bool"), "I;16": (0, "uint16"), "I;16B": (0, "uint16"), "I;16L": (0, "uint16"),
    "LA": (2, "uint8"), "RGB": (3, "uint8"), "RGBA": (4, "uint8"), "P": (3, "uint8"),
}


def is_tiled_input(source: str | os.PathLike) -> bool:
    """Whether ``source`` names an image already in tiles: a glob, a folder (of tiles or an
    OME-Zarr), or a TIFF stored in several tiles or strips. One image file is not."""
    text = os.fspath(source)
    if glob.has_magic(text) or Path(text).is_dir() or text.rstrip("/").endswith(".zarr"):
        return True
    return _is_multi_block_tiff(Path(text))


def open_tiled_input(source: str | os.PathLike, grid: tuple[int, int] | None, *, max_pixels: int):
    """The tiles of an image already in tiles (``is_tiled_input``): a ``TileSet`` of its
    tile files, or a ``ChunkedTiles`` of a TIFF or an OME-Zarr, in ``grid`` (rows,
    columns) where one is given and a folder or a chunked file does not fix it.

    Raises
    ------
    PipelineError
        For a tile set that does not make one image, or an image larger than ``max_pixels``.
    """
    text = os.fspath(source)
    path = Path(text)
    if glob.has_magic(text):
        if grid is None:
            raise PipelineError(f"{text!r} names tiles by a pattern: give their grid, e.g. --grid 2x2")
        tiles = tile_files_by_glob(text, grid)
    elif path.is_dir() and not _is_zarr(path):
        tiles = tile_files_in_folder(path)
    elif _is_zarr(path):
        tiles = open_ome_zarr(path, grid)
    else:
        tiles = open_tiff(path, grid)
    height, width = tiles.image_shape[:2]
    if height * width > max_pixels:
        raise PipelineError(
            f"the image is {width} x {height} = {width * height:,} pixels, more than the limit of {max_pixels:,}"
        )
    return tiles


def _is_zarr(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() for name in ("zarr.json", ".zattrs", ".zgroup"))


def _is_multi_block_tiff(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            if file.read(4) not in _TIFF_MAGIC:
                return False
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            return page.is_tiled or len(page.dataoffsets) > 1
    except (OSError, ValueError, tifffile.TiffFileError):
        return False


def _natural_key(path: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def tile_files_by_glob(pattern: str, grid: tuple[int, int]) -> TileSet:
    """The files ``pattern`` matches, in natural order, as the tiles of a ``grid`` row by
    row: the tutorial's ``save_part_000.png`` ... ``save_part_003.png`` for 2 x 2."""
    rows, cols = grid
    files = sorted(glob.glob(pattern), key=_natural_key)
    if len(files) != rows * cols:
        found = f"{len(files)} file{'' if len(files) == 1 else 's'} match"
        raise PipelineError(f"{found} {pattern!r}, but a {rows} x {cols} grid needs {rows * cols}")
    return _checked([files[r * cols:(r + 1) * cols] for r in range(rows)], Path(files[0]).parent)


def tile_files_in_folder(folder: Path) -> TileSet:
    """The files of ``folder`` named ``tile_r<row>_c<column>.<ext>``, in their grid; other
    files are left alone (a ``manifest.json``, say)."""
    found: dict[tuple[int, int], Path] = {}
    for path in sorted(folder.iterdir()):
        match = TILE_FILE.fullmatch(path.name)
        if not match or not path.is_file():
            continue
        position = (int(match[1]), int(match[2]))
        if position in found:
            raise PipelineError(f"two files for tile (row {position[0]}, column {position[1]}): "
                                f"{found[position].name} and {path.name}")
        found[position] = path
    if not found:
        raise PipelineError(f"no tile files in {str(folder)!r}: tiles are named tile_r000_c000.png, "
                            "tile_r000_c001.png, ... (row, then column, from 0)")
    rows, cols = (max(position[axis] for position in found) + 1 for axis in (0, 1))
    for r in range(rows):
        for c in range(cols):
            if (r, c) not in found:
                raise PipelineError(
                    f"tile (row {r}, column {c}) is missing: no tile_r{r:03d}_c{c:03d}.* in {str(folder)!r} "
                    f"for a {rows} x {cols} grid"
                )
    return _checked([[found[r, c] for c in range(cols)] for r in range(rows)], folder)


def _header(path: Path) -> tuple[int, int, int, str]:
    """(height, width, channels, type) of a tile file as ``dask_image.imread`` reads it,
    from its header: nothing is decoded."""
    try:
        with open(path, "rb") as file:
            tiff = file.read(4) in _TIFF_MAGIC
        if tiff:
            with tifffile.TiffFile(path) as tif:
                page = tif.pages.first
                channels = page.samplesperpixel if page.samplesperpixel > 1 else 0
                if page.photometric not in (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.RGB):
                    raise PipelineError(f"{path.name} is a {page.photometric.name} TIFF: tiles must be gray or RGB")
                return page.imagelength, page.imagewidth, channels, str(page.dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                mode, (width, height), transparency = image.mode, image.size, "transparency" in image.info
    except PipelineError:
        raise
    except (OSError, UnidentifiedImageError, ValueError, tifffile.TiffFileError) as e:
        raise PipelineError(f"cannot read the tile {path.name}: {e}") from None
    if mode not in _PILLOW_MODES or (mode == "P" and transparency):
        raise PipelineError(f"{path.name} is a {mode} image: tiles must be gray, RGB or RGBA (save it as one)")
    channels, dtype = _PILLOW_MODES[mode]
    return height, width, channels, dtype


def _colour(channels: int) -> str:
    return "gray" if channels in (0, 2) else "colour"


def _checked(grid: list[list], folder: Path) -> TileSet:
    """The tile set of the files in ``grid`` (rows of paths), once every tile fits: the
    tiles of a row equally tall, those of a column equally wide, all gray or all colour,
    of one type."""
    headers = [[_header(Path(path)) for path in row] for row in grid]
    first_name, (_, _, first_channels, first_dtype) = Path(grid[0][0]).name, headers[0][0]
    heights = [row[0][0] for row in headers]
    widths = [header[1] for header in headers[0]]
    for r, row in enumerate(headers):
        for c, (height, width, channels, dtype) in enumerate(row):
            name = Path(grid[r][c]).name
            if (height, width) != (heights[r], widths[c]):
                raise PipelineError(
                    f"{name} is {width} x {height} pixels, but the tiles of row {r} are {heights[r]} pixels "
                    f"tall and those of column {c} {widths[c]} wide: the tiles do not fit together"
                )
            if _colour(channels) != _colour(first_channels) or dtype != first_dtype:
                raise PipelineError(
                    f"{name} is {_colour(channels)} {dtype}, but {first_name} is {_colour(first_channels)} "
                    f"{first_dtype}: every tile must have the same colour mode"
                )
    shape = (sum(heights), sum(widths), *((3,) if _colour(first_channels) == "colour" else ()))
    files = tuple(tuple(os.fspath(Path(path).resolve()) for path in row) for row in grid)
    return TileSet(
        folder=Path(folder).resolve(), digest=_files_digest(files), image_shape=shape,
        dtype=np.dtype(np.uint8 if first_dtype == "bool" else first_dtype).str,
        row_edges=tuple(int(x) for x in np.cumsum([0, *heights])),
        col_edges=tuple(int(x) for x in np.cumsum([0, *widths])),
        files=files,
    )


def _files_digest(files: tuple[tuple[str, ...], ...]) -> str:
    """Names, sizes and modification times of the files: equal while the tiles are."""
    h = hashlib.sha256()
    for path in (path for row in files for path in row):
        stat = os.stat(path)
        h.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _opaque(tile: da.Array) -> da.Array:
    """A tile file's pixels as the pipeline holds an image: alpha composited over white,
    a bilevel image as 0 and 255."""
    if tile.dtype == bool:
        return tile.astype(np.uint8) * np.uint8(255)
    if tile.ndim == 3 and tile.shape[2] == 2:
        return tile.map_blocks(as_gray_or_rgb, drop_axis=2, dtype=tile.dtype)
    if tile.ndim == 3 and tile.shape[2] == 4:
        return tile.map_blocks(as_gray_or_rgb, chunks=(*tile.chunks[:2], (3,)), dtype=tile.dtype)
    return tile


def retiled(tiles: TileSet, grid: tuple[int, int], folder: Path) -> TileSet:
    """The image of an input's tile files cut again into ``grid``, as tile files written in
    ``folder`` in parallel, each computed from the input tiles under it."""
    # Rows then columns: ``da.block`` would join the innermost lists along the last axis,
    # a colour image's channels.
    rows = [da.concatenate([_opaque(tile) for tile in row], axis=1) for row in read_tiles(tiles)]
    mosaic = da.concatenate(rows, axis=0)
    return partition(mosaic, *grid, folder, digest=tiles.digest)

