"""Where the pipeline runs: threads here, a local ``distributed`` cluster, or a scheduler.

The choice is server-side configuration (Dask's ``scheduler-address``, i.e. the
``DASK_SCHEDULER_ADDRESS`` environment variable, or the command line's ``--scheduler``),
never a web visitor's: results from a scheduler are unpickled in this process.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import dask

from .errors import PipelineError

__all__ = [
    "LOCAL",
    "THREADS",
    "Runner",
    "check_workers_can_read",
    "configured_scheduler",
    "connect",
    "raise_first_error",
]

THREADS = "threads"
LOCAL = "local"


def configured_scheduler(default: str = THREADS) -> str:
    """The scheduler address from Dask's configuration, if one is set, else ``default``."""
    return dask.config.get("scheduler-address", None) or default


@dataclass
class Runner:
    """What ``compute`` and ``persist`` run on: ``scheduler`` is passed to them as is."""

    kind: str  # "threads", "local" or "remote"
    client: object | None = None  # distributed.Client
    cluster: object | None = None  # distributed.LocalCluster we started, if any
    _closed: bool = field(default=False, repr=False)

    def __post_init__(self):
        # Kept, so that it can still be reported once the client is closed.
        self.address = self.client.scheduler.address if self.client is not None else "threads in this process"

    @property
    def scheduler(self):
        return self.client if self.client is not None else THREADS

    @property
    def dashboard_link(self) -> str | None:
        return self.client.dashboard_link if self.client is not None else None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def connect(choice: str, *, timeout: float = 10.0, processes: bool = True) -> Runner:
    """Start or reach the scheduler named by ``choice``: ``threads``, ``local`` or an address.

    ``processes=False`` runs a local cluster's workers as threads of this process: needed
    where the main module cannot be re-imported by spawned workers (Streamlit runs each
    page as ``__main__``, so a worker process would re-run the page).

    Raises
    ------
    PipelineError
        If the scheduler at the address cannot be reached within ``timeout`` seconds.
    """
    if choice == THREADS:
        return Runner(THREADS)
    from distributed import Client, LocalCluster

    if choice == LOCAL:
        # One single-threaded worker per core, in processes where possible: parts of
        # scikit-image hold the GIL, and processes sidestep it.
        cluster = LocalCluster(
            n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=processes,
            dashboard_address=":0", silence_logs=logging.ERROR,
        )
        return Runner(LOCAL, Client(cluster, set_as_default=False), cluster)
    try:
        client = Client(choice, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise PipelineError(f"cannot reach the Dask scheduler at {choice}: {e}") from None
    return Runner("remote", client)


def _can_read(path: str) -> bool:
    return os.access(path, os.R_OK)


def check_workers_can_read(runner: Runner, path: str | os.PathLike) -> None:
    """Ask every worker whether it can read ``path``; raise if any cannot.

    Tiles live on this machine's disk; a remote cluster needs them on shared storage.
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


def raise_first_error(futures, *, timeout: float | None = None) -> None:
    """Wait for ``futures`` without gathering their data; re-raise the first task error.

    Raises
    ------
    PipelineError
        If they are not all done within ``timeout`` seconds (they are then cancelled).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    for future in futures:
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0.001)
        try:
            error = future.exception(timeout=remaining)
        except TimeoutError:
            for pending in futures:
                pending.cancel()
            raise PipelineError(f"the cluster did not finish within {timeout:g} s") from None
        if error is not None:
            raise error
