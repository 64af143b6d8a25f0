"""``core.outputs.write``: every format of a run written in one pass, whole or not at all."""

import gc
import os
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from dask.callbacks import Callback
from PIL import Image

import core.outputs.png
from core.observe import for_this_compute
from core.outputs import FORMATS, OPTIONAL_FORMATS, result_of, to_picture, write
from core.outputs.writer import _compute_in_order
from core.pipeline import ResultKind, build_pipeline, parse_chain, partition

ALWAYS = ["graph-overview.dot", "graph.dot", "result.npy", "result.png"]


def pipeline_of(photo, tmp_path, chain, grid=(3, 2)):
    return build_pipeline(partition(photo, *grid, tmp_path / "tiles"), parse_chain(chain))


@pytest.mark.parametrize("lo, hi", [(0.0, 1.0), (-0.5, 0.5)])
def test_the_files_equal_the_computed_result(tmp_path, photo, lo, hi):
    pipeline = pipeline_of(photo, tmp_path, ["sobel", f"clip:lo={lo},hi={hi}"])
    written = write(pipeline, tmp_path)
    expected = pipeline.result.compute()
    stored = np.load(tmp_path / "result.npy")
    assert stored.dtype == np.float32
    np.testing.assert_array_equal(stored, expected)
    png = np.asarray(Image.open(tmp_path / "result.png"))
    assert png.dtype == np.uint8 and png.shape == photo.shape[:2]
    np.testing.assert_array_equal(png, np.rint((expected - lo) / (hi - lo) * 255))
    assert png.min() == 0 and png.max() == 255  # the photo fills the clip range
    assert sorted(written) == ALWAYS
    assert sorted(os.listdir(tmp_path)) == [*ALWAYS, "tiles"]
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")


@pytest.mark.parametrize("chain, kind, dtype", [
    (["threshold:value=0.4"], ResultKind.MASK, np.uint8),
    (["threshold:value=0.4", "label"], ResultKind.LABELS, np.int32),
    ([], ResultKind.VALUES, np.float32),
])
def test_the_npy_keeps_the_results_type(tmp_path, photo, chain, kind, dtype):
    pipeline = pipeline_of(photo, tmp_path, chain)
    assert result_of(pipeline).kind is kind
    write(pipeline, tmp_path)
    stored = np.load(tmp_path / "result.npy")
    assert stored.dtype == dtype
    np.testing.assert_array_equal(stored, pipeline.result.compute())


def test_labels_make_an_rgb_png_and_a_region_table(tmp_path, photo):
    pipeline = pipeline_of(photo, tmp_path, ["threshold:value=0.4", "label"])
    written = write(pipeline, tmp_path)
    assert "regions.csv" in written
    png = Image.open(tmp_path / "result.png")
    assert png.mode == "RGB" and png.size == (photo.shape[1], photo.shape[0])
    np.testing.assert_array_equal(np.asarray(png), to_picture(pipeline.result, "labels", (0, 1)).compute())
    labels = np.load(tmp_path / "result.npy")
    table = (tmp_path / "regions.csv").read_text().splitlines()
    assert len(table) == 1 + labels.max()  # a header, then a row per region


class TaskCounter(Callback):
    def __init__(self):
        super().__init__()
        self.keys = []

    def _posttask(self, key, result, dsk, state, worker_id):
        self.keys.append(key)


def test_every_format_comes_from_one_pass_that_computes_each_task_once(tmp_path, photo):
    pipeline = pipeline_of(photo, tmp_path, ["gaussian:sigma=1", "threshold", "label"])
    passes, counter = [], TaskCounter()

    def compute(collections, what):
        passes.append(what)
        return list(dask.compute(*collections, scheduler="threads", optimize_graph=False, **for_this_compute(counter)))

    source = tmp_path / "photo.png"
    Image.fromarray(photo).save(source)
    written = write(pipeline, tmp_path, optional=["ome-zarr"], compute=compute, source=source)
    assert written == [f.file_name for f in FORMATS]  # every format applies to labels read from a file
    assert len(passes) == 1
    assert len(counter.keys) == len(set(counter.keys))  # the npy, PNG, zarr and table share every task
    read_tasks = [key for key in counter.keys if isinstance(key, tuple) and "map_read_frame" in str(key[0])]
    assert len(read_tasks) == 6  # each of the 3 x 2 tiles read once


