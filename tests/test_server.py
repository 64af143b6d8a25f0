"""Where the server runs Dask: the shared local cluster, closed when idle and started again."""

import time
import tomllib
from pathlib import Path

import pytest
import streamlit as st

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
