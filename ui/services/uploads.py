"""The picture a session works on: a bundled sample, or an upload kept under its digest.
Nothing here draws: the pages show what it returns or raises.

Everything is keyed on the SHA-256 of the image's content, never on Streamlit's hashing
of arrays (which samples large arrays) nor on a file name.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from core.errors import PipelineError
from core.pipeline import SAMPLES, TileSet, frame_count, image_digest, load_image, load_sample, sample_file
from core.pipeline.inputs import TILE_FILE, open_tiled_input, tile_files_in_folder
from core.runtime import prune, store_bytes, touch

from . import config
from .store import BoundedStore

__all__ = ["APP_MAX_PIXELS", "SourceImage", "Upload", "current_image", "save_tiles", "save_upload"]

#: Largest upload decoded; .streamlit/config.toml's maxUploadSize (MB) is 3 bytes a pixel.
APP_MAX_PIXELS = 100_000_000


@dataclass(frozen=True)
class Upload:
    digest: str  # SHA-256 of the file; its bytes are stored under this name
    file_name: str | None  # as uploaded, shown to the user, never used in a path; None from a link

    @property
    def label(self) -> str:
        return self.file_name or "a shared upload"


@dataclass(frozen=True)
class SourceImage:
    """The decoded picture the pipeline starts from."""

    digest: str
    label: str  # what the pages call it: the sample's title or the upload's file name
    pixels: np.ndarray  # read-only: shared by every session
    file_name: str  # for the command line the Home page offers: the sample's name, or the upload's
    frames: int = 1  # of an animation, or pages of a TIFF: only the first is decoded
    tiles: TileSet | None = None  # an upload of several files: the tiles they are, read as they are
    sample: str | None = None  # the sample's name, for a sample

    def file(self) -> Path | None:
        """The file on the server it was decoded from, which a notebook names: the upload's,
        or the sample's (a large sample's is written then, once); None for an upload of
        several tiles, which no single file holds."""
        if self.sample is not None:
            return sample_file(self.sample, config.get("TILE_CACHE_DIR"))
        if self.tiles is not None:
            return None
        return (config.get("TILE_CACHE_DIR") / "uploads" / self.digest).resolve()


@st.cache_resource
def _decoded() -> BoundedStore:
    # Bounded by entries: a 16-MPix image costs 48 MB as pixels.
    return BoundedStore(4)


def save_upload(data: bytes) -> str:
    cache = config.get("TILE_CACHE_DIR")
    digest, _ = store_bytes(data, cache / "uploads")
    prune(cache, config.get("TILE_CACHE_MAX_BYTES"))
    return digest


def save_tiles(files: list[tuple[str, bytes]]) -> tuple[str, tuple[int, int]]:
    """Store several files uploaded at once as the tiles of one image, in a folder named by
    the digest of their names and bytes; return it and their grid, once they are checked
    (``core.pipeline.inputs``: their names give their places, ``tile_r000_c001.png``).

    Raises ``PipelineError`` for a file not named as a tile, or tiles that do not make one
    image, naming the file.
    """
    for name, _ in files:
        if TILE_FILE.fullmatch(name) is None:
            raise PipelineError(
                f"{name!r} is not named as a tile: several files are the tiles of one image, named by their "
                "row and column from 0 (tile_r000_c000.png, tile_r000_c001.png, ...)"
            )
    h = hashlib.sha256()
    for name, data in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    digest = h.hexdigest()
    cache = config.get("TILE_CACHE_DIR")
    folder = cache / "uploads" / digest
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{digest[:16]}-", dir=folder.parent))
        try:
            for name, data in files:  # names that matched TILE_FILE: no path in them
                (staging / name).write_bytes(data)
            grid = tile_files_in_folder(staging).grid  # checked before it is kept
            os.rename(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        prune(cache, config.get("TILE_CACHE_MAX_BYTES"))
        return digest, grid
    touch(folder)
    return digest, tile_files_in_folder(folder).grid


def _readonly(pixels: np.ndarray) -> np.ndarray:
    pixels.flags.writeable = False
    return pixels


def _load_upload(digest: str) -> tuple[np.ndarray, int, TileSet | None]:
    path = config.get("TILE_CACHE_DIR") / "uploads" / digest
    if not path.exists():
        raise PipelineError("the uploaded file is no longer on the server; please upload it again")
    if path.is_dir():  # several files, the tiles of one image
        tiles = open_tiled_input(path, None, max_pixels=APP_MAX_PIXELS)
        rows = [np.concatenate([load_image(file) for file in row], axis=1) for row in tiles.paths]
        return _readonly(np.concatenate(rows, axis=0)), 1, tiles
    pixels = _readonly(load_image(path, max_pixels=APP_MAX_PIXELS))
    return pixels, frame_count(path), None


def _load_sample(name: str) -> tuple[str, np.ndarray]:
    pixels = _readonly(load_sample(name, config.get("TILE_CACHE_DIR")))
    return image_digest(pixels), pixels


def current_image(sample: str, upload: Upload | None) -> SourceImage:
    """The uploaded image if there is one, else the chosen sample.

    Raises ``PipelineError`` with a message for the visitor if it cannot be read.
    """
    try:
        if upload is not None:
            pixels, frames, tiles = _decoded().get_or_compute(
                ("upload", upload.digest), lambda: _load_upload(upload.digest)
            )
            file_name = "TILES/" if tiles is not None else upload.file_name or "IMAGE"
            return SourceImage(upload.digest, upload.label, pixels, file_name, frames, tiles)
        digest, pixels = _decoded().get_or_compute(("sample", sample), lambda: _load_sample(sample))
        return SourceImage(digest, SAMPLES[sample], pixels, f"{sample}.png", sample=sample)
    except PipelineError as e:
        raise PipelineError(
            f"Could not read this image: {e}. Upload another one, or clear it to use a sample."
        ) from e
