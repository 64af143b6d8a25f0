"""Server-wide state: the tile cache on disk and the computed stages, shared by sessions.

Everything is keyed on the SHA-256 of the image's content, never on Streamlit's hashing
of arrays (which samples large arrays) nor on a file name.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from core import (
    Pipeline,
    PipelineError,
    TileSet,
    build_pipeline,
    image_digest,
    load_image,
    partition_cached,
)
from core.cluster import LOCAL, THREADS, Runner, check_workers_can_read, configured_scheduler, connect
from core.disk_cache import prune, store_bytes
from core.tiling import cache_folder
from core.previews import EdgeRun, GrayRun, run_edge_stage, run_gray_stages
from core.scaling import GRID_SIZES, GridScaling, WorkerScaling, measure_grids, measure_workers
from core.samples import SAMPLES, load_sample

from .plots import ClipHistogram
from .store import BoundedStore

__all__ = [
    "APP_MAX_PIXELS",
    "STAND_IN",
    "Image",
    "cache_root",
    "clip_histogram",
    "current_image",
    "edge_run",
    "gray_run",
    "grid_scaling",
    "lazy_pipeline",
    "runner",
    "save_upload",
    "tile_set",
    "worker_scaling",
]

#: Largest upload decoded; .streamlit/config.toml's maxUploadSize (MB) is 3 bytes a pixel.
APP_MAX_PIXELS = 100_000_000
CACHE_MAX_BYTES = int(os.environ.get("TILE_CACHE_MAX_BYTES", 4 * 2**30))


def cache_root() -> Path:
    """Where tiles and uploads are kept: ``$TILE_CACHE_DIR`` or a folder in the temp dir."""
    return Path(os.environ.get("TILE_CACHE_DIR") or Path(tempfile.gettempdir()) / "dask-tiles-cache")


def scheduler_choice() -> str:
    """``$DASHBOARD_SCHEDULER`` (threads, local or an address), else Dask's configured
    ``scheduler-address``, else a local cluster. Never a visitor's choice."""
    return os.environ.get("DASHBOARD_SCHEDULER") or configured_scheduler(default=LOCAL)


class _ClusterStart:
    """The configured scheduler, reached or started in a background thread, so that the
    first visitor's pictures do not wait for it (starting the local cluster with its
    dashboard took about 0.8 s here): runs go on threads until it is ready."""

    def __init__(self, choice: str):
        self._ready = threading.Event()
        self.runner: Runner | None = None
        self.problem = ""
        threading.Thread(target=self._connect, args=(choice,), name="cluster-start", daemon=True).start()

    def _connect(self, choice: str) -> None:
        try:
            self.runner = connect(choice, timeout=5)
        except (PipelineError, OSError, RuntimeError) as e:  # unreachable, or failed to start
            self.runner, self.problem = connect(THREADS), f"{e}. Running on threads in the server process instead."
        finally:
            self._ready.set()

    def get(self, wait: bool) -> Runner | None:
        """The runner, or None while it is starting (unless ``wait``)."""
        if wait:
            self._ready.wait()
        return self.runner if self._ready.is_set() else None

    def close(self) -> None:
        self._ready.wait()
        self.runner.close()


@st.cache_resource(on_release=lambda start: start.close())
def _cluster_start(choice: str) -> _ClusterStart:
    # One cluster per server process, shared by every session: a Client made on each
    # rerun would start a cluster each time.
    return _ClusterStart(choice)


#: What runs the pipeline while the configured cluster starts.
STAND_IN = Runner(THREADS)


def runner(*, wait: bool = False) -> Runner:
    """Where the pipeline runs: the configured cluster, or threads while it starts (unless
    ``wait``); says so in the sidebar if the configured cluster failed."""
    start = _cluster_start(scheduler_choice())
    active = start.get(wait)
    if active is None:
        return STAND_IN
    if start.problem:
        st.sidebar.warning(start.problem)
    return active


@st.cache_resource
def _stores() -> dict[str, BoundedStore]:
    # Bounded by entries: a 16-MPix image costs 48 MB as pixels and 64 MB as grayscale.
    return {
        "image": BoundedStore(4),
        "pipeline": BoundedStore(16),
        "gray": BoundedStore(4),
        "edges": BoundedStore(16),
        "histogram": BoundedStore(16),
        "workers": BoundedStore(16),
        "grids": BoundedStore(16),
    }


@dataclass(frozen=True)
class Image:
    digest: str
    label: str
    pixels: np.ndarray  # read-only: shared by every session


def save_upload(data: bytes) -> str:
    digest, _ = store_bytes(data, cache_root() / "uploads")
    prune(cache_root(), CACHE_MAX_BYTES)
    return digest


def _readonly(pixels: np.ndarray) -> np.ndarray:
    pixels.flags.writeable = False
    return pixels


def _load_upload(digest: str) -> np.ndarray:
    path = cache_root() / "uploads" / digest
    if not path.exists():
        raise PipelineError("the uploaded file is no longer on the server; please upload it again")
    return _readonly(load_image(path, max_pixels=APP_MAX_PIXELS))


def _load_sample(name: str) -> tuple[str, np.ndarray]:
    pixels = _readonly(load_sample(name))
    return image_digest(pixels), pixels


