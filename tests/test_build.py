import subprocess
import sys
from pathlib import Path

import dask.array as da
import numpy as np
import pims
import pytest
from skimage.color import rgb2gray

from core.pipeline.build import build_pipeline, read_tiles, to_grayscale
from core.pipeline.stage_table import parse_chain, sobel_range
from core.pipeline.tiling import partition

ATOL = 1e-4


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
    pipeline = build_pipeline(tiles, parse_chain([f"sobel:mode={mode}", f"clip:lo={lo!r},hi={hi!r}"]))
    assert pipeline.result.dtype == np.float32
    np.testing.assert_allclose(pipeline.result.compute(), reference(image, mode, lo, hi), rtol=0, atol=ATOL)


def test_the_default_chain_is_sobel_x_clipped_to_0_1(tmp_path, photo, reference):
    pipeline = build_pipeline(partition(photo, 3, 4, tmp_path / "tiles"))
    assert list(pipeline.stages()) == ["read", "grayscale", "stitch", "sobel", "clip"]
    np.testing.assert_allclose(pipeline.result.compute(), reference(photo, "x", 0, 1), rtol=0, atol=ATOL)


def test_an_empty_chain_ends_with_the_stitched_image(tmp_path, photo):
    pipeline = build_pipeline(partition(photo, 2, 2, tmp_path / "tiles"), ())
    assert pipeline.result is pipeline.stitched and pipeline.steps == ()


def test_stages_are_lazy_until_computed(tmp_path, photo):
    tiles = partition(photo, 2, 2, tmp_path / "tiles")
    gray = to_grayscale(read_tiles(tiles))
    pipeline = build_pipeline(tiles, parse_chain(["sobel:mode=magnitude", "threshold", "label"]))
    for path in tmp_path.glob("tiles/*.tif"):
        path.unlink()  # nothing has read them yet, so building succeeded without them
    assert all(isinstance(g, da.Array) for row in gray for g in row)
    assert all(isinstance(step, da.Array) for step in pipeline.steps)
    with pytest.raises(pims.UnknownFormatError):  # what pims says of a missing file
        pipeline.result.compute()


def test_grayscale_tiles_are_the_grayscale_of_each_tile(tmp_path, photo):
    tiles = partition(photo, 2, 3, tmp_path / "tiles")
    pipeline = build_pipeline(tiles)
    r0, r1 = tiles.row_edges[1:3]
    c0, c1 = tiles.col_edges[2:4]
    np.testing.assert_allclose(pipeline.gray_tiles[1][2].compute(), rgb2gray(photo[r0:r1, c0:c1]), atol=1e-6)
    assert pipeline.stitched.chunks == (tuple(np.diff(tiles.row_edges)), tuple(np.diff(tiles.col_edges)))


def test_from_a_server_thread_only_pyplot_is_hidden_from_pims():
    # A server imports the pipeline from a script thread: its other threads draw with
    # matplotlib, which must never vanish from under them, even for a moment; pyplot,
    # which nothing in the app imports, stays out of the process (0.24 s of a first page).
    code = (
        "import sys, threading\n"
        "thread = threading.Thread(target=lambda: __import__('core.pipeline.build'))\n"
        "thread.start(); thread.join()\n"
        "import pims.display\n"
        "print('matplotlib.pyplot' in sys.modules, pims.display.plt is None)\n"
        "import matplotlib.pyplot\n"  # still importable afterwards
    )
    repo = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "True"]
