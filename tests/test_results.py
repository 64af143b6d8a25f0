import gc
import os
import warnings

import numpy as np
import pytest
from PIL import Image

from core import build_pipeline, partition, write_results


@pytest.mark.parametrize("lo, hi", [(0.0, 1.0), (-0.5, 0.5)])
def test_results_equal_the_computed_array(tmp_path, photo, lo, hi):
    pipeline = build_pipeline(partition(photo, 3, 2, tmp_path / "tiles"), mode="x", lo=lo, hi=hi)
    write_results(pipeline.clipped, lo, hi, tmp_path / "edges.npy", tmp_path / "edges.png")
    expected = pipeline.clipped.compute()
    edges = np.load(tmp_path / "edges.npy")
    assert edges.dtype == np.float32
    np.testing.assert_array_equal(edges, expected)
    png = np.asarray(Image.open(tmp_path / "edges.png"))
    assert png.dtype == np.uint8 and png.shape == photo.shape[:2]
    np.testing.assert_array_equal(png, np.rint((expected - lo) / (hi - lo) * 255))
    assert png.min() == 0 and png.max() == 255  # the photo fills the clip range
    assert sorted(os.listdir(tmp_path)) == ["edges.npy", "edges.png", "tiles"]


def test_a_failed_compute_leaves_no_files(tmp_path, photo):
    pipeline = build_pipeline(partition(photo, 2, 2, tmp_path / "tiles"))
    (tmp_path / "tiles" / "tile_r001_c001.tif").write_bytes(b"not a tiff any more")
    # pims leaves the handle of the unreadable tile open (its leak, not ours); the error's
    # traceback keeps it alive, so drop both here, or the warning would surface in
    # whichever test runs the garbage collector next.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(Exception) as failure:
            write_results(pipeline.clipped, 0, 1, tmp_path / "edges.npy", tmp_path / "edges.png")
        del failure
        gc.collect()
    assert sorted(os.listdir(tmp_path)) == ["tiles"]


def test_the_png_alone_when_no_npy_is_wanted(tmp_path, photo):
    pipeline = build_pipeline(partition(photo, 2, 3, tmp_path / "tiles"), mode="y", lo=-1, hi=1)
    write_results(pipeline.clipped, -1, 1, None, tmp_path / "edges.png")
    assert sorted(os.listdir(tmp_path)) == ["edges.png", "tiles"]
    expected = np.rint((pipeline.clipped.compute() + 1) / 2 * 255)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "edges.png")), expected)


@pytest.mark.parametrize("strip_rows", [None, 1, 5, 1000])
def test_the_png_is_the_same_picture_however_many_strips_compress_it(tmp_path, photo, strip_rows, monkeypatch):
    from core import results

    if strip_rows is not None:
        monkeypatch.setattr(results, "png_strip_rows", lambda height: strip_rows)
    pipeline = build_pipeline(partition(photo, 3, 2, tmp_path / "tiles"))
    write_results(pipeline.clipped, 0, 1, None, tmp_path / "edges.png")
    expected = np.rint(pipeline.clipped.compute() * 255)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "edges.png")), expected)


def test_strips_never_span_two_rows_of_tiles_and_give_every_core_work():
    from core.results import _strip_rows, png_strip_rows

    assert png_strip_rows(8192, cores=2) == 2048 and png_strip_rows(8192, cores=16) == 256
    assert png_strip_rows(100, cores=16) == 64  # short images: fewer, longer strips
    strips = _strip_rows((23, 22, 22), 10)
    assert strips == (8, 8, 7, 8, 7, 7, 8, 7, 7)
    assert np.cumsum(strips)[[2, 5, 8]].tolist() == [23, 45, 67]  # tile borders kept
