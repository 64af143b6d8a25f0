"""The Speed-up page: measured only when asked, kept for every visitor, stopped or failed with a word."""

import pytest
from apptest import assert_clean, open_app
from streamlit.testing.v1 import AppTest

import ui.services.cluster
import ui.services.sweeps
from core.errors import PipelineError
from ui.services.scaling import default_worker_counts

pytestmark = pytest.mark.usefixtures("fresh_server")


SPEEDUP = "pages/6_Speedup.py"


def figures(at: AppTest) -> list:
    return at.get("image")


@pytest.fixture
def counted_sweeps(monkeypatch):
    """How often each sweep really ran; one run per worker count or grid keeps tests quick."""
    calls = {"workers": 0, "grids": 0}
    real = {"workers": ui.services.sweeps.measure_workers, "grids": ui.services.sweeps.measure_grids}

    def counting(name):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real[name](*args, **kwargs)
        return wrapper

    monkeypatch.setattr(ui.services.sweeps, "SWEEP_REPEATS", 1)
    monkeypatch.setattr(ui.services.sweeps, "measure_workers", counting("workers"))
    monkeypatch.setattr(ui.services.sweeps, "measure_grids", counting("grids"))
    return calls


def test_the_speedup_page_measures_only_when_asked_and_keeps_the_result(counted_sweeps):
    at = open_app(SPEEDUP)
    assert_clean(at, SPEEDUP)
    assert not figures(at) and counted_sweeps == {"workers": 0, "grids": 0}
    assert "Nothing measured yet" in at.info[0].value
    at.button(key="measure_speedup").click().run()
    assert_clean(at, SPEEDUP)
    assert len(figures(at)) == 2 and counted_sweeps == {"workers": 1, "grids": 1}
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["1 worker"].endswith(" ms") and "Speed-up" in metrics
    assert list(at.dataframe[0].value["workers"]) == default_worker_counts()  # 1..N, N the cores
    at.run()  # a rerun, and another visitor, reuse the measurement
    assert len(figures(at)) == 2
    assert len(figures(open_app(SPEEDUP))) == 2
    assert counted_sweeps == {"workers": 1, "grids": 1}


def test_a_new_grid_needs_a_new_worker_sweep_but_keeps_the_grid_sweep(counted_sweeps):
    at = open_app(SPEEDUP)
    at.button(key="measure_speedup").click().run()
    at.number_input(key="rows").set_value(3)
    at.button(key="apply_grid").click().run()
    assert_clean(at, SPEEDUP)
    assert len(figures(at)) == 1 and "On grids of" in at.subheader[0].value
    at.button(key="measure_speedup").click().run()
    assert len(figures(at)) == 2 and counted_sweeps == {"workers": 2, "grids": 1}


def test_the_speedup_page_says_when_a_measurement_was_stopped_or_failed(monkeypatch):
    at = open_app(SPEEDUP)
    at.button(key="stop_speedup").click().run()
    assert not at.exception and "Stopped" in at.info[0].value

    def failing(*args, **kwargs):
        raise PipelineError("the disk is full")

    monkeypatch.setattr(ui.services.sweeps, "measure_workers", failing)
    at.button(key="measure_speedup").click().run()
    assert not at.exception
    assert at.error[0].value == "Could not measure: the disk is full."


def test_after_measuring_the_page_predicts_more_workers_and_says_where_it_parts_from_the_points(counted_sweeps):
    at = open_app(SPEEDUP)
    at.button(key="measure_speedup").click().run()
    assert_clean(at, SPEEDUP)
    metrics = {m.label: m.value for m in at.metric}
    assert {"Work", "Span", "Work / span", "16 workers (predicted)", "64 workers (predicted)"} <= set(metrics)
    assert metrics["16 workers (predicted)"].endswith(" ms")
    words = " ".join(m.value for m in at.markdown)
    assert "Where they part, and why" in words and "memory bus" in words and "GIL" in words and "serial decode" in words
    captions = " ".join(c.value for c in at.caption)
    assert "1 worker: " in captions and "predicted," in captions and "measured (" in captions
