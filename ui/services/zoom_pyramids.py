"""The pixel zoom's pictures as tile pyramids on disk, which the app serves itself
(``ui.zoom`` shows them).

Each pyramid is written once per content key into ``static/pyramids/<name>/``, which
Streamlit serves at ``/app/static/pyramids/...`` (``server.enableStaticServing``) to
anyone who knows the address; the name is a keyed digest of the content key, with a
secret of this server's, so only pages served by the app know it. Every session and every
later server with the same secret reuses it. The view opens once the coarse levels are
cut; the fine levels are cut by one thread of the server per pyramid, shared by every
session, which reports its progress in ``progress.json`` for the view to show. The folder
is bounded by ``$PYRAMID_CACHE_MAX_BYTES`` (1 GiB unless set), the least recently opened
removed first, never one being cut.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import streamlit as st

from core.errors import PipelineError
from core.outputs.deep_zoom import Pyramid, read_pyramid, write_coarse_levels, write_fine_levels
from core.pipeline import GRAYSCALE_RANGE, ResultKind, Step, TileSet
from core.runtime import THREADS, atomic_path, prune, touch
from ui.services.previews import StepRun, StitchRun

from . import config
from .runs import step_key
from .watch import UNWATCHED, Watch

__all__ = [
    "PYRAMIDS",
    "PYRAMIDS_URL",
    "Picture",
    "photo_picture",
    "pyramid_of",
    "pyramids_of",
    "server_secret",
    "step_picture",
    "stitched_picture",
    "wait_for_cutting",
]

#: Streamlit serves the folder ``static`` beside the main script, and only real files in it
#: (symbolic links out of it are refused), so the pyramids live there.
PYRAMIDS = Path(__file__).resolve().parents[2] / "static" / "pyramids"
#: Where the browser finds them, relative to the app's address.
PYRAMIDS_URL = "app/static/pyramids"
#: Changes whenever the tiles of a key would come out differently, or the folders' names:
#: a server with new code neither shows an older server's tiles nor leaves them served.
PYRAMID_FORMAT = 2
#: In ``PYRAMIDS``: the format of the pyramids there.
FORMAT_FILE = ".format"
#: What the thread cutting a pyramid's fine levels writes into its folder, at most ten
#: times a second: ``{"done": tasks, "total": tasks, "complete": bool}``.
PROGRESS = "progress.json"
#: In the cache folder, never in the served one. A dot keeps the cache's pruning off it
#: (``core.runtime.prune`` leaves hidden entries to their writers).
SECRET_FILE = ".pyramid-secret"


@dataclass(frozen=True)
class Picture:
    """A picture to zoom into: what it shows, and how its values become pixels."""

    key: tuple  # what its pixels depend on, nothing else: the image, grid and steps
    image: object  # dask or NumPy array, (H, W) or (H, W, 3)
    kind: ResultKind
    value_range: tuple[float, float]
    label: str  # what it shows, in a few words: "the stitched grayscale"

    @property
    def folder_name(self) -> str:
        # A plain digest of the key could be worked out by anyone who has the image (a
        # bundled sample's, say), and the tiles are served without asking who is signed in.
        words = json.dumps([PYRAMID_FORMAT, list(self.key), self.kind, list(self.value_range)], default=str)
        return hmac.new(server_secret(config.get("TILE_CACHE_DIR")), words.encode(), "sha256").hexdigest()[:32]


@functools.cache
def server_secret(folder: Path) -> bytes:
    """The secret kept in ``folder/.pyramid-secret`` (only its owner may read it), made the
    first time by whichever server or session gets there first."""
    path = Path(folder) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(prefix=f"{SECRET_FILE}-", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(handle, "wb") as f:
                f.write(secrets.token_bytes(32))
            os.link(partial, path)  # never replaces a secret another server made meanwhile
        except FileExistsError:
            pass
        finally:
            os.unlink(partial)
    return path.read_bytes()


def photo_picture(digest: str, pixels: np.ndarray, label: str) -> Picture:
    """The uploaded or sample image as it is, colour or gray, 8 or 16 bits."""
    top = float(np.iinfo(pixels.dtype).max)
    return Picture(("photo", digest), pixels, ResultKind.VALUES, (0.0, top), label)


class _Cutters:
    """The threads cutting fine levels in this server, by folder name: one per pyramid,
    whichever sessions asked for it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.threads: dict[str, threading.Thread] = {}

    def start(self, name: str, cut) -> None:
        """Run ``cut()`` in a thread, unless one is at work on ``name`` already."""
        with self.lock:
            if name in self.threads and self.threads[name].is_alive():
                return
            self.threads[name] = threading.Thread(target=cut, name=f"pyramid-{name[:8]}", daemon=True)
            self.threads[name].start()

    def busy(self) -> list[str]:
        with self.lock:
            return [name for name, thread in self.threads.items() if thread.is_alive()]


