"""An image as a pyramid of 8-bit PNG tiles, computed in parallel, for a deep-zoom viewer.

The browser zooms from the whole image down to single pixels yet only ever loads the few
256-pixel tiles in view, so a gigapixel result opens as fast as a small one. The levels
are ``ome_zarr.resolution_levels``' (the 2 x 2 mean of values, every other pixel of masks
and labels), each turned into pixels by ``pictures.to_picture``, so the tiles show what
the result's PNG shows. Every strip of tiles is encoded and written by the thread or
worker that computed it; nothing full-resolution is gathered.

The layout is Deep Zoom's (``<level>/<column>_<row>.png``, level ``max_level`` at full
resolution, each level below half the one above, its size rounded up), which OpenSeadragon
reads as a custom tile source from ``pyramid.json``. Levels stop once the image fits in one
tile: ``min_level`` is the viewer's lowest.

A pyramid is cut in two passes so that a viewer can open before it is whole: the coarse
levels (up to ``COARSE_SIDE`` pixels a side, a few percent of the tiles) go into place at
once with a descriptor whose ``ready_level`` is the finest of them; the fine levels are
then written in place, each tile renamed into place once whole, and the descriptor is
rewritten last with ``ready_level == max_level``. A folder whose descriptor says less,
after a crash say, is only ever partial, and ``write_fine_levels`` finishes it.
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

from ..errors import PipelineError
from ..observe.progress import ProgressCallback, for_this_compute, wait_with_progress
from ..pipeline.chain import ResultKind
from ..runtime.atomic import atomic_path
from ..runtime.cluster import THREADS
from .ome_zarr import resolution_levels
from .pictures import to_picture
from .png import PNG_LEVEL

__all__ = [
    "COARSE_SIDE",
    "DESCRIPTOR",
    "TILE_SIZE",
    "Pyramid",
    "picture_levels",
    "read_pyramid",
    "tile_path",
    "write_coarse_levels",
    "write_fine_levels",
    "write_pyramid",
]

#: Tiles of 256 pixels a side: Deep Zoom's usual size, a few kB each, so a screen needs a
#: few dozen of them whatever the image's size.
TILE_SIZE = 256
#: The file every pyramid's folder holds: what the viewer is told, rewritten last when the
#: fine levels are all on disk.
DESCRIPTOR = "pyramid.json"
#: Levels up to this many pixels a side are cut before a viewer may open: the first screen
#: of a whole image, even on a wide high-density display, needs none finer. Up to 1/16 of
#: a 64-MPix image's pixels.
COARSE_SIDE = 2048
#: Pillow's zlib strategy for the tiles: run-length (Z_RLE) encodes as fast as the default
#: and smaller, photos and edge maps alike; lossless all the same (``python -m
#: benchmarks.pyramids`` gives the tiles' size; benchmarks/RESULTS.md, "Pixel zoom pyramids").
_PNG_STRATEGY = 3


@dataclass(frozen=True)
class Pyramid:
    """What a viewer needs to know of a pyramid written by ``write_pyramid``."""

    width: int  # of the full-resolution image, in pixels
    height: int
    tile_size: int
    max_level: int  # the full-resolution level's number: ceil(log2(longest side))
    min_level: int  # the coarsest level written, the whole image in one tile
    channels: int  # 1 (gray) or 3 (RGB): what each tile holds
    tile_bytes: int  # the PNG tiles' size on disk, of the levels written so far
    ready_level: int  # the finest level whose tiles are all on disk: max_level once complete

    @property
    def complete(self) -> bool:
        return self.ready_level == self.max_level

    def to_dict(self) -> dict:
        return asdict(self)


def tile_path(level: int, column: int, row: int) -> str:
    """Where a tile lies in its pyramid's folder, as Deep Zoom names it."""
    return f"{level}/{column}_{row}.png"


