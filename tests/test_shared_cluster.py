"""Where the server runs Dask (``ui.services.cluster``): the shared local cluster, closed
when idle and started again."""

import gc
import threading
import time
import tomllib
from pathlib import Path

import dask
import pytest
import streamlit as st
from dask.system import CPU_COUNT

import ui.services.cluster as cluster


@pytest.fixture
def local_cluster(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "local")
    monkeypatch.setenv("DASHBOARD_CLUSTER_IDLE_SECONDS", "0.5")
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def _wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_an_idle_local_cluster_is_closed_and_the_next_page_gets_a_fresh_one(local_cluster):
    first = cluster.runner(wait=True)
    assert first.kind == "local"
    assert _wait_until(lambda: first.client.status == "closed", 10)
    second = cluster.runner(wait=True)
    assert second.kind == "local" and second.client.status == "running"
    # Results kept on the closed cluster are under keys that are never asked for again.
    assert cluster.where(second.scheduler) != cluster.where(first.scheduler)
    assert second.client.submit(sum, [1, 2]).result() == 3


def test_a_fresh_servers_cluster_starts_once_the_first_page_is_drawn(local_cluster):
    # Its start would take the cores and the GIL from the first visitor's page.
    assert cluster.runner() is cluster.STAND_IN
    time.sleep(1.0)  # a local cluster is up in well under a second when it starts at once
    assert cluster.runner() is cluster.STAND_IN
    cluster.page_drawn()
    assert _wait_until(lambda: cluster.runner() is not cluster.STAND_IN, 30)
    assert cluster.runner().kind == "local"


def test_once_the_cluster_is_up_the_servers_objects_are_left_out_of_full_collections(local_cluster):
    cluster.runner(wait=True)
    assert gc.get_freeze_count() > 0


def test_a_cluster_with_tasks_running_is_not_closed_however_long_they_take(local_cluster):
    active = cluster.runner(wait=True)
    running = active.client.submit(time.sleep, 2.0, pure=False)
    time.sleep(1.5)  # three idle periods
    assert active.client.status == "running"
    running.result()
    assert _wait_until(lambda: active.client.status == "closed", 10)


def test_the_server_runs_no_file_watcher():
    # Streamlit's watcher polls the app's files several times a second (benchmarks/idle.py).
    config = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit/config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"


def test_runs_on_threads_from_a_script_thread_use_one_thread_per_core():
    # Streamlit runs each page in a thread of its own, where Dask's default pool is larger;
    # importing ui.services.cluster sets Dask's num_workers.
    threads = set()

    def note_thread(i):
        threads.add(threading.get_ident())
        time.sleep(0.01)  # long enough that a larger pool would use all its threads
        return i

    tasks = [dask.delayed(note_thread)(i) for i in range(8 * (CPU_COUNT + 4))]
    script = threading.Thread(target=lambda: dask.compute(*tasks, scheduler="threads"))
    script.start()
    script.join()
    assert len(threads) == CPU_COUNT
