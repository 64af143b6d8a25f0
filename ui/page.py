"""What every page starts with: page setup, the sidebar, and the stages it needs.

``start_page`` is also the one place where a ``PipelineError`` met while preparing a page
(an unreadable upload, a grid that does not fit, a cluster that cannot see the tiles)
becomes the page's error message: the modules below it raise, with words for the visitor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.errors import PipelineError
from core.pipeline import SAMPLES, Pipeline, TileSet
from core.pipeline.samples import LARGE_SAMPLES
from ui.services.previews import StepRun, StitchRun

from .auth import require_sign_in
from .navigation import draw_next_link, draw_way_back
from .progress import offer_cancel, on_page, stages_done, status_slot
from .services.clock import runs_on_words
from .services.cluster import STAND_IN, cluster_problem, page_drawn, runner
from .services.pages import APP_TITLE, STEP_PAGE, STEP_PARAM, Page, step_title
from .services.runs import kept_scheduler, lazy_pipeline, step_runs, stitch_run, tile_files_of, tiles_for
from .services.settings import Settings
from .services.uploads import SourceImage, current_image
from .sidebar import sidebar
from .views import PICTURE_STYLE

__all__ = ["PageContext", "end_page", "show_errors", "start_page", "start_step_page"]

#: A file served by the app: a Material icon as the tab's icon is fetched from Google's fonts.
ICON = str(Path(__file__).with_name("icon.png"))


@dataclass(frozen=True)
class PageContext:
    """What a page shows: the settings, and the stages run for them."""

    page: str  # the page's script, as ``ui.services.pages`` names it
    settings: Settings
    image: SourceImage
    tile_files: TileSet  # a ``ShippedTiles`` where the cluster's workers cannot read them
    pipeline: Pipeline  # lazy, for the task graphs: built from the tile files on
    stitch_run: StitchRun
    step_runs: tuple[StepRun, ...]  # the chain's first steps, as many as the page needs
    scheduler: object  # what the stages ran on: the cluster's client, or "threads"
    ran_on: str  # the same in words, for a sentence: "the local Dask cluster" (``runs_on_words``)
    step_index: int | None = None  # on the step page: which step it shows, from 0


@contextmanager
def show_errors(what: str | None = None) -> Iterator[None]:
    """Show a ``PipelineError`` raised in the block as the page's error, and stop the page:
    its message as it is, or ``what: message.``"""
    try:
        yield
    except PipelineError as e:
        st.error(f"{what}: {e}." if what else str(e))
        st.stop()


def _requested_step() -> int:
    """The step page's step, from 1, as the address gives it (1 if it gives none)."""
    try:
        return max(1, int(st.query_params.get(STEP_PARAM, "1")))
    except ValueError:
        return 1


def start_page(page: Page, *, all_steps: bool = False, wait_for_cluster: bool = False) -> PageContext:
    """Set up ``page``, draw the sidebar and run (or fetch) the stages the page shows: the
    tiles, grayscale and stitched image, and the chain's steps if ``all_steps``.

    The stages run on threads while the cluster starts, unless ``wait_for_cluster``.
    """
    return _start(page.file, lambda settings: page.label, None if all_steps else 0, {}, wait_for_cluster)


def start_step_page() -> PageContext:
    """``start_page`` for the page of one step, the one the address names (``?step=2``),
    with the steps up to it run; its ``step_index`` says which (from 0)."""
    number = _requested_step()
    return _start(
        STEP_PAGE.file, lambda settings: step_title(settings.chain[number - 1], number - 1) if number <= len(settings.chain) else "Step",
        number, {STEP_PARAM: str(number)}, False,
    )


@contextmanager
def _spinner_for(settings: Settings) -> Iterator[None]:
    """A spinner in the run's box while the picture is decoded or, the first time, made
    (the large sample)."""
    if settings.upload:
        text = "Decoding the upload…"
    elif settings.sample in LARGE_SAMPLES:
        text = f"Preparing {SAMPLES[settings.sample]}…"
    else:
        yield
        return
    with status_slot().container(), st.spinner(text):
        yield


def _start(page: str, title, steps: int | None, page_params: dict[str, str], wait_for_cluster: bool) -> PageContext:
    # Before the sidebar, which rewrites the address: a signed-out visitor's link must
    # survive the sign-in as it came.
    require_sign_in(APP_TITLE)
    settings = sidebar(page, page_params)
    st.set_page_config(page_title=f"{title(settings)} · {APP_TITLE}", page_icon=ICON, layout="wide")
    st.html(PICTURE_STYLE)
    active = runner(wait=wait_for_cluster)
    if cluster_problem():
        st.sidebar.warning(cluster_problem())
    offer_cancel()
    if steps is not None and steps > len(settings.chain):
        count = len(settings.chain)
        st.error(
            f"The chain has {count} step{'' if count == 1 else 's'}, so there is no step {steps} to show: "
            "pick one in the sidebar, or add a stage."
        )
        draw_way_back(settings.chain)
        st.stop()
    with show_errors():
        with _spinner_for(settings):
            image = current_image(settings.sample, settings.upload)
        if image.frames > 1:
            st.sidebar.info(
                f"{image.label} holds {image.frames} frames (an animation, or the pages of a TIFF): "
                "this app uses the first one. To work on another, save it as an image of its own "
                "and upload that."
            )
        tile_files = tile_files_of(image, settings.rows, settings.cols, on_page)
        chosen = active.scheduler_for(tile_files.mean_tile_pixels)
        # Once: every stage runs on it. The Cluster page shows where tiles were read, so it
        # asks for a run on the cluster; others reuse one made on threads while it started.
        scheduler = chosen if wait_for_cluster else kept_scheduler(tile_files, chosen)
        tile_files = tiles_for(tile_files, scheduler)  # sent in the graph to workers with disks of their own
        ran_on = runs_on_words(
            active.kind, address=active.address, starting=active is STAND_IN,
            small_tiles=active is not STAND_IN and chosen is not active.scheduler,
            kept=active is not STAND_IN and scheduler is not chosen,
        )
        st.sidebar.caption(f"Dask runs on: {ran_on} (see the Cluster page)")
        pipeline = lazy_pipeline(tile_files, settings.chain)
        stitched = stitch_run(tile_files, pipeline, scheduler, on_page)
        count = len(settings.chain) if steps is None else steps
        runs = step_runs(tile_files, stitched, settings.chain, count, scheduler, on_page)
    stages_done()
    step_index = steps - 1 if steps else None
    return PageContext(page, settings, image, tile_files, pipeline, stitched, runs, scheduler, ran_on, step_index)


def end_page(context: PageContext) -> None:
    """What every page ends with: the link to the next page in the tutorial's order."""
    step = None if context.step_index is None else context.step_index + 1
    draw_next_link(context.settings.chain, context.page, step)
    page_drawn()
