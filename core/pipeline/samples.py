"""Sample images that need no network: scikit-image's bundled ones, and a large one made
from them the first time it is asked for."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import skimage.data

from ..errors import PipelineError
from ..runtime.atomic import atomic_path
from .loading import as_gray_or_rgb

__all__ = ["DEFAULT_SAMPLE", "LARGE_SAMPLES", "SAMPLES", "load_sample", "sample_file"]

#: A sample large enough that more cores pay: its tasks take far longer than scheduling
#: them (the Speed-up page's first measurement). Made, not bundled: the astronaut enlarged
#: to 2048 pixels and repeated 2 x 2, with seeded noise, the same bytes every time.
LARGE_SAMPLES = {"astronaut_16mpix": "Astronaut, 16 MPix (4096 x 4096, made on first use)"}
LARGE_SIDE, LARGE_REPEAT = 2048, 2
#: Changes whenever the large sample would come out differently: its cached copy is remade.
LARGE_VERSION = 1

#: name in ``skimage.data`` (or of a large sample) -> what the picture shows
SAMPLES = {
    "astronaut": "Astronaut (portrait, RGB)",
    "coffee": "Coffee cup (RGB)",
    "chelsea": "Chelsea the cat (RGB)",
    "rocket": "Rocket launch (RGB)",
    "retina": "Retina (RGB, 1411 x 1411)",
    "hubble_deep_field": "Hubble deep field (RGB)",
    "immunohistochemistry": "Immunohistochemistry (RGB)",
    "logo": "scikit-image logo (RGBA)",
    "camera": "Cameraman (grayscale)",
    "coins": "Coins (grayscale)",
    "brick": "Brick wall (grayscale texture)",
    **LARGE_SAMPLES,
}

#: Many crisp edges at several scales, and a square that most grids divide unevenly.
DEFAULT_SAMPLE = "astronaut"


#: The file of each sample in ``skimage.data.data_dir`` where it is not ``<name>.png``.
SAMPLE_FILES = {
    "rocket": "rocket.jpg",
    "retina": "retina.jpg",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "immunohistochemistry": "ihc.png",
}


def sample_file(name: str, cache: str | os.PathLike | None = None) -> Path:
    """The file the sample is decoded from: ``load_image`` of it equals
    ``load_sample(name)``, so an exported notebook can name it. A large sample's is made
    (a PNG, once) in ``cache``, which it needs."""
    if name not in SAMPLES:
        raise PipelineError(f"unknown sample {name!r}; choose one of {', '.join(SAMPLES)}")
    if name not in LARGE_SAMPLES:
        return Path(skimage.data.data_dir, SAMPLE_FILES.get(name, f"{name}.png")).resolve()
    if cache is None:
        raise PipelineError(f"the sample {name!r} is made, not bundled: its file needs a folder to be kept in")
    path = (Path(cache) / ".samples" / f"{name}-{LARGE_VERSION}.png").resolve()
    if not path.exists():
        from PIL import Image

        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as partial:
            Image.fromarray(load_sample(name, cache)).save(partial, format="PNG", compress_level=1)
    return path


def load_sample(name: str, cache: str | os.PathLike | None = None) -> np.ndarray:
    """A sample as ``uint8`` gray or RGB (RGBA composited over white). A large sample is
    made the first time, and kept in ``cache`` (a folder) when one is given."""
    if name not in SAMPLES:
        raise PipelineError(f"unknown sample {name!r}; choose one of {', '.join(SAMPLES)}")
    if name in LARGE_SAMPLES:
        return _large_sample(cache)
    return as_gray_or_rgb(getattr(skimage.data, name)(), "sample")


def _large_sample(cache) -> np.ndarray:
    path = Path(cache) / ".samples" / f"astronaut_16mpix-{LARGE_VERSION}.npy" if cache is not None else None
    if path is not None and path.exists():
        return np.load(path)
    pixels = make_large_sample()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as partial, open(partial, "wb") as file:
            np.save(file, pixels)
    return pixels


def make_large_sample() -> np.ndarray:
    """The large sample's pixels, (4096, 4096, 3) uint8, the same bytes every time."""
    from skimage.transform import resize

    base = (resize(skimage.data.astronaut(), (LARGE_SIDE, LARGE_SIDE), order=1) * 255).astype(np.uint8)
    image = np.tile(base, (LARGE_REPEAT, LARGE_REPEAT, 1))
    # Noise as a photo's sensor adds: without it, an enlarged picture is smooth where a
    # photo of the same size has grain, and compresses and filters unlike one.
    noise = np.random.default_rng(20261207).integers(-6, 7, image.shape, dtype=np.int16)
    return np.clip(image + noise, 0, 255).astype(np.uint8)

