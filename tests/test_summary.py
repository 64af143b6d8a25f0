"""A step's preview and counts, gathered a task per chunk, equal slicing and counting the whole."""

import dask
import dask.array as da
import numpy as np
import pytest
from dask.core import flatten

from core.observe.histogram import lazy_histogram
from core.observe.summary import lazy_summary, lazy_tile_summaries
from core.pipeline.build import build_pipeline
from core.pipeline.tiling import partition


@pytest.mark.parametrize("chunks", [(20, 30), ((7, 50, 3, 1, 39), (2, 98)), (100, 100)])
@pytest.mark.parametrize("stride", [1, 3, 8])
def test_the_summary_equals_the_strided_array_and_its_histogram(rng, chunks, stride):
    values = rng.normal(0.5, 0.3, (100, 100)).astype(np.float32)
    array = da.from_array(values, chunks=chunks)
    preview, counts = lazy_summary(array, stride, (0.0, 1.0)).compute()
    expected_counts, _ = lazy_histogram(array, (0.0, 1.0))
    assert preview.dtype == values.dtype
    np.testing.assert_array_equal(preview, values[::stride, ::stride])
    np.testing.assert_array_equal(counts, expected_counts.compute())
    assert counts.sum() == values.size


def test_without_a_range_only_the_preview_is_gathered(rng):
    labels = rng.integers(0, 9, (40, 50), dtype=np.int32)
    preview, counts = lazy_summary(da.from_array(labels, chunks=16), 4).compute()
    assert counts is None
    np.testing.assert_array_equal(preview, labels[::4, ::4])


def test_the_summary_is_one_task_per_chunk_and_one_to_join_them(rng):
    array = da.from_array(rng.random((64, 64), dtype=np.float32), chunks=16).persist()
    summary = lazy_summary(array, 3, (0.0, 1.0))
    (optimized,) = dask.optimize(summary)
    tasks = set(dict(optimized.__dask_graph__())) - set(flatten(array.__dask_keys__()))
    assert len(tasks) == array.npartitions + 1


@pytest.mark.parametrize("grid", [(1, 1), (5, 4), (16, 13)])
@pytest.mark.parametrize("stride", [1, 3, 20])
def test_the_tiles_summary_equals_their_thumbnails_and_the_stitched_images_preview(tmp_path, photo, grid, stride):
    pipeline = build_pipeline(partition(photo, *grid, tmp_path / "tiles"), ())
    tiles, grays = pipeline.tile_arrays, pipeline.gray_tiles
    tile_thumbs, gray_thumbs, preview, counts = lazy_tile_summaries(tiles, grays, stride, (0.0, 1.0)).compute()
    expected_tiles, expected_grays, stitched, expected_counts = dask.compute(
        [[t[::stride, ::stride] for t in row] for row in tiles], [[g[::stride, ::stride] for g in row] for row in grays],
        pipeline.stitched, lazy_histogram(pipeline.stitched, (0.0, 1.0))[0],
    )
    for got, expected in ((tile_thumbs, expected_tiles), (gray_thumbs, expected_grays)):
        assert [len(row) for row in got] == [grid[1]] * grid[0]
        for got_row, expected_row in zip(got, expected):
            for thumb, expected_thumb in zip(got_row, expected_row):
                np.testing.assert_array_equal(thumb, expected_thumb)
    np.testing.assert_array_equal(preview, stitched[::stride, ::stride])
    np.testing.assert_array_equal(counts, expected_counts)


def test_the_tiles_summary_is_one_task_per_tile_and_one_to_join_them(tmp_path, photo):
    pipeline = build_pipeline(partition(photo, 3, 2, tmp_path / "tiles"), ())
    summary = lazy_tile_summaries(pipeline.tile_arrays, pipeline.gray_tiles, 2, (0.0, 1.0))
    before = set(dict(pipeline.stitched.__dask_graph__())) | {
        key for row in pipeline.tile_arrays for tile in row for key in dict(tile.__dask_graph__())
    }
    assert len(set(dict(summary.__dask_graph__())) - before) == 3 * 2 + 1
