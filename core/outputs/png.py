"""PNG files: small pictures through Pillow, and full-resolution ones from strips of rows
compressed in parallel, as pigz joins deflate blocks.

PNG's pixels are one zlib stream, and one zlib stream is one serial encode: a large share
of a full-resolution run, with every other core idle (``python -m benchmarks.bench``;
benchmarks/RESULTS.md, "After the parallel outputs"). Each strip of rows is instead
deflated on its own by whichever thread or worker holds it, ending on a byte boundary
(``Z_SYNC_FLUSH``) so that the strips concatenate into one valid deflate stream; each
goes into an IDAT chunk of its own with its own CRC, computed beside the compression. The
only serial work left is joining the strips' Adler-32 checksums (arithmetic on three
integers per strip) and writing the compressed bytes in order.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

import dask
import dask.array as da
import numpy as np
from dask.system import CPU_COUNT
from PIL import Image

from ..runtime.atomic import atomic_path
from .formats import OutputFormat, Planned, Result

__all__ = [
    "COLOUR_TYPES",
    "PNG",
    "PNG_LEVEL",
    "DeflatedStrip",
    "adler32_combine",
    "channels_of",
    "deflate_strip",
    "deflated_png_strips",
    "png_bytes",
    "png_strip_rows",
    "write_deflated_png",
    "write_png",
    "write_png_strips",
]

#: zlib level of the PNGs: 1 compresses edge maps nearly as well as the default, several
#: times faster.
PNG_LEVEL = 1

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ADLER_MODULUS = 65521
#: The zlib header for deflate with a 32 KiB window: CMF 0x78 and the FLG that makes
#: ``CMF * 256 + FLG`` a multiple of 31, as the format requires.
_ZLIB_HEADER = bytes([0x78, 31 - (0x78 * 256) % 31])
#: PNG's colour type for each number of 8-bit channels: grayscale, and RGB ("truecolour").
COLOUR_TYPES = {1: 0, 3: 2}


@dataclass(frozen=True)
class DeflatedStrip:
    """Rows of a PNG, filtered and deflated, with what the joined stream needs of them."""

    data: bytes  # raw deflate, byte-aligned at its end
    adler: int  # Adler-32 of the filtered rows
    length: int  # bytes of filtered rows
    crc: int  # CRC-32 of the IDAT chunk holding ``data``


def channels_of(pixels) -> int:
    """1 for (H, W) grayscale pixels, 3 for (H, W, 3) RGB ones; anything else is refused."""
    if pixels.ndim == 2:
        return 1
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        return 3
    raise ValueError(f"a PNG here is (H, W) grayscale or (H, W, 3) RGB, got shape {pixels.shape}")


def deflate_strip(rows: np.ndarray, *, last: bool, level: int = 1) -> DeflatedStrip:
    """Filter (type 0, none) and deflate one strip of 8-bit rows, (H, W) grayscale or
    (H, W, 3) RGB.

    ``last`` closes the deflate stream; the other strips end with a sync flush, so they
    can be followed by the next strip's blocks.
    """
    row_bytes = channels_of(rows) * rows.shape[1]  # an RGB row is its pixels' R, G, B in turn
    filtered = np.zeros((rows.shape[0], row_bytes + 1), np.uint8)  # a filter byte per row
    filtered[:, 1:] = rows.reshape(rows.shape[0], row_bytes)
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = compressor.compress(filtered) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
    return DeflatedStrip(data, zlib.adler32(filtered), filtered.nbytes, zlib.crc32(data, zlib.crc32(b"IDAT")))


def adler32_combine(adler1: int, adler2: int, length2: int) -> int:
    """The Adler-32 of two byte strings joined, from each one's checksum (zlib's
    ``adler32_combine``, which Python's ``zlib`` module does not expose)."""
    rem = length2 % _ADLER_MODULUS
    low1, high1 = adler1 & 0xFFFF, adler1 >> 16
    low2, high2 = adler2 & 0xFFFF, adler2 >> 16
    low = (low1 + low2 - 1) % _ADLER_MODULUS
    high = (high1 + high2 + rem * low1 - rem) % _ADLER_MODULUS
    return (high << 16) | low