@st.cache_resource
def _cutters() -> _Cutters:
    return _Cutters()


@st.cache_resource
def _older_formats_removed() -> bool:
    """Remove the pyramids of another format than this code's, once per server: their
    folders are never asked for again, yet still served, and those of format 1 at names a
    plain digest of the image gives away."""
    marker = PYRAMIDS / FORMAT_FILE
    if marker.is_file() and marker.read_text().strip() == str(PYRAMID_FORMAT):
        return True
    if PYRAMIDS.is_dir():
        for entry in PYRAMIDS.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
    PYRAMIDS.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{PYRAMID_FORMAT}\n")
    return True


@st.cache_resource
def _writers() -> dict[str, threading.Lock]:
    # Sessions asking for the same pyramid at once wait for one writer of its coarse
    # levels; the pyramids themselves are on disk, and a few bytes of lock per pyramid
    # stay here.
    return {}


def _remote(scheduler) -> bool:
    """Whether ``scheduler`` is a cluster's client whose workers do not write to this
    machine's disk (a scheduler reached by address, not the local cluster)."""
    return hasattr(scheduler, "get_task_stream") and getattr(scheduler, "cluster", None) is None


def _fetched(image: da.Array) -> da.Array:
    """A persisted array of a remote cluster as an array of this process, each block
    fetched from the cluster when a thread here needs it: the threaded scheduler cannot
    run a graph of futures itself."""
    from distributed import futures_of

    future_of = {future.key: future for future in futures_of(image)}
    fetch = dask.delayed(lambda key: future_of[key].result(), pure=True)
    def blocks(keys, index=()):  # __dask_keys__ nests lists of keys as the blocks lie
        if not isinstance(keys, list):
            shape = tuple(image.chunks[axis][i] for axis, i in enumerate(index))
            return da.from_delayed(fetch(keys), shape, image.dtype)
        return [blocks(inner, (*index, i)) for i, inner in enumerate(keys)]

    return da.block(blocks(image.__dask_keys__()))


def _lazy(image, scheduler) -> tuple[da.Array, object]:
    """``image`` as a dask array, and where to cut it: a NumPy image (the photo) lives in
    this process, so its threads cut it rather than a cluster it would be shipped to; a
    remote cluster's workers cannot write the pyramid here, so threads here cut its blocks,
    fetched from it (``_fetched``)."""
    if isinstance(image, da.Array):
        # persisted first: a pointwise step's output is lazy (``StepRun.deferred``)
        return (_fetched(scheduler.persist(image)), THREADS) if _remote(scheduler) else (image, scheduler)
    # A random name, not a hash of the pixels: hashing a large photo would delay the first
    # tile, and nothing here computes the same array twice.
    return da.from_array(image, chunks=(2048, 2048, *image.shape[2:]), name=False), THREADS


def pyramids_of(pictures: list[Picture], scheduler, watch: Watch = UNWATCHED) -> list[Pyramid]:
    """The pictures' pyramids on disk, at least their coarse levels: those are written now
    (shown by ``watch``) if need be, one picture after the other, and then the fine
    levels, unless on disk, each in a thread of the server (``wait_for_cutting`` waits).

    Raises ``PipelineError`` with a message for the visitor if they cannot be written.
    """
    _older_formats_removed()
    pyramids = [_coarse_of(picture, scheduler, watch) for picture in pictures]
    # Only now: the first picture's fine levels would take the cores from the next one's
    # coarse levels, which the view waits for.
    for picture, pyramid in zip(pictures, pyramids):
        if not pyramid.complete:
            # also after a restart or a crash: whatever a stopped writer left is cut again
            folder = PYRAMIDS / picture.folder_name
            _cutters().start(picture.folder_name, functools.partial(_cut_fine, picture, folder, scheduler))
    return pyramids


