import contextlib
import threading
import time

import pytest

from ui.services.store import BoundedStore


def test_keeps_the_most_recently_used_entries():
    store = BoundedStore(2)
    store.get_or_compute("a", lambda: 1)
    store.get_or_compute("b", lambda: 2)
    assert store.get("a") == 1  # a is now more recent than b
    store.get_or_compute("c", lambda: 3)
    assert len(store) == 2
    assert store.get("b") is None
    assert (store.get("a"), store.get("c")) == (1, 3)


def test_racing_sessions_compute_a_key_once():
    store = BoundedStore(4)
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return "result"

    results = []
    threads = [threading.Thread(target=lambda: results.append(store.get_or_compute("k", slow))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["result"] * 4
    assert len(calls) == 1


def test_a_failed_computation_is_not_stored():
    store = BoundedStore(4)

    def fail():
        raise ValueError("no")

    for _ in range(2):
        with pytest.raises(ValueError):
            store.get_or_compute("k", fail)
    assert store.get("k") is None
    assert store.get_or_compute("k", lambda: 5) == 5


def test_a_failed_computation_leaves_no_lock_behind():
    store = BoundedStore(4)
    with pytest.raises(ZeroDivisionError):
        store.get_or_compute("k", lambda: 1 / 0)
    assert store._computing == {}


def test_a_waiting_caller_is_told_while_it_waits_and_can_stop_waiting():
    store = BoundedStore(4)
    first_started, release = threading.Event(), threading.Event()

    def slow():
        first_started.set()
        release.wait(5)
        return "result"

    first = threading.Thread(target=lambda: store.get_or_compute("k", slow))
    first.start()
    first_started.wait(5)
    waits = []

    def moved_on():
        waits.append(time.monotonic())
        if len(waits) == 3:
            raise KeyboardInterrupt  # as a page stopped by its visitor's next click

    with pytest.raises(KeyboardInterrupt):
        store.get_or_compute("k", lambda: "computed twice", on_wait=moved_on)
    assert len(waits) == 3  # told every WAIT_INTERVAL, and stopped at once when it raised
    release.set()
    first.join()
    assert store.get("k") == "result"


def test_when_the_first_caller_is_cancelled_a_waiting_one_computes_the_value():
    store = BoundedStore(4)
    first_started, cancel = threading.Event(), threading.Event()

    def cancelled():
        first_started.set()
        cancel.wait(5)
        raise KeyboardInterrupt  # a script stopped mid-run: not even an Exception

    def first_caller():
        with contextlib.suppress(KeyboardInterrupt):
            store.get_or_compute("k", cancelled)

    first = threading.Thread(target=first_caller)
    first.start()
    first_started.wait(5)
    waits = []
    second = threading.Thread(
        target=lambda: waits.append(store.get_or_compute("k", lambda: "second", on_wait=lambda: cancel.set()))
    )
    second.start()
    first.join()
    second.join()
    assert waits == ["second"] and store.get("k") == "second"
