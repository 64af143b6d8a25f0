"""The app run headless with Streamlit's AppTest: what the ``test_app_*`` files share.

A ``pages/`` folder puts Streamlit in its classic multipage mode: ``switch_page`` runs a
page file with the session's state, as a click in the sidebar does. Every step of the
chain is shown by one page file, ``pages/4_Stage.py``, told which by ``?step=``. The pages
and their titles come from ``ui.services.pages``, as the navigation's do.
"""

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from ui.services import pages

APP = str(Path(__file__).resolve().parents[1] / pages.HOME.file)
HOME_PAGE = pages.HOME.file
STEP_PAGE = pages.STEP_PAGE.file
SPEEDUP = pages.SPEEDUP.file
#: Every page but Home, in the navigation's order: the step page shows the chain's first step.
PAGES = [*(page.file for page in pages.BEFORE_STEPS[1:]), STEP_PAGE, *(page.file for page in pages.AFTER_STEPS)]
#: Each page's heading; the step page's for the default chain's first step.
TITLES = {**{page.file: page.title for page in (*pages.BEFORE_STEPS, *pages.AFTER_STEPS)}, STEP_PAGE: "4 · Sobel edges"}
#: Pages that draw a task graph of their own.
GRAPH_PAGES = (pages.TILES.file, pages.GRAYSCALE.file, pages.STITCHED.file, STEP_PAGE, pages.TASKS.file)
DEFAULT_QUERY = {"sample": "astronaut", "rows": "2", "cols": "2", "chain": "sobel:mode=x;clip:lo=0,hi=1"}
#: The default chain's widgets: a step's widgets are keyed by its position, from 1.
SOBEL_MODE, CLIP_RANGE = "step1.mode", "step2.lo_hi"
LABEL_CHAIN = "gaussian:sigma=2;threshold:method=otsu;label:connectivity=2"


def go(at: AppTest, page: str, step: int | None = None) -> AppTest:
    """Switch to ``page`` as its sidebar link does: a step's link carries ``?step=``."""
    at.query_params.pop("step", None)
    if step is not None:
        at.query_params["step"] = str(step)
    return at.switch_page(page).run()


def open_app(page: str = HOME_PAGE, query: dict | None = None, step: int | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if query:
        at.query_params.update(query)
    if page == HOME_PAGE:
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


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    return at.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()
