"""The computed stages, shared by every session of the server: the tile files, the stitch
run, each step's run, region tables, histograms and the recorded runs the Tasks and
Speed-up pages replay (the Speed-up page's sweeps are ``ui.services.sweeps``).

Each is computed once per key and kept in a ``BoundedStore``. The keys hold the tile
folder (the image's digest and the grid), the chain's texts up to the step
(``Step.text``: ``gaussian:sigma=2``) and where it ran, so that changing step k's
parameters runs steps k.. again from step k-1's output, and nothing before it. Nothing
here draws: a ``Watch`` (``ui.progress.on_page`` in the pages) shows the work.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import streamlit as st

from core.errors import PipelineError
from core.observe import RecordedRun, record_run
from core.pipeline import (
    GRAYSCALE_RANGE,
    STAGES,
    Pipeline,
    ResultKind,
    Step,
    TileSet,
    build_pipeline,
    chain_text,
    output_ranges,
    partition_cached,
)
from core.pipeline.shipped import ShippedTiles, shipped, tile_paths, tiles_in_graph
from core.pipeline.tiling import cache_folder
from core.runtime import THREADS, prune
from core.runtime.cluster import check_new_workers, workers_not_seeing

from ..plots import ValueHistogram
from . import config
from .cluster import runner, where
from .pages import step_title
from .previews import Histogram, StepRun, StitchRun, measure_regions, output_histogram, run_step, run_stitch_stages
from .scaling import checksum_of
from .settings import has_range
from .store import BoundedStore
from .uploads import SourceImage
from .watch import UNWATCHED, Watch, computed_once

if TYPE_CHECKING:  # a region table's type: pandas is imported where one is made (0.27 s)
    import pandas as pd

__all__ = [
    "STEP_RUNS_KEPT",
    "chain_key",
    "kept_scheduler",
    "lazy_pipeline",
    "recorded_checksum_run",
    "recorded_run",
    "region_table_of",
    "step_histogram",
    "step_key",
    "step_runs",
    "stitch_run",
    "tile_files_of",
    "tiles_for",
    "value_histogram",
]


#: Step runs kept for the whole server. Each holds its output at full resolution (so that
#: the next step, or a rerun, starts from it): 4 bytes a pixel for values and labels, 1 for
#: masks, so 256 MB for a 64-MPix image (400 MB at the uploads' 100-MPix limit) and 1 MB for
#: a 512 x 512 sample. Six of them cost up to 1.5 GB at 64 MPix: enough for a chain of a
#: few steps and a few variants of its last one; a longer chain runs its first steps again.
STEP_RUNS_KEPT = 6


@st.cache_resource
def _stores() -> dict[str, BoundedStore]:
    return {
        "pipeline": BoundedStore(16),  # lazy graphs only: no pixels
        # The stitched grayscale at full resolution, 4 bytes a pixel: 64 MB at 16 MPix.
        "stitch": BoundedStore(4),
        "steps": BoundedStore(STEP_RUNS_KEPT),
        "regions": BoundedStore(8),  # a row of 9 numbers per region
        "replays": BoundedStore(8),  # a key and four numbers per task, no pixels
        "histogram": BoundedStore(16),  # a matplotlib figure each, about 1 MB
        "counts": BoundedStore(16),  # a histogram's 200 counts each
    }


def tile_files_of(image: SourceImage, rows: int, cols: int, watch: Watch = UNWATCHED) -> TileSet:
    """The image's tile files for this grid, written on first use and reused afterwards; an
    upload of tiles, in its own grid, is read as it is.

    Raises ``PipelineError`` with a message for the visitor.
    """
    if image.tiles is not None and image.tiles.grid == (rows, cols):
        return image.tiles
    cache = config.get("TILE_CACHE_DIR")
    written_before = cache_folder(cache, image.digest, rows, cols).exists()
    try:
        tile_files = watch.run(
            f"Writing {rows} x {cols} tile files",
            lambda report: partition_cached(image.pixels, rows, cols, cache, digest=image.digest),
        )
    except PipelineError as e:
        raise PipelineError(f"Cannot split this image: {e}.") from e
    except OSError as e:
        raise PipelineError(f"Cannot write the tile files on the server: {e.strerror}.") from e
    if not written_before:
        prune(cache, config.get("TILE_CACHE_MAX_BYTES"))
    return tile_files


def tiles_for(tile_files: TileSet, scheduler) -> TileSet:
    """``tile_files`` as ``scheduler`` reads them: in place on threads and on workers that
    share this server's disk, or sent in the graph (``ShippedTiles``) to workers that
    cannot read the tile cache, each keeping those it was sent on its own disk.

    Raises ``PipelineError`` with a message for the visitor if a worker that joined the
    cluster lacks what the pipeline needs.
    """
    if scheduler == THREADS:
        return tile_files
    try:
        check_new_workers(runner())
    except PipelineError as e:
        raise PipelineError(f"The cluster cannot run this: {e}.") from e
    if workers_not_seeing(runner(), tile_paths(tile_files)):
        return shipped(tile_files, tile_files.folder)
    return tile_files


def lazy_pipeline(tile_files: TileSet, chain: tuple[Step, ...]) -> Pipeline:
    """Every stage as a lazy dask array: the tile arrays, once per tile set (in place or
    shipped), then the chain.

    Opening every tile file for its shape is the slow part of building the graph; the
    chain's arrays are built on it afresh, in microseconds.
    """
    key = (str(tile_files.folder), isinstance(tile_files, ShippedTiles))
    base = _stores()["pipeline"].get_or_compute(key, lambda: build_pipeline(tile_files, ()))
    return base.with_chain(chain)


def _computed(store: str, key, label: str, compute, watch: Watch):
    """``computed_once`` in the store named ``store``."""
    return computed_once(_stores()[store], key, label, compute, watch)


def kept_scheduler(tile_files: TileSet, scheduler):
    """``scheduler``, or threads where this tile set's stitch already ran on threads (while
    the cluster started) and is kept: its stages are reused wherever they ran, never run
    again because a cluster came up, and the steps after it run where their input lies.
    Results kept on a cluster are reused only on that cluster (``where``): one closed for
    idleness took them with it."""
    if scheduler != THREADS and _stores()["stitch"].get((str(tile_files.folder), where(THREADS))) is not None:
        return THREADS
    return scheduler


def stitch_run(tile_files: TileSet, pipeline: Pipeline, scheduler, watch: Watch = UNWATCHED) -> StitchRun:
    """Read, grayscale and stitch, once per image, grid and kind of scheduler."""
    rows, cols = tile_files.grid
    return _computed(
        "stitch", (str(tile_files.folder), where(scheduler)),
        f"Reading {rows * cols} tiles, turning them gray and stitching them",
        lambda report: _carrying(tile_files, run_stitch_stages, pipeline, on_progress=report, scheduler=scheduler),
        watch,
    )


def _carrying(tile_files: TileSet, run, *args, **kwargs):
    """``run(*args, **kwargs)`` with Dask's large-graph warning allowing for the bytes of
    shipped tiles, which the graph is meant to carry."""
    with tiles_in_graph(tile_files):
        return run(*args, **kwargs)


def step_key(tile_files: TileSet, chain: tuple[Step, ...], index: int) -> tuple:
    """What the step at ``index`` depends on: the tiles and the steps up to it."""
    return (str(tile_files.folder), chain_key(chain[: index + 1]))


def step_runs(
    tile_files: TileSet, stitched: StitchRun, chain: tuple[Step, ...], count: int, scheduler,
    watch: Watch = UNWATCHED,
) -> tuple[StepRun, ...]:
    """The first ``count`` steps of the chain, each run once per key (``step_key`` and the
    kind of scheduler) from the output of the one before: persisted, or lazy on its input
    for a pointwise step (``StepRun.deferred``). ``stitched`` must have run on ``scheduler``.
    The last of them is the step a page shows: only the values its page draws are counted
    with the runs (``_counted_with_run``)."""
    ranges = output_ranges(chain, GRAYSCALE_RANGE)
    runs: list[StepRun] = []

    def run(index: int, report) -> StepRun:
        step = chain[index]
        before = runs[index - 1] if index else None
        return run_step(
            before.output if before else stitched.stitched, step, ranges[index], stitched.stride,
            on_progress=report, scheduler=scheduler, with_histogram=_counted_with_run(chain, index, count - 1),
            input_preview=before.preview if before else stitched.stitched_preview,
        )

    for index, step in enumerate(chain[:count]):
        runs.append(
            _computed(
                "steps", (*step_key(tile_files, chain, index), where(scheduler)),
                f"Running step {step_title(step, index)}", functools.partial(run, index), watch,
            )
        )
    return tuple(runs)


def step_histogram(
    tile_files: TileSet, chain: tuple[Step, ...], index: int, stitched: StitchRun, runs: tuple[StepRun, ...],
    scheduler, watch: Watch = UNWATCHED,
) -> Histogram | None:
    """The histogram of the step at ``index``'s output (the stitched image's for -1): counted
    with its run, or else once per key when a page first shows it; None for a mask or labels."""
    if index < 0:
        return stitched.histogram
    run = runs[index]
    if run.histogram is not None or run.kind is not ResultKind.VALUES:
        return run.histogram
    return _computed(
        "counts", (*step_key(tile_files, chain, index), where(scheduler)),
        f"Counting the values of step {step_title(chain[index], index)}",
        lambda report: output_histogram(run.output, run.value_range, on_progress=report, scheduler=scheduler),
        watch,
    )


def _shows_input_histogram(step: Step) -> bool:
    """Whether the step's page draws its cut on its input's histogram (``show_step_histogram``):
    a range's (a clip's) or a threshold's level."""
    return has_range(STAGES[step.stage]) or step.stage == "threshold"


