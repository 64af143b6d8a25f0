"""The computed stages, shared by every session of the server: the tile files, the stitch
run, each step's run, region tables, histograms, the Tasks page's recorded runs and the
Speed-up page's sweeps.

Each is computed once per key under a progress bar, and kept in a ``BoundedStore``. The
keys hold the tile folder (the image's digest and the grid), the chain's texts up to the
step (``Step.text``: ``gaussian:sigma=2``) and where it ran, so that changing step k's
parameters runs steps k.. again from step k-1's output, and nothing before it.
"""

from __future__ import annotations

import threading
import time

import pandas as pd
import streamlit as st

from core.errors import PipelineError
from core.observe import RecordedRun, record_run
from core.pipeline import (
    GRAYSCALE_RANGE,
    Pipeline,
    Step,
    TileSet,
    build_pipeline,
    chain_text,
    output_ranges,
    partition_cached,
)
from core.pipeline.tiling import cache_folder
from core.runtime import prune
from core.runtime.cluster import check_workers_can_read
from ui.services.previews import Histogram, StepRun, StitchRun, measure_regions, run_step, run_stitch_stages
from ui.services.scaling import GRID_SIZES, GridScaling, WorkerScaling, measure_grids, measure_workers

from .navigation import step_title
from .plots import ValueHistogram
from .server import CACHE_MAX_BYTES, cache_root, runner, where
from .store import BoundedStore
from .uploads import SourceImage

__all__ = [
    "CANCEL_KEY",
    "STEP_RUNS_KEPT",
    "SWEEP_REPEATS",
    "grid_scaling",
    "lazy_pipeline",
    "offer_cancel",
    "recorded_run",
    "region_table_of",
    "step_key",
    "step_runs",
    "stages_done",
    "stitch_run",
    "tile_files_of",
    "value_histogram",
    "with_progress",
    "worker_scaling",
]

#: Step runs kept for the whole server. Each holds its output at full resolution (so that
#: the next step, or a rerun, starts from it): 4 bytes a pixel for values and labels, 1 for
#: masks, so 256 MB for a 64-MPix image (400 MB at the uploads' 100-MPix limit) and 1 MB for
#: a 512 x 512 sample. Six of them cost up to 1.5 GB at 64 MPix: enough for a chain of a
#: few steps and a few variants of its last one; a longer chain runs its first steps again.
STEP_RUNS_KEPT = 6
#: Runs per worker count or grid; the fastest is kept (see ``ui.services.scaling``).
SWEEP_REPEATS = 3
CANCEL_KEY = "cancel_run"


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
        "workers": BoundedStore(16),
        "grids": BoundedStore(16),
    }


def tile_files_of(image: SourceImage, rows: int, cols: int) -> TileSet:
    """The image's tile files for this grid, written on first use and reused afterwards.

    Raises ``PipelineError`` with a message for the visitor.
    """
    written_before = cache_folder(cache_root(), image.digest, rows, cols).exists()
    try:
        with st.spinner(f"Writing {rows} x {cols} tile files…"):
            tile_files = partition_cached(image.pixels, rows, cols, cache_root(), digest=image.digest)
    except PipelineError as e:
        raise PipelineError(f"Cannot split this image: {e}.") from e
    except OSError as e:
        raise PipelineError(f"Cannot write the tile files on the server: {e.strerror}.") from e
    if not written_before:
        prune(cache_root(), CACHE_MAX_BYTES)
    try:
        check_workers_can_read(runner(), tile_files.folder)
    except PipelineError as e:
        raise PipelineError(f"The cluster cannot run this: {e}.") from e
    return tile_files


def lazy_pipeline(tile_files: TileSet, chain: tuple[Step, ...]) -> Pipeline:
    """Every stage as a lazy dask array: the tile arrays, once per tile set, then the chain.

    Opening every tile file for its shape is the slow part of building the graph; the
    chain's arrays are built on it afresh, in microseconds.
    """
    base = _stores()["pipeline"].get_or_compute(str(tile_files.folder), lambda: build_pipeline(tile_files, ()))
    return base.with_chain(chain)


