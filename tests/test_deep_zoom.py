"""The tile pyramid: full-resolution tiles are the result's picture, levels are the whole
image's 2 x 2 means (never for masks and labels), Deep Zoom's sizes and names, RGB photos;
coarse levels readable before the fine ones, a partial pyramid never taken for a whole one."""

import json
import math

import dask.array as da
import numpy as np
import pytest
from PIL import Image
from skimage.transform import downscale_local_mean

import core.outputs.deep_zoom as deep_zoom
from core.errors import PipelineError
from core.observe.progress import ProgressCallback
from core.outputs.deep_zoom import (
    DESCRIPTOR,
    TILE_SIZE,
    read_pyramid,
    tile_path,
    write_coarse_levels,
    write_fine_levels,
    write_pyramid,
)
from core.outputs.pictures import LABEL_PALETTE, to_picture
from core.runtime.cluster import connect

#: Odd sides that 256-pixel tiles do not divide, in uneven blocks.
HEIGHT, WIDTH = 701, 1033
CHUNKS = ((300, 250, 151), (400, 333, 300))


def level_pixels(folder, pyramid, level: int) -> np.ndarray:
    """Every tile of ``level`` put back together, as the viewer lays them out."""
    scale = 2 ** (pyramid.max_level - level)
    height, width = math.ceil(pyramid.height / scale), math.ceil(pyramid.width / scale)
    rows = []
    for row in range(math.ceil(height / pyramid.tile_size)):
        tiles = [
            np.asarray(Image.open(folder / tile_path(level, column, row)))
            for column in range(math.ceil(width / pyramid.tile_size))
        ]
        rows.append(np.concatenate(tiles, axis=1))
    pixels = np.concatenate(rows, axis=0)
    assert pixels.shape[:2] == (height, width)  # every tile of the level, each of the right size
    return pixels


