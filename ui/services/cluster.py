"""Where the dashboard's Dask runs: threads in the server, or a cluster started (or reached)
once per server process, in the background, and shared by every session."""

from __future__ import annotations

import gc
import threading
import time
from urllib.parse import urlsplit

import dask
import streamlit as st
from dask.system import CPU_COUNT

from core.errors import PipelineError
from core.runtime import LOCAL, THREADS, Runner, configured_scheduler, connect

from . import config

__all__ = ["STAND_IN", "cluster_problem", "dashboard_reachable", "page_drawn", "runner", "scheduler_choice", "where"]

#: Host names that reach only the machine the browser runs on.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# Streamlit runs each script in a thread of its own, and there Dask's threaded scheduler
# makes a pool of Python's default size, os.cpu_count() + 4 threads, instead of one thread
# per core as on a program's main thread.
dask.config.set({"num_workers": CPU_COUNT})

#: How long a fresh server's cluster waits for the first page to be drawn before it starts
#: anyway (a page that stopped on an error never says it was drawn).
FIRST_PAGE_SECONDS = 10.0


def scheduler_choice() -> str:
    """``$DASHBOARD_SCHEDULER`` (threads, local or an address), else Dask's configured
    ``scheduler-address``, else a local cluster. Never a visitor's choice."""
    return config.get("DASHBOARD_SCHEDULER") or configured_scheduler(default=LOCAL)


class _ClusterStart:
    """The configured scheduler, reached or started in a background thread, so that the
    first visitor's pictures do not wait for it (the local cluster and its dashboard take
    the better part of a second to start): runs go on threads until it is ready."""

    def __init__(self, choice: str, after: threading.Event):
        self._ready = threading.Event()
        self._after = after
        self.runner: Runner | None = None
        self.problem = ""
        threading.Thread(target=self._connect, args=(choice,), name="cluster-start", daemon=True).start()

    def _connect(self, choice: str) -> None:
        # Starting a local cluster imports distributed and its dashboard under the GIL, and
        # its workers' imports take both cores: 0.4 s more for a fresh server's first page.
        self._after.wait(FIRST_PAGE_SECONDS)
        try:
            self.runner = connect(choice, timeout=5)
        except (PipelineError, OSError, RuntimeError) as e:  # unreachable, or failed to start
            self.runner, self.problem = connect(THREADS), f"{e}. Running on threads in the server process instead."
        finally:
            _freeze_once()
            self._ready.set()

    def get(self, wait: bool) -> Runner | None:
        """The runner, or None while it is starting (unless ``wait``)."""
        if wait:
            self._after.set()
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


_frozen = threading.Event()


def _freeze_once() -> None:
    """Leave what the server has made so far (its modules, the first page's, the cluster's
    client) out of Python's full garbage collections for good: one of them scanned it all
    in the middle of a rerun, 110 ms of a 170-ms page (``benchmarks/tweaking.py``)."""
    if not _frozen.is_set():
        _frozen.set()
        gc.freeze()


class _SharedCluster:
    """The server's cluster, shared by every session; a local one is closed once it has
    been idle for ``$DASHBOARD_CLUSTER_IDLE_SECONDS`` and started afresh when a page next needs it."""

    def __init__(self, choice: str):
        self._choice = choice
        self._idle_seconds = config.get("DASHBOARD_CLUSTER_IDLE_SECONDS")
        self._lock = threading.Lock()
        self.page_drawn = threading.Event()  # the first page: the cluster starts after it
        self._start: _ClusterStart | None = _ClusterStart(choice, self.page_drawn)
        self._last_asked = time.monotonic()
        self._stopped = threading.Event()
        if choice == LOCAL:
            threading.Thread(target=self._close_when_idle, name="cluster-idle", daemon=True).start()

    def current(self) -> _ClusterStart:
        with self._lock:
            self._last_asked = time.monotonic()
            if self._start is None:
                self._start = _ClusterStart(self._choice, self.page_drawn)
            return self._start

    def _close_when_idle(self) -> None:
        while not self._stopped.wait(min(self._idle_seconds / 4, 30.0)):
            with self._lock:
                start = self._start
                idle = (
                    start is not None
                    and time.monotonic() - self._last_asked > self._idle_seconds
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


def page_drawn() -> None:
    """Say that a page has been drawn: a fresh server's cluster starts once the first is."""
    _shared_cluster(scheduler_choice()).page_drawn.set()


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


def dashboard_reachable(dashboard_link: str, page_url: str | None) -> bool:
    """Whether a browser that opened the app at ``page_url`` can open Dask's dashboard at
    ``dashboard_link``. A local cluster serves it on the server's loopback address, which
    only a browser on the server itself reaches: one that opened the app there too. Another
    host, or a page address the browser did not give, is assumed reachable."""
    if urlsplit(dashboard_link).hostname not in LOOPBACK_HOSTS or page_url is None:
        return True
    return urlsplit(page_url).hostname in LOOPBACK_HOSTS
