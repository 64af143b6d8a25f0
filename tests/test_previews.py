import io

import numpy as np
import pytest
from PIL import Image

from core import build_pipeline, partition, sobel_range
from core.previews import (
    clipped_preview,
    full_resolution_png,
    mosaic,
    preview_step,
    run_edge_stage,
    run_gray_stages,
    tinted_mosaic,
    to_display,
)


@pytest.mark.parametrize("shape, max_side, step", [((512, 512), 1600, 1), ((4096, 3000), 1600, 3), ((1601, 10), 1600, 2)])
def test_preview_step_brings_the_long_side_under_the_limit(shape, max_side, step):
    assert preview_step(shape, max_side) == step
    assert -(-max(shape) // step) <= max_side


@pytest.fixture
def gray_run(tmp_path, photo):
    pipeline = build_pipeline(partition(photo, 3, 4, tmp_path / "tiles"))
    return run_gray_stages(pipeline, max_side=30)


def test_gray_stages_give_previews_and_a_persisted_image(gray_run, photo):
    step = gray_run.step
    assert step == 3
    r0, c0 = 23, 14  # where tile (1, 1) starts: 67 rows and 53 columns split 3 x 4
    np.testing.assert_array_equal(gray_run.tile_previews[1][1], photo[r0:45, c0:27][::step, ::step])
    assert gray_run.stitched_preview.shape == gray_run.stitched[::step, ::step].shape
    stitched = gray_run.stitched.compute()
    np.testing.assert_allclose(gray_run.stitched_preview, stitched[::step, ::step])
    assert set(gray_run.seconds) >= {"read", "grayscale", "stitch"}
    assert all(seconds >= 0 for seconds in gray_run.seconds.values())


def test_progress_reaches_the_total(tmp_path, photo):
    reports = []
    run_gray_stages(build_pipeline(partition(photo, 2, 2, tmp_path / "t")), on_progress=lambda d, t: reports.append((d, t)))
    done, total = reports[-1]
    assert done == total > 0
    assert all(d <= t for d, t in reports)


@pytest.mark.parametrize("mode", ["x", "y", "magnitude"])
def test_clipping_the_preview_equals_a_preview_of_the_full_clip(tmp_path, gray_run, photo, reference, mode):
    edges = run_edge_stage(gray_run.stitched, mode, gray_run.step)
    lo, hi = (0.1, 0.9) if mode == "magnitude" else (-0.5, 0.5)
    full = reference(photo, mode, lo, hi)
    expected = np.rint((full[:: gray_run.step, :: gray_run.step] - lo) / (hi - lo) * 255)
    assert np.abs(clipped_preview(edges, lo, hi).astype(int) - expected).max() <= 1
    assert edges.counts.sum() == photo.shape[0] * photo.shape[1]  # every pixel, not the preview
    assert (edges.bin_edges[0], edges.bin_edges[-1]) == pytest.approx(sobel_range(mode))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    download = np.asarray(Image.open(io.BytesIO(full_resolution_png(gray_run.stitched, mode, lo, hi, scratch))))
    assert download.dtype == np.uint8 and download.shape == photo.shape[:2]
    assert list(scratch.iterdir()) == []  # nothing left behind
    # float32 against float64: a value on a rounding boundary may land one step apart
    assert np.abs(download.astype(int) - np.rint((full - lo) / (hi - lo) * 255)).max() <= 1


def test_mosaic_lays_tiles_out_with_gutters():
    tiles = [[np.zeros((2, 3), np.uint8), np.zeros((2, 2), np.uint8)], [np.zeros((1, 3), np.uint8), np.zeros((1, 2), np.uint8)]]
    picture = mosaic(tiles, gutter=1, fill=255)
    assert picture.shape == (2 + 1 + 1, 3 + 1 + 2)
    assert np.all(picture[2] == 255) and np.all(picture[:, 3] == 255)
    assert np.all(picture[:2, :3] == 0)


def test_tinted_mosaic_colours_each_tile_by_its_group():
    gray = np.full((2, 2), 100, np.uint8)
    colour = np.full((2, 2, 3), 100, np.uint8)
    picture = tinted_mosaic([[gray, colour, gray]], [[0, 1, None]], [(255, 0, 0), (0, 0, 255)], strength=0.5)
    assert picture.shape == (2, 3 * 2 + 2 * 6, 3)
    np.testing.assert_array_equal(picture[0, 0], [178, 50, 50])  # gray, half red
    np.testing.assert_array_equal(picture[0, 8], [50, 50, 178])  # colour, half blue
    np.testing.assert_array_equal(picture[0, 16], [100, 100, 100])  # not tinted


@pytest.mark.parametrize("pixels, expected", [
    (np.array([[0.0, 0.5, 1.0]], np.float32), [[0, 128, 255]]),
    (np.array([[0, 65535]], np.uint16), [[0, 255]]),
    (np.array([[7, 200]], np.uint8), [[7, 200]]),
])
def test_to_display_makes_8_bit(pixels, expected):
    shown = to_display(pixels)
    assert shown.dtype == np.uint8
    np.testing.assert_array_equal(shown, expected)