def _as_levels_input(image: da.Array, kind: str) -> da.Array:
    # Values are averaged in float32 whatever they arrived as (8-bit photo channels too);
    # masks and labels stay integers, which ``resolution_levels`` subsamples.
    try:
        return ResultKind(kind).stored(image)
    except ValueError:
        raise PipelineError(f"a pyramid is made of values, a mask or labels, got kind={kind!r}") from None


def picture_levels(
    image: da.Array, kind: ResultKind = ResultKind.VALUES, value_range: tuple[float, float] = (0.0, 1.0), *, smallest: int = TILE_SIZE
) -> list[da.Array]:
    """The 8-bit pictures of every level of ``image``, full resolution first.

    Parameters
    ----------
    image : dask.array.Array
        (H, W) values, a 0/1 mask or integer labels, or (H, W, 3) colour values (a photo:
        each channel averaged on its own).
    kind : ResultKind
        What ``image`` holds (``ResultKind``); it decides how levels are made and
        coloured, as ``core.outputs.pictures.to_picture`` colours the result's PNG.
    value_range : (float, float)
        Values mapped to black..white (``(0, 255)`` for an 8-bit photo).
    smallest : int
        Halve until neither side exceeds this: the last level fits in one tile.

    Returns
    -------
    list of dask.array.Array
        uint8, (h, w) or (h, w, 3); level ``i`` has ``shape // 2**i`` (an odd last row or
        column dropped, as ``core.outputs.ome_zarr.resolution_levels`` does).
    """
    pictures = [to_picture(level, kind, value_range) for level in _value_levels(image, kind, smallest)]
    if kind == ResultKind.VALUES and image.dtype == np.uint8 and tuple(value_range) == (0, 255):
        # 8-bit values shown over their whole range are their own picture: full resolution
        # skips the round trip through float32, a good share of a photo's CPU seconds
        # (``python -m benchmarks.pyramids``, the colour photo; benchmarks/RESULTS.md).
        pictures[0] = image
    return pictures


def _value_levels(image: da.Array, kind: str, smallest: int) -> list[da.Array]:
    """``picture_levels``' levels before they become pictures: each made from the one before."""
    if image.ndim == 3 and image.shape[2] == 3 and kind == ResultKind.VALUES:
        channels = [resolution_levels(_as_levels_input(image[..., c], kind), smallest=smallest) for c in range(3)]
        return [da.stack(level, axis=2) for level in zip(*channels)]
    if image.ndim == 2:
        return resolution_levels(_as_levels_input(image, kind), smallest=smallest)
    raise PipelineError(
        f"a pyramid is made of a 2-D image, or (H, W, 3) colour values, got shape {image.shape} of {kind}"
    )


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
    """Encode one row of tiles of a level as PNGs into ``folder``; their size in bytes.

    Each tile is written under a name of its own and renamed into place: a viewer may ask
    for it while it is being written (fine levels go straight into a served folder), and
    must then find nothing rather than half a PNG.
    """
    written = 0
    for column, left in enumerate(range(0, strip.shape[1], tile_size)):
        path = os.path.join(folder, tile_path(level, column, row))
        with atomic_path(path) as partial:
            Image.fromarray(np.ascontiguousarray(strip[:, left:left + tile_size])).save(
                partial, format="PNG", compress_level=PNG_LEVEL, compress_type=_PNG_STRATEGY
            )
        written += os.path.getsize(path)
    return written


def _tile_writes(
    levels: dict[int, da.Array], full: tuple[int, int], folder: Path, max_level: int, tile_size: int
) -> list:
    """One lazy task per row of tiles of every level (``{halvings: picture}``), each
    returning the bytes it wrote."""
    writes = []
    write = dask.delayed(_write_tile_row, pure=True)
    for halvings, picture in levels.items():
        level = max_level - halvings
        (folder / str(level)).mkdir(parents=True, exist_ok=True)
        padded = _padded(picture, _level_shape(full, halvings))
        # Rows of tiles, whole columns: a task per row encodes all its tiles, rather than
        # a task per tile (a cluster's scheduling of a task costs about as long as a tile).
        strips = padded.rechunk((tile_size, *padded.shape[1:]), method="tasks")
        for row, block in enumerate(strips.to_delayed(optimize_graph=False).ravel()):
            writes.append(write(block, os.fspath(folder), level, row, tile_size))
    return writes


