"""How a computation kept for the server is shown while it runs (``Watch``), and the one
call that computes it once per key under a watch (``computed_once``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from .store import BoundedStore

__all__ = ["UNWATCHED", "Report", "Watch", "computed_once"]

T = TypeVar("T")
Report = Callable[[int, int], None]


class Watch(Protocol):
    """How a computation is shown while it runs."""

    def run(self, label: str, compute: Callable[[Report | None], T]) -> T:
        """``compute(report)``, ``report(done, total)`` counting its tasks, shown as ``label``."""

    def waiting(self, label: str) -> tuple[Callable[[], None], Callable[[], None]]:
        """``(tick, done)`` for a wait on another session's identical computation: ``tick``
        is called every 0.1 s meanwhile (and may raise to stop waiting), ``done`` at the end."""


class _Unwatched:
    """Shows nothing: for scripts and tests."""

    def run(self, label, compute):
        return compute(None)

    def waiting(self, label):
        return (lambda: None), (lambda: None)


UNWATCHED: Watch = _Unwatched()


def computed_once(store: BoundedStore, key, label: str, compute: Callable[[Report | None], T], watch: Watch) -> T:
    """``compute(report)`` once per key of ``store``, shown by ``watch``; later calls reuse the
    result, and a call while another session computes it waits, as ``watch`` shows."""
    tick, done = watch.waiting(label)
    try:
        return store.get_or_compute(key, lambda: watch.run(label, compute), on_wait=tick)
    finally:
        done()
