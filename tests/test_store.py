import threading
import time

from ui.store import BoundedStore


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
        try:
            store.get_or_compute("k", fail)
        except ValueError:
            pass
    assert store.get("k") is None
    assert store.get_or_compute("k", lambda: 5) == 5


def test_a_failed_computation_leaves_no_lock_behind():
    store = BoundedStore(4)
    try:
        store.get_or_compute("k", lambda: 1 / 0)
    except ZeroDivisionError:
        pass
    assert store._computing == {}
