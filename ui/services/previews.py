"""Run the stages once and keep what a screen needs: small previews, histograms, timings.

The dashboard calls these; everything full-resolution stays in dask (persisted in memory,
or on a cluster), and only screen-sized arrays are gathered. ``run_stitch_stages`` reads,
converts and stitches the tiles; ``run_step`` runs one step of the chain on the persisted
output of the one before, so a change to step k leaves steps 1..k-1 as they were.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dask
import dask.array as da
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from skimage.util import img_as_ubyte

from core.observe import ProgressCallback, for_this_compute, layer_owners, stage_timing, wait_with_progress
from core.observe.histogram import HISTOGRAM_BINS, bin_edges
from core.observe.histogram import lazy_histogram as _lazy_histogram
from core.observe.summary import lazy_summary, lazy_tile_summaries
from core.outputs.pictures import to_picture, to_uint8
from core.outputs.png import png_bytes
from core.outputs.regions import region_table
from core.pipeline import GRAYSCALE_RANGE, STAGES, Pipeline, ResultKind, Step
from core.pipeline.threshold import threshold_level
from core.runtime import THREADS, persist_and_wait
from core.runtime.fusion import fused_chunks, shares_memory

if TYPE_CHECKING:  # a region table's type: pandas is imported where one is made (0.27 s)
    import pandas as pd

__all__ = [
    "HISTOGRAM_BINS",
    "Histogram",
    "StepRun",
    "StitchRun",
    "full_resolution_png",
    "marked_mosaic",
    "measure_regions",
    "mosaic",
    "output_histogram",
    "preview_stride",
    "run_step",
    "run_stitch_stages",
    "to_display",
]


def preview_stride(shape: tuple[int, ...], max_side: int = 1600) -> int:
    """The stride that brings the long side of ``shape`` down to at most ``max_side``."""
    return max(1, math.ceil(max(shape[:2]) / max_side))


@dataclass(frozen=True)
class Histogram:
    """How many pixels of the full image fall in each of ``HISTOGRAM_BINS`` bins."""

    counts: np.ndarray
    bin_edges: np.ndarray


@dataclass(frozen=True)
class StitchRun:
    """The read, grayscale and stitch stages of one tile set, run once."""

    stitched: da.Array  # full-resolution grayscale, persisted in memory or on the cluster
    tile_previews: list[list[np.ndarray]]
    gray_previews: list[list[np.ndarray]]
    stitched_preview: np.ndarray
    stride: int  # the previews hold every ``stride``-th pixel of each axis
    histogram: Histogram  # of the stitched grayscale, over ``GRAYSCALE_RANGE``
    seconds: dict[str, float]  # task seconds per stage
    wall: float
    tile_workers: dict[tuple[int, int], str]  # which worker read each tile


@dataclass(frozen=True)
class StepRun:
    """One step of the chain, run on the full image from the previous step's output."""

    step: Step
    output: da.Array  # full resolution, persisted: the next step starts from it
    kind: ResultKind  # the stage's
    value_range: tuple[float, float]  # bounds of the output (``core.pipeline.output_ranges``)
    preview: np.ndarray  # the output as computed (not yet a picture), every ``stride``-th pixel
    stride: int
    histogram: Histogram | None  # of every output value, for values (not a mask or labels) if asked
    level: float | None  # the threshold a threshold step applied (Otsu's, or the given value)
    regions: int | None  # how many regions a labels output holds
    wall: float  # seconds from starting the step to having its preview and histogram (if counted)
    #: The output is lazy on the persisted input, not computed: a pointwise step's preview
    #: is the stage applied to its input's preview (``run_step``'s ``input_preview``).
    deferred: bool = False

    @property
    def picture(self) -> np.ndarray:
        """The preview as 8-bit pixels: values black..white, masks, labels in colour."""
        return to_picture(self.preview, self.kind, self.value_range)


def _client(scheduler):
    """The distributed client behind ``scheduler``, or None for the local schedulers."""
    return scheduler if hasattr(scheduler, "get_task_stream") else None


def _local_callbacks(client, on_progress, timer=None) -> dict:
    # Local schedulers report through callbacks given to each compute; a cluster through
    # its futures and its task stream.
    if client is not None:
        return {}
    return for_this_compute(timer, ProgressCallback(on_progress) if on_progress else None)