def current_image(settings) -> Image:
    """The uploaded image if there is one, else the chosen sample; stops the page on error."""
    images = _stores()["image"]
    try:
        if settings.upload is not None:
            digest = settings.upload.digest
            with st.spinner("Decoding the upload…"):
                pixels = images.get_or_compute(("upload", digest), lambda: _load_upload(digest))
            return Image(digest, settings.upload.name, pixels)
        digest, pixels = images.get_or_compute(("sample", settings.sample), lambda: _load_sample(settings.sample))
        return Image(digest, SAMPLES[settings.sample], pixels)
    except PipelineError as e:
        st.error(f"Could not read this image: {e}. Upload another one, or clear it to use a sample.")
        st.stop()


def _where(scheduler) -> str:
    # Part of the keys of computed stages: a run made on threads while the cluster started
    # is made again on the cluster, which the Cluster page then shows.
    return "threads" if scheduler == THREADS else "cluster"


def tile_set(image: Image, rows: int, cols: int) -> TileSet:
    """The image's tile files for this grid, written on first use and reused afterwards."""
    written_before = cache_folder(cache_root(), image.digest, rows, cols).exists()
    try:
        with st.spinner(f"Writing {rows} x {cols} tile files…"):
            tiles = partition_cached(image.pixels, rows, cols, cache_root(), digest=image.digest)
    except PipelineError as e:
        st.error(f"Cannot split this image: {e}.")
        st.stop()
    except OSError as e:
        st.error(f"Cannot write the tile files on the server: {e.strerror}.")
        st.stop()
    if not written_before:
        prune(cache_root(), CACHE_MAX_BYTES)
    try:
        check_workers_can_read(runner(), tiles.folder)
    except PipelineError as e:
        st.error(f"The cluster cannot run this: {e}.")
        st.stop()
    return tiles


def lazy_pipeline(tiles: TileSet, mode: str) -> Pipeline:
    """Every stage as a lazy dask array (clipped to the default range)."""
    key = (str(tiles.folder), mode)
    return _stores()["pipeline"].get_or_compute(key, lambda: build_pipeline(tiles, mode=mode))


def _with_progress(label: str, compute):
    """Run ``compute(report)`` under a progress bar that goes away when it is done."""
    placeholder = st.empty()
    with placeholder.status(label, expanded=True):
        bar = st.progress(0.0)

        def report(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"{done:,} of {total:,} tasks done")

        result = compute(report)
    placeholder.empty()
    return result


def _computed(store: str, key, label: str, compute):
    """``compute(report)`` once per key, under a progress bar; later calls reuse the result."""
    return _stores()[store].get_or_compute(key, lambda: _with_progress(label, compute))


def gray_run(tiles: TileSet, pipeline: Pipeline, scheduler) -> GrayRun:
    """Read, grayscale and stitch, once per image, grid and kind of scheduler."""
    return _computed(
        "gray", (str(tiles.folder), _where(scheduler)),
        f"Reading {tiles.grid[0] * tiles.grid[1]} tiles, turning them gray and stitching them",
        lambda report: run_gray_stages(pipeline, on_progress=report, scheduler=scheduler),
    )


def edge_run(tiles: TileSet, gray: GrayRun, mode: str, scheduler) -> EdgeRun:
    """The Sobel stage, once per image, grid, mode and kind of scheduler; clipping never
    recomputes it. ``gray`` must have run on ``scheduler``."""
    return _computed(
        "edges", (str(tiles.folder), mode, _where(scheduler)), f"Running the Sobel filter ({mode})",
        lambda report: run_edge_stage(gray.stitched, mode, gray.step, on_progress=report, scheduler=scheduler),
    )


def clip_histogram(run) -> ClipHistogram:
    """The Edges page's histogram for this run's Sobel values, drawn once per mode."""
    return _stores()["histogram"].get_or_compute(
        run.graph_key, lambda: ClipHistogram(run.edges.counts, run.edges.bin_edges)
    )


#: Runs per worker count or grid; the fastest is kept (see ``core.scaling``).
SWEEP_REPEATS = 3


def worker_scaling(
    tiles: TileSet, mode: str, clip_range: tuple[float, float], *, measure: bool
) -> WorkerScaling | None:
    """The sweep over worker counts for this image, grid and Sobel mode: measured once, when
    ``measure`` is set, under a progress bar; None if it has not been measured yet.

    The clip range is not part of the key: clipping costs the same whatever the range.
    """
    key = (str(tiles.folder), mode)
    if not measure:
        return _stores()["workers"].get(key)
    return _computed(
        "workers", key, "Timing the pipeline on 1, 2, … worker threads",
        lambda report: measure_workers(
            tiles, mode=mode, lo=clip_range[0], hi=clip_range[1], repeats=SWEEP_REPEATS, report=report
        ),
    )


def _measured_grids(image: Image, mode: str, clip_range: tuple[float, float], report) -> GridScaling:
    grids = measure_grids(
        image.pixels, cache_root(), mode=mode, lo=clip_range[0], hi=clip_range[1],
        repeats=SWEEP_REPEATS, digest=image.digest, report=report,
    )
    prune(cache_root(), CACHE_MAX_BYTES)  # the sweep wrote the tiles of every grid
    return grids


def grid_scaling(image: Image, mode: str, clip_range: tuple[float, float], *, measure: bool) -> GridScaling | None:
    """The sweep over grid sizes for this image and Sobel mode, as ``worker_scaling``."""
    key = (image.digest, mode)
    if not measure:
        return _stores()["grids"].get(key)
    return _computed(
        "grids", key,
        f"Timing the pipeline on grids of {GRID_SIZES[0]} x {GRID_SIZES[0]} to {GRID_SIZES[-1]} x {GRID_SIZES[-1]} tiles",
        lambda report: _measured_grids(image, mode, clip_range, report),
    )
