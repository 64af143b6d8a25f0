"""The pixel zoom: a before and an after picture at full resolution, zoomed to single
pixels with a swipe between them, from the tile pyramids of ``ui.services.zoom_pyramids``."""

from __future__ import annotations

import streamlit as st

from core.errors import PipelineError

from .dask_view import dask_view
from .progress import on_page
from .services.zoom_pyramids import PYRAMIDS_URL, Picture, pyramids_of

__all__ = ["pixel_zoom_section", "zoom_view"]

VIEW_HEIGHT = 640  # pixels: most of a laptop's screen, with the page's title above


def zoom_view(before: Picture, after: Picture, scheduler, *, key: str) -> None:
    """The zoom view of ``before`` and ``after`` (of the same size), their coarse levels
    written first if need be; the view shows the fine levels' progress and their tiles as
    they come."""
    # The view says how far the full resolution's cutting has got, and stops saying so when
    # it is done; a caption of the page's would stay until the next rerun.
    pyramids = pyramids_of([before, after], scheduler, on_page)
    dask_view(
        "zoom", key=key, height=VIEW_HEIGHT,
        **{
            side: {"path": f"{PYRAMIDS_URL}/{picture.folder_name}", "pyramid": pyramid.to_dict(), "label": picture.label}
            for side, picture, pyramid in zip(("before", "after"), (before, after), pyramids)
        },
    )


def pixel_zoom_section(before: Picture, after: Picture, scheduler, *, key: str) -> None:
    """The page's "Inspect to the pixel" section: the zoom view, once the visitor opens it
    (its full-resolution tiles take a few seconds to cut at 64 MPix, after it opens)."""
    st.subheader("Inspect to the pixel")
    st.write(
        "Zoom into the full-resolution pictures down to single pixels (wheel, double-click or the "
        "buttons; drag to pan) and drag the orange line to compare before and after. Dask cuts each "
        "picture into a pyramid of 256-pixel tiles, every level half the one above, in parallel; the "
        "browser then loads only the tiles in view."
    )
    if not st.toggle("Open the pixel zoom", key=key):
        return
    try:
        zoom_view(before, after, scheduler, key=f"{key}-view")
    except PipelineError as e:
        st.error(str(e))
