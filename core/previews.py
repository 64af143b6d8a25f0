"""Run the stages once and keep what a screen needs: small previews, a histogram, timings.

The dashboard calls these; everything full-resolution stays in dask (persisted in memory,
or on a cluster), and only screen-sized arrays are gathered.
"""

from __future__ import annotations

import math
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import dask
import dask.array as da
import numpy as np
from skimage.util import img_as_ubyte

from .cluster import THREADS
from .results import to_uint8, write_results
from .stages import Pipeline, clip, sobel, sobel_range
from .timing import ProgressCallback, layer_owners, stage_timing, wait_with_progress

__all__ = [
    "EdgeRun",
    "GrayRun",
    "HISTOGRAM_BINS",
    "clipped_preview",
    "full_resolution_png",
    "mosaic",
    "preview_step",
    "run_edge_stage",
    "run_gray_stages",
    "tinted_mosaic",
    "to_display",
]

HISTOGRAM_BINS = 200


def preview_step(shape: tuple[int, ...], max_side: int = 1600) -> int:
    """The stride that brings the long side of ``shape`` down to at most ``max_side``."""
    return max(1, math.ceil(max(shape[:2]) / max_side))


@dataclass(frozen=True)
class GrayRun:
    """The read, grayscale and stitch stages of one tile set, run once."""

    stitched: da.Array  # full-resolution grayscale, persisted in memory or on the cluster
    tile_previews: list[list[np.ndarray]]
    gray_previews: list[list[np.ndarray]]
    stitched_preview: np.ndarray
    step: int
    seconds: dict[str, float]  # task seconds per stage
    wall: float
    tile_workers: dict[tuple[int, int], str]  # which worker read each tile


@dataclass(frozen=True)
class EdgeRun:
    """The Sobel stage for one mode: a screen-sized response and the full histogram."""

    preview: np.ndarray  # float32 Sobel response, unclipped, every ``step``-th pixel
    counts: np.ndarray
    bin_edges: np.ndarray
    mode: str
    wall: float


def _client(scheduler):
    """The distributed client behind ``scheduler``, or None for the local schedulers."""
    return scheduler if hasattr(scheduler, "get_task_stream") else None


def _local_progress(on_progress, client):
    # Local schedulers report through callbacks; a cluster through its futures.
    return ProgressCallback(on_progress) if on_progress and client is None else nullcontext()


def run_gray_stages(
    pipeline: Pipeline, *, max_side: int = 1600, on_progress=None, scheduler=THREADS
) -> GrayRun:
    """Read every tile once, convert it to grayscale and stitch; keep the result in memory
    (or on the cluster's workers), and gather only screen-sized previews.

    ``on_progress(done, total)`` is called as the work advances.
    """
    read, gray, stitched = pipeline.tiles, pipeline.gray, pipeline.stitched
    step = preview_step(stitched.shape, max_side)
    tile_thumbs = [[t[::step, ::step] for t in row] for row in read]
    gray_thumbs = [[g[::step, ::step] for g in row] for row in gray]
    owners = layer_owners(
        {
            "read": [t for row in read for t in row],
            "grayscale": [g for row in gray for g in row],
            "stitch": [stitched],
        }
    )
    client = _client(scheduler)
    started = time.perf_counter()
    with stage_timing(owners, client) as times, _local_progress(on_progress, client):
        # One pass: each tile file is read once for its previews and the stitched image.
        # On a cluster every task costs about a millisecond, so the previews are cut in
        # this pass too rather than from the stitched image afterwards.
        stitched, tile_thumbs, gray_thumbs = dask.persist(
            stitched, tile_thumbs, gray_thumbs, optimize_graph=False, scheduler=scheduler
        )
        wait_with_progress([stitched, tile_thumbs, gray_thumbs], on_progress)
    tile_previews, gray_previews, stitched_preview = dask.compute(
        tile_thumbs, gray_thumbs, stitched[::step, ::step], scheduler=scheduler
    )
    return GrayRun(
        stitched=stitched,
        tile_previews=tile_previews,
        gray_previews=gray_previews,
        stitched_preview=stitched_preview,
        step=step,
        seconds=dict(times.seconds),
        wall=time.perf_counter() - started,
        tile_workers=_tile_workers(read, times.workers),
    )


def _tile_workers(read, workers: dict[str, set[str]]) -> dict[tuple[int, int], str]:
    found = {}
    for r, row in enumerate(read):
        for c, tile in enumerate(row):
            names = set().union(*(workers.get(layer, set()) for layer in tile.dask.layers))
            if names:  # several only if a worker failed mid-run: one of them is named
                found[r, c] = min(names)
    return found


