"""One big PNG or JPEG decoded top to bottom while the pipeline works on the rows already
decoded, so that the decode is the run's only serial part.

A PNG or a JPEG decodes in order, top to bottom. Here each row of tiles is one decode task,
each after the one above it (libvips, sequential access), and each tile one task that cuts
it out of its row's strip and writes its file: as soon as the first row is decoded, its
tiles are written, turned gray and filtered on the other cores while the next row
decodes. The decoder is chosen by measurement (benchmarks/RESULTS.md, "Decoding the 64-MPix
PNG"): libvips decodes a PNG faster than Pillow or OpenCV, and it is the one that decodes
in strips.

A decoder lives in the process that opened it, so a stream runs on threads only; a cluster
gets the image decoded first and written as tile files (``partition``), as anything this
module does not take does: other formats, animations, rotated photos (an EXIF orientation
other than upright), colour models other than gray and RGB.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import tifffile

from ..errors import PipelineError
from .loading import as_gray_or_rgb
from .tiling import TileSet, check_grid, split_edges

__all__ = ["StreamedTiles", "open_stream", "settle", "staged"]

_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
#: libvips' names for what the pipeline reads: gray and sRGB, 8 or 16 bits.
_INTERPRETATIONS = {"b-w", "grey16", "srgb", "rgb16"}
_FORMATS = {"uchar": np.uint8, "ushort": np.uint16}

#: The images being decoded, by stream: a libvips image with sequential access and a
#: region of it, whose strips the chain of decode tasks asks for in order. One region for
#: every strip: a crop per strip would start a pipeline of its own, which may have to go
#: back to lines the loader has passed ("out of order read").
_decoding: dict[str, object] = {}
_decoding_lock = threading.Lock()


@dataclass(frozen=True)
class StreamedTiles(TileSet):
    """A ``TileSet`` whose tiles are decoded from one image file as the run goes, and
    written into ``folder`` as they come (``read_arrays``)."""

    source: str = ""  # the image file

    def read_arrays(self) -> list[list[da.Array]]:
        """Each tile as a lazy array: a chain of decode tasks, one per row of tiles, and a
        task per tile that cuts it out of its row and writes its file."""
        rows, cols = self.grid
        token = hashlib.sha256(f"{self.source}|{self.digest}|{self.row_edges}".encode()).hexdigest()[:16]
        decode, cut = dask.delayed(_decode_rows, pure=True), dask.delayed(_cut_tile, pure=True)
        decoded, arrays = None, []
        for r in range(rows):
            strip = decode(self.source, token, self.row_edges[r], self.row_edges[r + 1], self.row_edges[-1],
                           decoded, dask_key_name=f"decode-rows-{token}-{r}")
            decoded = dask.delayed(len, pure=True)(strip, dask_key_name=f"decoded-{token}-{r}")  # orders the chain
            arrays.append([
                da.from_delayed(
                    cut(strip, self.col_edges[c], self.col_edges[c + 1], os.fspath(self.path(r, c)),
                        dask_key_name=f"cut-tile-{token}-{r}-{c}"),
                    self.tile_shape(r, c), np.dtype(self.dtype), name=f"tile-{token}-{r}-{c}",
                )
                for c in range(cols)
            ])
        return arrays


def _vips_image(path: str):
    import pyvips

    # fail_on="error": a truncated or damaged file raises, rather than decoding as black.
    return pyvips.Image.new_from_file(path, access="sequential", fail_on="error")


def _decode_rows(path: str, token: str, top: int, bottom: int, height: int, after) -> np.ndarray:
    """Rows ``top:bottom`` of the image, decoded after the rows above them (``after``), alpha
    composited over white."""
    import pyvips

    with _decoding_lock:
        if token not in _decoding:
            image = _vips_image(path)
            _decoding[token] = (image, pyvips.Region.new(image))
        image, region = _decoding[token]
    try:
        pixels = region.fetch(0, top, image.width, bottom - top)
    except pyvips.Error as e:
        message = " ".join(str(e).split())
        raise PipelineError(f"{Path(path).name}: the image data is damaged or truncated ({message})") from None
    finally:
        if bottom == height:
            with _decoding_lock:
                _decoding.pop(token, None)
    strip = np.frombuffer(pixels, _FORMATS[image.format]).reshape(bottom - top, image.width, image.bands)
    return as_gray_or_rgb(strip[..., 0] if image.bands == 1 else strip, "image")


def _cut_tile(strip: np.ndarray, left: int, right: int, path: str) -> np.ndarray:
    tile = np.ascontiguousarray(strip[:, left:right])
    tifffile.imwrite(path, tile, photometric="rgb" if tile.ndim == 3 else "minisblack")
    return tile


def open_stream(path: str | os.PathLike, grid: tuple[int, int], folder: Path, *, max_pixels: int) -> StreamedTiles | None:
    """The tiles of one PNG or JPEG to decode as the run goes, written into ``folder``; None
    for a file this module does not take (see the module's text), or without libvips.

    Raises ``PipelineError`` for an image larger than ``max_pixels``, or a grid that does
    not fit it, from its header: nothing is decoded before the run.
    """
    from .loading import _check_pixels, frame_count

    try:
        with open(path, "rb") as file:
            if not file.read(8).startswith(_SIGNATURES):
                return None
        image = _vips_image(os.fspath(path))
    except (ImportError, OSError):
        return None
    except Exception:
        return None
    orientation = image.get("orientation") if "orientation" in image.get_fields() else 1
    if (image.interpretation not in _INTERPRETATIONS or image.format not in _FORMATS or image.bands > 4
            or orientation != 1 or frame_count(path) > 1):
        return None
    _check_pixels(image.width, image.height, max_pixels)
    colour = image.bands >= 3
    shape = (image.height, image.width, *((3,) if colour else ()))
    check_grid(shape, *grid)
    stat = os.stat(path)
    return StreamedTiles(
        folder=Path(folder), digest=hashlib.sha256(f"{Path(path).resolve()}|{stat.st_mtime_ns}".encode()).hexdigest(),
        image_shape=shape, dtype=np.dtype(_FORMATS[image.format]).str,
        row_edges=split_edges(image.height, grid[0]), col_edges=split_edges(image.width, grid[1]),
        source=os.fspath(Path(path).resolve()),
    )


def staged(folder: Path) -> Path:
    """A fresh folder beside ``folder`` for the tiles a stream writes; ``settle`` puts it in
    ``folder``'s place once the run has written them all."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    staging.chmod(0o755)
    return staging


def settle(staging: Path, folder: Path) -> None:
    """``staging`` renamed to ``folder``, whatever tiles an earlier run left there removed."""
    if folder.exists():
        shutil.rmtree(folder)
    os.rename(staging, folder)
