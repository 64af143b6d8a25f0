"""What every page starts with: page setup, the sidebar, and the stages it needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core import Pipeline, TileSet, clip
from core.previews import EdgeRun, GrayRun

from .settings import Settings, sidebar
from .state import STAND_IN, Image, current_image, edge_run, gray_run, lazy_pipeline, runner, tile_set

__all__ = ["Run", "start_page"]

TITLE = "Dask, tile by tile"
#: A file served by the app: a Material icon as the tab's icon is fetched from Google's fonts.
ICON = str(Path(__file__).with_name("icon.png"))
RUNNER_LABELS = {
    "threads": "threads in the server",
    "local": "a local Dask cluster",
    "remote": "a Dask cluster",
}


@dataclass(frozen=True)
class Run:
    settings: Settings
    image: Image
    tiles: TileSet
    pipeline: Pipeline  # lazy; its Sobel is in the settings' mode
    gray: GrayRun
    edges: EdgeRun | None
    scheduler: object  # what the stages ran on: the cluster's client, or "threads"

    @property
    def graph_key(self) -> tuple:
        return (str(self.tiles.folder), self.settings.sobel)

    def clipped(self):
        """The lazy clip stage for the current clip range."""
        return clip(self.pipeline.edges, *self.settings.clip)


def start_page(title: str, *, with_edges: bool = False, wait_for_cluster: bool = False) -> Run:
    """Set up the page, draw the sidebar and run (or fetch) the stages the page shows.

    The stages run on threads while the cluster starts, unless ``wait_for_cluster``.
    """
    st.set_page_config(page_title=f"{title} · {TITLE}", page_icon=ICON, layout="wide")
    settings = sidebar()
    active = runner(wait=wait_for_cluster)
    image = current_image(settings)
    tiles = tile_set(image, settings.rows, settings.cols)
    scheduler = active.scheduler_for(tiles.mean_tile_pixels)  # once: every stage runs on it
    if active is STAND_IN:
        st.sidebar.caption("Dask runs on: threads in the server while the cluster starts")
    elif scheduler is active.scheduler:
        st.sidebar.caption(f"Dask runs on: {RUNNER_LABELS[active.kind]} ({active.address})")
    else:
        st.sidebar.caption(
            f"Dask runs on: threads in the server, for tiles this small ({RUNNER_LABELS[active.kind]} "
            "otherwise; see the Cluster page)"
        )
    pipeline = lazy_pipeline(tiles, settings.sobel)
    gray = gray_run(tiles, pipeline, scheduler)
    edges = edge_run(tiles, gray, settings.sobel, scheduler) if with_edges else None
    return Run(settings, image, tiles, pipeline, gray, edges, scheduler)
