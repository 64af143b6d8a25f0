"""The picture a session works on: a bundled sample, or an upload kept under its digest.
Nothing here draws: the pages show what it returns or raises.

Everything is keyed on the SHA-256 of the image's content, never on Streamlit's hashing
of arrays (which samples large arrays) nor on a file name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from core.errors import PipelineError
from core.pipeline import SAMPLES, frame_count, image_digest, load_image, load_sample, sample_file
from core.runtime import prune, store_bytes

from . import config
from .store import BoundedStore

__all__ = ["APP_MAX_PIXELS", "SourceImage", "Upload", "current_image", "save_upload"]

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
    path: Path | None = None  # the file on the server it was decoded from, which a notebook names


@st.cache_resource
def _decoded() -> BoundedStore:
    # Bounded by entries: a 16-MPix image costs 48 MB as pixels.
    return BoundedStore(4)


def save_upload(data: bytes) -> str:
    cache = config.get("TILE_CACHE_DIR")
    digest, _ = store_bytes(data, cache / "uploads")
    prune(cache, config.get("TILE_CACHE_MAX_BYTES"))
    return digest


def _readonly(pixels: np.ndarray) -> np.ndarray:
    pixels.flags.writeable = False
    return pixels


def _load_upload(digest: str) -> tuple[np.ndarray, int]:
    path = config.get("TILE_CACHE_DIR") / "uploads" / digest
    if not path.exists():
        raise PipelineError("the uploaded file is no longer on the server; please upload it again")
    pixels = _readonly(load_image(path, max_pixels=APP_MAX_PIXELS))
    return pixels, frame_count(path)


def _load_sample(name: str) -> tuple[str, np.ndarray]:
    pixels = _readonly(load_sample(name))
    return image_digest(pixels), pixels


def current_image(sample: str, upload: Upload | None) -> SourceImage:
    """The uploaded image if there is one, else the chosen sample.

    Raises ``PipelineError`` with a message for the visitor if it cannot be read.
    """
    try:
        if upload is not None:
            pixels, frames = _decoded().get_or_compute(("upload", upload.digest), lambda: _load_upload(upload.digest))
            path = config.get("TILE_CACHE_DIR") / "uploads" / upload.digest
            return SourceImage(upload.digest, upload.label, pixels, upload.file_name or "IMAGE", frames, path.resolve())
        digest, pixels = _decoded().get_or_compute(("sample", sample), lambda: _load_sample(sample))
        return SourceImage(digest, SAMPLES[sample], pixels, f"{sample}.png", path=sample_file(sample))
    except PipelineError as e:
        raise PipelineError(
            f"Could not read this image: {e}. Upload another one, or clear it to use a sample."
        ) from e
