import io
import struct

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from helpers import BAD_FILES, encode, png_header_claiming
from PIL import Image, ImageOps
from skimage.color import rgba2rgb

from core.errors import PipelineError
from core.pipeline.loading import frame_count, load_image


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "GIF", "BMP", "WEBP"])
def test_lossless_formats_round_trip(photo, fmt):
    params = {"lossless": True} if fmt == "WEBP" else {}
    pixels = photo if fmt != "GIF" else np.asarray(Image.fromarray(photo).convert("L"))
    np.testing.assert_array_equal(load_image(encode(pixels, fmt, **params)), pixels)


def test_jpeg_decodes_close_to_original(photo):
    decoded = load_image(encode(photo, "JPEG", quality=95))
    assert decoded.shape == photo.shape and decoded.dtype == np.uint8
    assert np.abs(decoded.astype(int) - photo).mean() < 4


def test_reads_from_a_path(tmp_path, photo):
    path = tmp_path / "photo.png"
    path.write_bytes(encode(photo, "PNG"))
    np.testing.assert_array_equal(load_image(path), photo)
    np.testing.assert_array_equal(load_image(str(path)), photo)


def test_rgba_is_composited_over_white_like_rgba2rgb(rng):
    rgba = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    expected = np.rint(rgba2rgb(rgba) * 255)
    loaded = load_image(encode(rgba, "PNG"))
    assert loaded.shape == (20, 30, 3)
    assert np.abs(loaded - expected).max() <= 1


def test_palette_with_transparency_is_expanded_and_composited():
    image = Image.new("P", (8, 4))
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (0, 0, 4, 4))  # left half blue, right half red
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", transparency=0)  # red is transparent
    loaded = load_image(buffer.getvalue())
    np.testing.assert_array_equal(loaded[0, 0], [0, 0, 255])
    np.testing.assert_array_equal(loaded[0, 7], [255, 255, 255])


def test_first_frame_of_an_animation():
    frames = [Image.new("L", (6, 5), value) for value in (10, 200)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    loaded = load_image(buffer.getvalue())
    assert loaded.shape == (5, 6)
    assert np.all(loaded == 10)
    assert frame_count(buffer.getvalue()) == 2  # for the caller to say that one was left out


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP", "TIFF"])
def test_frames_and_pages_are_counted(tmp_path, fmt):
    frames = [Image.new("RGB", (6, 5), (value, 0, 0)) for value in (10, 100, 200)]
    path = tmp_path / f"three.{fmt.lower()}"
    frames[0].save(path, format=fmt, save_all=True, append_images=frames[1:])
    assert frame_count(path) == 3
    frames[0].save(path, format=fmt)
    assert frame_count(path) == 1


def test_frames_of_a_bad_file_are_a_readable_error():
    with pytest.raises(PipelineError, match="cannot count the frames"):
        frame_count(b"not an image")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(rng, orientation):
    pixels = rng.integers(0, 256, (6, 10, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(pixels, "PNG", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    assert expected.shape[:2] == ((10, 6) if orientation >= 5 else (6, 10))
    np.testing.assert_array_equal(load_image(data), expected)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_an_uncompressed_tiff_on_disk_is_mapped_not_copied(tmp_path, rng, dtype, byteorder):
    pixels = rng.integers(0, np.iinfo(dtype).max, (40, 30, 3), dtype=dtype, endpoint=True)
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, pixels, photometric="rgb", byteorder=byteorder)
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded, pixels)
    assert loaded.dtype.isnative
    # A read-only view of the file; tifffile maps only what needs no byte swapping.
    mapped = not loaded.flags.writeable and not loaded.flags.owndata
    assert mapped == (dtype == np.uint8 or byteorder == "<")


def test_a_compressed_tiff_on_disk_is_decoded(tmp_path, photo):
    path = tmp_path / "small.tif"
    tifffile.imwrite(path, photo, photometric="rgb", compression="zlib")
    loaded = load_image(path)
    assert loaded.flags.writeable
    np.testing.assert_array_equal(loaded, photo)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_tiff_orientation_matches_pillows_exif_transpose(rng, orientation, dtype):
    pixels = rng.integers(0, np.iinfo(dtype).max, (6, 10, 3), dtype=dtype, endpoint=True)
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels, photometric="rgb", extratags=[(274, "H", 1, orientation, True)])
    # Pillow reads the 8-bit version of the same picture: the reference for orientation.
    eight_bit = pixels if dtype == np.uint8 else (pixels >> 8).astype(np.uint8)
    reference = io.BytesIO()
    tifffile.imwrite(reference, eight_bit, photometric="rgb", extratags=[(274, "H", 1, orientation, True)])
    expected = np.asarray(ImageOps.exif_transpose(Image.open(reference)))
    loaded = load_image(buffer.getvalue())
    assert loaded.dtype == dtype
    narrowed = loaded if dtype == np.uint8 else (loaded >> 8).astype(np.uint8)
    np.testing.assert_array_equal(narrowed, expected)


def test_palette_and_cmyk_tiffs_go_through_pillow(photo):
    for mode in ("P", "CMYK"):
        buffer = io.BytesIO()
        Image.fromarray(photo).convert(mode).save(buffer, format="TIFF")
        loaded = load_image(buffer.getvalue())
        assert loaded.shape == photo.shape and loaded.dtype == np.uint8


def test_lzw_compressed_tiff(photo):
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="TIFF", compression="tiff_lzw")
    np.testing.assert_array_equal(load_image(buffer.getvalue()), photo)


