"""Bad and hostile image files that several test files need while they are imported.

They feed ``@pytest.mark.parametrize`` lists and module-level tables, which fixtures cannot
reach, so they live here, imported by the test files, rather than in ``conftest.py``.
"""

import io
import struct
import zipfile
import zlib

import numpy as np
from PIL import Image


def encode(pixels: np.ndarray, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt, **params)
    return buffer.getvalue()


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header announces width x height, followed by almost no pixel data."""
    real = encode(np.zeros((2, 2), np.uint8), "PNG")
    ihdr = struct.pack(">II", width, height) + real[24:29]
    chunk = b"IHDR" + ihdr
    return real[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + real[33:]


def assert_same_partition(labels: np.ndarray, expected: np.ndarray) -> None:
    """The same regions, however numbered: each label stands for exactly one expected
    label and each expected label for exactly one label, background for background."""
    pairs = set(zip(labels.ravel().tolist(), expected.ravel().tolist()))
    assert len({label for label, _ in pairs}) == len(pairs) == len({want for _, want in pairs})
    assert (0, 0) in pairs


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    return buffer.getvalue()


#: Files that are not images, or not readable ones: their bytes and the error they must give.
BAD_FILES = {
    "empty": (b"", "empty"),
    "text": (b"just some words\n" * 20, "not an image"),
    "html": (b"<!doctype html><html><body>hi</body></html>", "not an image"),
    "zip": (zip_bytes(), "not an image"),
    "pdf": (b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF", "not an image"),
    "random": (np.random.default_rng(1).bytes(4096), "not an image"),
    "tiff magic then junk": (b"II*\x00" + b"\xff" * 64, "TIFF"),
}
