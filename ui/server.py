"""The server's configuration: where tiles are cached and where Dask runs (threads, or a
cluster started once per server and shared by every session)."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import streamlit as st

from core import PipelineError
from core.cluster import LOCAL, THREADS, Runner, configured_scheduler, connect

__all__ = [
    "APP_MAX_PIXELS",
    "CACHE_MAX_BYTES",
    "STAND_IN",
    "cache_root",
    "cluster_problem",
    "runner",
    "scheduler_choice",
    "where",
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
    ``wait``). Called several times a run, so it draws nothing: see ``cluster_problem``."""
    return _cluster_start(scheduler_choice()).get(wait) or STAND_IN


def cluster_problem() -> str:
    """Why the configured cluster is not used (it could not be reached or started), or
    ``""``: for the page to say once."""
    return _cluster_start(scheduler_choice()).problem


def where(scheduler) -> str:
    """``threads`` or ``cluster``: part of the keys of computed stages, so that a run made on
    threads while the cluster started is made again on the cluster, which the Cluster page
    then shows."""
    return "threads" if scheduler == THREADS else "cluster"
