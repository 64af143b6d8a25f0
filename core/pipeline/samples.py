"""scikit-image's bundled sample images: they need no network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skimage.data

from ..errors import PipelineError
from .loading import as_gray_or_rgb

__all__ = ["DEFAULT_SAMPLE", "SAMPLES", "load_sample", "sample_file"]

#: name in ``skimage.data`` -> what the picture shows
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


def sample_file(name: str) -> Path:
    """The file scikit-image decodes the sample from: ``load_image`` of it equals
    ``load_sample(name)``, so an exported notebook can name it."""
    if name not in SAMPLES:
        raise PipelineError(f"unknown sample {name!r}; choose one of {', '.join(SAMPLES)}")
    return Path(skimage.data.data_dir, SAMPLE_FILES.get(name, f"{name}.png")).resolve()


def load_sample(name: str) -> np.ndarray:
    """A bundled sample as ``uint8`` gray or RGB (RGBA composited over white)."""
    if name not in SAMPLES:
        raise PipelineError(f"unknown sample {name!r}; choose one of {', '.join(SAMPLES)}")
    return as_gray_or_rgb(getattr(skimage.data, name)(), "sample")
