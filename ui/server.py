"""The server's configuration: where tiles are cached and where Dask runs (threads, or a
cluster started once per server and shared by every session)."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import dask
import streamlit as st
from dask.system import CPU_COUNT

from core.errors import PipelineError
from core.runtime import LOCAL, THREADS, Runner, configured_scheduler, connect

__all__ = [
    "APP_MAX_PIXELS",
    "CACHE_MAX_BYTES",
    "CLUSTER_IDLE_SECONDS",
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

# Streamlit runs each script in a thread of its own, and there Dask's threaded scheduler
# makes a pool of Python's default size, os.cpu_count() + 4 threads (6 on a 2-core
# machine), instead of one thread per core as on a program's main thread.
dask.config.set({"num_workers": CPU_COUNT})

#: Seconds between two looks of Streamlit at its config.toml and secrets.toml files. It
#: looks every 0.2 s, for reloading an edit, whatever ``server.fileWatcherType`` says, and no
#: option changes that: a third to a half of an idle server's CPU here
#: (``benchmarks/idle.py``). The files of a shared server are edited rarely; an edit now
#: takes up to this long to apply.
CONFIG_POLL_SECONDS = 5.0


def _poll_config_files_slowly() -> None:
    # Streamlit 1.67 watches those files with PollingPathWatcher
    # (streamlit/web/bootstrap.py, _install_config_watchers; runtime/secrets.py), which reads
    # this module global before each of its sleeps, so the watchers started with the server
    # slow down too. A Streamlit without it keeps its own period: the app works the same,
    # only idles less.
    try:
        from streamlit.watcher import polling_path_watcher
    except ImportError:
        return
    period = getattr(polling_path_watcher, "_POLLING_PERIOD_SECS", None)
    if isinstance(period, (int, float)) and period < CONFIG_POLL_SECONDS:
        polling_path_watcher._POLLING_PERIOD_SECS = CONFIG_POLL_SECONDS


# Once per process: the first page run imports this module, before that Streamlit's own
# period applies.
_poll_config_files_slowly()


def cache_root() -> Path:
    """Where tiles and uploads are kept: ``$TILE_CACHE_DIR`` or a folder in the temp dir."""
    return Path(os.environ.get("TILE_CACHE_DIR") or Path(tempfile.gettempdir()) / "dask-tiles-cache")


def scheduler_choice() -> str:
    """``$DASHBOARD_SCHEDULER`` (threads, local or an address), else Dask's configured
    ``scheduler-address``, else a local cluster. Never a visitor's choice."""
    return os.environ.get("DASHBOARD_SCHEDULER") or configured_scheduler(default=LOCAL)


#: A local cluster that ran nothing for this long is closed (and started again, in the
#: background, by the next page that asks for it): its scheduler and workers tick,
#: heartbeat and sample themselves several times a second, which kept an idle server at
#: 6 to 15 % of a core here (``benchmarks/idle.py``). Tasks waiting or running keep it
#: open, however long they take.
CLUSTER_IDLE_SECONDS = float(os.environ.get("DASHBOARD_CLUSTER_IDLE_SECONDS", 300))


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

    def working(self) -> bool:
        """Whether a local cluster has tasks to run: results kept in its memory do not count."""
        active = self.get(wait=False)
        if active is None:
            return True  # still starting
        if active.cluster is None:
            return False
        tasks = list(active.cluster.scheduler.tasks.values())  # copied in one step under the GIL
        return any(task.state not in ("memory", "erred", "released", "forgotten") for task in tasks)

    def close(self) -> None:
        self._ready.wait()
        self.runner.close()


class _SharedCluster:
    """The server's cluster, shared by every session; a local one is closed once it has
    been idle for ``CLUSTER_IDLE_SECONDS`` and started afresh when a page next needs it."""

    def __init__(self, choice: str):
        self._choice = choice
        self._lock = threading.Lock()
        self._start: _ClusterStart | None = _ClusterStart(choice)
        self._last_asked = time.monotonic()
        self._stopped = threading.Event()
        if choice == LOCAL:
            threading.Thread(target=self._close_when_idle, name="cluster-idle", daemon=True).start()

    def current(self) -> _ClusterStart:
        with self._lock:
            self._last_asked = time.monotonic()
            if self._start is None:
                self._start = _ClusterStart(self._choice)
            return self._start

    def _close_when_idle(self) -> None:
        while not self._stopped.wait(min(CLUSTER_IDLE_SECONDS / 4, 30.0)):
            with self._lock:
                start = self._start
                idle = (
                    start is not None
                    and time.monotonic() - self._last_asked > CLUSTER_IDLE_SECONDS
                    and not start.working()
                )
                if idle:
                    self._start = None
            if idle:
                start.close()

    def close(self) -> None:
        self._stopped.set()
        with self._lock:
            start, self._start = self._start, None
        if start is not None:
            start.close()


@st.cache_resource(on_release=lambda shared: shared.close())
def _shared_cluster(choice: str) -> _SharedCluster:
    # One cluster per server process, shared by every session: a Client made on each
    # rerun would start a cluster each time.
    return _SharedCluster(choice)


#: What runs the pipeline while the configured cluster starts.
STAND_IN = Runner(THREADS)


def runner(*, wait: bool = False) -> Runner:
    """Where the pipeline runs: the configured cluster, or threads while it starts (unless
    ``wait``). Called several times a run, so it draws nothing: see ``cluster_problem``."""
    return _shared_cluster(scheduler_choice()).current().get(wait) or STAND_IN


def cluster_problem() -> str:
    """Why the configured cluster is not used (it could not be reached or started), or
    ``""``: for the page to say once."""
    return _shared_cluster(scheduler_choice()).current().problem


def where(scheduler) -> str:
    """``threads``, or the cluster's client: part of the keys of computed stages, so that a
    run made on threads while the cluster started is made again on the cluster, which the
    Cluster page then shows, and that results kept on a cluster closed for idleness are
    never asked for again."""
    return "threads" if scheduler == THREADS else f"cluster {scheduler.id}"
