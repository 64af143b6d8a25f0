"""The app run headless with Streamlit's AppTest: every page, setting, link and upload.

A ``pages/`` folder puts Streamlit in its classic multipage mode: ``switch_page`` runs a
page file with the session's state, as a click in the sidebar does. Every step of the
chain is shown by one page file, ``pages/4_Stage.py``, told which by ``?step=``.
"""

import io
import json
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage
import streamlit as st
from dask.system import CPU_COUNT
from helpers import BAD_FILES, png_header_claiming
from PIL import Image
from skimage import data
from skimage.color import rgb2gray
from skimage.filters import threshold_otsu
from skimage.util import img_as_float32
from streamlit.testing.v1 import AppTest

import ui.services.cluster
import ui.services.runs
from core.errors import PipelineError
from core.pipeline.chain import Param, Stage
from core.pipeline.stage_table import STAGES
from ui.services.scaling import default_worker_counts

APP = str(Path(__file__).resolve().parents[1] / "app.py")
STEP_PAGE = "pages/4_Stage.py"
PAGES = [
    "pages/1_Tiles.py", "pages/2_Grayscale.py", "pages/3_Stitched.py", STEP_PAGE, "pages/5_Cluster.py",
    "pages/6_Speedup.py", "pages/7_Tasks.py",
]
TITLES = {
    "app.py": "Dask, tile by tile",
    "pages/1_Tiles.py": "1 · Tiles on disk",
    "pages/2_Grayscale.py": "2 · Grayscale, tile by tile",
    "pages/3_Stitched.py": "3 · Stitched into one image",
    STEP_PAGE: "4 · Sobel edges",
    "pages/5_Cluster.py": "Where Dask runs",
    "pages/6_Speedup.py": "Speed-up: what more workers buy",
    "pages/7_Tasks.py": "Every task, and the run replayed",
}
#: Pages without a task graph of their own.
GRAPHLESS = ("app.py", "pages/5_Cluster.py", "pages/6_Speedup.py")
DEFAULT_QUERY = {"sample": "astronaut", "rows": "2", "cols": "2", "chain": "sobel:mode=x;clip:lo=0,hi=1"}
#: The default chain's widgets: a step's widgets are keyed by its position, from 1.
SOBEL_MODE, CLIP_RANGE = "step1.mode", "step2.lo_hi"


