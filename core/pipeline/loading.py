"""Decode an image file the way a photo viewer shows it.

The result is always a plain ``uint8`` or ``uint16`` array, either ``(H, W)`` grayscale or
``(H, W, 3)`` RGB: the first frame, EXIF orientation applied, palettes expanded and
transparency composited over white (as ``skimage.color.rgba2rgb`` does).
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
import tifffile
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import PipelineError

__all__ = ["DEFAULT_MAX_PIXELS", "ImageSource", "as_gray_or_rgb", "frame_count", "load_image", "loading_code"]

#: Largest image (width x height) decoded unless the caller raises the limit.
DEFAULT_MAX_PIXELS = 2**28  # 268 MPix: 805 MB as RGB uint8

ImageSource = bytes | str | os.PathLike

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

# The pixel limit is checked by `_check_pixels` from the header of every format, with a
# limit the caller chooses; Pillow's own global guard would refuse gigapixel images that
# the command line is allowed to process.
Image.MAX_IMAGE_PIXELS = None


def load_image(source: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an image from encoded bytes or a file path.

    Parameters
    ----------
    source : bytes or path-like
        The encoded file (PNG, JPEG, TIFF, GIF, BMP, WebP, ...), or its path.
    max_pixels : int, optional
        Refuse images whose header announces more than this many pixels, before decoding.

    Returns
    -------
    image : ndarray of uint8 or uint16, shape (H, W) or (H, W, 3)

    Raises
    ------
    PipelineError
        If the data is empty, not an image, truncated, too large or of an unsupported kind.

    Examples
    --------
    >>> import imageio.v3 as iio, numpy as np
    >>> load_image(iio.imwrite("<bytes>", np.zeros((4, 6, 4), np.uint8), extension=".png")).shape
    (4, 6, 3)
    """
    with _open(source) as stream:
        head = stream.read(4)
        if not head:
            raise PipelineError("the file is empty")
        stream.seek(0)
        if head in _TIFF_MAGIC:
            return _load_tiff(stream, max_pixels)
        return _load_with_pillow(stream, max_pixels)


