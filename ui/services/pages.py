"""The dashboard's pages and what they are called: the fixed ones, and one page per step
of the chain, all shown by ``STEP_PAGE`` and told which step by ``?step=`` (from 1).

The navigation, the links between pages and the tests all read this list, so a new page
is its file and its entry here (``docs/extending.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from core.pipeline import STAGES, Step

__all__ = [
    "AFTER_STEPS",
    "APP_TITLE",
    "BEFORE_STEPS",
    "CLUSTER",
    "FIRST_STEP_NUMBER",
    "GRAYSCALE",
    "HOME",
    "SPEEDUP",
    "STEP_PAGE",
    "STEP_PARAM",
    "STEP_URL",
    "STITCHED",
    "TASKS",
    "TILES",
    "Page",
    "PageLink",
    "next_link",
    "page_links",
    "step_number",
    "step_title",
]

APP_TITLE = "Dask, tile by tile"


@dataclass(frozen=True)
class Page:
    """A page of the app: its script, its link in the navigation, and its heading."""

    file: str  # relative to the app's folder
    label: str  # the navigation's link: "1 · Tiles"
    icon: str  # a Material icon, as Streamlit writes it
    title: str  # the page's heading: "1 · Tiles on disk"


HOME = Page("app.py", "Home", ":material/home:", APP_TITLE)
TILES = Page("pages/1_Tiles.py", "1 · Tiles", ":material/grid_view:", "1 · Tiles on disk")
GRAYSCALE = Page("pages/2_Grayscale.py", "2 · Grayscale", ":material/contrast:", "2 · Grayscale, tile by tile")
STITCHED = Page("pages/3_Stitched.py", "3 · Stitched", ":material/view_quilt:", "3 · Stitched into one image")
TASKS = Page("pages/7_Tasks.py", "Tasks", ":material/account_tree:", "Every task, and the run replayed")
CLUSTER = Page("pages/5_Cluster.py", "Cluster", ":material/hub:", "Where Dask runs")
SPEEDUP = Page("pages/6_Speedup.py", "Speed-up", ":material/speed:", "Speed-up: what more workers buy")

#: The pages before the chain's steps, and after them, in the navigation's order.
BEFORE_STEPS = (HOME, TILES, GRAYSCALE, STITCHED)
AFTER_STEPS = (TASKS, CLUSTER, SPEEDUP)

#: Every step's page: one script, told which step by the query parameter ``STEP_PARAM``.
STEP_PAGE = Page("pages/4_Stage.py", "Step", ":material/filter_alt:", "Step")
STEP_PARAM = "step"
#: Its address: Streamlit's multipage mode drops the file name's number.
STEP_URL = Path(STEP_PAGE.file).stem.split("_", 1)[1]
#: The first step's number: the tiles, grayscale and stitched pages come first.
FIRST_STEP_NUMBER = len(BEFORE_STEPS)


def step_number(index: int) -> int:
    """The number a step's page and title carry, for the step at ``index`` (from 0)."""
    return FIRST_STEP_NUMBER + index


def step_title(step: Step, index: int) -> str:
    """``4 · Sobel edges``."""
    return f"{step_number(index)} · {STAGES[step.stage].title}"


@dataclass(frozen=True)
class PageLink:
    """A link to a page of the app: the step page's carries its step (from 1)."""

    file: str
    label: str
    icon: str
    step: int | None = None


def page_links(chain: tuple[Step, ...]) -> list[PageLink]:
    """Every page in the tutorial's order, which the navigation lists: Home, the tiles,
    grayscale and stitched image, one page per step of ``chain``, then the pages after."""
    return [
        *(PageLink(page.file, page.label, page.icon) for page in BEFORE_STEPS),
        *(PageLink(STEP_PAGE.file, step_title(step, i), STEP_PAGE.icon, i + 1) for i, step in enumerate(chain)),
        *(PageLink(page.file, page.label, page.icon) for page in AFTER_STEPS),
    ]


def next_link(chain: tuple[Step, ...], file: str, step: int | None = None) -> PageLink | None:
    """The page after ``file`` (and ``step``, on the step page) in ``page_links``; None
    after the last, or for a page not in the list (a step past the chain's end)."""
    links = page_links(chain)
    for here, after in pairwise(links):
        if (here.file, here.step) == (file, step):
            return after
    return None