@pytest.mark.parametrize("shape", [(9, 7), (9, 7, 3)])
def test_sixteen_bit_tiff_keeps_full_precision(rng, shape):
    pixels = rng.integers(0, 65536, shape, dtype=np.uint16)
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels)
    loaded = load_image(buffer.getvalue())
    assert loaded.dtype == np.uint16
    np.testing.assert_array_equal(loaded, pixels)


def test_sixteen_bit_rgba_tiff_is_composited(rng):
    rgba = rng.integers(0, 65536, (5, 4, 4), dtype=np.uint16)
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, rgba, photometric="rgb", extrasamples=["unassalpha"])
    loaded = load_image(buffer.getvalue())
    expected = rgba2rgb(rgba.astype(np.float64) / 65535) * 65535
    assert loaded.dtype == np.uint16 and loaded.shape == (5, 4, 3)
    assert np.abs(loaded - expected).max() <= 1


def test_sixteen_bit_grayscale_png(rng):
    pixels = rng.integers(0, 65536, (9, 7), dtype=np.uint16)
    loaded = load_image(iio.imwrite("<bytes>", pixels, extension=".png"))
    assert loaded.dtype == np.uint16
    np.testing.assert_array_equal(loaded, pixels)


def tiff_header_claiming(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.zeros((2, 2), np.uint8))
    data = bytearray(buffer.getvalue())
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tif:
        tags = tif.pages.first.tags
        offsets = {tag.code: tag.valueoffset for tag in tags.values()}
        sizes = {tag.code: tag.dtype for tag in tags.values()}
    for code, value in ((256, width), (257, height)):
        fmt = "<H" if sizes[code] == 3 else "<I"
        data[offsets[code] : offsets[code] + struct.calcsize(fmt)] = struct.pack(fmt, value)
    return bytes(data)


@pytest.mark.parametrize("make", [png_header_claiming, tiff_header_claiming])
def test_decompression_bomb_is_refused_from_the_header(make):
    bomb = make(60_000, 50_000)
    with pytest.raises(PipelineError, match=r"60000 x 50000 = 3,000,000,000 pixels.*limit"):
        load_image(bomb, max_pixels=10**8)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "GIF", "BMP", "WEBP"])
def test_pixel_limit_applies_to_every_format(photo, fmt):
    data = encode(photo, fmt)
    with pytest.raises(PipelineError, match="limit"):
        load_image(data, max_pixels=photo.shape[0] * photo.shape[1] - 1)
    assert load_image(data, max_pixels=photo.shape[0] * photo.shape[1]).shape[:2] == photo.shape[:2]


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_files_raise_a_readable_error(name):
    data, message = BAD_FILES[name]
    with pytest.raises(PipelineError, match=message):
        load_image(data)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "TIFF", "BMP"])
def test_truncated_images_raise(photo, fmt):
    data = encode(photo, fmt)
    with pytest.raises(PipelineError):
        load_image(data[: len(data) // 2])


def test_missing_file(tmp_path):
    with pytest.raises(PipelineError, match="cannot open"):
        load_image(tmp_path / "nope.png")
