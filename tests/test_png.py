import io
import itertools
import zlib

import numpy as np
import pytest
from PIL import Image

from core.outputs.png import adler32_combine, channels_of, deflate_strip, write_png_strips


def encode_in_strips(pixels: np.ndarray, heights: list[int]) -> bytes:
    edges = np.cumsum([0, *heights])
    strips = [
        deflate_strip(pixels[top:bottom], last=i == len(heights) - 1)
        for i, (top, bottom) in enumerate(itertools.pairwise(edges))
    ]
    file = io.BytesIO()
    write_png_strips(file, pixels.shape[1], pixels.shape[0], strips, channels=channels_of(pixels))
    return file.getvalue()


@pytest.mark.parametrize("heights", [[37], [1, 36], [10, 10, 10, 7], [1] * 37])
@pytest.mark.parametrize("channels, mode", [(1, "L"), (3, "RGB")])
def test_strips_deflated_apart_make_one_png_that_decoders_read_back(rng, heights, channels, mode):
    pixels = rng.integers(0, 256, (37, 53, channels)[: 2 if channels == 1 else 3], dtype=np.uint8)
    pixels[:20] //= 64  # compressible rows beside incompressible ones
    encoded = encode_in_strips(pixels, heights)
    # Pillow and zlib check every chunk's CRC and the stream's Adler-32.
    decoded = Image.open(io.BytesIO(encoded))
    decoded.load()
    assert decoded.mode == mode and decoded.size == (53, 37)
    np.testing.assert_array_equal(np.asarray(decoded), pixels)


def test_an_rgb_row_holds_each_pixels_red_green_and_blue_in_turn(rng):
    pixels = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
    strip = deflate_strip(pixels, last=True)
    filtered = zlib.decompress(strip.data, -zlib.MAX_WBITS)
    assert strip.length == len(filtered) == 3 * (1 + 4 * 3)  # a filter byte, then width x 3 bytes
    assert filtered[1:13] == pixels[0].tobytes()  # R, G, B of pixel 0, then of pixel 1, ...


@pytest.mark.parametrize("shape", [(4,), (4, 5, 4), (4, 5, 1)])
def test_only_grayscale_and_rgb_are_written(shape):
    with pytest.raises(ValueError, match="grayscale or"):
        deflate_strip(np.zeros(shape, np.uint8), last=True)


def test_the_joined_stream_carries_the_adler32_of_all_rows(rng):
    pixels = rng.integers(0, 256, (16, 9), dtype=np.uint8)
    encoded = encode_in_strips(pixels, [5, 11])
    stream, position = b"", 8
    while position < len(encoded):
        length = int.from_bytes(encoded[position : position + 4], "big")
        if encoded[position + 4 : position + 8] == b"IDAT":
            stream += encoded[position + 8 : position + 8 + length]
        position += 12 + length
    filtered = np.concatenate([np.zeros((16, 1), np.uint8), pixels], axis=1).tobytes()
    assert zlib.decompress(stream) == filtered  # zlib verifies header and checksum
    assert stream[-4:] == zlib.adler32(filtered).to_bytes(4, "big")


@pytest.mark.parametrize("split", [0, 1, 5552, 65520, 65521, 65522, 200_000])
def test_adler32_combine_equals_the_checksum_of_the_joined_bytes(rng, split):
    data = rng.integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    first, second = data[:split], data[split:]
    combined = adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second))
    assert combined == zlib.adler32(data)


def test_a_strip_that_is_not_last_leaves_the_stream_open(rng):
    rows = rng.integers(0, 256, (4, 8), dtype=np.uint8)
    open_strip = deflate_strip(rows, last=False)
    closing = zlib.decompressobj(-zlib.MAX_WBITS)
    assert len(closing.decompress(open_strip.data)) == open_strip.length
    assert not closing.eof  # more blocks may follow
    closed = zlib.decompressobj(-zlib.MAX_WBITS)
    closed.decompress(deflate_strip(rows, last=True).data)
    assert closed.eof
