"""What the Speed-up page measures and predicts, shared by every session of the server:
the sweeps over worker counts and over grids, and what more workers would buy according to
a recorded run. Each is computed once per key and kept in a ``BoundedStore``, as the
stages are (``ui.services.runs``)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.observe import (
    MOST_WORKERS,
    RecordedRun,
    TaskGraph,
    WorkSpan,
    cost_beyond_recording,
    scheduling_cost,
    work_span,
)
from core.pipeline import Step, TileSet
from core.pipeline.shipped import in_place
from core.runtime import THREADS, prune

from . import config
from .cluster import where
from .runs import chain_key
from .scaling import GRID_SIZES, GridScaling, WorkerScaling, measure_grids, measure_workers
from .store import BoundedStore
from .uploads import SourceImage
from .watch import UNWATCHED, Watch, computed_once

__all__ = ["SWEEP_REPEATS", "Prediction", "grid_scaling", "prediction_of", "scheduling_costs", "worker_scaling"]

#: Runs per worker count or grid; the fastest is kept (see ``ui.services.scaling``).
SWEEP_REPEATS = 3


@st.cache_resource
def _stores() -> dict[str, BoundedStore]:
    return {
        "workers": BoundedStore(16),
        "grids": BoundedStore(16),
        "costs": BoundedStore(4),  # a number per kind of scheduler
        "predictions": BoundedStore(16),  # a number per task and per worker count
    }


def worker_scaling(
    tile_files: TileSet, chain: tuple[Step, ...], *, measure: bool, watch: Watch = UNWATCHED
) -> WorkerScaling | None:
    """The sweep over worker counts for this image, grid and chain: measured once, when
    ``measure`` is set, under a progress bar; None if it has not been measured yet."""
    key = (str(tile_files.folder), chain_key(chain))
    if not measure:
        return _stores()["workers"].get(key)
    return computed_once(
        _stores()["workers"], key, "Timing the pipeline on 1, 2, … worker threads",
        lambda report: measure_workers(in_place(tile_files), chain=chain, repeats=SWEEP_REPEATS, report=report),
        watch,
    )


def _measured_grids(image: SourceImage, chain: tuple[Step, ...], report) -> GridScaling:
    cache = config.get("TILE_CACHE_DIR")
    grids = measure_grids(image.pixels, cache, chain=chain, repeats=SWEEP_REPEATS, digest=image.digest, report=report)
    prune(cache, config.get("TILE_CACHE_MAX_BYTES"))  # the sweep wrote the tiles of every grid
    return grids


def grid_scaling(
    image: SourceImage, chain: tuple[Step, ...], *, measure: bool, watch: Watch = UNWATCHED
) -> GridScaling | None:
    """The sweep over grid sizes for this image and chain, as ``worker_scaling``."""
    key = (image.digest, chain_key(chain))
    if not measure:
        return _stores()["grids"].get(key)
    return computed_once(
        _stores()["grids"], key,
        f"Timing the pipeline on grids of {GRID_SIZES[0]} x {GRID_SIZES[0]} to {GRID_SIZES[-1]} x {GRID_SIZES[-1]} tiles",
        lambda report: _measured_grids(image, chain, report), watch,
    )


@dataclass(frozen=True)
class Prediction:
    """What more workers would buy, from a recorded run: its work and span, and the wall
    time the list scheduler predicts for 1 to ``MOST_WORKERS`` workers with each kind of
    scheduler's cost per task (``threads``, and ``cluster`` where the pages run on one),
    less what the recorded durations already hold (``cost_beyond_recording``)."""

    spread: WorkSpan
    costs: dict[str, float]  # seconds a task adds beyond its work
    walls: dict[str, list[float]]  # seconds on 1, 2, ... MOST_WORKERS workers

    def wall(self, workers: int, kind: str = "threads") -> float:
        return self.walls[kind][workers - 1]


def scheduling_costs(scheduler) -> dict[str, float]:
    """Seconds one task adds beyond its own work, on threads and, where the pages run on a
    cluster, on it: measured once per server and cluster (a few milliseconds)."""
    costs = {"threads": _stores()["costs"].get_or_compute("threads", lambda: scheduling_cost(THREADS))}
    if scheduler != THREADS:
        costs["cluster"] = _stores()["costs"].get_or_compute(where(scheduler), lambda: scheduling_cost(scheduler))
    return costs


def prediction_of(tile_files: TileSet, graph: TaskGraph, run: RecordedRun, scheduler) -> Prediction:
    """The prediction for ``run``, a recording of ``graph`` (``recorded_run``), computed once
    per recording: thousands of tasks through 64 schedules take a second or two."""
    costs = scheduling_costs(scheduler)

    def predict() -> Prediction:
        spread = work_span(graph, run)
        added = {kind: cost_beyond_recording(cost, run.where, costs["threads"]) for kind, cost in costs.items()}
        return Prediction(spread, costs, {kind: spread.predictions(cost, MOST_WORKERS) for kind, cost in added.items()})

    return _stores()["predictions"].get_or_compute((str(tile_files.folder), run.where, run.wall), predict)
