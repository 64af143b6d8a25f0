"""Where the pipeline runs: threads here, a local ``distributed`` cluster, or a scheduler.

The choice is server-side configuration (Dask's ``scheduler-address``, i.e. the
``DASK_SCHEDULER_ADDRESS`` environment variable, or the command line's ``--scheduler``),
never a web visitor's: results from a scheduler are unpickled in this process.

A scheduler reached by address gets its environment checked (``environment``) and the
project's code (``shipping``) before any work; ``workers_not_seeing`` tells whether its
workers share this machine's files, or need the tiles sent and the results fetched.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import dask
from dask.system import CPU_COUNT

from ..errors import PipelineError
from .environment import check_environment

__all__ = [
    "LOCAL",
    "LOOPBACK",
    "MIN_CLUSTER_TILE_PIXELS",
    "THREADS",
    "Runner",
    "check_new_workers",
    "check_workers_can_read",
    "configured_scheduler",
    "connect",
    "raise_first_error",
    "workers_not_seeing",
    "workers_not_seeing_folder",
]

THREADS = "threads"
LOCAL = "local"


def configured_scheduler(default: str = THREADS) -> str:
    """The scheduler address from Dask's configuration, if one is set, else ``default``."""
    return dask.config.get("scheduler-address", None) or default


#: Tiles with fewer pixels than this run on threads even where a cluster is configured.
#: A cluster's scheduling of a task costs far more than the threaded scheduler's, and about
#: as much as reading and converting a tile this small (mostly the cost of opening its
#: file), so a fine grid of a small image would spend its time scheduling. From 64 x 64,
#: grids of the samples are at most 8 x 8 (under 400 tasks), and a learner sees the workers.
#: Tested by tests/test_cluster.py, test_tiles_too_small_for_a_cluster_run_on_threads; the
#: Speed-up page's grid sweep shows the cost per task, and benchmarks/RESULTS.md, "Small
#: tiles on a cluster", the figures behind the threshold.
MIN_CLUSTER_TILE_PIXELS = 64 * 64

#: Where a local cluster listens: its dashboard shows file names and task details to
#: anyone who can reach it, and has no login.
LOOPBACK = "127.0.0.1"


@dataclass
class Runner:
    """What ``compute`` and ``persist`` run on: ``scheduler`` is passed to them as is."""

    kind: str  # "threads", "local" or "remote"
    client: object | None = None  # distributed.Client
    cluster: object | None = None  # distributed.LocalCluster we started, if any
    dashboard_link: str | None = None  # Dask's dashboard, if the scheduler serves one
    #: The workers whose environment was checked (``check_new_workers``).
    checked_workers: set[str] = field(default_factory=set, repr=False)
    _closed: bool = field(default=False, repr=False)

    def __post_init__(self):
        # Kept, so that it can still be reported once the client is closed.
        self.address = self.client.scheduler.address if self.client is not None else "threads in this process"

    @property
    def scheduler(self):
        return self.client if self.client is not None else THREADS

    def scheduler_for(self, tile_pixels: float):
        """``scheduler``, or threads for tiles too small to pay for a cluster's scheduling
        (``MIN_CLUSTER_TILE_PIXELS``)."""
        return THREADS if tile_pixels < MIN_CLUSTER_TILE_PIXELS else self.scheduler

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def connect(choice: str, *, timeout: float = 10.0, dashboard: bool = True) -> Runner:
    """Start or reach the scheduler named by ``choice``: ``threads``, ``local`` or an address.

    ``local`` starts a ``distributed.LocalCluster`` of one single-threaded worker per core,
    running as threads of this process and listening on the loopback interface only; with
    ``dashboard``, it serves Dask's dashboard (slower to start: bokeh). A scheduler reached
    by address has its nodes' packages checked, then gets the project's code, which its
    scheduler and workers need not have installed (``shipping.ship``), before any work.

    Raises
    ------
    PipelineError
        If the scheduler at the address cannot be reached within ``timeout`` seconds, a
        node lacks a package the pipeline needs or has another version of dask,
        distributed, numpy or Python, or the code cannot be installed there.
    """
    if choice == THREADS:
        return Runner(THREADS)
    from distributed import Client

    if choice == LOCAL:
        cluster = _local_cluster(dashboard)
        client = Client(cluster, set_as_default=False)
        link = None
        if dashboard:  # the scheduler names its host by the network address, where nothing listens
            link = f"http://{LOOPBACK}:{client.scheduler_info()['services']['dashboard']}/status"
        return Runner(LOCAL, client, cluster, dashboard_link=link)
    # distributed warns of mismatched versions with a table; held back until the nodes are
    # checked, which names a fault that matters in one line (and then the table is not shown).
    with warnings.catch_warnings(record=True) as held:
        warnings.simplefilter("always")
        try:
            client = Client(choice, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise PipelineError(f"cannot reach the Dask scheduler at {choice}: {e}") from None
    runner = Runner("remote", client, dashboard_link=_dashboard_link(client))
    try:
        _prepare(runner)
    except BaseException:
        client.close()
        raise
    for warning in held:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return runner


def _prepare(runner: Runner) -> None:
    """Check that the cluster's nodes can run the pipeline, then send them the code."""
    client = runner.client
    check_new_workers(runner)
    if client.scheduler.address.startswith("inproc://"):
        return  # a cluster in this process imports the code this process runs
    from .shipping import ship

    try:
        ship(client)
    except Exception as e:  # whatever a node raised, re-raised here by distributed
        raise PipelineError(f"cannot install the project's code on the cluster: {type(e).__name__}: {e}") from None


def _local_cluster(dashboard: bool):
    from distributed import LocalCluster, Worker

    class LoopbackWorker(Worker):
        # LocalCluster gives a worker a listening address only with a dashboard of its
        # own; without one, its health and metrics endpoints would listen on every
        # interface.
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "dashboard": dashboard, "dashboard_address": f"{LOOPBACK}:0"})

    # Workers in this process, as Dask advises for NumPy work that releases the GIL
    # (SciPy's Sobel, the largest share of the work, runs faster on more threads: see
    # ``python -m benchmarks.bench --cores``). Worker processes would each import the
    # libraries again and send tiles between them, and were slower with the command line
    # (benchmarks/RESULTS.md, "Worker processes against worker threads"). Nor can they start
    # under Streamlit, which runs every page as ``__main__`` for a spawned process to run again.
    return LocalCluster(
        # The usable cores (CPU affinity, quotas), not the machine's: a process pinned to
        # one core gets one worker, as Dask's thread pool gets one thread.
        n_workers=CPU_COUNT, threads_per_worker=1, processes=False, worker_class=LoopbackWorker,
        dashboard_address=f"{LOOPBACK}:0", scheduler_kwargs={"dashboard": dashboard},
        silence_logs=logging.ERROR,
    )


