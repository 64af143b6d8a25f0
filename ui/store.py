"""A small bounded cache shared by every session of the server."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TypeVar
from collections.abc import Callable, Hashable

__all__ = ["BoundedStore"]

T = TypeVar("T")


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

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value for ``key``, calling ``compute()`` only if no one has stored it yet."""
        value = self.get(key)
        if value is not None:
            return value
        with self._lock:
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:  # a second session asking for the same key waits for the first
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
