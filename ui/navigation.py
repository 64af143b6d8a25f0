"""The pages and how they are named: fixed ones, and one page per step of the chain.

Every step is shown by the same page file, ``STEP_PAGE``, told which step by the query
parameter ``step`` (1 for the chain's first step). The sidebar draws the navigation itself
(``showSidebarNavigation`` is off), so that the home page reads "Home" and each step of the
visitor's chain gets its own link.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.pipeline import STAGES, Step

__all__ = [
    "AFTER_STEPS",
    "BEFORE_STEPS",
    "STEP_PAGE",
    "STEP_PARAM",
    "TASKS_PAGE",
    "draw_navigation",
    "step_number",
    "step_title",
]

#: The whole pipeline's tasks and the replay of a run, linked from the Home and Cluster pages.
TASKS_PAGE = "pages/7_Tasks.py"
#: (file, label, icon) of the pages before the chain's steps...
BEFORE_STEPS = [
    ("app.py", "Home", ":material/home:"),
    ("pages/1_Tiles.py", "1 · Tiles", ":material/grid_view:"),
    ("pages/2_Grayscale.py", "2 · Grayscale", ":material/contrast:"),
    ("pages/3_Stitched.py", "3 · Stitched", ":material/view_quilt:"),
]
#: ...and after them.
AFTER_STEPS = [
    (TASKS_PAGE, "Tasks", ":material/account_tree:"),
    ("pages/5_Cluster.py", "Cluster", ":material/hub:"),
    ("pages/6_Speedup.py", "Speed-up", ":material/speed:"),
]
STEP_PAGE = "pages/4_Stage.py"
#: Its address: Streamlit's classic multipage mode drops the file name's number.
STEP_URL = Path(STEP_PAGE).stem.split("_", 1)[1]
STEP_ICON = ":material/filter_alt:"
STEP_PARAM = "step"
#: The first step's number: the tiles, grayscale and stitched pages come first.
FIRST_STEP_NUMBER = len(BEFORE_STEPS)


def step_number(index: int) -> int:
    """The number a step's page and title carry, for the step at ``index`` (from 0)."""
    return FIRST_STEP_NUMBER + index


def step_title(step: Step, index: int) -> str:
    """``4 · Sobel edges``."""
    return f"{step_number(index)} · {STAGES[step.stage].title}"


def draw_navigation(chain: tuple[Step, ...], current_step: int | None = None) -> None:
    """One link per page, one per step of ``chain`` between the stitched image and the
    Cluster page; ``current_step`` (from 1) on the step page."""
    if current_step is not None:
        # Streamlit marks every link to the page that runs as the current one, whatever its
        # query string: on the step page, all the steps' links. Only the shown step's stays.
        other_steps = (
            "[data-testid='stSidebar'] a[data-testid='stPageLink-NavLink']"
            f"[href*='{STEP_URL}?{STEP_PARAM}=']:not([href$='?{STEP_PARAM}={current_step}'])"
        )
        st.html(
            f"<style>{other_steps} {{background-color: transparent !important;}} "
            f"{other_steps} p {{font-weight: normal !important;}}</style>"
        )
    for page, label, icon in BEFORE_STEPS:
        st.page_link(page, label=label, icon=icon)
    for index, step in enumerate(chain):
        st.page_link(
            STEP_PAGE, label=step_title(step, index), icon=STEP_ICON, query_params={STEP_PARAM: index + 1}
        )
    for page, label, icon in AFTER_STEPS:
        st.page_link(page, label=label, icon=icon)
