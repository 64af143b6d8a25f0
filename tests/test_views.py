import io
import zipfile

import numpy as np

from core import partition
from ui.views import fit, tiles_zip


def test_the_tiles_zip_holds_every_tile_file(tmp_path, photo):
    tiles = partition(photo, 2, 3, tmp_path / "tiles")
    archive = zipfile.ZipFile(io.BytesIO(tiles_zip(tiles)))
    assert sorted(archive.namelist()) == sorted(p.name for row in tiles.paths for p in row)
    assert archive.read("tile_r001_c002.tif") == tiles.path(1, 2).read_bytes()


def test_fit_keeps_every_nth_pixel_under_the_limit():
    pixels = np.arange(30 * 20).reshape(30, 20)
    np.testing.assert_array_equal(fit(pixels, 10), pixels[::3, ::3])
    assert fit(pixels, None) is pixels
