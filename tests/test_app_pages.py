"""Every page under AppTest: clean with defaults, with each setting, from a shared link, and its links and downloads."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from apptest import (
    CLIP_RANGE,
    DEFAULT_QUERY,
    GRAPH_PAGES,
    HOME_PAGE,
    PAGES,
    SOBEL_MODE,
    SPEEDUP,
    STEP_PAGE,
    assert_clean,
    chain_of,
    go,
    graphs,
    open_app,
)

from ui.services import pages

pytestmark = pytest.mark.usefixtures("fresh_server")


@pytest.mark.parametrize("page", ["app.py", *PAGES])
def test_every_page_runs_clean_with_defaults(page):
    at = open_app(page)
    assert_clean(at, page)
    expected = {**DEFAULT_QUERY, "step": "1"} if page == STEP_PAGE else DEFAULT_QUERY
    assert dict(at.query_params) == expected
    if page in GRAPH_PAGES:
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
    at.number_input(key="rows").set_value(3)
    at.number_input(key="cols").set_value(3)
    at.button(key="apply_grid").click().run()
    assert_clean(at, "pages/1_Tiles.py")
    assert len(at.dataframe[0].value) == 9 and at.query_params["rows"] == at.query_params["cols"] == "3"
    grids = sorted(folder.name.rsplit("-", 1)[1] for folder in (tmp_path / "cache").glob("*-*x*"))
    assert grids == ["02x02", "03x03"]  # no 3 x 2 split on the way


def test_a_grid_whose_submission_lost_its_callback_is_applied_from_its_fields():
    # Submitted as an upload's message arrived: the upload's run, stopped, took the form's
    # callback with it, and the next run carries the fields alone (benchmarks/grid_race.py).
    # A browser sends a form's fields only when it is submitted; AppTest sends them only
    # with the button's click, so they are set here as that next run receives them.
    at = open_app("pages/1_Tiles.py")
    at.session_state["rows"], at.session_state["cols"] = 3, 4
    at.run()
    assert_clean(at, "pages/1_Tiles.py")
    assert len(at.dataframe[0].value) == 12 and (at.query_params["rows"], at.query_params["cols"]) == ("3", "4")
    at.switch_page("pages/3_Stitched.py").run()  # a new page: the fields start from the grid
    assert (at.number_input(key="rows").value, at.number_input(key="cols").value) == (3, 4)
    assert at.query_params["rows"] == "3"


def test_the_tiles_page_lists_every_tile_file():
    at = open_app("pages/1_Tiles.py", {"rows": "3", "cols": "4"})
    table = at.dataframe[0].value
    assert len(table) == 12
    assert list(table["file"])[-1] == "tile_r002_c003.tif"
    assert set(table["pixels (h x w)"]) <= {"171 x 128", "170 x 128"}


@pytest.mark.parametrize("page, labels", [
    ("pages/1_Tiles.py", {"Download the tiles (zip, 0.8 MB)", "Download the graph (DOT)"}),  # 4 x 197 kB
    (STEP_PAGE, {"Download the result (PNG, full resolution)", "Download the graph (DOT)"}),
])
def test_pages_offer_their_downloads(page, labels):
    at = open_app(page, step=1 if page == STEP_PAGE else None)
    assert labels <= {button.proto.label for button in at.get("download_button")}


def test_every_page_links_to_every_page_and_to_each_step():
    def url(page):  # as Streamlit's classic multipage mode names a page file
        return "" if page.file == HOME_PAGE else Path(page.file).stem.split("_", 1)[1]

    expected = [
        *((url(page), page.label) for page in pages.BEFORE_STEPS),
        ("Stage", "4 · Sobel edges"), ("Stage", "5 · Clip"),
        *((url(page), page.label) for page in pages.AFTER_STEPS),
    ]
    assert expected[:4] == [("", "Home"), ("Tiles", "1 · Tiles"), ("Grayscale", "2 · Grayscale"), ("Stitched", "3 · Stitched")]
    for page in (HOME_PAGE, SPEEDUP, "pages/1_Tiles.py", STEP_PAGE):
        links = [(link.proto.page, link.proto.label) for link in open_app(page).sidebar.get("page_link")]
        assert links == expected, links


def test_every_page_ends_with_a_link_to_the_next_in_the_navigations_order():
    at = open_app()
    order = [(link.proto.page, link.proto.label, link.proto.query_string) for link in at.sidebar.get("page_link")]
    files = {Path(page.file).stem.split("_", 1)[-1] if page.file != HOME_PAGE else "": page.file
             for page in (*pages.BEFORE_STEPS, pages.STEP_PAGE, *pages.AFTER_STEPS)}
    for (page, _, query), (next_page, next_label, next_query) in zip(order, [*order[1:], ("", "", "")]):
        go(at, files[page], int(query.split("=")[1]) if query else None)
        last = at.main.get("page_link")[-1].proto
        if next_label:
            assert (last.page, last.label, last.query_string) == (next_page, f"Next: {next_label}", next_query)
        else:  # the last page leads back to the start
            assert (last.page, last.label) == ("", "That was the last page: back to Home")


def test_the_first_page_imports_neither_pandas_nor_matplotlibs_figures(tmp_path):
    # A fresh server's first page waits for every import (0.27 s pandas, 0.2 s matplotlib's
    # figures, 0.24 s pyplot); the pages that draw a figure or a table import them then.
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=120).run()\n"
        "assert not at.exception, at.exception\n"
        "print(*(name in sys.modules for name in ('pandas', 'matplotlib.figure', 'matplotlib.pyplot')))\n"
    )
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "DASHBOARD_SCHEDULER": "threads", "TILE_CACHE_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "False", "False"]


@pytest.mark.parametrize("page", ["app.py", "pages/1_Tiles.py", STEP_PAGE])
def test_pictures_reach_the_browser_as_the_pngs_the_app_encoded(page):
    # st.image sends a picture without alpha as a JPEG unless told otherwise: edges and
    # masks blurred, and the PNG decoded and encoded again on every run.
    at = open_app(page)
    urls = [picture.url for image in at.get("image") for picture in image.proto.imgs]
    assert urls and all(url.endswith(".png") for url in urls), urls