def pyramid_of(picture: Picture, scheduler, watch: Watch = UNWATCHED) -> Pyramid:
    """``pyramids_of`` one picture."""
    return pyramids_of([picture], scheduler, watch)[0]


def _coarse_of(picture: Picture, scheduler, watch: Watch) -> Pyramid:
    folder = PYRAMIDS / picture.folder_name
    with _writers().setdefault(picture.folder_name, threading.Lock()):
        pyramid = read_pyramid(folder) or _write_coarse(picture, folder, scheduler, watch)
    touch(folder)  # opened: pruned last
    return pyramid


def _write_coarse(picture: Picture, folder: Path, scheduler, watch: Watch) -> Pyramid:
    image, scheduler = _lazy(picture.image, scheduler)
    height, width = image.shape[:2]
    try:
        written = watch.run(
            f"Cutting {picture.label} ({width:,} x {height:,} pixels) into tiles for the zoom",
            lambda report: write_coarse_levels(
                image, folder, kind=picture.kind, value_range=picture.value_range,
                coarse_side=config.get("PYRAMID_COARSE_SIDE"), on_progress=report, scheduler=scheduler,
            ),
        )
    except OSError as e:
        raise PipelineError(f"Cannot write the zoom's tiles on the server: {e.strerror}.") from e
    _prune()
    return written


def _before_fine_levels() -> None:
    """For the browser tests, which show the view open before its full resolution: with
    ``$PYRAMID_HOLD_FINE_LEVELS`` set, the fine levels wait until that file exists."""
    hold = config.get("PYRAMID_HOLD_FINE_LEVELS")
    while hold and not os.path.exists(hold):
        time.sleep(0.1)


def _cut_fine(picture: Picture, folder: Path, scheduler) -> None:
    """The thread that cuts the fine levels of ``picture``'s pyramid in ``folder``."""

    def report(done: int, total: int, complete: bool = False) -> None:
        # Renamed into the pyramid's folder, which this also marks as in use for pruning.
        with atomic_path(folder / PROGRESS) as partial:
            partial.write_text(json.dumps({"done": done, "total": total, "complete": complete}))

    try:
        report(0, 0)
        _before_fine_levels()
        image, where = _lazy(picture.image, scheduler)
        write_fine_levels(
            image, folder, kind=picture.kind, value_range=picture.value_range, on_progress=report, scheduler=where
        )
        report(1, 1, complete=True)
    except Exception:
        logging.getLogger(__name__).exception("cutting the fine levels of %s failed", folder)
    _prune()


def wait_for_cutting(picture: Picture, timeout: float | None = None) -> None:
    """Wait until no thread of this server cuts ``picture``'s fine levels."""
    with _cutters().lock:
        thread = _cutters().threads.get(picture.folder_name)
    if thread is not None:
        thread.join(timeout)


def _prune() -> None:
    # A pyramid being cut may have been opened long ago (its first visitor left): marked
    # as just used, pruning keeps it.
    for name in _cutters().busy():
        touch(PYRAMIDS / name)
    prune(PYRAMIDS, config.get("PYRAMID_CACHE_MAX_BYTES"))


def stitched_picture(tile_files: TileSet, stitch_run: StitchRun, label: str) -> Picture:
    """The stitched grayscale image, as the Stitched page and the first step show it."""
    return Picture(("stitched", str(tile_files.folder)), stitch_run.stitched, ResultKind.VALUES, GRAYSCALE_RANGE, label)


def step_picture(tile_files: TileSet, chain: tuple[Step, ...], index: int, run: StepRun, label: str) -> Picture:
    """The output of the chain's step at ``index``, coloured as its page shows it."""
    return Picture(("step", *step_key(tile_files, chain, index)), run.output, run.kind, run.value_range, label)
