"""One PNG or JPEG decoded as the run goes (``core.pipeline.streamed``): the same pixels,
tiles and results as the image decoded whole, its rows decoded in order, and the files it
does not take left to the whole decode."""

import gc
import os
import warnings

import numpy as np
import pytest
import tifffile
from PIL import Image
from skimage import data

from core.cli import main
from core.observe import for_this_compute
from core.observe.progress import TaskClock
from core.pipeline import build_pipeline, load_image, parse_chain, partition
from core.pipeline.streamed import StreamedTiles, open_stream

CHAIN = ["gaussian:sigma=1", "sobel:mode=magnitude", "clip:lo=0,hi=2"]


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return data.astronaut()[:203, :157]


def save(pixels: np.ndarray, path, **options):
    Image.fromarray(pixels).save(path, **options)
    return path


IMAGES = {
    "rgb png": lambda photo: photo,
    "gray 16-bit png": lambda photo: (photo[..., 0].astype(np.uint16) * 257),
    "rgba png": lambda photo: np.dstack([photo, np.linspace(0, 255, photo.shape[1], dtype=np.uint8)[None].repeat(photo.shape[0], 0)]),
}


@pytest.mark.parametrize("kind", [*IMAGES, "jpeg"])
@pytest.mark.parametrize("grid", [(1, 1), (3, 2), (7, 5)])
def test_a_streamed_image_gives_the_tiles_and_result_of_the_image_decoded_whole(tmp_path, photo, kind, grid):
    path = save(photo, tmp_path / "photo.jpg", quality=90) if kind == "jpeg" else save(IMAGES[kind](photo), tmp_path / "photo.png")
    stream = open_stream(path, grid, tmp_path / "streamed", max_pixels=10**8)
    assert isinstance(stream, StreamedTiles)
    (tmp_path / "streamed").mkdir()
    whole = partition(load_image(path), *grid, tmp_path / "whole")
    streamed_result = build_pipeline(stream, parse_chain(CHAIN)).result.compute()
    np.testing.assert_array_equal(streamed_result, build_pipeline(whole, parse_chain(CHAIN)).result.compute())
    for row_stream, row_whole in zip(stream.paths, whole.paths):
        for tile_stream, tile_whole in zip(row_stream, row_whole):  # the tiles, written as they decoded
            np.testing.assert_array_equal(tifffile.imread(tile_stream), tifffile.imread(tile_whole))


def test_rows_decode_in_order_while_earlier_rows_are_already_worked_on(tmp_path):
    path = save(np.tile(data.astronaut(), (8, 4, 1)), tmp_path / "tall.png")
    stream = open_stream(path, (8, 4), tmp_path / "tiles", max_pixels=10**8)
    (tmp_path / "tiles").mkdir()
    started = []
    clock = TaskClock(lambda key, start, stop, thread: started.append((start, str(key))))
    build_pipeline(stream, parse_chain(["sobel"])).result.compute(
        scheduler="threads", num_workers=2, optimize_graph=False, **for_this_compute(clock)
    )
    order = [key for _, key in sorted(started)]
    decodes = [key for key in order if key.startswith("decode-rows-")]
    assert decodes == sorted(decodes, key=lambda key: int(key.rsplit("-", 1)[1])) and len(decodes) == 8
    before_the_last_row = order[: order.index(decodes[-1])]
    # Tiles of the first row are cut and written, and filtered, while later rows decode.
    assert any(key.startswith("cut-tile-") and key.split("-")[-2] == "0" for key in before_the_last_row)
    assert any("sobel" in key for key in before_the_last_row)


def test_what_a_stream_does_not_take_is_decoded_whole(tmp_path, photo):
    rotated = Image.fromarray(photo)
    exif = rotated.getexif()
    exif[0x0112] = 6  # rotated: EXIF orientation
    rotated.save(tmp_path / "rotated.jpg", exif=exif)
    Image.fromarray(photo).convert("CMYK").save(tmp_path / "cmyk.jpg")
    frames = [Image.fromarray(photo), Image.fromarray(photo[::-1].copy())]
    frames[0].save(tmp_path / "animated.png", save_all=True, append_images=frames[1:])
    save(photo, tmp_path / "photo.gif")
    save(photo, tmp_path / "photo.bmp")
    for name in ("rotated.jpg", "cmyk.jpg", "animated.png", "photo.gif", "photo.bmp"):
        assert open_stream(tmp_path / name, (2, 2), tmp_path / "tiles", max_pixels=10**8) is None, name


def test_the_command_line_streams_on_threads_and_writes_what_the_cluster_writes(tmp_path, photo):
    save(photo, tmp_path / "photo.png")
    common = ["--grid", "3x2", *(f"--stage={s}" for s in CHAIN), "--no-progress"]
    assert main([str(tmp_path / "photo.png"), *common, "--out", str(tmp_path / "threads")]) == 0
    assert main([str(tmp_path / "photo.png"), *common, "--out", str(tmp_path / "local"), "--scheduler", "local"]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "threads" / "result.npy"), np.load(tmp_path / "local" / "result.npy"))
    def tile_files(folder):
        return sorted(path.name for path in (tmp_path / folder / "tiles").glob("*.tif"))

    assert tile_files("threads") == tile_files("local") and len(tile_files("threads")) == 6


def test_a_stream_that_breaks_half_way_leaves_neither_tiles_nor_results(tmp_path, photo, capsys):
    data_bytes = save(np.tile(photo, (4, 4, 1)), tmp_path / "photo.png").read_bytes()
    (tmp_path / "broken.png").write_bytes(data_bytes[: len(data_bytes) * 2 // 3])  # the header says more rows
    (tmp_path / "out").mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        code = main([str(tmp_path / "broken.png"), "--grid", "4x2", "--out", str(tmp_path / "out"), "--no-progress"])
        gc.collect()
    assert code == 1 and "python -m core: error:" in capsys.readouterr().err
    assert os.listdir(tmp_path / "out") == []
