"""Work shown on the page while it runs: a progress bar counting tasks, a Cancel button at
the top of the page, and a note while another visitor's identical run is awaited.

``on_page`` is the ``ui.services.runs.Watch`` the pages give the services.
"""

from __future__ import annotations

import threading
import time

import streamlit as st

__all__ = ["CANCEL_KEY", "offer_cancel", "on_page", "stages_done", "with_progress"]

CANCEL_KEY = "cancel_run"


class _ThisRun(threading.local):
    """Where this script run offers its Cancel button (each session's runs have a thread)."""

    slot = None  # an ``st.empty`` at the top of the page, from ``offer_cancel``
    offered = False  # a key is drawn once per run: the button stays until ``stages_done``


_this_run = _ThisRun()


def offer_cancel() -> None:
    """Keep a place at the top of the page for the Cancel button that a run computing
    this page's stages shows (see ``with_progress``)."""
    _this_run.slot, _this_run.offered = st.empty(), False


def stages_done() -> None:
    """The page's stages are computed: the Cancel button goes."""
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
    placeholder = st.empty()
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
            self.placeholder = st.empty()
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