def frame_count(source: ImageSource) -> int:
    """How many frames (of an animated GIF, PNG or WebP) or pages (of a TIFF) the file
    holds, 1 for a still image: ``load_image`` decodes the first only, and a caller can
    say so. Call it on a file ``load_image`` has read.

    Raises
    ------
    PipelineError
        If the file cannot be opened or read.
    """
    with _open(source) as stream:
        try:
            if stream.read(4) in _TIFF_MAGIC:
                stream.seek(0)
                with tifffile.TiffFile(stream) as tif:
                    return len(tif.pages)
            stream.seek(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(stream) as im:
                    return int(getattr(im, "n_frames", 1))
        except Exception as e:  # the decoders raise many kinds for damaged files
            raise PipelineError(f"cannot count the frames of this image: {e}") from None


def _open(source: ImageSource) -> BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(source)
    try:
        return open(Path(source), "rb")
    except OSError as e:
        raise PipelineError(f"cannot open {os.fspath(source)!r}: {e.strerror}") from None


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise PipelineError(
            f"the image is {width} x {height} = {width * height:,} pixels, more than the "
            f"limit of {max_pixels:,}"
        )


def _load_tiff(stream: BinaryIO, max_pixels: int) -> np.ndarray:
    """Plain gray and RGB(A) TIFFs through tifffile, the rest (palettes, CMYK, JPEG inside,
    codecs tifffile lacks) through Pillow.

    tifffile keeps 16-bit colour, which Pillow silently reads as 8-bit, and decodes a large
    RGB TIFF many times faster than Pillow (the benchmark's input is such a TIFF:
    ``python -m benchmarks.bench``; benchmarks/RESULTS.md, "Figures quoted in the code
    before 2026-12-07").
    """
    try:
        with tifffile.TiffFile(stream) as tif:
            page = tif.pages.first
            height, width = page.imagelength, page.imagewidth
            _check_pixels(width, height, max_pixels)
            plain = (
                page.photometric in (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.RGB)
                and page.bitspersample in (8, 16)
                and page.samplesperpixel in (1, 3, 4)
            )
            if plain:
                try:
                    pixels = _mapped(page, stream) if page.is_memmappable else page.asarray()
                except Exception:  # a compression tifffile cannot decode alone: try Pillow
                    pixels = None
                if pixels is not None:
                    orientation = int(page.tags.valueof(274, 1))
                    return _orient(as_gray_or_rgb(pixels, "tiff"), orientation)
    except PipelineError:
        raise
    except Exception as e:  # tifffile raises many kinds for malformed files
        raise PipelineError(f"cannot read this TIFF file: {e}") from None
    stream.seek(0)
    return _load_with_pillow(stream, max_pixels)


def _mapped(page: tifffile.TiffPage, stream: BinaryIO) -> np.ndarray:
    """The pixels of an uncompressed TIFF on disk, memory-mapped read-only.

    Nothing is copied until the tiles are cut: the pixels stay in the kernel's page cache
    instead of this process's own memory (3 bytes a pixel of RGB), and loading touches no
    fresh pages. Tested by ``tests/test_loading.py``,
    ``test_an_uncompressed_tiff_on_disk_is_mapped_not_copied``; ``python -m benchmarks.bench
    --gigapixel`` relies on it.
    """
    path = getattr(stream, "name", None)
    stored = page.dtype.newbyteorder(page.parent.byteorder)
    if not isinstance(path, str) or not stored.isnative:  # in memory already, or to be swapped
        return page.asarray()
    return np.memmap(path, dtype=stored, mode="r", offset=page.dataoffsets[0], shape=page.shape)


def _load_with_pillow(stream: BinaryIO, max_pixels: int) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about odd but readable metadata
            with Image.open(stream) as im:
                _check_pixels(*im.size, max_pixels)
                im.seek(0)
                # In place: otherwise every image is copied, oriented or not, a whole pass
                # over its pixels.
                ImageOps.exif_transpose(im, in_place=True)
                return _pillow_to_array(im)
    except PipelineError:
        raise
    except UnidentifiedImageError:
        raise PipelineError("this is not an image file in a supported format") from None
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        # Pillow reports truncated and corrupt data with these types.
        raise PipelineError(f"the image data is damaged or truncated: {e}") from None


def _pillow_to_array(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(im).astype(np.uint16)
    if im.mode == "I":
        pixels = np.asarray(im)
        if pixels.min() < 0 or pixels.max() > np.iinfo(np.uint16).max:
            raise PipelineError("32-bit integer images are not supported, only 8 and 16 bits")
        return pixels.astype(np.uint16)
    if im.mode == "F":
        raise PipelineError("floating-point images are not supported, only 8 and 16 bits")
    if im.mode in ("1", "L"):
        return np.asarray(im.convert("L"))
    if im.mode == "RGB":
        return np.asarray(im)
    has_alpha = im.mode in ("RGBA", "LA", "La", "RGBa", "PA") or "transparency" in im.info
    if has_alpha:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, "white")
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    if im.mode == "P" and _palette_is_gray(im):
        return np.asarray(im.convert("L"))
    return np.asarray(im.convert("RGB"))  # palette, CMYK, YCbCr, LAB, HSV


def _palette_is_gray(im: Image.Image) -> bool:
    colours = np.asarray(im.getpalette("RGB") or [], np.uint8).reshape(-1, 3)
    return bool(np.all(colours == colours[:, :1]))


def as_gray_or_rgb(pixels: np.ndarray, kind: str = "input") -> np.ndarray:
    """Reduce a decoded (H, W[, S]) array to gray or RGB, compositing alpha on white: gray
    and alpha (S = 2) become gray, RGBA (S = 4) RGB."""
    if pixels.dtype == bool:
        pixels = pixels.astype(np.uint8) * 255
    if pixels.ndim == 2:
        return pixels
    if pixels.ndim != 3 or pixels.shape[-1] not in (2, 3, 4):
        raise PipelineError(
            f"the {kind} image must be grayscale, RGB or RGBA, got shape {pixels.shape}"
        )
    if pixels.shape[-1] == 3:
        return pixels
    top = np.iinfo(pixels.dtype).max
    alpha = pixels[..., -1:].astype(np.float32) / top
    composited = np.rint(pixels[..., :-1] * alpha + top * (1 - alpha)).astype(pixels.dtype)
    return composited[..., 0] if pixels.shape[-1] == 2 else composited


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply a TIFF/EXIF orientation tag (1..8) the way ``ImageOps.exif_transpose`` does."""
    flips = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.swapaxes(a, 0, 1)[:, ::-1],
        7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
        8: lambda a: np.swapaxes(a, 0, 1)[::-1],
    }
    return np.ascontiguousarray(flips.get(orientation, flips[1])(pixels))


# -- the same decoding, as code to read ---------------------------------------------------

_ALPHA_MODES = ("RGBA", "LA", "La", "RGBa", "PA")


def loading_code(path: str | os.PathLike) -> str:
    """Python that decodes the file at ``path`` as ``load_image`` does, into ``image``, for
    the exported notebook: tifffile or Pillow calls chosen from the file's header (nothing
    is decoded here). The code reads the path from a variable ``IMAGE``.

    A plain TIFF (gray or RGB, 8 or 16 bits) is read by tifffile, as ``load_image`` reads
    it; any other file by Pillow, turned by its EXIF orientation, then made gray or RGB as
    its mode asks, transparency composited over white.
    """
    with open(Path(path), "rb") as stream:
        if stream.read(4) in _TIFF_MAGIC:
            stream.seek(0)
            with tifffile.TiffFile(stream) as tif:
                page = tif.pages.first
                plain = (
                    page.photometric in (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.RGB)
                    and page.bitspersample in (8, 16) and page.samplesperpixel in (1, 3, 4)
                    and int(page.tags.valueof(274, 1)) == 1
                )
                if plain:
                    lines = ["image = tifffile.imread(IMAGE, key=0)  # the first page"]
                    if page.samplesperpixel == 4:
                        lines += [
                            "top = numpy.iinfo(image.dtype).max  # transparency over white, as a viewer shows it",
                            "alpha = image[..., 3:].astype(numpy.float32) / top",
                            "image = numpy.rint(image[..., :3] * alpha + top * (1 - alpha)).astype(image.dtype)",
                        ]
                    return "\n".join(lines)
        stream.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(stream) as im:
                mode, transparent, gray_palette = im.mode, "transparency" in im.info, im.mode == "P" and _palette_is_gray(im)
    lines = [
        "with PIL.Image.open(IMAGE) as file:  # the first frame",
        "    picture = PIL.ImageOps.exif_transpose(file)  # turned as a photo viewer shows it",
    ]
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        lines.append("image = numpy.asarray(picture).astype(numpy.uint16)  # 16-bit gray")
    elif mode in ("1", "L") or (gray_palette and not transparent):
        lines.append('image = numpy.asarray(picture.convert("L"))  # gray')
    elif mode == "RGB":
        lines.append("image = numpy.asarray(picture)")
    elif mode in _ALPHA_MODES or transparent:
        lines += [
            'white = PIL.Image.new("RGBA", picture.size, "white")  # transparency over white',
            'image = numpy.asarray(PIL.Image.alpha_composite(white, picture.convert("RGBA")).convert("RGB"))',
        ]
    else:
        lines.append('image = numpy.asarray(picture.convert("RGB"))')
    return "\n".join(lines)
