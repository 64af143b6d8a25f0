"""Work shown on the page while it runs: a progress bar counting tasks, a Cancel button,
and a note while another visitor's identical run is awaited.

All three are drawn in one box that floats over the page's top right corner and is drawn,
empty, on every run: Streamlit matches a rerun's elements to the last run's by position, so
a bar inserted above the title for the time of a run shifted every element below it, the
"After" picture gave way to its caption and the page jumped. With the box in place the
page keeps its pictures, faded, until their successors arrive, and its scroll position.

``on_page`` is the ``ui.services.runs.Watch`` the pages give the services.
"""

from __future__ import annotations

import threading
import time

import streamlit as st

__all__ = ["CANCEL_KEY", "RUN_STATUS_KEY", "offer_cancel", "on_page", "stages_done", "status_slot", "with_progress"]

CANCEL_KEY = "cancel_run"
#: The floating box's key: Streamlit gives the container the class ``st-key-run_status``.
RUN_STATUS_KEY = "run_status"
# Below Streamlit's header bar, at the right; the box shows only while it holds something.
# Streamlit's class and test ids of elements are not a public API:
# tests/test_browser_layout.py fails if the box stops showing or hiding.
RUN_STATUS_STYLE = (
    f"<style>.st-key-{RUN_STATUS_KEY} {{position: fixed; top: 4rem; right: 1.5rem; z-index: 999990;"
    " width: min(28rem, calc(100vw - 3rem)); gap: 0.25rem; padding: 0.5rem 0.75rem; border-radius: 0.5rem;"
    " background: rgba(255, 255, 255, 0.97); box-shadow: 0 2px 10px rgba(0, 0, 0, 0.2);}"
    f" .st-key-{RUN_STATUS_KEY}:not(:has(.stProgress, .stButton, .stAlert,"
    " [data-testid='stCaptionContainer'], [data-testid='stSpinner']))"
    " {visibility: hidden;}</style>"
)


class _ThisRun(threading.local):
    """Where this script run shows its work (each session's runs have a thread)."""

    slot = None  # an ``st.empty`` in the floating box, for the Cancel button
    progress = None  # another, below it, for the progress bar or the waiting note
    offered = False  # a key is drawn once per run: the button stays until ``stages_done``


_this_run = _ThisRun()


def offer_cancel() -> None:
    """Draw the floating box, empty, where a run computing this page's stages shows its
    progress and Cancel button (``with_progress``); on every run, so that the page's
    elements keep their positions whether or not a run computes."""
    box = st.container(key=RUN_STATUS_KEY)
    with box:
        st.html(RUN_STATUS_STYLE)
        _this_run.slot, _this_run.progress, _this_run.offered = st.empty(), st.empty(), False


def status_slot():
    """Where this run shows progress: the floating box's, or (outside a page's run, as in
    a test of a single widget) a new place in the page."""
    return _this_run.progress if _this_run.progress is not None else st.empty()


def stages_done() -> None:
    """The page's stages are computed: the Cancel button goes. Later work (a region table,
    a zoom pyramid) shows its progress in the box, without one."""
    if _this_run.slot is not None:
        _this_run.slot.empty()
    _this_run.slot = None


def _cancel_button() -> None:
    """The Cancel button, once per run. Its click, like any other, reruns the page, which
    stops the running computation at its next progress report (``core.runtime.cancel``);
    the run that follows finds it pressed and stops before computing anything."""
    if _this_run.slot is None or _this_run.offered:
        return
    _this_run.offered = True
    with _this_run.slot.container():
        if st.button("Cancel", icon=":material/cancel:", key=CANCEL_KEY, help="Stop this run; nothing of it is kept"):
            st.info(
                "Cancelled: nothing of that run was kept. Change a setting, or press the button "
                "to run it again."
            )
            st.button("Run it again", key="run_again")
            st.stop()


def with_progress(label: str, compute):
    """Run ``compute(report)`` under a progress bar that goes away when it is done.

    A bare bar, not ``st.status``: a status box sleeps as it opens and again as it closes,
    which was most of a clip change's rerun on the samples (``benchmarks/dashboard.py``).
    """
    _cancel_button()
    placeholder = status_slot()
    bar = placeholder.progress(0.0, text=f"{label}…")

    def report(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"{label}: {done:,} of {total:,} tasks done")

    result = compute(report)
    placeholder.empty()
    return result


class _Waiting:
    """What a page shows while another session computes the key it needs; each update
    lets Streamlit stop this page, should its visitor move on meanwhile."""

    def __init__(self, label: str):
        self.label, self.placeholder, self.started = label, None, time.monotonic()

    def tick(self) -> None:
        if self.placeholder is None:
            _cancel_button()
            self.placeholder = status_slot()
        self.placeholder.caption(
            f"{self.label}: another visitor started the same run; using theirs "
            f"({time.monotonic() - self.started:.0f} s)"
        )

    def done(self) -> None:
        if self.placeholder is not None:
            self.placeholder.empty()


class _OnPage:
    """The pages' ``Watch``: progress bars, the Cancel button and the waiting note."""

    def run(self, label, compute):
        return with_progress(label, compute)

    def waiting(self, label):
        waiting = _Waiting(label)
        return waiting.tick, waiting.done


on_page = _OnPage()
