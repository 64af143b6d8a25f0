import gc
import os
import threading
import warnings

import dask.array as da
import numpy as np
import pytest
from PIL import Image

from core import build_pipeline, parse_chain, partition, to_uint8, write_results
from core.outputs import result_picture
from core.pictures import to_picture


def sobel_x_clipped(photo, tmp_path, lo=0.0, hi=1.0, grid=(3, 2)):
    return build_pipeline(partition(photo, *grid, tmp_path / "tiles"), parse_chain(["sobel", f"clip:lo={lo},hi={hi}"]))


@pytest.mark.parametrize("lo, hi", [(0.0, 1.0), (-0.5, 0.5)])
def test_results_equal_the_computed_array(tmp_path, photo, lo, hi):
    result = sobel_x_clipped(photo, tmp_path, lo, hi).result
    write_results(result, to_uint8(result, lo, hi), tmp_path / "result.npy", tmp_path / "result.png")
    expected = result.compute()
    stored = np.load(tmp_path / "result.npy")
    assert stored.dtype == np.float32
    np.testing.assert_array_equal(stored, expected)
    png = np.asarray(Image.open(tmp_path / "result.png"))
    assert png.dtype == np.uint8 and png.shape == photo.shape[:2]
    np.testing.assert_array_equal(png, np.rint((expected - lo) / (hi - lo) * 255))
    assert png.min() == 0 and png.max() == 255  # the photo fills the clip range
    assert sorted(os.listdir(tmp_path)) == ["result.npy", "result.png", "tiles"]


# A threshold value rather than Otsu's: dask-image's label copies the whole Otsu graph
# into every block, tens of seconds for six tiles.
@pytest.mark.parametrize("chain, dtype", [
    (["threshold:value=0.4"], np.uint8), (["threshold:value=0.4", "label"], np.int32)
])
def test_the_npy_keeps_the_results_dtype(tmp_path, photo, chain, dtype):
    steps = parse_chain(chain)
    result = build_pipeline(partition(photo, 2, 3, tmp_path / "tiles"), steps).result
    assert result.dtype == dtype
    write_results(result, result_picture(result, steps), tmp_path / "result.npy", tmp_path / "result.png")
    stored = np.load(tmp_path / "result.npy")
    assert stored.dtype == dtype
    np.testing.assert_array_equal(stored, result.compute())


def test_labels_make_an_rgb_png(tmp_path, photo):
    tiles = partition(photo, 3, 2, tmp_path / "tiles")
    labels = build_pipeline(tiles, parse_chain(["threshold:value=0.4", "label"])).result
    picture = to_picture(labels, "labels", (0, 1))
    write_results(labels, picture, None, tmp_path / "result.png")
    png = Image.open(tmp_path / "result.png")
    assert png.mode == "RGB" and png.size == (photo.shape[1], photo.shape[0])
    np.testing.assert_array_equal(np.asarray(png), picture.compute())


def test_more_collections_are_computed_in_the_same_pass_and_returned(tmp_path, rng):
    computed_blocks, lock = [], threading.Lock()

    def counted(block, block_info=None):
        with lock:
            computed_blocks.append(block_info[0]["chunk-location"])
        return block

    image = da.from_array(rng.random((50, 40), dtype=np.float32), chunks=(20, 15))
    result = image.map_blocks(counted, dtype=np.float32)
    passes = []

    def compute(collections, what):
        passes.append(what)
        return list(da.compute(*collections, scheduler="threads"))

    total, biggest = write_results(
        result, to_uint8(result, 0, 1), tmp_path / "result.npy", tmp_path / "result.png",
        also_compute=[result.sum(), result.max()], compute=compute,
    )
    assert len(passes) == 1
    assert sorted(computed_blocks) == sorted(np.ndindex(*result.numblocks))  # each block once for all four
    assert total == pytest.approx(image.sum().compute()) and biggest == image.max().compute()


def test_a_failed_compute_leaves_no_files(tmp_path, photo):
    result = sobel_x_clipped(photo, tmp_path, grid=(2, 2)).result
    (tmp_path / "tiles" / "tile_r001_c001.tif").write_bytes(b"not a tiff any more")
    # pims leaves the handle of the unreadable tile open (its leak, not ours); the error's
    # traceback keeps it alive, so drop both here, or the warning would surface in
    # whichever test runs the garbage collector next.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(Exception) as failure:
            write_results(result, to_uint8(result, 0, 1), tmp_path / "result.npy", tmp_path / "result.png")
        del failure
        gc.collect()
    assert sorted(os.listdir(tmp_path)) == ["tiles"]


def test_the_png_alone_when_no_npy_is_wanted(tmp_path, photo):
    tiles = partition(photo, 2, 3, tmp_path / "tiles")
    result = build_pipeline(tiles, parse_chain(["sobel:mode=y", "clip:lo=-1,hi=1"])).result
    write_results(result, to_uint8(result, -1, 1), None, tmp_path / "result.png")
    assert sorted(os.listdir(tmp_path)) == ["result.png", "tiles"]
    expected = np.rint((result.compute() + 1) / 2 * 255)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "result.png")), expected)


@pytest.mark.parametrize("strip_rows", [None, 1, 5, 1000])
@pytest.mark.parametrize("kind", ["values", "labels"])
def test_the_png_is_the_same_picture_however_many_strips_compress_it(tmp_path, photo, strip_rows, kind, monkeypatch):
    from core import results

    if strip_rows is not None:
        monkeypatch.setattr(results, "png_strip_rows", lambda height: strip_rows)
    chain = ["sobel", "clip"] if kind == "values" else ["threshold:value=0.4", "label"]
    result = build_pipeline(partition(photo, 3, 2, tmp_path / "tiles"), parse_chain(chain)).result
    picture = to_picture(result, kind, (0, 1))
    write_results(result, picture, None, tmp_path / "result.png")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "result.png")), picture.compute())


def test_strips_never_span_two_rows_of_tiles_and_give_every_core_work():
    from core.results import _strip_rows, png_strip_rows

    assert png_strip_rows(8192, cores=2) == 2048 and png_strip_rows(8192, cores=16) == 256
    assert png_strip_rows(100, cores=16) == 64  # short images: fewer, longer strips
    strips = _strip_rows((23, 22, 22), 10)
    assert strips == (8, 8, 7, 8, 7, 7, 8, 7, 7)
    assert np.cumsum(strips)[[2, 5, 8]].tolist() == [23, 45, 67]  # tile borders kept


def test_values_come_back_in_order_whatever_the_mix_of_arrays_and_delayed(tmp_path, rng):
    # dask.compute, optimising, groups the results of arrays apart from delayed objects.
    import dask

    image = da.from_array(rng.random((30, 20), dtype=np.float32), chunks=10)
    also = [image.sum(), dask.delayed(len)("four"), image.max(), dask.delayed(str)("text")]
    values = write_results(image, to_uint8(image, 0, 1), tmp_path / "result.npy", tmp_path / "result.png",
                           also_compute=also)
    assert values == [pytest.approx(image.sum().compute()), 4, image.max().compute(), "text"]
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "result.png")), to_uint8(image, 0, 1).compute())