def _counted_with_run(chain: tuple[Step, ...], index: int, shown: int) -> bool:
    """Whether the step at ``index`` counts its values in its own run, when the page shows
    the step at ``shown``: only if that page draws them. Any other page that shows them
    has them counted then (``step_histogram``): a new sigma in front of a Sobel and a clip,
    on the clip's page, leaves the Gaussian's values uncounted."""
    if index == shown:
        return not _shows_input_histogram(chain[index])
    return index == shown - 1 and _shows_input_histogram(chain[shown])


def recorded_run(tile_files: TileSet, pipeline: Pipeline, scheduler, watch: Watch = UNWATCHED) -> RecordedRun:
    """The whole pipeline run once on ``scheduler``, every task's thread and times recorded,
    for the Tasks page's replay: once per image, grid, chain and kind of scheduler."""
    return _computed(
        "replays", (str(tile_files.folder), chain_key(pipeline.chain), where(scheduler)),
        "Running the whole pipeline once, recording every task",
        lambda report: _carrying(tile_files, record_run, pipeline, scheduler=scheduler, on_progress=report), watch,
    )


def recorded_checksum_run(tile_files: TileSet, pipeline: Pipeline, watch: Watch = UNWATCHED) -> RecordedRun:
    """The Speed-up page's checksum (``scaling.checksum_of``) run once on threads and
    recorded as ``recorded_run`` records: the graph the measured points run, which the
    prediction replays. Once per image, grid and chain."""
    return _computed(
        "replays", ("checksum", str(tile_files.folder), chain_key(pipeline.chain), THREADS),
        "Running the pipeline once on threads, recording every task",
        lambda report: record_run(pipeline, THREADS, report, checksum_of(pipeline)), watch,
    )


def region_table_of(
    tile_files: TileSet, chain: tuple[Step, ...], index: int, labels: StepRun, stitched: StitchRun, scheduler,
    watch: Watch = UNWATCHED,
) -> pd.DataFrame:
    """The region table of the labels step at ``index``, measured once per key on the
    scheduler the step ran on."""
    return _computed(
        "regions", (*step_key(tile_files, chain, index), where(scheduler)),
        f"Measuring the {labels.regions:,} regions",
        lambda report: measure_regions(labels.output, stitched.stitched, on_progress=report, scheduler=scheduler),
        watch,
    )


def value_histogram(key: tuple, histogram: Histogram, label: str) -> ValueHistogram:
    """The histogram drawing for ``key``, drawn once: the marks on it are redrawn per view."""
    return _stores()["histogram"].get_or_compute(
        key, lambda: ValueHistogram(histogram.counts, histogram.bin_edges, label)
    )


def chain_key(chain: tuple[Step, ...]) -> tuple[str, ...]:
    """The chain as its steps' texts: part of every key of what it computes."""
    return tuple(chain_text(chain))