def whole_image_mean(image: np.ndarray, halvings: int) -> np.ndarray:
    """scikit-image's mean of every 2**k x 2**k block of the whole image, the rows and
    columns left over dropped (the levels drop an odd last row or column each halving)."""
    factor = 2**halvings
    height, width = (side // factor * factor for side in image.shape[:2])
    block = (factor, factor, 1)[: image.ndim]
    return downscale_local_mean(image[:height, :width].astype(np.float64), block)


@pytest.fixture
def values(rng) -> np.ndarray:
    return rng.random((HEIGHT, WIDTH), dtype=np.float32) * 3 - 1  # beyond the range on both sides


@pytest.fixture
def labels(rng) -> np.ndarray:
    return rng.integers(0, 40, (HEIGHT, WIDTH)).astype(np.int32)


def test_full_resolution_tiles_reassemble_exactly_to_the_results_picture(tmp_path, values, labels):
    for kind, image, value_range in [
        ("values", values, (0.0, 1.0)), ("mask", (values > 0.5).astype(np.uint8), (0.0, 1.0)),
        ("labels", labels, (0.0, 39.0)),
    ]:
        folder = tmp_path / kind
        pyramid = write_pyramid(da.from_array(image, chunks=CHUNKS), folder, kind=kind, value_range=value_range)
        np.testing.assert_array_equal(
            level_pixels(folder, pyramid, pyramid.max_level), to_picture(image, kind, value_range), err_msg=kind
        )


def test_each_level_is_the_mean_of_the_whole_image_down_to_one_tile(tmp_path, values):
    folder = tmp_path / "values"
    pyramid = write_pyramid(da.from_array(values, chunks=CHUNKS), folder, value_range=(-1.0, 2.0))
    # 1033 pixels wide: ceil(log2) = 11 at full resolution, and 1033 -> 517 -> 259 -> 130,
    # the first level to fit in one tile.
    assert (pyramid.max_level, pyramid.min_level) == (11, 8)
    for halvings in range(1, 4):
        shown = level_pixels(folder, pyramid, pyramid.max_level - halvings)
        want = to_picture(whole_image_mean(values, halvings), "values", (-1.0, 2.0))
        height, width = want.shape
        # float32 sums in another order than float64's: at most one grey level apart
        assert np.abs(shown[:height, :width].astype(int) - want).max() <= 1
        assert np.mean(shown[:height, :width] == want) > 0.99
        # the edge the viewer expects past the dropped pixels repeats the last one
        np.testing.assert_array_equal(shown[height:, :width], shown[height - 1:height, :width].repeat(len(shown) - height, 0))
        np.testing.assert_array_equal(shown[:, width:], shown[:, width - 1:width].repeat(shown.shape[1] - width, 1))


@pytest.mark.parametrize("kind", ["mask", "labels"])
def test_masks_and_labels_keep_a_pixel_of_each_block_never_a_mean(tmp_path, labels, kind):
    image = (labels > 20).astype(np.uint8) if kind == "mask" else labels
    folder = tmp_path / kind
    pyramid = write_pyramid(da.from_array(image, chunks=CHUNKS), folder, kind=kind, value_range=(0.0, 39.0))
    allowed = {0, 255} if kind == "mask" else {tuple(colour) for colour in LABEL_PALETTE} | {(0, 0, 0)}
    for halvings in range(1, pyramid.max_level - pyramid.min_level + 1):
        factor = 2**halvings
        want = to_picture(image[::factor, ::factor], kind, (0.0, 39.0))
        height, width = HEIGHT // factor, WIDTH // factor
        shown = level_pixels(folder, pyramid, pyramid.max_level - halvings)
        np.testing.assert_array_equal(shown[:height, :width], want[:height, :width])
        found = set(np.unique(shown)) if kind == "mask" else {tuple(c) for c in shown.reshape(-1, 3)}
        assert found <= allowed  # no grey of a half mask, no colour of no region


def test_a_colour_photo_keeps_its_pixels_and_averages_each_channel(tmp_path, rng):
    photo = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    folder = tmp_path / "photo"
    pyramid = write_pyramid(
        da.from_array(photo, chunks=(*CHUNKS, 3)), folder, kind="values", value_range=(0.0, 255.0)
    )
    assert pyramid.channels == 3
    np.testing.assert_array_equal(level_pixels(folder, pyramid, pyramid.max_level), photo)
    level = level_pixels(folder, pyramid, pyramid.max_level - 1)
    want = np.rint(whole_image_mean(photo, 1))
    assert np.abs(level[: HEIGHT // 2, : WIDTH // 2].astype(int) - want).max() <= 1


def test_the_descriptor_is_written_last_and_read_back(tmp_path):
    image = da.from_array(np.zeros((100, 60), np.float32), chunks=50)
    folder = tmp_path / "small"
    pyramid = write_pyramid(image, folder)
    # smaller than one tile: one level, the whole image
    assert (pyramid.width, pyramid.height, pyramid.tile_size) == (60, 100, TILE_SIZE)
    assert pyramid.max_level == pyramid.min_level == pyramid.ready_level == 7 and pyramid.complete
    assert json.loads((folder / DESCRIPTOR).read_text()) == pyramid.to_dict()
    assert read_pyramid(folder) == pyramid
    assert read_pyramid(tmp_path / "none") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small"]  # no staging folder left


def test_a_second_writer_keeps_the_first_pyramid(tmp_path, values):
    folder = tmp_path / "same"
    first = write_pyramid(da.from_array(values, chunks=CHUNKS), folder)
    tile = (folder / tile_path(first.max_level, 0, 0)).read_bytes()
    second = write_pyramid(da.from_array(np.zeros_like(values), chunks=CHUNKS), folder)
    assert second == first
    assert (folder / tile_path(first.max_level, 0, 0)).read_bytes() == tile
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same"]


def test_progress_is_reported_and_a_cluster_writes_the_same_tiles(tmp_path, values):
    image = da.from_array(values, chunks=CHUNKS)
    reports = []
    on_threads = write_pyramid(image, tmp_path / "threads", on_progress=lambda done, total: reports.append((done, total)))
    assert reports[-1][0] == reports[-1][1] > 0
    runner = connect("local", dashboard=False)
    try:
        reports.clear()
        on_cluster = write_pyramid(
            image, tmp_path / "cluster", scheduler=runner.scheduler, on_progress=lambda *counts: reports.append(counts)
        )
    finally:
        runner.close()
    assert on_cluster == on_threads
    for level in range(on_threads.min_level, on_threads.max_level + 1):
        np.testing.assert_array_equal(
            level_pixels(tmp_path / "cluster", on_cluster, level), level_pixels(tmp_path / "threads", on_threads, level)
        )


def test_on_a_cluster_the_coarse_levels_are_cut_here_from_the_finest_of_them_and_come_out_the_same(
    tmp_path, values, labels, monkeypatch
):
    gathered = []
    original = deep_zoom._gathered
    monkeypatch.setattr(deep_zoom, "_gathered", lambda *args: gathered.append(args[4]) or original(*args))
    pictures = {"values": (values, (0.0, 1.0)), "mask": (values > 0.5, (0, 1)), "labels": (labels, (0, 39))}
    runner = connect("local", dashboard=False)
    try:
        for kind, (pixels, value_range) in pictures.items():
            image = da.from_array(pixels, chunks=CHUNKS)
            options = dict(kind=kind, value_range=value_range, coarse_side=300)
            on_threads = write_coarse_levels(image, tmp_path / kind / "threads", **options)
            on_cluster = write_coarse_levels(image, tmp_path / kind / "cluster", scheduler=runner.scheduler, **options)
            assert on_cluster == on_threads and not on_cluster.complete
            for level in range(on_threads.min_level, on_threads.ready_level + 1):
                np.testing.assert_array_equal(
                    level_pixels(tmp_path / kind / "cluster", on_cluster, level),
                    level_pixels(tmp_path / kind / "threads", on_threads, level),
                )
    finally:
        runner.close()
    assert gathered == [2, 2, 2]  # from the third level, 175 x 258 pixels: the first within 300


@pytest.mark.parametrize(
    ("shape", "kind", "message"),
    [((4, 4, 4), "values", "got shape (4, 4, 4)"), ((4, 4, 3), "labels", "got shape (4, 4, 3)"),
     ((4, 4), "colours", "got kind='colours'")],
)
def test_what_cannot_be_a_pyramid_is_refused_before_any_work(tmp_path, shape, kind, message):
    with pytest.raises(PipelineError, match=message.replace("(", r"\(").replace(")", r"\)")):
        write_pyramid(da.zeros(shape, chunks=2), tmp_path / "bad", kind=kind)
    assert not (tmp_path / "bad").exists()


def every_level(folder, pyramid) -> list[np.ndarray]:
    return [level_pixels(folder, pyramid, level) for level in range(pyramid.min_level, pyramid.max_level + 1)]


def test_coarse_levels_are_readable_before_the_fine_ones_and_the_pyramid_says_it_is_partial(tmp_path, values):
    image = da.from_array(values, chunks=CHUNKS)
    whole = write_pyramid(image, tmp_path / "whole")
    folder = tmp_path / "two-passes"
    # 1033 -> 517 -> 259 -> 130 pixels wide: levels 9 and 8 fit in 300
    coarse = write_coarse_levels(image, folder, coarse_side=300)
    assert (coarse.ready_level, coarse.complete) == (9, False)
    assert read_pyramid(folder) == coarse and not read_pyramid(folder).complete
    for level in (8, 9):
        np.testing.assert_array_equal(
            level_pixels(folder, coarse, level), level_pixels(tmp_path / "whole", whole, level)
        )
    assert not (folder / "10").exists() and not (folder / "11").exists()
    finished = write_fine_levels(image, folder)
    assert finished.complete and read_pyramid(folder) == finished
    assert finished == whole  # the same tiles, bytes and all, as in one go
    for got, want in zip(every_level(folder, finished), every_level(tmp_path / "whole", whole)):
        np.testing.assert_array_equal(got, want)
    assert not [p for p in folder.rglob(".*")]  # no tile or descriptor left half-written


def test_a_fine_pass_stopped_half_way_leaves_a_partial_pyramid_that_the_next_finishes(tmp_path, values, monkeypatch):
    image = da.from_array(values, chunks=CHUNKS)
    folder = tmp_path / "stopped"
    write_coarse_levels(image, folder, coarse_side=300)
    write_row = deep_zoom._write_tile_row
    rows = []

    def dies_after_two_rows(*args):
        if len(rows) == 2:
            raise OSError("the server stopped")
        rows.append(args[2:4])
        return write_row(*args)

    monkeypatch.setattr(deep_zoom, "_write_tile_row", dies_after_two_rows)
    with pytest.raises(OSError, match="the server stopped"):
        write_fine_levels(image, folder, scheduler="sync")
    assert len(rows) == 2 and any(folder.glob("1[01]/*.png"))  # some fine tiles are there...
    assert not read_pyramid(folder).complete  # ...but it is not taken for a whole pyramid
    monkeypatch.setattr(deep_zoom, "_write_tile_row", write_row)
    finished = write_fine_levels(image, folder)
    assert finished.complete
    reference = write_pyramid(image, tmp_path / "reference")
    for got, want in zip(every_level(folder, finished), every_level(tmp_path / "reference", reference)):
        np.testing.assert_array_equal(got, want)


def test_a_fine_pass_needs_the_coarse_levels_first(tmp_path):
    with pytest.raises(PipelineError, match="no pyramid to finish"):
        write_fine_levels(da.zeros((600, 600), chunks=300), tmp_path / "none")


def test_progress_goes_to_its_own_compute_not_to_callbacks_of_the_whole_process(tmp_path, values):
    image = da.from_array(values, chunks=CHUNKS)
    elsewhere, mine = [], []
    # another session's progress bar, as ``with Callback()`` sets it: for the whole process
    with ProgressCallback(lambda *counts: elsewhere.append(counts)):
        write_pyramid(image, tmp_path / "mine", on_progress=lambda *counts: mine.append(counts))
    assert mine and mine[-1][0] == mine[-1][1] > 0
    assert elsewhere == []
