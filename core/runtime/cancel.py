"""Work that nobody waits for any more is stopped: the futures of a cluster are cancelled
when the code waiting for them stops early.

A dashboard page stops mid-run when its visitor cancels or changes a setting: Streamlit
raises its own exception from the next progress report. On threads that stops the graph
at once (the local schedulers call the report between tasks, and submit no more); on a
cluster the tasks were submitted already, and would run on, taking the workers from the
next visitor, unless cancelled.
"""

from __future__ import annotations

import sys

import dask

__all__ = ["cancel", "persist_and_wait"]


def cancel(collections) -> None:
    """Let go of the cluster futures behind ``collections`` (none on threads: nothing to do).

    Released, not ``Client.cancel``led: the server's one client serves every session, and
    a cancel would also take the tasks from a visitor whose identical run holds the same
    keys (and tripped the scheduler's ``assert ts.who_wants`` when it did, which broke the
    client's connection for every page after it). A released key that no other future
    holds is forgotten by the scheduler, its waiting tasks with it.
    """
    for future in _futures_of(collections):
        future.release()


def _futures_of(collections) -> list:
    # Futures exist only once distributed is imported: a run on threads never imports it.
    distributed = sys.modules.get("distributed")
    return distributed.futures_of(collections) if distributed is not None else []


def persist_and_wait(collections: list, wait, **persist_options) -> list:
    """``dask.persist(*collections)``, then ``wait(persisted)``; if waiting stops early
    (any exception, a script stopped mid-run included), the futures are cancelled before
    it propagates, so nothing keeps running for a result nobody will see."""
    persisted = dask.persist(*collections, **persist_options)
    try:
        wait(persisted)
    except BaseException:
        cancel(persisted)
        raise
    return list(persisted)