def _dashboard_link(client) -> str | None:
    try:
        return client.dashboard_link
    except KeyError:  # a scheduler without bokeh serves no dashboard
        return None


def _can_read(path: str) -> bool:
    return os.access(path, os.R_OK)


def check_workers_can_read(runner: Runner, path: str | os.PathLike) -> None:
    """Ask every worker whether it can read ``path``; raise if any cannot.

    For a script that needs shared storage. The command line and the app instead send the
    tiles to workers that do not see them (``workers_not_seeing``), which a worker with a
    disk of its own mounted at the same path would pass here.
    """
    if runner.client is None:
        return
    answers = runner.client.run(_can_read, os.fspath(Path(path).resolve()))
    blind = sorted(worker for worker, ok in answers.items() if not ok)
    if blind:
        raise PipelineError(
            f"{len(blind)} of {len(answers)} workers cannot read the tile folder {path} "
            f"({', '.join(blind)}); put it on storage they share (TILE_CACHE_DIR)"
        )


def check_new_workers(runner: Runner) -> None:
    """Check the environment of a remote cluster again if workers joined it since the last
    check (``environment.check_environment``): they get the code as they join, but may lack
    what it needs. Raises ``PipelineError`` naming the fault."""
    if runner.kind != "remote":
        return
    workers = set(runner.client.scheduler_info(n_workers=-1)["workers"])
    if not runner.checked_workers or not workers <= runner.checked_workers:
        check_environment(runner.client)
        runner.checked_workers |= workers


def _fingerprints(paths: list[str]) -> list[list[int] | None]:
    """Size and modification time of each path, None where there is none to see."""
    found = []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            found.append(None)
        else:
            found.append([stat.st_size, stat.st_mtime_ns])
    return found


def workers_not_seeing(runner: Runner, paths) -> list[str]:
    """The workers that do not see ``paths`` as this process does: they find nothing
    there, or other files (their own disk, mounted at the same place). None for threads.

    Where every worker sees them, the workers share this machine's storage.
    """
    if runner.client is None:
        return []
    paths = [os.fspath(Path(path).resolve()) for path in paths]
    here = _fingerprints(paths)
    answers = runner.client.run(_fingerprints, paths)
    return sorted(worker for worker, seen in answers.items() if [list(x) if x else None for x in seen] != here)


def workers_not_seeing_folder(runner: Runner, folder) -> list[str]:
    """``workers_not_seeing`` a file of a random name written into ``folder`` for the
    question: whether the workers would write into the folder this process reads."""
    if runner.client is None:
        return []
    probe = Path(folder) / f".workers-probe-{secrets.token_hex(8)}"
    probe.write_text(probe.name)
    try:
        return workers_not_seeing(runner, [probe])
    finally:
        probe.unlink(missing_ok=True)


def raise_first_error(futures, *, timeout: float | None = None) -> None:
    """Wait for ``futures`` without gathering their data; re-raise the first task error.

    Raises
    ------
    PipelineError
        If they are not all done within ``timeout`` seconds (they are then cancelled).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    for future in futures:
        if future.status == "finished":  # known here: asking the client's loop costs a round trip
            continue
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0.001)
        try:
            error = future.exception(timeout=remaining)
        except TimeoutError:
            for pending in futures:
                pending.cancel()
            raise PipelineError(f"the cluster did not finish within {timeout:g} s") from None
        if error is not None:
            raise error
