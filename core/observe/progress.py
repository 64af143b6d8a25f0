"""Watching a compute: what each task did and when, and how many tasks are done.

On the local schedulers these are callbacks given to one compute at a time
(``for_this_compute``); on a cluster, the scheduler's progress feed.
"""

from __future__ import annotations

import threading
import time

from dask.callbacks import Callback

__all__ = ["ProgressCallback", "TaskClock", "for_this_compute", "wait_with_progress"]


def for_this_compute(*callbacks: Callback | None) -> dict:
    """The keyword arguments that run ``callbacks`` during one compute on the local
    schedulers, and no other: ``dask.compute(x, **for_this_compute(timer, progress))``.

    ``with callback:`` registers it for the whole process, and the server computes several
    visitors' pages at once on threads: each would see the others' tasks. Worse, a compute
    given no callbacks takes the registered ones for its own run and hands them back only
    when it ends, so a run that starts meanwhile reports nothing.

    Without any, the compute runs those registered with ``with``, as dask does by default:
    the app registers none; a test may, to watch from outside.
    """
    given = [callback._callback for callback in callbacks if callback is not None]
    return {"callbacks": given} if given else {}


class TaskClock(Callback):
    """Calls ``record(key, start, stop, thread)`` for every task the local schedulers run,
    on ``time.perf_counter``'s clock; ``thread`` is the scheduler's ``worker_id``.

    A task's time runs from its submission to its result; the local schedulers submit a
    task only when a thread is free for it, so this is its run time plus a little overhead.
    ``record`` is called under a lock, from the thread that called ``compute``.
    """

    def __init__(self, record):
        super().__init__()
        self._record = record
        self._started: dict = {}
        self._lock = threading.Lock()

    def _pretask(self, key, dsk, state):
        self._started[key] = time.perf_counter()

    def _posttask(self, key, result, dsk, state, worker_id):
        stopped = time.perf_counter()
        with self._lock:
            self._record(key, self._started.pop(key), stopped, worker_id)


def wait_with_progress(collections, report=None, interval: float = 0.1) -> None:
    """Wait for persisted collections on a cluster, calling ``report(done, total)`` with
    the tasks behind them that the scheduler has finished, from this thread.

    Collections persisted on threads are already computed, and return at once.
    """
    from distributed import futures_of
    from distributed.diagnostics.progressbar import ProgressBar

    from ..runtime.cluster import raise_first_error

    futures = futures_of(collections)
    if not futures:
        return
    counts = None
    if report is not None:

        class TaskCounts(ProgressBar):
            # distributed's progress feed, which counts every task the futures depend on.
            done, total = 0, 0

            def _draw_bar(self, remaining, all, **kwargs):
                self.total, self.done = all, all - remaining

        client = futures[0].client
        counts = TaskCounts(futures, scheduler=client.scheduler.address, interval=interval)
        client.loop.add_callback(counts.listen)
    all_done = _all_done_event(futures)
    while True:
        finished = all_done.wait(interval)  # back as soon as the last one is done
        if counts is not None and counts.total:
            # The feed runs a little behind the futures: once they are done, so is every task.
            report(counts.total if finished else counts.done, counts.total)
        if finished:
            break
    raise_first_error(futures)


def _all_done_event(futures) -> threading.Event:
    """An event set once every future is finished (done, failed or cancelled)."""
    event, left, lock = threading.Event(), [len(set(futures))], threading.Lock()

    def one_done(_future) -> None:
        with lock:
            left[0] -= 1
            if left[0] == 0:
                event.set()

    for future in set(futures):
        future.add_done_callback(one_done)
    return event


class ProgressCallback(Callback):
    """Calls ``report(done, total)`` as tasks finish, at most every ``interval`` seconds.

    The local schedulers run these hooks in the thread that called ``compute``, so
    ``report`` may update a user interface owned by that thread.
    """

    def __init__(self, report, interval: float = 0.1):
        super().__init__()
        self._report = report
        self._interval = interval

    def _start_state(self, dsk, state):
        self._total = sum(len(state[k]) for k in ("ready", "waiting", "running", "finished"))
        self._done = len(state["finished"])
        self._last = 0.0

    def _posttask(self, key, result, dsk, state, worker_id):
        self._done += 1
        now = time.perf_counter()
        if now - self._last >= self._interval:
            self._last = now
            self._report(self._done, self._total)

    def _finish(self, dsk, state, errored):
        if not errored:
            self._report(self._total, self._total)
