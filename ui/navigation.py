"""The sidebar's links: one per page of ``ui.services.pages``, and one per step of the chain
between the stitched image and the Tasks page, in the tutorial's order; and the link at the
end of each page to the next in that order.

Streamlit's own navigation (``st.navigation``) is not used: with the ``pages/`` folder the
project keeps, Streamlit runs a process's first script run and every ``AppTest`` run in
its classic multipage mode, which runs a page's file without the entry script
(``docs/architecture.md``, "Pages"). The classic mode's own list of pages is hidden
(``showSidebarNavigation = false``): it would show one "Stage" for every step.
"""

from __future__ import annotations

import streamlit as st

from core.pipeline import Step

from .services.pages import HOME, STEP_PARAM, STEP_URL, PageLink, next_link, page_links

__all__ = ["draw_navigation", "draw_next_link", "draw_way_back", "step_link_style"]


def step_link_style(current_step: int) -> str:
    """CSS that keeps the current step's link the only one marked as current.

    Streamlit marks every link to the page that runs as the current one, whatever its query
    string: on the step page, all the steps' links. The selector names Streamlit's
    ``data-testid`` of page links, which is not a public API: ``tests/test_browser.py``
    (``test_only_the_shown_step_is_marked_in_the_sidebar``) fails if it stops matching.
    """
    step_links = f"a[data-testid='stPageLink-NavLink'][href*='{STEP_URL}?{STEP_PARAM}=']"
    # In the page itself ("Next: 5 · Clip", the way back) no link is to the page shown.
    other_steps = (
        f"[data-testid='stSidebar'] {step_links}:not([href$='?{STEP_PARAM}={current_step}']), "
        f"[data-testid='stMain'] {step_links}"
    )
    texts = ", ".join(f"{selector} p" for selector in other_steps.split(", "))
    return (
        f"<style>{other_steps} {{background-color: transparent !important;}} "
        f"{texts} {{font-weight: normal !important;}}</style>"
    )


def draw_navigation(chain: tuple[Step, ...], current_step: int | None = None) -> None:
    """One link per page, one per step of ``chain`` between the stitched image and the
    Tasks page; ``current_step`` (from 1) on the step page."""
    if current_step is not None:
        st.html(step_link_style(current_step))
    for link in page_links(chain):
        _page_link(link, link.label)


def _page_link(link: PageLink, label: str, icon: str | None = None) -> None:
    query = None if link.step is None else {STEP_PARAM: link.step}
    st.page_link(link.file, label=label, icon=icon or link.icon, query_params=query)


def draw_next_link(chain: tuple[Step, ...], page: str, step: int | None = None) -> None:
    """The end of a page: a link to the next one in the tutorial's order, or, after the
    last, back to Home."""
    st.divider()
    after = next_link(chain, page, step)
    if after is None:
        _page_link(PageLink(HOME.file, HOME.label, HOME.icon), "That was the last page: back to Home", ":material/replay:")
    else:
        _page_link(after, f"Next: {after.label}", ":material/arrow_forward:")


def draw_way_back(chain: tuple[Step, ...]) -> None:
    """Links from a page that cannot be shown (a step past the chain's end): to the
    chain's last step, if it has one, and to Home."""
    steps = [link for link in page_links(chain) if link.step is not None]
    if steps:
        _page_link(steps[-1], f"Back to the last step: {steps[-1].label}", ":material/arrow_back:")
    _page_link(PageLink(HOME.file, HOME.label, HOME.icon), "Back to Home", ":material/home:")
