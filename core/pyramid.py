"""An image as a pyramid of 8-bit PNG tiles, computed in parallel, for a deep-zoom viewer.

The browser zooms from the whole image down to single pixels yet only ever loads the few
256-pixel tiles in view, so a gigapixel result opens as fast as a small one. The levels
are ``core.ome_zarr.pyramid``'s (the 2 x 2 mean of values, every other pixel of masks and
labels), each turned into pixels by ``core.pictures.to_picture``, so the tiles show what
the result's PNG shows. Every strip of tiles is encoded and written by the thread or
worker that computed it; nothing full-resolution is gathered.

The layout is Deep Zoom's (``<level>/<column>_<row>.png``, level ``max_level`` at full
resolution, each level below half the one above, its size rounded up), which OpenSeadragon
reads as a custom tile source from ``pyramid.json``. Levels stop once the image fits in one
tile: ``min_level`` is the viewer's lowest.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import dask
import dask.array as da
import numpy as np
from PIL import Image

from .cluster import THREADS
from .errors import PipelineError
from .ome_zarr import pyramid
from .pictures import to_picture
from .results import PNG_LEVEL
from .timing import ProgressCallback, wait_with_progress

__all__ = ["DESCRIPTOR", "TILE_SIZE", "Pyramid", "picture_levels", "read_pyramid", "tile_path", "write_pyramid"]

#: Tiles of 256 pixels a side: Deep Zoom's usual size, a few kB each, so a screen needs a
#: few dozen of them whatever the image's size.
TILE_SIZE = 256
#: The file a complete pyramid's folder holds, written last: what the viewer is told.
DESCRIPTOR = "pyramid.json"


@dataclass(frozen=True)
class Pyramid:
    """What a viewer needs to know of a pyramid written by ``write_pyramid``."""

    width: int  # of the full-resolution image, in pixels
    height: int
    tile_size: int
    max_level: int  # the full-resolution level's number: ceil(log2(longest side))
    min_level: int  # the coarsest level written, the whole image in one tile
    channels: int  # 1 (gray) or 3 (RGB): what each tile holds
    tile_bytes: int  # the PNG tiles' size on disk, all levels together

    def to_dict(self) -> dict:
        return asdict(self)


def tile_path(level: int, column: int, row: int) -> str:
    """Where a tile lies in its pyramid's folder, as Deep Zoom names it."""
    return f"{level}/{column}_{row}.png"


def _as_levels_input(image: da.Array, kind: str) -> da.Array:
    # Values are averaged in float32 whatever they arrived as (8-bit photo channels too);
    # masks and labels stay integers, which ``ome_zarr.pyramid`` subsamples.
    if kind == "values":
        return image.astype(np.float32)
    if kind == "mask":
        return image.astype(np.uint8)
    if kind == "labels":
        return image
    raise PipelineError(f"a pyramid is made of values, a mask or labels, got kind={kind!r}")


def picture_levels(
    image: da.Array, kind: str = "values", value_range: tuple[float, float] = (0.0, 1.0), *, smallest: int = TILE_SIZE
) -> list[da.Array]:
    """The 8-bit pictures of every level of ``image``, full resolution first.

    Parameters
    ----------
    image : dask.array.Array
        (H, W) values, a 0/1 mask or integer labels, or (H, W, 3) colour values (a photo:
        each channel averaged on its own).
    kind : {"values", "mask", "labels"}
        What ``image`` holds (``core.chain.KINDS``); it decides how levels are made and
        coloured, as ``core.pictures.to_picture`` colours the result's PNG.
    value_range : (float, float)
        Values mapped to black..white (``(0, 255)`` for an 8-bit photo).
    smallest : int
        Halve until neither side exceeds this: the last level fits in one tile.

    Returns
    -------
    list of dask.array.Array
        uint8, (h, w) or (h, w, 3); level ``i`` has ``shape // 2**i`` (an odd last row or
        column dropped, as ``core.ome_zarr.pyramid`` does).
    """
    if image.ndim == 3 and image.shape[2] == 3 and kind == "values":
        channels = [pyramid(_as_levels_input(image[..., c], kind), smallest=smallest) for c in range(3)]
        levels = [da.stack(level, axis=2) for level in zip(*channels)]
    elif image.ndim == 2:
        levels = pyramid(_as_levels_input(image, kind), smallest=smallest)
    else:
        raise PipelineError(
            f"a pyramid is made of a 2-D image, or (H, W, 3) colour values, got shape {image.shape} of {kind}"
        )
    return [to_picture(level, kind, value_range) for level in levels]