def run_stitch_stages(
    pipeline: Pipeline, *, max_side: int = 1600, on_progress=None, scheduler=THREADS
) -> StitchRun:
    """Read every tile once, convert it to grayscale and stitch; keep the result in memory
    (or on the cluster's workers), and gather only screen-sized previews and a histogram.

    ``on_progress(done, total)`` is called as the work advances.
    """
    tile_arrays, gray_tiles, stitched = pipeline.tile_arrays, pipeline.gray_tiles, pipeline.stitched
    stride = preview_stride(stitched.shape, max_side)
    summaries = lazy_tile_summaries(tile_arrays, gray_tiles, stride, GRAYSCALE_RANGE)
    owners = layer_owners(
        {
            "read": [t for row in tile_arrays for t in row],
            "grayscale": [g for row in gray_tiles for g in row],
            "stitch": [stitched],
        }
    )
    client = _client(scheduler)
    started = time.perf_counter()
    with stage_timing(owners, client) as timing:
        # One pass: each tile file is read once for its previews and the stitched image.
        # On a cluster every task costs about a millisecond, so the previews and counts are
        # made in this pass too, a task per tile, rather than from the stitched image
        # afterwards. Unoptimized, so that each stage keeps its tasks for the timing (and
        # the two collections their order: see ``_persist_and_gather``).
        stitched, summaries = persist_and_wait(
            [stitched, summaries], lambda persisted: wait_with_progress(persisted, on_progress),
            optimize_graph=False, scheduler=scheduler, **_local_callbacks(client, on_progress, timing.timer),
        )
    tile_previews, gray_previews, stitched_preview, counts = _gathered(summaries, client, scheduler)
    return StitchRun(
        stitched=stitched,
        tile_previews=tile_previews,
        gray_previews=gray_previews,
        stitched_preview=stitched_preview,
        stride=stride,
        histogram=Histogram(counts, bin_edges(GRAYSCALE_RANGE)),
        seconds=dict(timing.times.seconds),
        wall=time.perf_counter() - started,
        tile_workers=_tile_workers(tile_arrays, timing.times.workers),
    )


def _tile_workers(tile_arrays, workers: dict[str, set[str]]) -> dict[tuple[int, int], str]:
    found = {}
    for r, row in enumerate(tile_arrays):
        for c, tile in enumerate(row):
            names = set().union(*(workers.get(layer, set()) for layer in tile.dask.layers))
            if names:  # several only if a worker failed mid-run: one of them is named
                found[r, c] = min(names)
    return found


def _persist_and_gather(full: da.Array, small: dict, on_progress, scheduler) -> tuple[da.Array, dict]:
    """Persist ``full`` together with the small results computed from it, in one pass over
    the graph, then gather the small ones here.

    The small results travel as one delayed dictionary, and the graph is optimized before
    rather than by ``persist``: optimizing several collections of different kinds (arrays
    and delayed values) reorders them, and dask 2026.8 then gives each persisted collection
    another's results (a threshold's level came back as its summary).
    ``tests/test_cluster.py`` fails if this breaks.
    """
    client = _client(scheduler)
    (full,) = dask.optimize(full)
    together = dask.delayed(dict, pure=True)(**small)
    full, together = persist_and_wait(
        [full, together], lambda persisted: wait_with_progress(persisted, on_progress),
        optimize_graph=False, scheduler=scheduler, **_local_callbacks(client, on_progress),
    )
    return full, _gathered(together, client, scheduler)


def _gathered(persisted, client, scheduler):
    """A persisted delayed value's value: on a cluster its one future, gathered as it is
    rather than computed again as a graph, which cost the scheduler another round (5-15 ms
    a step)."""
    if client is not None:
        from distributed import futures_of

        return client.gather(futures_of(persisted)[0])
    (value,) = dask.compute(persisted, scheduler=scheduler)
    return value


def run_step(
    step_input: da.Array, step: Step, value_range: tuple[float, float], stride: int, *,
    on_progress=None, scheduler=THREADS, with_histogram: bool = True, input_preview: np.ndarray | None = None,
) -> StepRun:
    """One step over the full image, starting from ``step_input`` (persisted: the stitched
    image or the previous step's output); ``value_range`` bounds its output.

    The output is persisted, for the steps after it, and in the same pass its strided
    preview, the histogram of every value (for values, ``with_histogram``), the number of
    regions (for labels) and a threshold's level are gathered.

    A pointwise stage (a clip) given its ``input_preview`` (``step_input`` at the same
    ``stride``) and no histogram to count runs nothing: its preview is the stage applied
    here to the input's, and its output stays lazy, computed where something needs it (the
    next step, a download, the zoom), so that a new clip range costs no work on the cluster.
    """
    stage = STAGES[step.stage]
    output = stage.apply(step_input, **step.values)
    counted = stage.kind is ResultKind.VALUES and with_histogram
    if stage.pointwise and input_preview is not None and not counted:
        return _from_input_preview(output, step, value_range, stride, input_preview)
    if shares_memory(scheduler):  # a filter's edge cuts fused into its chunks' tasks
        output = fused_chunks(output)
    small = {"summary": lazy_summary(output, stride, value_range if counted else None)}
    if stage.kind is ResultKind.LABELS:
        small["regions"] = output.max()  # the label stage numbers the regions 1..N
    level = threshold_level(step_input, **step.values) if step.stage == "threshold" else None
    if isinstance(level, da.Array):
        small["level"] = level
    started = time.perf_counter()
    output, small = _persist_and_gather(output, small, on_progress, scheduler)
    preview, counts = small["summary"]
    return StepRun(
        step=step,
        output=output,
        kind=stage.kind,
        value_range=tuple(value_range),
        preview=preview,
        stride=stride,
        histogram=None if counts is None else Histogram(counts, bin_edges(value_range)),
        level=None if level is None else float(small.get("level", level)),
        regions=int(small["regions"]) if "regions" in small else None,
        wall=time.perf_counter() - started,
    )