class _ThisRun(threading.local):
    """Where this script run offers its Cancel button (each session's runs have a thread)."""

    slot = None  # an ``st.empty`` at the top of the page, from ``offer_cancel``
    offered = False  # a key is drawn once per run: the button stays until ``stages_done``


_this_run = _ThisRun()


def offer_cancel() -> None:
    """Keep a place at the top of the page for the Cancel button that a run computing
    this page's stages shows (see ``with_progress``)."""
    _this_run.slot, _this_run.offered = st.empty(), False


def stages_done() -> None:
    """The page's stages are computed: the Cancel button goes."""
    if _this_run.slot is not None:
        _this_run.slot.empty()
    _this_run.slot = None


def _cancel_button() -> None:
    """The Cancel button, once per run. Its click, like any other, reruns the page, which
    stops the running computation at its next progress report (``core.runtime.cancel``); the run
    that follows finds it pressed and stops before computing anything."""
    if _this_run.slot is None or _this_run.offered:
        return
    _this_run.offered = True
    with _this_run.slot.container():
        if st.button("Cancel", icon=":material/cancel:", key=CANCEL_KEY, help="Stop this run; nothing of it is kept"):
            st.info(
                "Cancelled: nothing of that run was kept. Change a setting, or press the button "
                "to run it again."
            )
            st.button("Run it again", key="run_again")
            st.stop()


def with_progress(label: str, compute):
    """Run ``compute(report)`` under a progress bar that goes away when it is done.

    A bare bar, not ``st.status``: a status box sleeps 50 ms as it opens and again as it
    closes, which was most of a clip change's rerun on the 512 x 512 samples.
    """
    _cancel_button()
    placeholder = st.empty()
    bar = placeholder.progress(0.0, text=f"{label}…")

    def report(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"{label}: {done:,} of {total:,} tasks done")

    result = compute(report)
    placeholder.empty()
    return result


class _Waiting:
    """What a page shows while another session computes the key it needs; each update
    lets Streamlit stop this page, should its visitor move on meanwhile."""

    def __init__(self, label: str):
        self.label, self.placeholder, self.started = label, None, time.monotonic()

    def tick(self) -> None:
        if self.placeholder is None:
            _cancel_button()
            self.placeholder = st.empty()
        self.placeholder.caption(
            f"{self.label}: another visitor started the same run; using theirs "
            f"({time.monotonic() - self.started:.0f} s)"
        )

    def done(self) -> None:
        if self.placeholder is not None:
            self.placeholder.empty()


def _computed(store: str, key, label: str, compute):
    """``compute(report)`` once per key, under a progress bar; later calls reuse the result."""
    waiting = _Waiting(label)
    value = _stores()[store].get_or_compute(key, lambda: with_progress(label, compute), on_wait=waiting.tick)
    waiting.done()
    return value


def stitch_run(tile_files: TileSet, pipeline: Pipeline, scheduler) -> StitchRun:
    """Read, grayscale and stitch, once per image, grid and kind of scheduler."""
    rows, cols = tile_files.grid
    return _computed(
        "stitch", (str(tile_files.folder), where(scheduler)),
        f"Reading {rows * cols} tiles, turning them gray and stitching them",
        lambda report: run_stitch_stages(pipeline, on_progress=report, scheduler=scheduler),
    )


def step_key(tile_files: TileSet, chain: tuple[Step, ...], index: int) -> tuple:
    """What the step at ``index`` depends on: the tiles and the steps up to it."""
    return (str(tile_files.folder), _chain_key(chain[: index + 1]))