def _level_shape(full: tuple[int, int], halvings: int) -> tuple[int, int]:
    """A level's size as a Deep Zoom viewer expects it: each side ``/ 2**halvings``, rounded up."""
    return tuple(-(-side // 2**halvings) for side in full)


def _padded(picture: da.Array, shape: tuple[int, int]) -> da.Array:
    # A level made by dropping the odd last row or column is one pixel short of the size
    # the viewer gives that level; the edge pixel repeated fills it, rather than the viewer
    # stretching the edge tiles to fit.
    missing = [(0, want - have) for want, have in zip(shape, picture.shape)]
    if not any(after for _, after in missing):
        return picture
    return da.pad(picture, missing + [(0, 0)] * (picture.ndim - 2), mode="edge")


def _write_tile_row(strip: np.ndarray, folder: str, level: int, row: int, tile_size: int) -> int:
    """Encode one row of tiles of a level as PNGs into ``folder``; their size in bytes."""
    written = 0
    for column, left in enumerate(range(0, strip.shape[1], tile_size)):
        path = os.path.join(folder, tile_path(level, column, row))
        Image.fromarray(np.ascontiguousarray(strip[:, left:left + tile_size])).save(
            path, format="PNG", compress_level=PNG_LEVEL
        )
        written += os.path.getsize(path)
    return written


def _tile_writes(levels: list[da.Array], folder: Path, max_level: int, tile_size: int) -> list:
    """One lazy task per row of tiles of every level, each returning the bytes it wrote."""
    full = levels[0].shape[:2]
    writes = []
    write = dask.delayed(_write_tile_row, pure=True)
    for halvings, picture in enumerate(levels):
        level = max_level - halvings
        (folder / str(level)).mkdir(parents=True)
        padded = _padded(picture, _level_shape(full, halvings))
        # Rows of tiles, whole columns: a task per row encodes all its tiles, rather than
        # a task per tile (about 1 ms of scheduling each on a cluster, as long as a tile).
        strips = padded.rechunk((tile_size, *padded.shape[1:]), method="tasks")
        for row, block in enumerate(strips.to_delayed(optimize_graph=False).ravel()):
            writes.append(write(block, os.fspath(folder), level, row, tile_size))
    return writes


def _compute(writes: list, on_progress, scheduler) -> list[int]:
    """The writes' values, computed on ``scheduler`` and reported as ``on_progress(done,
    total)`` tasks: local schedulers call back, a cluster's futures are watched."""
    if not hasattr(scheduler, "get_task_stream"):
        if on_progress is None:
            return list(dask.compute(*writes, scheduler=scheduler))
        with ProgressCallback(on_progress):
            return list(dask.compute(*writes, scheduler=scheduler))
    persisted = dask.persist(*writes, scheduler=scheduler)
    wait_with_progress(list(persisted), on_progress)
    return list(dask.compute(*persisted, scheduler=scheduler))


def write_pyramid(
    image: da.Array, folder: str | os.PathLike, *, kind: str = "values",
    value_range: tuple[float, float] = (0.0, 1.0), tile_size: int = TILE_SIZE, on_progress=None,
    scheduler=THREADS,
) -> Pyramid:
    """Write the tile pyramid of ``image`` into ``folder`` (which must not exist yet) and
    return its description, also saved as ``folder/pyramid.json``.

    The tiles are written into a hidden folder beside ``folder`` and renamed into place
    once complete, so a folder with a descriptor is always whole. If another writer got
    there first, its pyramid is kept (the folder's name should say what it holds) and
    returned. ``image``, ``kind`` and ``value_range`` are ``picture_levels``'; every row
    of tiles is encoded and written on ``scheduler``'s threads or workers, which must see
    ``folder``'s disk.

    Raises
    ------
    PipelineError
        If ``image`` is neither 2-D nor (H, W, 3) colour values, or ``kind`` is unknown.
    """
    folder = Path(folder)
    levels = picture_levels(image, kind, value_range, smallest=tile_size)
    height, width = image.shape[:2]
    max_level = max(0, math.ceil(math.log2(max(height, width))))
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        staging.chmod(0o755)  # mkdtemp's folder is its owner's alone; the tiles are for every visitor
        tile_bytes = sum(_compute(_tile_writes(levels, staging, max_level, tile_size), on_progress, scheduler))
        described = Pyramid(
            width=width, height=height, tile_size=tile_size, max_level=max_level,
            min_level=max_level - (len(levels) - 1), channels=3 if levels[0].ndim == 3 else 1, tile_bytes=tile_bytes,
        )
        (staging / DESCRIPTOR).write_text(json.dumps(described.to_dict()))
        try:
            os.rename(staging, folder)
        except OSError:
            if read_pyramid(folder) is None:  # not another writer's finished pyramid
                raise
            return read_pyramid(folder)
        return described
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_pyramid(folder: str | os.PathLike) -> Pyramid | None:
    """The description of the complete pyramid in ``folder``, or None if there is none."""
    try:
        return Pyramid(**json.loads((Path(folder) / DESCRIPTOR).read_text()))
    except (FileNotFoundError, NotADirectoryError):
        return None