def _compute(writes: list, on_progress, scheduler) -> list[int]:
    """The writes' values, computed on ``scheduler`` and reported as ``on_progress(done,
    total)`` tasks: local schedulers call back, a cluster's futures are watched."""
    if not hasattr(scheduler, "get_task_stream"):
        progress = ProgressCallback(on_progress) if on_progress else None
        return list(dask.compute(*writes, scheduler=scheduler, **for_this_compute(progress)))
    persisted = dask.persist(*writes, scheduler=scheduler)
    wait_with_progress(list(persisted), on_progress)
    return list(dask.compute(*persisted, scheduler=scheduler))


def _write_descriptor(folder: Path, pyramid: Pyramid) -> None:
    with atomic_path(folder / DESCRIPTOR) as partial:
        partial.write_text(json.dumps(pyramid.to_dict()))


def _split(image: da.Array, kind: str, value_range, tile_size: int, coarse_side: int):
    """The levels' pictures as ``{halvings: picture}``, fine and coarse, and the whole
    pyramid's geometry (without ``tile_bytes`` and ``ready_level``)."""
    levels = picture_levels(image, kind, value_range, smallest=tile_size)
    height, width = image.shape[:2]
    max_level = max(0, math.ceil(math.log2(max(height, width))))
    # the coarsest level is always coarse, whatever coarse_side says: a viewer needs one
    first_coarse = next(
        (i for i, level in enumerate(levels) if max(level.shape[:2]) <= coarse_side), len(levels) - 1
    )
    geometry = dict(
        width=width, height=height, tile_size=tile_size, max_level=max_level,
        min_level=max_level - (len(levels) - 1), channels=3 if levels[0].ndim == 3 else 1,
    )
    fine = dict(enumerate(levels[:first_coarse]))
    coarse = {i: level for i, level in enumerate(levels) if i >= first_coarse}
    return fine, coarse, geometry


def _gathered(
    image: da.Array, kind: str, value_range, tile_size: int, first: int, on_progress, client
) -> dict[int, da.Array]:
    """The coarse levels' pictures (``{halvings: picture}``, from ``first``), made on this
    process's threads from the values of the finest of them, which the cluster computes.

    On a cluster every small tile and row of tiles costs a task and a transfer between
    workers, so cutting the coarse levels there is slower than gathering the finest of them
    and cutting the rest here (benchmarks/RESULTS.md, "Pixel zoom on a cluster"). They are
    the same levels, each being made from the one before (``tests/test_deep_zoom.py``).
    """
    (values,) = _compute([_value_levels(image, kind, tile_size)[first]], on_progress, client)
    # A random name, not a hash of the pixels: nothing computes this array twice.
    local = da.from_array(values, chunks=(1024, 1024, *values.shape[2:]), name=False)
    return {first + i: level for i, level in enumerate(picture_levels(local, kind, value_range, smallest=tile_size))}


