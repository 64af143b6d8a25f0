import subprocess
import sys
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pims
import pytest
from skimage.color import rgb2gray

from core import (
    MIN_CHUNKS_PER_AXIS,
    PipelineError,
    build_pipeline,
    clip,
    merge_small_chunks,
    partition,
    read_tiles,
    sobel,
    sobel_range,
    to_grayscale,
)

ATOL = 1e-4


CLIPS = {"x": [(0, 1), (-0.5, 0.25)], "y": [(0, 1), (-4, 4)], "magnitude": [(0, 1), (0.1, 5.7)]}


@pytest.mark.parametrize("rows", range(1, 17))
@pytest.mark.parametrize("cols", range(1, 17))
def test_every_grid_matches_scipy_on_the_whole_image(tmp_path, photo, reference, rows, cols):
    tiles = partition(photo, rows, cols, tmp_path / "tiles")
    stitched = build_pipeline(tiles).stitched
    settings = [(mode, lo, hi) for mode, clips in CLIPS.items() for lo, hi in clips]
    # min_chunk=1 keeps one chunk per tile, so every tile border is a chunk border.
    results = [clip(sobel(stitched, mode, min_chunk=1), lo, hi) for mode, lo, hi in settings]
    for (mode, lo, hi), result in zip(settings, dask.compute(*results)):  # one pass reads each tile once
        assert result.shape == photo.shape[:2]
        np.testing.assert_allclose(result, reference(photo, mode, lo, hi), rtol=0, atol=ATOL)


@pytest.mark.parametrize("shape, dtype", [
    ((40, 31), np.uint8),
    ((40, 31), np.uint16),
    ((33, 45, 3), np.uint16),
    ((101, 7, 3), np.uint8),
])
@pytest.mark.parametrize("grid", [(1, 1), (3, 2), (7, 5), (16, 7)])
@pytest.mark.parametrize("mode", ["x", "y", "magnitude"])
def test_dtypes_and_shapes_match_scipy(tmp_path, rng, reference, shape, dtype, grid, mode):
    image = rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)
    tiles = partition(image, *grid, tmp_path / "tiles")
    lo, hi = sobel_range(mode)
    result = build_pipeline(tiles, mode=mode, lo=lo, hi=hi, min_chunk=1)
    assert result.clipped.dtype == np.float32
    np.testing.assert_allclose(result.clipped.compute(), reference(image, mode, lo, hi), rtol=0, atol=ATOL)


def test_sobel_range_is_tight(tmp_path):
    image = np.zeros((20, 20), np.uint8)
    image[:10, 12:16] = 255  # a vertical band: x derivative of +4 and -4
    image[12:16, :10] = 255  # a horizontal band: y derivative of +4 and -4
    image[2:5, 2:5] = [[0, 0, 255], [0, 0, 255], [0, 255, 255]]  # the largest magnitude
    tiles = partition(image, 3, 2, tmp_path / "tiles")
    for mode in ("x", "y", "magnitude"):
        lo, hi = sobel_range(mode)
        edges = build_pipeline(tiles, mode=mode, lo=lo, hi=hi).edges.compute()
        np.testing.assert_allclose([edges.min(), edges.max()], [lo, hi], atol=1e-5)


def test_stages_are_lazy_until_computed(tmp_path, photo):
    tiles = partition(photo, 2, 2, tmp_path / "tiles")
    gray = to_grayscale(read_tiles(tiles))
    pipeline = build_pipeline(tiles, mode="magnitude")
    for path in tmp_path.glob("tiles/*.tif"):
        path.unlink()  # nothing has read them yet, so building succeeded without them
    assert all(isinstance(g, da.Array) for row in gray for g in row)
    assert isinstance(pipeline.clipped, da.Array)
    with pytest.raises(pims.UnknownFormatError):  # what pims says of a missing file
        pipeline.clipped.compute()


def test_grayscale_tiles_are_the_grayscale_of_each_tile(tmp_path, photo):
    tiles = partition(photo, 2, 3, tmp_path / "tiles")
    pipeline = build_pipeline(tiles)
    r0, r1 = tiles.row_edges[1:3]
    c0, c1 = tiles.col_edges[2:4]
    np.testing.assert_allclose(pipeline.gray[1][2].compute(), rgb2gray(photo[r0:r1, c0:c1]), atol=1e-6)
    assert pipeline.stitched.chunks == (tuple(np.diff(tiles.row_edges)), tuple(np.diff(tiles.col_edges)))


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "diagonal"}, "Sobel mode must be one of x, y, magnitude"),
    ({"lo": 1, "hi": 1}, "LO < HI"),
    ({"lo": 2, "hi": 1}, "LO < HI"),
    ({"lo": float("nan"), "hi": 1}, "LO < HI"),
])
def test_bad_settings_raise(tmp_path, photo, kwargs, message):
    tiles = partition(photo, 1, 2, tmp_path / "tiles")
    with pytest.raises(PipelineError, match=message):
        build_pipeline(tiles, **kwargs)


@pytest.mark.parametrize("min_chunk", [2, 9, 30, 1000])
@pytest.mark.parametrize("mode", ["x", "magnitude"])
def test_merged_chunks_give_the_same_edges(tmp_path, photo, reference, min_chunk, mode):
    tiles = partition(photo, 16, 13, tmp_path / "tiles")
    stitched = build_pipeline(tiles).stitched
    edges = sobel(stitched, mode, min_chunk=min_chunk)
    for sizes, tile_sizes in zip(edges.chunks, stitched.chunks):
        assert sum(sizes) == sum(tile_sizes)
        assert len(sizes) >= MIN_CHUNKS_PER_AXIS
        assert set(np.cumsum(sizes)) <= set(np.cumsum(tile_sizes))  # borders stay on tile borders
    np.testing.assert_allclose(edges.compute(), reference(photo, mode, -10, 10), rtol=0, atol=ATOL)


def test_small_tiles_are_merged_and_large_or_few_ones_kept():
    many_small = da.zeros((4096, 4096), chunks=256)
    assert merge_small_chunks(many_small).chunks == ((1024,) * 4, (1024,) * 4)
    tiny = da.zeros((512, 512), chunks=32)  # 16 x 16 tiles: 4 x 4 chunks, not one
    assert merge_small_chunks(tiny).chunks == ((128,) * 4, (128,) * 4)
    few_small = da.zeros((512, 512), chunks=256)  # the default sample in a 2 x 2 grid
    assert merge_small_chunks(few_small) is few_small
    large = da.zeros((32768, 32768), chunks=2048)
    assert merge_small_chunks(large) is large
    uneven = da.zeros((1300, 10), chunks=((100,) * 13, (10,)))
    assert merge_small_chunks(uneven, 300, 3).chunks == ((300, 300, 300, 400), (10,))


def test_matplotlib_is_hidden_from_pims_only_when_imported_from_the_main_thread():
    # A server imports the pipeline from a script thread: its other threads draw with
    # matplotlib, which must never vanish from under them, even for a moment.
    code = (
        "import sys, threading\n"
        "seen = {}\n"
        "def load():\n"
        "    import core.stages, pims.display\n"
        "    seen['plt'] = pims.display.plt is not None\n"
        "thread = threading.Thread(target=load)\n"
        "thread.start(); thread.join()\n"
        "print(seen['plt'])\n"
    )
    repo = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "True"