def _from_input_preview(
    output: da.Array, step: Step, value_range: tuple[float, float], stride: int, input_preview: np.ndarray
) -> StepRun:
    """A pointwise step's run without computing ``output``: its preview is the stage applied
    to the input's preview, here, at once."""
    stage = STAGES[step.stage]
    started = time.perf_counter()
    preview = stage.apply(da.from_array(input_preview, chunks=-1), **step.values).compute(scheduler="sync")
    return StepRun(
        step=step, output=output, kind=stage.kind, value_range=tuple(value_range), preview=preview, stride=stride,
        histogram=None, level=None, regions=None, wall=time.perf_counter() - started, deferred=True,
    )


def _computed_here(lazy, on_progress, scheduler):
    """``lazy`` computed where ``scheduler`` runs, its progress reported, and brought here."""
    (persisted,) = persist_and_wait(
        [lazy], lambda persisted: wait_with_progress(persisted, on_progress),
        scheduler=scheduler, **_local_callbacks(_client(scheduler), on_progress),
    )
    (result,) = dask.compute(persisted, scheduler=scheduler)
    return result


def output_histogram(
    output: da.Array, value_range: tuple[float, float], *, on_progress=None, scheduler=THREADS
) -> Histogram:
    """The histogram of every value of a persisted output over ``value_range``: for a step
    run without it (``run_step``'s ``with_histogram``), counted when a page shows it."""
    counts, bin_edges = _lazy_histogram(output, value_range)
    return Histogram(_computed_here(counts, on_progress, scheduler), np.asarray(bin_edges))


def measure_regions(labels: da.Array, stitched: da.Array, *, on_progress=None, scheduler=THREADS) -> pd.DataFrame:
    """The region table (``core.outputs.regions.REGION_COLUMNS``) of a persisted labels output,
    with the mean intensity of the stitched grayscale image in each region."""
    return _computed_here(region_table(labels, stitched), on_progress, scheduler)


def full_resolution_png(output: da.Array, kind: ResultKind, value_range: tuple[float, float], *, scheduler=THREADS) -> bytes:
    """A step's output at full resolution as an encoded 8-bit PNG, for a download: values
    mapped black..white over ``value_range``, masks black and white, labels in colour.

    The picture is compressed in strips of rows by the threads or workers that compute it
    (``core.outputs.png``); only the compressed strips come back here.
    """
    return png_bytes(to_picture(output, kind, value_range), scheduler=scheduler)


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


def marked_mosaic(
    previews: list[list[np.ndarray]], groups: list[list[int | None]], colours: list[tuple[int, int, int]],
) -> np.ndarray:
    """``mosaic`` in colour, each tile framed in ``colours[groups[r][c]]`` and numbered
    ``groups[r][c] + 1`` in its corner (None: neither), to show which worker read which
    tile. A tint read poorly on a picture of the same colour (orange on the astronaut's
    suit); a frame edged in black and white, and a number, read on any picture.
    """
    return mosaic([[_marked(preview, group, colours) for preview, group in zip(row, row_groups)]
                   for row, row_groups in zip(previews, groups)])


def _marked(preview: np.ndarray, group: int | None, colours: list[tuple[int, int, int]]) -> np.ndarray:
    pixels = to_display(preview)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    if group is None:
        return pixels
    height, width = pixels.shape[:2]
    frame = max(2, min(height, width) // 28)
    colour = tuple(colours[group % len(colours)])
    image = Image.fromarray(np.ascontiguousarray(pixels))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width - 1, height - 1], outline=(0, 0, 0), width=frame + 2)
    draw.rectangle([1, 1, width - 2, height - 2], outline=colour, width=frame)
    draw.rectangle([frame + 1, frame + 1, width - frame - 2, height - frame - 2], outline=(255, 255, 255), width=1)
    size = max(9, min(height, width) // 6)
    left = top = frame + 2
    draw.rectangle([left, top, left + size + 4, top + size + 4], fill=(255, 255, 255), outline=colour, width=2)
    draw.text(
        (left + (size + 4) / 2, top + (size + 4) / 2), str(group + 1), fill=(0, 0, 0),
        font=ImageFont.load_default(size=size), anchor="mm",
    )
    return np.asarray(image)


def _pad(pixels: np.ndarray, height: int, width: int, fill: int) -> np.ndarray:
    pad = [(0, height - pixels.shape[0]), (0, width - pixels.shape[1])] + [(0, 0)] * (pixels.ndim - 2)
    return np.pad(pixels, pad, constant_values=fill)