def run_edge_stage(
    stitched: da.Array, mode: str, step: int, *, on_progress=None, scheduler=THREADS
) -> EdgeRun:
    """Sobel over the full image: a strided preview and a histogram of every value."""
    edges = sobel(stitched, mode)
    counts, bin_edges = da.histogram(edges, bins=HISTOGRAM_BINS, range=sobel_range(mode))
    client = _client(scheduler)
    started = time.perf_counter()
    with _local_progress(on_progress, client):
        preview, counts = dask.persist(edges[::step, ::step], counts, scheduler=scheduler)
        wait_with_progress([preview, counts], on_progress)
        preview, counts = dask.compute(preview, counts, scheduler=scheduler)
    return EdgeRun(
        preview=preview,
        counts=counts,
        bin_edges=np.asarray(bin_edges),
        mode=mode,
        wall=time.perf_counter() - started,
    )


def clipped_preview(edge_run: EdgeRun, lo: float, hi: float) -> np.ndarray:
    """The clip stage on the preview, as 8-bit: ``lo`` black, ``hi`` white.

    Clipping commutes with taking every ``step``-th pixel, so this equals a preview of the
    full-resolution clip.
    """
    return to_uint8(np.clip(edge_run.preview, lo, hi), lo, hi)


def full_resolution_png(
    stitched: da.Array, mode: str, lo: float, hi: float, scratch, *, scheduler=THREADS
) -> bytes:
    """The clipped Sobel response at full resolution as an encoded 8-bit PNG, for a download.

    The threads or workers write it into a temporary folder inside ``scratch`` (on a
    cluster, storage the workers share, like the tiles); only the encoded file is read here.
    The folder's name starts with a dot, which the tile cache's pruning leaves alone.
    """
    with tempfile.TemporaryDirectory(dir=scratch, prefix=".download-") as folder:
        png_path = Path(folder) / "edges.png"
        write_results(
            clip(sobel(stitched, mode), lo, hi), lo, hi, None, png_path,
            compute=lambda collections, what: list(dask.compute(*collections, scheduler=scheduler)),
        )
        return png_path.read_bytes()


def to_display(pixels: np.ndarray) -> np.ndarray:
    """8-bit pixels for the screen from uint8/uint16 tiles or float grayscale in [0, 1]."""
    if pixels.dtype.kind == "f":
        return to_uint8(np.clip(pixels, 0, 1), 0.0, 1.0)
    return img_as_ubyte(pixels)


def mosaic(previews: list[list[np.ndarray]], gutter: int = 6, fill: int = 255) -> np.ndarray:
    """Tile previews laid out as their grid, separated by ``gutter`` pixels of ``fill``."""
    rows = []
    for row in previews:
        height = max(p.shape[0] for p in row)
        padded = [_pad(to_display(p), height, p.shape[1], fill) for p in row]
        spacer = np.full((height, gutter, *padded[0].shape[2:]), fill, np.uint8)
        rows.append(np.concatenate([x for p in padded for x in (p, spacer)][:-1], axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [_pad(r, r.shape[0], width, fill) for r in rows]
    spacer = np.full((gutter, width, *rows[0].shape[2:]), fill, np.uint8)
    return np.concatenate([x for r in rows for x in (r, spacer)][:-1], axis=0)


def tinted_mosaic(
    previews: list[list[np.ndarray]], groups: list[list[int | None]], colours: list[tuple[int, int, int]],
    strength: float = 0.5,
) -> np.ndarray:
    """``mosaic`` in colour, each tile tinted with ``colours[groups[r][c]]`` (None: no tint).

    Shows at a glance which worker read which tile.
    """
    tinted = []
    for row, row_groups in zip(previews, groups):
        tinted.append([])
        for preview, group in zip(row, row_groups):
            pixels = to_display(preview)
            if pixels.ndim == 2:
                pixels = np.repeat(pixels[..., None], 3, axis=2)
            if group is not None:
                colour = np.asarray(colours[group % len(colours)], np.float32)
                pixels = np.rint(pixels * (1 - strength) + colour * strength).astype(np.uint8)
            tinted[-1].append(pixels)
    return mosaic(tinted)


def _pad(pixels: np.ndarray, height: int, width: int, fill: int) -> np.ndarray:
    pad = [(0, height - pixels.shape[0]), (0, width - pixels.shape[1])] + [(0, 0)] * (pixels.ndim - 2)
    return np.pad(pixels, pad, constant_values=fill)