@pytest.fixture(autouse=True)
def fresh_server(tmp_path, monkeypatch):
    """Each test is a new server: its own tile cache and empty shared caches."""
    monkeypatch.setenv("TILE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "threads")  # test_cluster_page uses a cluster
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def go(at: AppTest, page: str, step: int | None = None) -> AppTest:
    """Switch to ``page`` as its sidebar link does: a step's link carries ``?step=``."""
    at.query_params.pop("step", None)
    if step is not None:
        at.query_params["step"] = str(step)
    return at.switch_page(page).run()


def open_app(page: str = "app.py", query: dict | None = None, step: int | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if query:
        at.query_params.update(query)
    if page == "app.py":
        return at.run()
    return go(at, page, step)


def assert_clean(at: AppTest, page: str, title: str | None = None) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == (title or TITLES[page])


def graphs(at: AppTest) -> list[str]:
    """The DOT source of every task graph the page draws (in the browser's task view)."""
    views = [json.loads(element.proto.json_args) for element in at.get("component_instance")]
    return [args["dot"] for args in views if args.get("view") == "tasks"]


def chain_of(at: AppTest) -> str:
    return at.query_params["chain"]


def step_links(at: AppTest) -> list[tuple[str, str]]:
    """(label, query) of the sidebar's links to step pages."""
    return [(link.proto.label, link.proto.query_string) for link in at.sidebar.get("page_link")
            if link.proto.page == "Stage"]


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("page", ["app.py", *PAGES])
def test_every_page_runs_clean_with_defaults(page):
    at = open_app(page)
    assert_clean(at, page)
    expected = {**DEFAULT_QUERY, "step": "1"} if page == STEP_PAGE else DEFAULT_QUERY
    assert dict(at.query_params) == expected
    if page not in GRAPHLESS:
        assert graphs(at) and graphs(at)[0].startswith("digraph")


@pytest.mark.parametrize("mode", ["x", "y", "magnitude"])
def test_every_page_runs_with_each_sobel_mode(mode):
    at = open_app()
    at.radio(key=SOBEL_MODE).set_value(mode).run()
    assert_clean(at, "app.py")
    for page, step, title in [*((p, None, None) for p in PAGES if p != STEP_PAGE),
                              (STEP_PAGE, 1, "4 · Sobel edges"), (STEP_PAGE, 2, "5 · Clip")]:
        go(at, page, step)
        assert_clean(at, page, title)
        assert at.radio(key=SOBEL_MODE).value == mode
    assert chain_of(at).startswith(f"sobel:mode={mode};clip:")


SHARED = {"sample": "coffee", "rows": "3", "cols": "5", "chain": "sobel:mode=magnitude;clip:lo=0,hi=0.5"}


@pytest.mark.parametrize("page", ["app.py", *PAGES])
def test_a_shared_link_opens_any_page_with_its_settings(page):
    at = open_app(page, SHARED, step=2 if page == STEP_PAGE else None)
    assert_clean(at, page, "5 · Clip" if page == STEP_PAGE else None)
    assert at.selectbox(key="sample").value == "coffee"
    assert (at.number_input(key="rows").value, at.number_input(key="cols").value) == (3, 5)
    assert at.slider(key=CLIP_RANGE).value == (0.0, 0.5)
    assert at.radio(key=SOBEL_MODE).value == "magnitude"
    assert dict(at.query_params) == ({**SHARED, "step": "2"} if page == STEP_PAGE else SHARED)


def test_settings_survive_moving_between_pages():
    at = open_app()
    at.number_input(key="rows").set_value(4)
    at.number_input(key="cols").set_value(3)
    at.button(key="apply_grid").click().run()
    at.selectbox(key="sample").set_value("chelsea").run()
    at.slider(key=CLIP_RANGE).set_value((0.1, 0.7)).run()
    for page in [*PAGES, "app.py", "pages/2_Grayscale.py"]:
        go(at, page, 2 if page == STEP_PAGE else None)
        assert_clean(at, page, "5 · Clip" if page == STEP_PAGE else None)
        assert (at.number_input(key="rows").value, at.number_input(key="cols").value) == (4, 3)
        assert at.selectbox(key="sample").value == "chelsea"
        assert at.slider(key=CLIP_RANGE).value == (0.1, 0.7)
    assert at.query_params["rows"] == "4" and at.query_params["sample"] == "chelsea"
    assert chain_of(at) == "sobel:mode=x;clip:lo=0.1,hi=0.7"


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


# -- building the chain in the sidebar -------------------------------------------------------


def test_a_chain_is_built_in_the_sidebar_and_each_widget_follows_its_step():
    at = open_app()
    at.selectbox(key="add_stage").set_value("gaussian")
    at.button(key="add_step").click().run()
    assert_clean(at, "app.py")
    assert chain_of(at) == "sobel:mode=x;clip:lo=0,hi=1;gaussian:sigma=1"
    at.slider(key="step3.sigma").set_value(2.0).run()  # the third step's
    assert chain_of(at) == "sobel:mode=x;clip:lo=0,hi=1;gaussian:sigma=2"
    at.radio(key=SOBEL_MODE).set_value("y").run()
    at.button(key="step3.up").click().run()
    at.button(key="step2.up").click().run()
    assert_clean(at, "app.py")
    assert chain_of(at) == "gaussian:sigma=2;sobel:mode=y;clip:lo=0,hi=1"
    # Moved twice, the Gaussian takes its own sigma to the first place, the Sobel step its
    # mode to the second; the third place's widget is the clip's now.
    assert at.slider(key="step1.sigma").value == 2.0 and at.radio(key="step2.mode").value == "y"
    assert at.slider(key="step3.lo_hi").value == (0.0, 1.0)
    assert all(widget.key not in ("step1.mode", "step3.sigma") for widget in [*at.radio, *at.slider])
    assert [label for label, _ in step_links(at)] == ["4 · Gaussian smoothing", "5 · Sobel edges", "6 · Clip"]
    assert [query for _, query in step_links(at)] == ["step=1", "step=2", "step=3"]
    at.button(key="step2.remove").click().run()
    assert_clean(at, "app.py")
    assert chain_of(at) == "gaussian:sigma=2;clip:lo=0,hi=1"
    assert not at.radio and at.slider(key=CLIP_RANGE).value == (0.0, 1.0)
    assert len(at.get("image")) == 3 + 2  # a thumbnail per stage
    go(at, STEP_PAGE, 2)
    assert_clean(at, STEP_PAGE, "5 · Clip")
    assert at.slider(key="step1.sigma").value == 2.0 and at.slider(key=CLIP_RANGE).value == (0.0, 1.0)
    go(at, STEP_PAGE, 1)
    assert_clean(at, STEP_PAGE, "4 · Gaussian smoothing")


def test_a_new_step_can_be_moved_down_and_every_stage_has_a_widget():
    at = open_app(query={"chain": ""})
    assert_clean(at, "app.py")
    for stage in ["threshold", "median", "laplace"]:
        at.selectbox(key="add_stage").set_value(stage)
        at.button(key="add_step").click().run()
    assert chain_of(at) == "threshold:method=otsu;median:size=3;laplace"
    at.radio(key="step1.method").set_value("value").run()  # its value appears when it matters
    at.number_input(key="step1.value").set_value(0.3).run()
    at.button(key="step1.down").click().run()
    assert_clean(at, "app.py")
    assert chain_of(at) == "median:size=3;threshold:method=value,value=0.3;laplace"
    assert at.slider(key="step1.size").value == 3 and at.number_input(key="step2.value").value == 0.3
    at.radio(key="step2.method").set_value("otsu").run()
    assert chain_of(at) == "median:size=3;threshold:method=otsu;laplace"
    assert all(widget.key != "step2.value" for widget in at.number_input)
    at.radio(key="step2.method").set_value("value").run()  # the value it had comes back
    assert at.number_input(key="step2.value").value == 0.3


def test_a_stage_added_to_the_table_gets_its_widgets_and_its_page(monkeypatch):
    invert = Stage(
        "invert", "Inverted", "Each value v becomes top - v.", lambda image, top, kind: top - image,
        (Param("top", float, 1.0, "what values are taken from", low=0.0, high=2.0),
         Param("kind", str, "plain", "a choice", choices=("plain", "other"), labels={"plain": "Plain words"})),
        output_range=lambda input_range, *, top, kind: (top - input_range[1], top - input_range[0]),
    )
    monkeypatch.setitem(STAGES, "invert", invert)  # the table the sidebar and the pages read
    at = open_app(query={"chain": "gaussian:sigma=1"})
    at.selectbox(key="add_stage").set_value("invert")
    at.button(key="add_step").click().run()
    at.slider(key="step2.top").set_value(1.5).run()
    at.radio(key="step2.kind").set_value("other").run()
    assert_clean(at, "app.py")
    assert chain_of(at) == "gaussian:sigma=1;invert:top=1.5,kind=other"
    assert at.radio(key="step2.kind").options == ["Plain words", "other"]
    go(at, STEP_PAGE, 2)
    assert_clean(at, STEP_PAGE, "5 · Inverted")
    assert "Where the output's values lie" in [s.value for s in at.subheader]


def test_a_sobel_mode_change_keeps_the_clip_range_inside_the_new_range():
    at = open_app(STEP_PAGE, {"chain": "sobel:mode=x;clip:lo=-3,hi=-1"}, step=2)
    assert at.slider(key=CLIP_RANGE).value == (-3.0, -1.0)
    at.radio(key=SOBEL_MODE).set_value("magnitude").run()
    assert_clean(at, STEP_PAGE, "5 · Clip")
    lo, hi = at.slider(key=CLIP_RANGE).value
    assert 0 <= lo < hi <= 4.48


def test_the_empty_chain_shows_the_stitched_image_as_the_result():
    at = open_app(query={"chain": ""})
    assert_clean(at, "app.py")
    assert at.query_params["chain"] == "" and step_links(at) == []
    assert len(at.get("image")) == 3
    at = go(at, STEP_PAGE, 1)
    assert not at.exception
    assert "The chain has 0 steps" in at.error[0].value


# -- links ---------------------------------------------------------------------------------


def test_bad_link_values_are_ignored_with_a_warning():
    at = open_app("app.py", {"rows": "99", "sobel": "diagonal", "clip": "3,1", "sample": "nope"})
    assert not at.exception
    warning = at.warning[0].value
    for part in ("rows=99", "sobel=diagonal", "clip=3,1", "sample=nope"):
        assert part in warning
    assert at.number_input(key="rows").value == 2
    assert chain_of(at) == DEFAULT_QUERY["chain"]


def test_a_bad_chain_part_is_ignored_with_a_warning_and_the_rest_is_kept():
    at = open_app("app.py", {"chain": "gaussian:sigma=2;blur:radius=3;clip:lo=5,hi=1;median:size=0"})
    assert_clean(at, "app.py")
    warning = at.sidebar.warning[0].value
    assert warning.startswith("Ignored from the link: ")
    for part in ("blur:radius=3 (unknown stage 'blur'", "clip:lo=5,hi=1 (clip needs lo < hi", "median:size=0"):
        assert part in warning
    assert chain_of(at) == "gaussian:sigma=2"


def test_a_range_outside_its_slider_is_moved_inside_and_the_warning_says_so():
    at = open_app("app.py", {"chain": "sobel:mode=x;clip:lo=-10,hi=2"})
    assert_clean(at, "app.py")
    assert "clip:lo=-10,hi=2 (outside [-4, 4]: clip:lo=-4,hi=2 instead)" in at.sidebar.warning[0].value
    assert at.slider(key=CLIP_RANGE).value == (-4.0, 2.0)


def test_an_old_link_opens_the_chain_it_meant():
    at = open_app(STEP_PAGE, {"sobel": "magnitude", "clip": "0,2"}, step=2)
    assert_clean(at, STEP_PAGE, "5 · Clip")
    assert at.radio(key=SOBEL_MODE).value == "magnitude" and at.slider(key=CLIP_RANGE).value == (0.0, 2.0)
    assert dict(at.query_params) == {
        "sample": "astronaut", "rows": "2", "cols": "2", "chain": "sobel:mode=magnitude;clip:lo=0,hi=2", "step": "2",
    }
    at = open_app("app.py", {"sobel": "y"})  # a part alone: the other takes its default
    assert chain_of(at) == "sobel:mode=y;clip:lo=0,hi=1"
    at = open_app("app.py", {"chain": "laplace", "sobel": "y"})  # the chain wins, and says so
    assert chain_of(at) == "laplace" and "sobel=y (chain= replaces it)" in at.warning[0].value


def test_a_step_beyond_the_chain_is_explained():
    at = open_app(STEP_PAGE, step=5)
    assert not at.exception
    assert "The chain has 2 steps, so there is no step 5 to show" in at.error[0].value
    assert at.query_params["step"] == "5"


# -- the step pages --------------------------------------------------------------------------


LABEL_CHAIN = "gaussian:sigma=2;threshold:method=otsu;label:connectivity=2"


def astronaut_regions() -> np.ndarray:
    """SciPy and scikit-image on the whole astronaut: the regions the label page must find."""
    gray = rgb2gray(img_as_float32(data.astronaut()))  # float32, as the tiles are converted
    smooth = scipy.ndimage.gaussian_filter(gray, 2)
    mask = smooth > threshold_otsu(smooth)
    labels, count = scipy.ndimage.label(mask, scipy.ndimage.generate_binary_structure(2, 2))
    return labels, count


def test_a_label_link_shows_a_region_for_every_region_scipy_finds():
    at = open_app(STEP_PAGE, {"chain": LABEL_CHAIN}, step=3)
    assert_clean(at, STEP_PAGE, "6 · Labels")
    assert chain_of(at) == LABEL_CHAIN
    labels, count = astronaut_regions()
    table = at.dataframe[0].value
    assert len(table) == count > 1
    assert {m.label: m.value for m in at.metric}["Regions found"] == f"{count:,}"
    assert sorted(table["area"]) == sorted(np.bincount(labels.ravel())[1:])
    assert {"Download the result (PNG, full resolution)", "Download the region table (CSV)"} <= {
        button.proto.label for button in at.get("download_button")
    }
    at = go(at, STEP_PAGE, 2)  # the threshold's page draws Otsu's level on its input's histogram
    assert_clean(at, STEP_PAGE, "5 · Threshold")
    assert "Where the input's values lie" in [s.value for s in at.subheader]


def test_home_shows_a_thumbnail_per_stage_and_the_command_line_for_the_chain():
    at = open_app("app.py", {"chain": LABEL_CHAIN, "rows": "3", "cols": "2"})
    assert_clean(at, "app.py")
    assert len(at.get("image")) == 3 + 3
    _, count = astronaut_regions()
    assert any(f"{count:,} regions" in c.value for c in at.caption)
    assert at.code[0].value == (
        "python -m core astronaut.png --grid 3x2 --stage gaussian:sigma=2 --stage threshold:method=otsu "
        "--stage label:connectivity=2"
    )
    links = [(link.proto.label, link.proto.query_string) for link in at.main.get("page_link")]
    assert links[3:] == [
        ("4 · Gaussian smoothing", "step=1"), ("5 · Threshold", "step=2"), ("6 · Labels", "step=3"),
        ("Tasks: every task of this pipeline, and a run replayed task by task", ""),
    ]


@pytest.fixture
def counted_steps(monkeypatch):
    """How often each stage really ran: the stitch stages and each step, by stage name."""
    calls = Counter()
    real_stitch, real_step = ui.services.runs.run_stitch_stages, ui.services.runs.run_step

    def stitch(*args, **kwargs):
        calls["stitch"] += 1
        return real_stitch(*args, **kwargs)

    def step(step_input, step, *args, **kwargs):
        calls[step.stage] += 1
        return real_step(step_input, step, *args, **kwargs)

    monkeypatch.setattr(ui.services.runs, "run_stitch_stages", stitch)
    monkeypatch.setattr(ui.services.runs, "run_step", step)
    return calls


def test_a_clip_change_does_not_rerun_the_sobel_filter_or_reread_tiles(counted_steps):
    at = open_app(STEP_PAGE, step=2)
    assert counted_steps == {"stitch": 1, "sobel": 1, "clip": 1}
    at.slider(key=CLIP_RANGE).set_value((0.2, 0.6)).run()
    assert_clean(at, STEP_PAGE, "5 · Clip")
    assert counted_steps == {"stitch": 1, "sobel": 1, "clip": 2}
    at.radio(key=SOBEL_MODE).set_value("y").run()
    assert counted_steps == {"stitch": 1, "sobel": 2, "clip": 3}  # a new mode filters again, from memory
    at.radio(key=SOBEL_MODE).set_value("x").run()
    at.slider(key=CLIP_RANGE).set_value((0.2, 0.6)).run()
    assert counted_steps == {"stitch": 1, "sobel": 2, "clip": 3}  # both seen before: nothing runs


def test_a_change_to_one_step_runs_only_the_steps_after_it(counted_steps):
    at = open_app("app.py", {"chain": "gaussian:sigma=1;sobel:mode=x;clip:lo=0,hi=1"})
    assert counted_steps == {"stitch": 1, "gaussian": 1, "sobel": 1, "clip": 1}
    at.radio(key="step2.mode").set_value("magnitude").run()
    assert_clean(at, "app.py")
    assert counted_steps == {"stitch": 1, "gaussian": 1, "sobel": 2, "clip": 2}
    go(at, STEP_PAGE, 1)  # the Gaussian's page needs only the Gaussian: from the cache
    assert counted_steps == {"stitch": 1, "gaussian": 1, "sobel": 2, "clip": 2}


def test_the_step_page_says_when_tiles_are_merged_for_the_filter():
    at = open_app(STEP_PAGE, {"rows": "16", "cols": "16"}, step=1)  # 32-px tiles of a 512-px sample
    assert_clean(at, STEP_PAGE)
    assert any("runs on 4 x 4 chunks rather than the 16 x 16 tiles" in c.value for c in at.caption)
    at = open_app(STEP_PAGE, {"rows": "2", "cols": "2"}, step=1)
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
        go(at, page, 1 if page == STEP_PAGE else None)
        assert_clean(at, page)
        assert f"shape `{shape}`" in " ".join(m.value for m in at.markdown)
    go(at, "app.py")
    assert "holiday.png" in at.caption[0].value
    assert at.selectbox(key="sample").disabled
    at.button(key="forget_upload").click().run()
    assert "Astronaut" in at.caption[0].value and not at.selectbox(key="sample").disabled


def test_an_animated_upload_says_that_only_its_first_frame_is_used():
    frames = [Image.new("RGB", (60, 40), (value, 0, 0)) for value in (10, 120, 250)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    at = upload(open_app(), "spinner.gif", buffer.getvalue())
    assert_clean(at, "app.py")
    assert any("spinner.gif holds 3 frames" in note.value and "uses the first one" in note.value
               for note in at.sidebar.info)
    at = upload(at, "still.png", png(np.zeros((40, 60), np.uint8)))
    assert not [note.value for note in at.sidebar.info if "frames" in note.value]


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
    assert at.error[0].value == (
        "Cannot split this image: a grid of 12 rows and 2 columns does not fit an image of 8 rows and "
        "30 columns of pixels: every tile needs at least one pixel, so use at most 8 rows and 30 columns."
    )
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
    (STEP_PAGE, {"Download the result (PNG, full resolution)", "Download the graph (DOT)"}),
])
def test_pages_offer_their_downloads(page, labels):
    at = open_app(page, step=1 if page == STEP_PAGE else None)
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
    # The task stream is the Tasks page's replay, which a browser elsewhere can show too.
    assert ("Tasks", "") in [(link.proto.page, link.proto.query_string) for link in at.main.get("page_link")]
    go(at, STEP_PAGE, 2)  # the other pages run on the cluster too
    assert_clean(at, STEP_PAGE, "5 · Clip")


def test_tiles_too_small_for_the_cluster_are_read_on_threads_and_the_page_says_why(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "local")
    at = open_app("pages/5_Cluster.py", {"rows": "16", "cols": "16"})  # 32 x 32 tiles
    assert_clean(at, "pages/5_Cluster.py")
    assert "Dask runs on: threads in the server, for tiles this small" in " ".join(c.value for c in at.sidebar.caption)
    assert any("(32 x 32 pixels) were read on threads" in info.value for info in at.info)
    assert not [m.value for m in at.markdown if "■" in m.value]  # no worker tints: no worker read them


def test_pages_run_on_threads_while_the_cluster_starts_and_on_it_once_it_is_up(monkeypatch):
    starting = threading.Event()
    real_connect = ui.services.cluster.connect

    def slow_connect(choice, **kwargs):
        if choice == "local":
            starting.wait(60)
        return real_connect(choice, **kwargs)

    monkeypatch.setattr(ui.services.cluster, "connect", slow_connect)
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


def test_an_unreachable_cluster_falls_back_to_threads_and_says_so_once_per_page(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "tcp://127.0.0.1:9")
    for page in ("pages/5_Cluster.py", "app.py"):  # Home runs every stage, each asking for the runner
        at = open_app(page)
        assert not at.exception
        warnings = [w.value for w in at.sidebar.warning]
        assert len(warnings) == 1 and "cannot reach the Dask scheduler" in warnings[0], warnings
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
    # The address names the file too: the sidebar says which, after a server restart as well.
    assert link["name"] == "private.png" and "Using upload: private.png" in [t.value for t in teammate.text]
    assert teammate.selectbox(key="sample").disabled  # the upload, not the sample, is shown
    # Their upload box is empty: the sidebar says how to replace or leave the upload.
    assert "A file uploaded above replaces it" in " ".join(c.value for c in teammate.sidebar.caption)
    del link["name"]  # a link from before names no file
    assert "Using upload: a shared upload" in [t.value for t in open_app("pages/1_Tiles.py", link).text]


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
    real = {"workers": ui.services.runs.measure_workers, "grids": ui.services.runs.measure_grids}

    def counting(name):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real[name](*args, **kwargs)
        return wrapper

    monkeypatch.setattr(ui.services.runs, "SWEEP_REPEATS", 1)
    monkeypatch.setattr(ui.services.runs, "measure_workers", counting("workers"))
    monkeypatch.setattr(ui.services.runs, "measure_grids", counting("grids"))
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

    monkeypatch.setattr(ui.services.runs, "measure_workers", failing)
    at.button(key="measure_speedup").click().run()
    assert not at.exception
    assert at.error[0].value == "Could not measure: the disk is full."


def test_every_page_links_to_every_page_and_to_each_step():
    for page in ("app.py", SPEEDUP, "pages/1_Tiles.py", STEP_PAGE):
        links = [(link.proto.page, link.proto.label) for link in open_app(page).sidebar.get("page_link")]
        assert links == [  # each page's URL path, from its file name
            ("", "Home"), ("Tiles", "1 · Tiles"), ("Grayscale", "2 · Grayscale"), ("Stitched", "3 · Stitched"),
            ("Stage", "4 · Sobel edges"), ("Stage", "5 · Clip"), ("Tasks", "Tasks"), ("Cluster", "Cluster"),
            ("Speedup", "Speed-up"),
        ], links
