"""A small bounded cache shared by every session of the server."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["BoundedStore"]

T = TypeVar("T")
#: Seconds between a waiting caller's ``on_wait`` calls.
WAIT_INTERVAL = 0.1


@contextmanager
def _released(lock: threading.Lock):
    """The block runs holding ``lock`` (acquired already), which it releases at the end."""
    try:
        yield
    finally:
        lock.release()


class BoundedStore:
    """Least-recently-used results, computed once per key even when sessions race.

    Streamlit's own caches replay any element a cached function draws, which would replay
    stale progress bars; computing outside them lets each page draw its own progress.
    """

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable):
        """The value for ``key``, or None; a hit counts as a use."""
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def get_or_compute(
        self, key: Hashable, compute: Callable[[], T], *, on_wait: Callable[[], None] | None = None
    ) -> T:
        """The value for ``key``, calling ``compute()`` only if no one has stored it yet.

        A second caller for the same key waits for the first, calling ``on_wait()`` every
        ``WAIT_INTERVAL`` seconds meanwhile: a page can show that it waits, and stop
        waiting (by raising) when its visitor has moved on. If the first caller stops
        without a value (cancelled), the next one computes it.
        """
        value = self.get(key)
        if value is not None:
            return value
        with self._lock:
            key_lock = self._computing.setdefault(key, threading.Lock())
        while not key_lock.acquire(timeout=WAIT_INTERVAL):
            if on_wait is not None:
                on_wait()
        with _released(key_lock):
            try:
                value = self.get(key)
                if value is None:
                    value = compute()
                    with self._lock:
                        self._items[key] = value
                        while len(self._items) > self.max_entries:
                            self._items.popitem(last=False)
            finally:  # a failed computation leaves no lock behind
                with self._lock:
                    self._computing.pop(key, None)
        return value

    def __len__(self) -> int:
        return len(self._items)
