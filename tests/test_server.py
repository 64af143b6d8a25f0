"""Where the server runs Dask: the shared local cluster, closed when idle and started again."""

import threading
import time
import tomllib
from pathlib import Path
from types import SimpleNamespace

import dask
import pytest
import streamlit as st
from dask.system import CPU_COUNT
from streamlit.watcher import polling_path_watcher

import ui.server


@pytest.fixture
def local_cluster(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "local")
    monkeypatch.setattr(ui.server, "CLUSTER_IDLE_SECONDS", 0.5)
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
    first = ui.server.runner(wait=True)
    assert first.kind == "local"
    assert _wait_until(lambda: first.client.status == "closed", 10)
    second = ui.server.runner(wait=True)
    assert second.kind == "local" and second.client.status == "running"
    # Results kept on the closed cluster are under keys that are never asked for again.
    assert ui.server.where(second.scheduler) != ui.server.where(first.scheduler)
    assert second.client.submit(sum, [1, 2]).result() == 3


def test_a_cluster_with_tasks_running_is_not_closed_however_long_they_take(local_cluster):
    active = ui.server.runner(wait=True)
    running = active.client.submit(time.sleep, 2.0, pure=False)
    time.sleep(1.5)  # three idle periods
    assert active.client.status == "running"
    running.result()
    assert _wait_until(lambda: active.client.status == "closed", 10)


def test_the_server_runs_no_file_watcher():
    # Streamlit's watcher polls the app's files several times a second (benchmarks/idle.py).
    config = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit/config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"


def test_streamlit_looks_at_its_config_files_every_few_seconds_and_still_reloads_an_edit(tmp_path, monkeypatch):
    # It looked every 0.2 s, a third to a half of an idle server's CPU (benchmarks/idle.py);
    # importing ui.server lengthens that.
    assert polling_path_watcher._POLLING_PERIOD_SECS == ui.server.CONFIG_POLL_SECONDS
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        time.sleep(0.01)

    monkeypatch.setattr(polling_path_watcher, "time", SimpleNamespace(sleep=sleep))
    config = tmp_path / "config.toml"  # absent at first, as ~/.streamlit/config.toml usually is
    reloaded = threading.Event()
    watcher = polling_path_watcher.PollingPathWatcher(str(config), lambda path: reloaded.set(), allow_nonexistent=True)
    try:
        config.write_text("[server]\nheadless = true\n")
        assert reloaded.wait(10)
    finally:
        watcher.close()
        looks = len(slept)
        _wait_until(lambda: len(slept) > looks, 1)  # its last sleep, unless it was already made
    assert set(slept) == {ui.server.CONFIG_POLL_SECONDS}


def test_a_streamlit_without_the_poll_period_is_left_as_it_is(monkeypatch):
    monkeypatch.delattr(polling_path_watcher, "_POLLING_PERIOD_SECS")
    ui.server._poll_config_files_slowly()
    assert not hasattr(polling_path_watcher, "_POLLING_PERIOD_SECS")


def test_runs_on_threads_from_a_script_thread_use_one_thread_per_core():
    # Streamlit runs each page in a thread of its own, where Dask's default pool is larger;
    # importing ui.server sets Dask's num_workers.
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