def test_a_failed_compute_leaves_no_files(tmp_path, photo):
    pipeline = pipeline_of(photo, tmp_path, ["sobel", "clip"], grid=(2, 2))
    (tmp_path / "tiles" / "tile_r001_c001.tif").write_bytes(b"not a tiff any more")
    # pims leaves the handle of the unreadable tile open (its leak, not ours); the error's
    # traceback keeps it alive, so drop both here, or the warning would surface in
    # whichever test runs the garbage collector next.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(Exception) as failure:
            write(pipeline, tmp_path, optional=["ome-zarr"])
        del failure
        gc.collect()
    assert sorted(os.listdir(tmp_path)) == ["tiles"]


def test_files_an_earlier_run_wrote_and_this_one_does_not_are_removed(tmp_path, photo):
    write(pipeline_of(photo, tmp_path, ["threshold:value=0.4", "label"]), tmp_path, optional=["ome-zarr"])
    assert {"regions.csv", "result.ome.zarr"} <= set(os.listdir(tmp_path))
    write(pipeline_of(photo, tmp_path, ["sobel", "clip"]), tmp_path)
    assert sorted(os.listdir(tmp_path)) == [*ALWAYS, "tiles"]


def test_the_notebook_and_script_need_the_image_file_the_tiles_were_cut_from(tmp_path, photo):
    pipeline = pipeline_of(photo, tmp_path, ["sobel", "clip"])
    assert "pipeline.ipynb" not in write(pipeline, tmp_path)  # tiles alone: nothing to name
    source = tmp_path / "photo.png"
    Image.fromarray(photo).save(source)
    assert write(pipeline, tmp_path, source=source)[-2:] == ["pipeline.ipynb", "pipeline.py"]
    assert str(source.resolve()) in (tmp_path / "pipeline.py").read_text()
    write(pipeline, tmp_path)
    assert not (tmp_path / "pipeline.ipynb").exists()  # an earlier run's notebook is not this run's


def test_an_unknown_optional_format_is_refused_before_any_work(tmp_path, photo):
    assert set(OPTIONAL_FORMATS) == {"ome-zarr"}
    with pytest.raises(ValueError, match="tiff"):
        write(pipeline_of(photo, tmp_path, ["sobel"]), tmp_path, optional=["tiff"])
    assert sorted(os.listdir(tmp_path)) == ["tiles"]


@pytest.mark.parametrize("strip_rows", [None, 1, 5, 1000])
@pytest.mark.parametrize("chain", [["sobel", "clip"], ["threshold:value=0.4", "label"]])
def test_the_png_is_the_same_picture_however_many_strips_compress_it(tmp_path, photo, strip_rows, chain, monkeypatch):
    if strip_rows is not None:
        monkeypatch.setattr(core.outputs.png, "png_strip_rows", lambda height: strip_rows)
    pipeline = pipeline_of(photo, tmp_path, chain)
    write(pipeline, tmp_path)
    expected = result_of(pipeline).picture.compute()
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "result.png")), expected)


def test_values_come_back_in_order_whatever_the_mix_of_arrays_and_delayed(rng):
    # dask.compute, optimising, groups the results of arrays apart from delayed objects.
    image = da.from_array(rng.random((30, 20), dtype=np.float32), chunks=10)
    mixed = [image.sum(), dask.delayed(len)("four"), image.max(), dask.delayed(str)("text")]
    values = _compute_in_order(lambda collections, what: list(dask.compute(*collections)), mixed, "")
    assert values == [pytest.approx(float(image.sum().compute())), 4, image.max().compute(), "text"]


def test_blocks_stored_here_rather_than_by_the_workers_make_the_same_files(tmp_path, photo):
    pipeline = pipeline_of(photo, tmp_path, ["threshold:value=0.4", "label"])
    by_workers, here = tmp_path / "by-workers", tmp_path / "here"
    by_workers.mkdir(), here.mkdir()
    write(pipeline, by_workers, optional=["ome-zarr"])
    targets = []

    def store_here(collections, stores, what):  # what core.runtime.fetch does, in one piece
        values = dask.compute(*collections, *(array for array, _ in stores))
        for (array, target), value in zip(stores, values[len(collections):]):
            target[tuple(slice(0, side) for side in array.shape)] = value
            targets.append(type(target).__name__)
        return list(values[: len(collections)])

    written = write(pipeline, here, optional=["ome-zarr"], store_here=store_here)
    assert written == [f.file_name for f in FORMATS if not f.needs_source]  # every one, but the notebook's
    assert targets[0] == "NpyFile" and targets.count("Array") >= 1  # the .npy and each zarr level
    np.testing.assert_array_equal(np.load(here / "result.npy"), np.load(by_workers / "result.npy"))
    for name in ("result.png", "regions.csv", "result.ome.zarr/0/c/0/0"):
        assert (here / name).read_bytes() == (by_workers / name).read_bytes(), name
