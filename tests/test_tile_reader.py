"""Tile files read by ``dask_image.imread`` through ``core.pipeline.tile_reader``: the graph
is built from each file's header, and the pixels read are pims' own reader's."""

import numpy as np
import pytest
from PIL import Image

from core.pipeline.tile_reader import HeaderFirstReader, imread, pims


def _pixels(mode: str) -> np.ndarray:
    rng = np.random.default_rng(7)
    if mode == "I;16":
        return rng.integers(0, 65535, (37, 23), dtype=np.uint16)
    channels = {"L": 0, "LA": 2, "RGB": 3, "RGBA": 4}[mode]
    return rng.integers(0, 255, (37, 23, channels) if channels else (37, 23), dtype=np.uint8)


def _tile(tmp_path, mode: str, ext: str):
    path = tmp_path / f"tile.{ext}"
    Image.fromarray(_pixels(mode)).save(path)
    return str(path)


@pytest.mark.parametrize(
    ("mode", "ext"), [("L", "png"), ("LA", "png"), ("RGB", "png"), ("RGBA", "png"), ("I;16", "png"),
                      ("L", "jpg"), ("RGB", "jpeg")],
)
def test_the_header_tells_the_shape_and_the_pixels_are_pims_own(tmp_path, mode, ext):
    path = _tile(tmp_path, mode, ext)
    own = pims.ImageReader(path)
    with pims.open(path) as frames:
        assert isinstance(frames, HeaderFirstReader)
        assert (frames.frame_shape, frames.pixel_type) == (own.frame_shape, own.pixel_type)
        np.testing.assert_array_equal(frames[0], own.get_frame(0))
    np.testing.assert_array_equal(imread(path).compute()[0], own.get_frame(0))


def test_a_palette_a_one_bit_or_a_cmyk_image_is_left_to_pims_own_reader(tmp_path):
    colour = _pixels("RGB")
    files = {"palette.png": Image.fromarray(colour).convert("P"), "bits.png": Image.fromarray(colour[..., 0] > 99),
             "print.jpg": Image.fromarray(colour).convert("CMYK")}
    for name, image in files.items():
        image.save(tmp_path / name)
        with pims.open(str(tmp_path / name)) as frames:
            assert type(frames) is pims.ImageReader, name
        assert imread(str(tmp_path / name)).compute()[0].shape == pims.ImageReader(str(tmp_path / name)).frame_shape


def test_building_the_graph_decodes_no_tile(tmp_path):
    # A PNG whose header is whole and whose pixels are cut short: only a decode finds out.
    path = tmp_path / "cut.png"
    Image.fromarray(_pixels("RGB")).save(path)
    path.write_bytes(path.read_bytes()[:200])
    tile = imread(str(path))
    assert tile.shape == (1, 37, 23, 3)
    with pytest.raises(OSError, match=r"truncated|broken|image file"):
        tile.compute()
