"""The sidebar's links: one per page of ``ui.services.pages``, and one per step of the chain
between the stitched image and the Tasks page.

Streamlit's own navigation (``st.navigation``) is not used: with the ``pages/`` folder the
project keeps, Streamlit runs a process's first script run and every ``AppTest`` run in
its classic multipage mode, which runs a page's file without the entry script
(``docs/architecture.md``, "Pages"). The classic mode's own list of pages is hidden
(``showSidebarNavigation = false``): it would show one "Stage" for every step.
"""

from __future__ import annotations

import streamlit as st

from core.pipeline import Step

from .services.pages import AFTER_STEPS, BEFORE_STEPS, STEP_PAGE, STEP_PARAM, STEP_URL, step_title

__all__ = ["draw_navigation", "step_link_style"]


def step_link_style(current_step: int) -> str:
    """CSS that keeps the current step's link the only one marked as current.

    Streamlit marks every link to the page that runs as the current one, whatever its query
    string: on the step page, all the steps' links. The selector names Streamlit's
    ``data-testid`` of page links, which is not a public API: ``tests/test_browser.py``
    (``test_only_the_shown_step_is_marked_in_the_sidebar``) fails if it stops matching.
    """
    other_steps = (
        "[data-testid='stSidebar'] a[data-testid='stPageLink-NavLink']"
        f"[href*='{STEP_URL}?{STEP_PARAM}=']:not([href$='?{STEP_PARAM}={current_step}'])"
    )
    return (
        f"<style>{other_steps} {{background-color: transparent !important;}} "
        f"{other_steps} p {{font-weight: normal !important;}}</style>"
    )


def draw_navigation(chain: tuple[Step, ...], current_step: int | None = None) -> None:
    """One link per page, one per step of ``chain`` between the stitched image and the
    Tasks page; ``current_step`` (from 1) on the step page."""
    if current_step is not None:
        st.html(step_link_style(current_step))
    for page in BEFORE_STEPS:
        st.page_link(page.file, label=page.label, icon=page.icon)
    for index, step in enumerate(chain):
        st.page_link(
            STEP_PAGE.file, label=step_title(step, index), icon=STEP_PAGE.icon, query_params={STEP_PARAM: index + 1}
        )
    for page in AFTER_STEPS:
        st.page_link(page.file, label=page.label, icon=page.icon)