def write_coarse_levels(
    image: da.Array, folder: str | os.PathLike, *, kind: ResultKind = ResultKind.VALUES,
    value_range: tuple[float, float] = (0.0, 1.0), tile_size: int = TILE_SIZE, coarse_side: int = COARSE_SIDE,
    on_progress=None, scheduler=THREADS,
) -> Pyramid:
    """Write the levels of ``image`` up to ``coarse_side`` pixels a side into ``folder``
    (which must not exist yet), with their descriptor: enough for a viewer to open.

    The tiles are written into a hidden folder beside ``folder`` and renamed into place
    with the descriptor, so a folder is never without one. The pyramid is complete if
    those are all its levels; else ``write_fine_levels`` adds the rest. If another writer
    got there first, its pyramid is kept (the folder's name should say what it holds) and
    returned. ``image``, ``kind`` and ``value_range`` are ``picture_levels``'; every row of
    tiles is encoded and written on ``scheduler``'s threads or workers, which must see
    ``folder``'s disk.

    Raises
    ------
    PipelineError
        If ``image`` is neither 2-D nor (H, W, 3) colour values, or ``kind`` is unknown.
    """
    folder = Path(folder)
    _, coarse, geometry = _split(image, kind, value_range, tile_size, coarse_side)
    if hasattr(scheduler, "get_task_stream") and min(coarse) > 0:
        coarse = _gathered(image, kind, value_range, tile_size, min(coarse), on_progress, scheduler)
        scheduler = THREADS
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        staging.chmod(0o755)  # mkdtemp's folder is its owner's alone; the tiles are for every visitor
        writes = _tile_writes(coarse, image.shape[:2], staging, geometry["max_level"], tile_size)
        described = Pyramid(
            **geometry, tile_bytes=sum(_compute(writes, on_progress, scheduler)),
            ready_level=geometry["max_level"] - min(coarse),
        )
        _write_descriptor(staging, described)
        try:
            os.rename(staging, folder)
        except OSError:
            if read_pyramid(folder) is None:  # not another writer's pyramid
                raise
            return read_pyramid(folder)
        return described
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_fine_levels(
    image: da.Array, folder: str | os.PathLike, *, kind: ResultKind = ResultKind.VALUES,
    value_range: tuple[float, float] = (0.0, 1.0), on_progress=None, scheduler=THREADS,
) -> Pyramid:
    """Write the levels of ``image`` that the pyramid in ``folder`` (``write_coarse_levels``')
    lacks, in place, then rewrite its descriptor as complete; return that.

    A viewer may read the folder meanwhile: it finds each tile whole or not at all. Tiles
    a previous writer left (stopped half-way, say) are written again. ``image``, ``kind``
    and ``value_range`` must be those the coarse levels were cut from.

    Raises
    ------
    PipelineError
        If ``folder`` holds no pyramid.
    """
    folder = Path(folder)
    partial = read_pyramid(folder)
    if partial is None:
        raise PipelineError(f"no pyramid to finish in {folder}: write_coarse_levels first")
    if partial.complete:
        return partial
    # every level but the coarsest, of which those finer than the ready ones
    fine, _, _ = _split(image, kind, value_range, partial.tile_size, coarse_side=0)
    todo = {halvings: level for halvings, level in fine.items() if partial.max_level - halvings > partial.ready_level}
    writes = _tile_writes(todo, image.shape[:2], folder, partial.max_level, partial.tile_size)
    written = sum(_compute(writes, on_progress, scheduler))
    complete = Pyramid(
        **{**partial.to_dict(), "tile_bytes": partial.tile_bytes + written, "ready_level": partial.max_level}
    )
    _write_descriptor(folder, complete)
    return complete


def write_pyramid(
    image: da.Array, folder: str | os.PathLike, *, kind: ResultKind = ResultKind.VALUES,
    value_range: tuple[float, float] = (0.0, 1.0), tile_size: int = TILE_SIZE, on_progress=None,
    scheduler=THREADS,
) -> Pyramid:
    """Write the whole tile pyramid of ``image`` into ``folder`` (which must not exist yet)
    and return its description, also saved as ``folder/pyramid.json``: the coarse levels,
    then the fine ones (``write_coarse_levels``, ``write_fine_levels``, whose arguments
    these are; the progress is reported per pass).
    """
    options = dict(kind=kind, value_range=value_range, on_progress=on_progress, scheduler=scheduler)
    coarse = write_coarse_levels(image, folder, tile_size=tile_size, **options)
    return coarse if coarse.complete else write_fine_levels(image, folder, **options)


def read_pyramid(folder: str | os.PathLike) -> Pyramid | None:
    """The description of the pyramid in ``folder``, complete or not (``Pyramid.complete``),
    or None if there is none."""
    try:
        return Pyramid(**json.loads((Path(folder) / DESCRIPTOR).read_text()))
    except (FileNotFoundError, NotADirectoryError):
        return None
