import io
import shlex
import zipfile

import numpy as np

from core.pipeline.stage_table import parse_chain
from core.pipeline.tiling import partition
from ui.views import command_line, fit, tiles_zip


def test_the_tiles_zip_holds_every_tile_file(tmp_path, photo):
    tiles = partition(photo, 2, 3, tmp_path / "tiles")
    archive = zipfile.ZipFile(io.BytesIO(tiles_zip(tiles)))
    assert sorted(archive.namelist()) == sorted(p.name for row in tiles.paths for p in row)
    assert archive.read("tile_r001_c002.tif") == tiles.path(1, 2).read_bytes()


def test_fit_keeps_every_nth_pixel_under_the_limit():
    pixels = np.arange(30 * 20).reshape(30, 20)
    np.testing.assert_array_equal(fit(pixels, 10), pixels[::3, ::3])
    np.testing.assert_array_equal(fit(pixels, None), pixels)
    wide = np.zeros((10, 3000))  # st.image would resize it, with interpolation
    assert fit(wide, None).shape == (4, 1000) and fit(wide, 2000).shape == (4, 1000)


def test_the_command_line_reads_back_as_the_same_grid_and_chain():
    chain = parse_chain(["gaussian:sigma=2.5", "threshold:method=value,value=0.3", "label:connectivity=2"])
    command = command_line("my photo.png", (3, 5), chain)
    words = shlex.split(command)
    assert words[:5] == ["python", "-m", "core", "my photo.png", "--grid"] and words[5] == "3x5"
    stages = [text for option, text in zip(words[6::2], words[7::2]) if option == "--stage"]
    assert len(stages) == len(words[6:]) // 2 == 3
    assert parse_chain(stages) == chain
