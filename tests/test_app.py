"""The app run headless with Streamlit's AppTest: every page, setting, link and upload."""

import io
import threading
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from dask.system import CPU_COUNT
from PIL import Image
from streamlit.testing.v1 import AppTest

import ui.state
from core import PipelineError
from core.scaling import default_worker_counts
from helpers import BAD_FILES, png_header_claiming

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = [
    "pages/1_Tiles.py", "pages/2_Grayscale.py", "pages/3_Stitched.py", "pages/4_Edges.py", "pages/5_Cluster.py",
    "pages/6_Speedup.py",
]
TITLES = {
    "app.py": "Dask, tile by tile",
    "pages/1_Tiles.py": "1 · Tiles on disk",
    "pages/2_Grayscale.py": "2 · Grayscale, tile by tile",
    "pages/3_Stitched.py": "3 · Stitched into one image",
    "pages/4_Edges.py": "4 · Sobel edges, clipped",
    "pages/5_Cluster.py": "Where Dask runs",
    "pages/6_Speedup.py": "Speed-up: what more workers buy",
}
#: Pages without a task graph of their own.
GRAPHLESS = ("app.py", "pages/5_Cluster.py", "pages/6_Speedup.py")


@pytest.fixture(autouse=True)
def fresh_server(tmp_path, monkeypatch):
    """Each test is a new server: its own tile cache and empty shared caches."""
    monkeypatch.setenv("TILE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "threads")  # test_cluster_page uses a cluster
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def open_app(page: str = "app.py", query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if query:
        at.query_params.update(query)
    if page != "app.py":
        at.switch_page(page)
    return at.run()


def assert_clean(at: AppTest, page: str) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == TITLES[page]


def graphs(at: AppTest) -> list[str]:
    return [element.proto.spec for element in at.get("graphviz_chart")]


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("page", ["app.py", *PAGES])
def test_every_page_runs_clean_with_defaults(page):
    at = open_app(page)
    assert_clean(at, page)
    assert dict(at.query_params) == {"sample": "astronaut", "rows": "2", "cols": "2", "clip": "0,1", "sobel": "x"}
    if page not in GRAPHLESS:
        assert graphs(at) and graphs(at)[0].startswith("digraph")


@pytest.mark.parametrize("mode", ["x", "y", "magnitude"])
def test_every_page_runs_with_each_sobel_mode(mode):
    at = open_app()
    at.radio(key="sobel").set_value(mode).run()
    assert_clean(at, "app.py")
    for page in PAGES:
        at.switch_page(page).run()
        assert_clean(at, page)
        assert at.radio(key="sobel").value == mode
    assert at.query_params["sobel"] == mode


SHARED = {"sample": "coffee", "rows": "3", "cols": "5", "clip": "0,0.5", "sobel": "magnitude"}


@pytest.mark.parametrize("page", ["app.py", *PAGES])
def test_a_shared_link_opens_any_page_with_its_settings(page):
    at = open_app(page, SHARED)
    assert_clean(at, page)
    assert at.selectbox(key="sample").value == "coffee"
    assert (at.number_input(key="rows").value, at.number_input(key="cols").value) == (3, 5)
    assert at.slider(key="clip").value == (0.0, 0.5)
    assert at.radio(key="sobel").value == "magnitude"
    assert dict(at.query_params) == SHARED


def test_settings_survive_moving_between_pages():
    at = open_app()
    at.number_input(key="rows").set_value(4)
    at.number_input(key="cols").set_value(3)
    at.button(key="apply_grid").click().run()
    at.selectbox(key="sample").set_value("chelsea").run()
    for page in [*PAGES, "app.py", "pages/2_Grayscale.py"]:
        at.switch_page(page).run()
        assert_clean(at, page)
        assert (at.number_input(key="rows").value, at.number_input(key="cols").value) == (4, 3)
        assert at.selectbox(key="sample").value == "chelsea"
    assert at.query_params["rows"] == "4" and at.query_params["sample"] == "chelsea"


def test_rows_and_columns_are_applied_together(tmp_path):
    at = open_app("pages/1_Tiles.py")
    at.number_input(key="rows").set_value(3).run()  # typed, not applied: the rerun drops it
    assert len(at.dataframe[0].value) == 4 and at.number_input(key="rows").value == 2
    at.number_input(key="rows").set_value(3)
    at.number_input(key="cols").set_value(3)
    at.button(key="apply_grid").click().run()
    assert_clean(at, "pages/1_Tiles.py")
    assert len(at.dataframe[0].value) == 9 and at.query_params["rows"] == at.query_params["cols"] == "3"
    grids = sorted(folder.name.rsplit("-", 1)[1] for folder in (tmp_path / "cache").glob("*-*x*"))
    assert grids == ["02x02", "03x03"]  # no 3 x 2 split on the way


def test_the_tiles_page_lists_every_tile_file():
    at = open_app("pages/1_Tiles.py", {"rows": "3", "cols": "4"})
    table = at.dataframe[0].value
    assert len(table) == 12
    assert list(table["file"])[-1] == "tile_r002_c003.tif"
    assert set(table["pixels (h x w)"]) <= {"171 x 128", "170 x 128"}


def test_bad_link_values_are_ignored_with_a_warning():
    at = open_app("app.py", {"rows": "99", "sobel": "diagonal", "clip": "3,1", "sample": "nope"})
    assert not at.exception
    warning = at.warning[0].value
    for part in ("rows=99", "sobel=diagonal", "clip=3,1", "sample=nope"):
        assert part in warning
    assert at.number_input(key="rows").value == 2


def test_switching_to_magnitude_keeps_the_clip_range_inside_its_range():
    at = open_app("pages/4_Edges.py", {"clip": "-3,-1"})
    assert at.slider(key="clip").value == (-3.0, -1.0)
    at.radio(key="sobel").set_value("magnitude").run()
    assert_clean(at, "pages/4_Edges.py")
    lo, hi = at.slider(key="clip").value
    assert 0 <= lo < hi


def test_a_clip_change_does_not_rerun_the_sobel_filter_or_reread_tiles(monkeypatch):
    calls = {"gray": 0, "edges": 0}
    real_gray, real_edges = ui.state.run_gray_stages, ui.state.run_edge_stage

    def counting(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(ui.state, "run_gray_stages", counting("gray", real_gray))
    monkeypatch.setattr(ui.state, "run_edge_stage", counting("edges", real_edges))
    at = open_app("pages/4_Edges.py")
    assert calls == {"gray": 1, "edges": 1}
    at.slider(key="clip").set_value((0.2, 0.6)).run()
    assert_clean(at, "pages/4_Edges.py")
    assert calls == {"gray": 1, "edges": 1}
    at.radio(key="sobel").set_value("y").run()
    assert calls == {"gray": 1, "edges": 2}  # a new mode filters again, from memory


def test_the_edges_page_says_when_tiles_are_merged_for_the_filter():
    at = open_app("pages/4_Edges.py", {"rows": "16", "cols": "16"})  # 32-px tiles of a 512-px sample
    assert_clean(at, "pages/4_Edges.py")
    assert any("runs on 4 x 4 chunks rather than the 16 x 16 tiles" in c.value for c in at.caption)
    at = open_app("pages/4_Edges.py", {"rows": "2", "cols": "2"})
    assert not any("chunks rather than" in c.value for c in at.caption)


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    return at.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()


def test_an_upload_replaces_the_sample_on_every_page_until_cleared(rng):
    pixels = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    at = upload(open_app(), "holiday.png", png(pixels))
    assert_clean(at, "app.py")
    assert "Using upload: holiday.png" in [t.value for t in at.text]
    shapes = ["(45, 60, 3)", "(45, 60)", "(90, 120)", "(90, 120)"]  # a tile, a gray tile, the image
    for page, shape in zip(PAGES[:4], shapes):
        at.switch_page(page).run()
        assert_clean(at, page)
        assert f"shape `{shape}`" in " ".join(m.value for m in at.markdown)
    at.switch_page("app.py").run()
    assert "holiday.png" in at.caption[0].value
    assert at.selectbox(key="sample").disabled
    at.button(key="forget_upload").click().run()
    assert "Astronaut" in at.caption[0].value and not at.selectbox(key="sample").disabled


BAD_UPLOADS = {name: data for name, (data, _) in BAD_FILES.items()}
BAD_UPLOADS["truncated png"] = png(np.random.default_rng(2).integers(0, 256, (50, 50, 3), np.uint8))[:3000]
BAD_UPLOADS["decompression bomb"] = png_header_claiming(30_000, 30_000)


@pytest.mark.parametrize("kind", BAD_UPLOADS)
def test_a_bad_upload_shows_an_error_and_the_next_good_one_works(kind, rng):
    at = upload(open_app("pages/2_Grayscale.py"), "bad.png", BAD_UPLOADS[kind])
    assert not at.exception
    assert at.error and "Could not read this image" in at.error[0].value
    at = upload(at, "good.png", png(rng.integers(0, 256, (40, 60), dtype=np.uint8)))
    assert_clean(at, "pages/2_Grayscale.py")


def test_a_grid_larger_than_the_upload_is_explained(rng):
    at = upload(open_app("pages/1_Tiles.py"), "tiny.png", png(rng.integers(0, 256, (8, 30), dtype=np.uint8)))
    at.number_input(key="rows").set_value(12)
    at.button(key="apply_grid").click().run()
    assert not at.exception
    assert "does not fit" in at.error[0].value
    at.number_input(key="rows").set_value(8)
    at.button(key="apply_grid").click().run()
    assert_clean(at, "pages/1_Tiles.py")


def test_the_uploaded_file_name_never_becomes_a_path(tmp_path, rng):
    name = "../../escape.png"
    at = upload(open_app(), name, png(rng.integers(0, 256, (20, 20), dtype=np.uint8)))
    assert_clean(at, "app.py")
    cache = tmp_path / "cache"
    everything = [p.name for p in tmp_path.rglob("*")]
    assert "escape.png" not in everything
    assert all(len(p.name) == 64 for p in (cache / "uploads").iterdir())


@pytest.mark.parametrize("page, labels", [
    ("pages/1_Tiles.py", {"Download the tiles (zip, 0.8 MB)", "Download the graph (DOT)"}),  # 4 x 197 kB
    ("pages/4_Edges.py", {"Download the edges (PNG, full resolution)", "Download the graph (DOT)"}),
])
def test_pages_offer_their_downloads(page, labels):
    at = open_app(page)
    assert labels <= {button.proto.label for button in at.get("download_button")}


def test_the_cluster_page_shows_workers_and_which_tiles_they_read(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "local")
    at = open_app("pages/5_Cluster.py", {"rows": "3", "cols": "4"})
    assert_clean(at, "pages/5_Cluster.py")
    workers, tiles = (frame.value for frame in at.dataframe)
    assert len(workers) == CPU_COUNT and set(workers["threads"]) == {1}
    assert tiles.shape == (3, 4)
    assert set(tiles.to_numpy().ravel()) <= set(workers["worker"]) == {f"worker {i + 1}" for i in range(len(workers))}
    legend = [m.value for m in at.markdown if "■" in m.value]  # under the tinted tile picture
    assert legend and all(f"■ {name}" in legend[0] for name in workers["worker"])
    assert "Dask runs on: a local Dask cluster" in " ".join(c.value for c in at.sidebar.caption)
    links = [button.proto for button in at.get("link_button")]
    assert links and links[0].url.startswith("http://127.0.0.1:") and links[0].url.endswith("/status")
    at.switch_page("pages/4_Edges.py").run()  # the other pages run on the cluster too
    assert_clean(at, "pages/4_Edges.py")


def test_tiles_too_small_for_the_cluster_are_read_on_threads_and_the_page_says_why(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "local")
    at = open_app("pages/5_Cluster.py", {"rows": "16", "cols": "16"})  # 32 x 32 tiles
    assert_clean(at, "pages/5_Cluster.py")
    assert "Dask runs on: threads in the server, for tiles this small" in " ".join(c.value for c in at.sidebar.caption)
    assert any("(32 x 32 pixels) were read on threads" in info.value for info in at.info)
    assert not [m.value for m in at.markdown if "■" in m.value]  # no worker tints: no worker read them


def test_pages_run_on_threads_while_the_cluster_starts_and_on_it_once_it_is_up(monkeypatch):
    starting = threading.Event()
    real_connect = ui.state.connect

    def slow_connect(choice, **kwargs):
        if choice == "local":
            starting.wait(60)
        return real_connect(choice, **kwargs)

    monkeypatch.setattr(ui.state, "connect", slow_connect)
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "local")
    try:
        at = open_app("app.py", {"rows": "3", "cols": "4"})
        assert_clean(at, "app.py")  # its pictures did not wait for the cluster
        assert "threads in the server while the cluster starts" in " ".join(c.value for c in at.sidebar.caption)
    finally:
        starting.set()
    at = open_app("pages/5_Cluster.py", {"rows": "3", "cols": "4"})  # waits for the cluster
    assert_clean(at, "pages/5_Cluster.py")
    legend = [m.value for m in at.markdown if "■" in m.value]
    assert legend and "■ worker 1" in legend[0]  # the tiles were read again, on the workers


def test_an_unreachable_cluster_falls_back_to_threads(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "tcp://127.0.0.1:9")
    at = open_app("pages/5_Cluster.py")
    assert not at.exception
    assert "cannot reach the Dask scheduler" in at.sidebar.warning[0].value
    assert "threads in the server" in " ".join(c.value for c in at.sidebar.caption)


def test_a_link_with_an_upload_opens_the_same_picture_elsewhere(rng):
    pixels = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)
    at = upload(open_app(), "private.png", png(pixels))
    digest = at.query_params["upload"]
    assert len(digest) == 64
    link = dict(at.query_params)
    teammate = open_app("pages/3_Stitched.py", link)  # a new session, as from a copied link
    assert_clean(teammate, "pages/3_Stitched.py")
    assert "shape `(30, 50)`" in " ".join(m.value for m in teammate.markdown)
    assert "Using upload: a shared upload" in [t.value for t in teammate.text]
    assert teammate.selectbox(key="sample").disabled  # the upload, not the sample, is shown


def test_a_link_to_an_upload_no_longer_on_the_server_is_explained():
    at = open_app("pages/1_Tiles.py", {"upload": "0" * 64})
    assert not at.exception
    assert "no longer on the server" in at.error[0].value
    at.button(key="forget_upload").click().run()
    assert_clean(at, "pages/1_Tiles.py")
    assert "upload" not in at.query_params


SPEEDUP = "pages/6_Speedup.py"


def figures(at: AppTest) -> list:
    return at.get("image")


@pytest.fixture
def counted_sweeps(monkeypatch):
    """How often each sweep really ran; one run per worker count or grid keeps tests quick."""
    calls = {"workers": 0, "grids": 0}
    real = {"workers": ui.state.measure_workers, "grids": ui.state.measure_grids}

    def counting(name):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real[name](*args, **kwargs)
        return wrapper

    monkeypatch.setattr(ui.state, "SWEEP_REPEATS", 1)
    monkeypatch.setattr(ui.state, "measure_workers", counting("workers"))
    monkeypatch.setattr(ui.state, "measure_grids", counting("grids"))
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

    monkeypatch.setattr(ui.state, "measure_workers", failing)
    at.button(key="measure_speedup").click().run()
    assert not at.exception
    assert at.error[0].value == "Could not measure: the disk is full."


def test_every_page_links_to_the_speedup_page():
    for page in ("app.py", SPEEDUP, "pages/1_Tiles.py"):
        links = [(link.proto.page, link.proto.label) for link in open_app(page).sidebar.get("page_link")]
        assert ("Speedup", "Speed-up") in links, links  # the page's URL path, from its file name