def _chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind)) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def write_png_strips(
    file: BinaryIO, width: int, height: int, strips: Iterable[DeflatedStrip], *, channels: int = 1
) -> None:
    """Write an 8-bit PNG from its strips, top to bottom, into a binary file: grayscale
    (``channels=1``) or RGB (``channels=3``), as the strips were deflated.

    The zlib header and the joined Adler-32 go in IDAT chunks of their own: the strips'
    chunks and CRCs are written as they were computed.
    """
    file.write(_SIGNATURE)
    file.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, COLOUR_TYPES[channels], 0, 0, 0)))
    file.write(_chunk(b"IDAT", _ZLIB_HEADER))
    adler = 1  # of no bytes
    for strip in strips:
        file.write(_chunk(b"IDAT", strip.data, strip.crc))
        adler = adler32_combine(adler, strip.adler, strip.length)
    file.write(_chunk(b"IDAT", struct.pack(">I", adler)))
    file.write(_chunk(b"IEND", b""))

def write_png(pixels: np.ndarray, target) -> None:
    """Encode a small 8-bit picture as PNG into a path (atomically) or a binary file object.

    Pillow chooses a filter per row, which keeps photos small for the browser.
    """
    if hasattr(target, "write"):
        Image.fromarray(pixels).save(target, format="PNG", compress_level=PNG_LEVEL)
        return
    with atomic_path(target) as partial:
        Image.fromarray(pixels).save(partial, format="PNG", compress_level=PNG_LEVEL)


#: Strips of the PNG per core: each core gets about two, so that one slow strip does not
#: hold the others back, and no more, since every strip is a task (with a cluster's
#: scheduling cost) and a rechunk of its row of tiles.
PNG_STRIPS_PER_CORE = 2
#: ...but no strip shorter than this, whose compression would cost less than its task.
MIN_PNG_STRIP_ROWS = 64


def png_strip_rows(height: int, cores: int = CPU_COUNT) -> int:
    """Rows of the PNG compressed by one task: two strips per core, or fewer, longer ones
    for short images."""
    return max(MIN_PNG_STRIP_ROWS, -(-height // (PNG_STRIPS_PER_CORE * cores)))


def _strip_rows(row_chunks: tuple[int, ...], strip_rows: int) -> tuple[int, ...]:
    """Each row chunk cut into near-equal strips of at most ``strip_rows`` rows: a strip
    never spans two row chunks, so it waits only for its own row of tiles."""
    strips = []
    for rows in row_chunks:
        strips += [len(part) for part in np.array_split(np.arange(rows), -(-rows // strip_rows))]
    return tuple(strips)


def deflated_png_strips(pixels: da.Array, *, strip_rows: int | None = None) -> list:
    """One lazy ``DeflatedStrip`` per strip of at most ``strip_rows`` rows (default:
    ``png_strip_rows``) of an 8-bit dask array, (H, W) grayscale or (H, W, 3) RGB, top to
    bottom; ``write_png_strips`` joins them into a PNG."""
    strip_rows = strip_rows or png_strip_rows(pixels.shape[0])
    # Task-based rechunking, each strip gathered from its own row of tiles; naming the
    # method also spares a run on threads importing distributed to look for a cluster.
    whole_rows = pixels.shape[1:]  # every column (and colour) of a row in one strip
    strips = pixels.rechunk((_strip_rows(pixels.chunks[0], strip_rows), *whole_rows), method="tasks")
    blocks = strips.to_delayed(optimize_graph=False).ravel()
    deflate = dask.delayed(deflate_strip, pure=True)
    return [deflate(block, last=i == len(blocks) - 1, level=PNG_LEVEL) for i, block in enumerate(blocks)]


def write_deflated_png(file, picture: da.Array, strips) -> None:
    """Write the PNG of ``picture`` into a binary file from its ``deflated_png_strips``,
    computed: its size and colours are ``picture``'s."""
    height, width = picture.shape[:2]
    write_png_strips(file, width, height, strips, channels=channels_of(picture))


def png_bytes(picture: da.Array, *, scheduler=None) -> bytes:
    """The PNG of an 8-bit dask ``picture`` in memory, its strips compressed on
    ``scheduler`` (dask's default unless given): only the compressed strips come here."""
    strips = dask.compute(*deflated_png_strips(picture), scheduler=scheduler)
    buffer = io.BytesIO()
    write_deflated_png(buffer, picture, strips)
    return buffer.getvalue()



def _plan(result: Result, path) -> Planned:
    picture = result.picture
    channels_of(picture)  # refuses anything a PNG cannot hold before any work
    strips = deflated_png_strips(picture)

    def finish(values: list) -> None:
        with open(path, "wb") as file:
            write_deflated_png(file, picture, values)

    return Planned(strips, finish)


PNG = OutputFormat(
    "png", "result.png",
    "its 8-bit picture: values black to white over their range, a mask black and white, labels in colour",
    _plan,
)
