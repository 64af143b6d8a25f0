"""Pictures to the pixel: a before and an after picture as tile pyramids the app serves
itself, shown in the zoom view with a swipe between them.

Each pyramid is written once per content key into ``static/pyramids/<digest>/``, which
Streamlit serves at ``/app/static/pyramids/...`` (``server.enableStaticServing``); every
session and every later server reuses it. The folder is bounded by
``$PYRAMID_CACHE_MAX_BYTES`` (1 GiB unless set), the least recently opened removed first.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import dask.array as da
import numpy as np
import streamlit as st

from core import PipelineError, Step, TileSet
from core.cluster import THREADS
from core.disk_cache import prune, touch
from core.filters import GRAYSCALE_RANGE
from core.previews import StepRun, StitchRun
from core.pyramid import Pyramid, read_pyramid, write_pyramid

from .dask_view import dask_view
from .runs import step_key, with_progress

__all__ = [
    "PYRAMIDS",
    "PYRAMIDS_MAX_BYTES",
    "Picture",
    "photo_picture",
    "pixel_zoom_section",
    "pyramid_of",
    "step_picture",
    "stitched_picture",
    "zoom_view",
]

#: Streamlit serves the folder ``static`` beside the main script, and only real files in it
#: (symbolic links out of it are refused), so the pyramids live there.
PYRAMIDS = Path(__file__).resolve().parents[1] / "static" / "pyramids"
#: Where the browser finds them, relative to the app's address.
PYRAMIDS_URL = "app/static/pyramids"
#: A 64-MPix photo's pyramids took 29 MB of PNG tiles (the stitched grayscale) and 85 MB
#: (the colour photo) here, so the default keeps about nine such pairs.
PYRAMIDS_MAX_BYTES = int(os.environ.get("PYRAMID_CACHE_MAX_BYTES", 2**30))
#: Changes whenever the tiles of a key would come out differently, so that a server with
#: new code does not show an older server's tiles.
PYRAMID_FORMAT = 1
VIEW_HEIGHT = 640  # pixels: most of a laptop's screen, with the page's title above


@dataclass(frozen=True)
class Picture:
    """A picture to zoom into: what it shows, and how its values become pixels."""

    key: tuple  # what its pixels depend on, nothing else: the image, grid and steps
    image: object  # dask or NumPy array, (H, W) or (H, W, 3)
    kind: str  # "values", "mask" or "labels"
    value_range: tuple[float, float]
    label: str  # what it shows, in a few words: "the stitched grayscale"

    @property
    def folder_name(self) -> str:
        words = json.dumps([PYRAMID_FORMAT, list(self.key), self.kind, list(self.value_range)], default=str)
        return hashlib.sha256(words.encode()).hexdigest()[:32]


def photo_picture(digest: str, pixels: np.ndarray, label: str) -> Picture:
    """The uploaded or sample image as it is, colour or gray, 8 or 16 bits."""
    top = float(np.iinfo(pixels.dtype).max)
    return Picture(("photo", digest), pixels, "values", (0.0, top), label)


@st.cache_resource
def _writers() -> dict[str, threading.Lock]:
    # Sessions asking for the same pyramid at once wait for one writer; the pyramids
    # themselves are on disk, and a few bytes of lock per pyramid stay here.
    return {}


def _on_this_machine(scheduler):
    """``scheduler`` if its threads or workers write to this machine's disk (threads, or
    the local cluster's workers), else threads in this process, which fetch the blocks."""
    if hasattr(scheduler, "get_task_stream") and getattr(scheduler, "cluster", None) is None:
        return THREADS
    return scheduler


def _lazy(image, scheduler) -> tuple[da.Array, object]:
    """``image`` as a dask array, and where to cut it: a NumPy image (the photo) lives in
    this process, so its threads cut it rather than a cluster it would be shipped to."""
    if isinstance(image, da.Array):
        return image, _on_this_machine(scheduler)
    return da.from_array(image, chunks=(2048, 2048, *image.shape[2:])), THREADS


def pyramid_of(picture: Picture, scheduler) -> Pyramid:
    """The picture's pyramid on disk, written now (under a progress bar) if it is not yet.

    Raises ``PipelineError`` with a message for the visitor if it cannot be written.
    """
    folder = PYRAMIDS / picture.folder_name
    with _writers().setdefault(picture.folder_name, threading.Lock()):
        pyramid = read_pyramid(folder) or _write(picture, folder, scheduler)
    touch(folder)  # opened: pruned last
    return pyramid


def _write(picture: Picture, folder: Path, scheduler) -> Pyramid:
    image, scheduler = _lazy(picture.image, scheduler)
    height, width = image.shape[:2]
    try:
        written = with_progress(
            f"Cutting {picture.label} ({width:,} x {height:,} pixels) into tiles for the zoom",
            lambda report: write_pyramid(
                image, folder, kind=picture.kind, value_range=picture.value_range,
                on_progress=report, scheduler=scheduler,
            ),
        )
    except OSError as e:
        raise PipelineError(f"Cannot write the zoom's tiles on the server: {e.strerror}.") from e
    prune(PYRAMIDS, PYRAMIDS_MAX_BYTES)
    return written


def zoom_view(before: Picture, after: Picture, scheduler, *, key: str) -> None:
    """The zoom view of ``before`` and ``after`` (of the same size), their pyramids written
    first if need be."""
    pyramids = [pyramid_of(picture, scheduler) for picture in (before, after)]
    dask_view(
        "zoom", key=key, height=VIEW_HEIGHT,
        **{
            side: {"path": f"{PYRAMIDS_URL}/{picture.folder_name}", "pyramid": pyramid.to_dict(), "label": picture.label}
            for side, picture, pyramid in zip(("before", "after"), (before, after), pyramids)
        },
    )


def stitched_picture(tile_files: TileSet, stitch_run: StitchRun, label: str) -> Picture:
    """The stitched grayscale image, as the Stitched page and the first step show it."""
    return Picture(("stitched", str(tile_files.folder)), stitch_run.stitched, "values", GRAYSCALE_RANGE, label)


def step_picture(tile_files: TileSet, chain: tuple[Step, ...], index: int, run: StepRun, label: str) -> Picture:
    """The output of the chain's step at ``index``, coloured as its page shows it."""
    return Picture(("step", *step_key(tile_files, chain, index)), run.output, run.kind, run.value_range, label)


def pixel_zoom_section(before: Picture, after: Picture, scheduler, *, key: str) -> None:
    """The page's "Inspect to the pixel" section: the zoom view, once the visitor opens it
    (its tiles take a few seconds to cut at 64 MPix)."""
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