def step_runs(
    tile_files: TileSet, stitched: StitchRun, chain: tuple[Step, ...], count: int, scheduler
) -> tuple[StepRun, ...]:
    """The first ``count`` steps of the chain, each run once per key (``step_key`` and the
    kind of scheduler) from the persisted output of the one before. ``stitched`` must have
    run on ``scheduler``."""
    ranges = output_ranges(chain, GRAYSCALE_RANGE)
    runs: list[StepRun] = []
    for index, step in enumerate(chain[:count]):
        step_input = runs[-1].output if runs else stitched.stitched
        runs.append(
            _computed(
                "steps", (*step_key(tile_files, chain, index), where(scheduler)),
                f"Running step {step_title(step, index)}",
                lambda report, step=step, step_input=step_input, value_range=ranges[index]: run_step(
                    step_input, step, value_range, stitched.stride, on_progress=report, scheduler=scheduler
                ),
            )
        )
    return tuple(runs)


def recorded_run(tile_files: TileSet, pipeline: Pipeline, scheduler) -> RecordedRun:
    """The whole pipeline run once on ``scheduler``, every task's thread and times recorded,
    for the Tasks page's replay: once per image, grid, chain and kind of scheduler."""
    return _computed(
        "replays", (str(tile_files.folder), _chain_key(pipeline.chain), where(scheduler)),
        "Running the whole pipeline once, recording every task",
        lambda report: record_run(pipeline, scheduler=scheduler, on_progress=report),
    )


def region_table_of(
    tile_files: TileSet, chain: tuple[Step, ...], index: int, labels: StepRun, stitched: StitchRun, scheduler
) -> pd.DataFrame:
    """The region table of the labels step at ``index``, measured once per key on the
    scheduler the step ran on."""
    return _computed(
        "regions", (*step_key(tile_files, chain, index), where(scheduler)),
        f"Measuring the {labels.regions:,} regions",
        lambda report: measure_regions(labels.output, stitched.stitched, on_progress=report, scheduler=scheduler),
    )


def value_histogram(key: tuple, histogram: Histogram, label: str) -> ValueHistogram:
    """The histogram drawing for ``key``, drawn once: the marks on it are redrawn per view."""
    return _stores()["histogram"].get_or_compute(
        key, lambda: ValueHistogram(histogram.counts, histogram.bin_edges, label)
    )


def _chain_key(chain: tuple[Step, ...]) -> tuple[str, ...]:
    return tuple(chain_text(chain))


def worker_scaling(tile_files: TileSet, chain: tuple[Step, ...], *, measure: bool) -> WorkerScaling | None:
    """The sweep over worker counts for this image, grid and chain: measured once, when
    ``measure`` is set, under a progress bar; None if it has not been measured yet."""
    key = (str(tile_files.folder), _chain_key(chain))
    if not measure:
        return _stores()["workers"].get(key)
    return _computed(
        "workers", key, "Timing the pipeline on 1, 2, … worker threads",
        lambda report: measure_workers(tile_files, chain=chain, repeats=SWEEP_REPEATS, report=report),
    )


def _measured_grids(image: SourceImage, chain: tuple[Step, ...], report) -> GridScaling:
    grids = measure_grids(
        image.pixels, cache_root(), chain=chain, repeats=SWEEP_REPEATS, digest=image.digest, report=report,
    )
    prune(cache_root(), CACHE_MAX_BYTES)  # the sweep wrote the tiles of every grid
    return grids


def grid_scaling(image: SourceImage, chain: tuple[Step, ...], *, measure: bool) -> GridScaling | None:
    """The sweep over grid sizes for this image and chain, as ``worker_scaling``."""
    key = (image.digest, _chain_key(chain))
    if not measure:
        return _stores()["grids"].get(key)
    return _computed(
        "grids", key,
        f"Timing the pipeline on grids of {GRID_SIZES[0]} x {GRID_SIZES[0]} to {GRID_SIZES[-1]} x {GRID_SIZES[-1]} tiles",
        lambda report: _measured_grids(image, chain, report),
    )
