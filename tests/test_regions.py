"""The region table equals scikit-image's regionprops on the whole image."""

import dask.array as da
import numpy as np
import pytest
import scipy.ndimage as ndi
from skimage import data, measure

from core.outputs.regions import REGION_COLUMNS, region_table


@pytest.fixture(scope="module")
def labelled():
    gray = (data.coins()[:150, :200] / 255.0).astype(np.float32)
    labels, count = ndi.label(ndi.gaussian_filter(gray, 1) > 0.55)
    assert count > 10
    return gray, labels


@pytest.mark.parametrize("chunks", [200, ((50, 100), (7, 80, 113)), ((150,), (1,) * 200), 13])
def test_the_table_equals_regionprops_whatever_the_chunks(labelled, chunks):
    gray, labels = labelled
    table = region_table(da.from_array(labels, chunks=chunks), da.from_array(gray, chunks=37)).compute()
    expected = measure.regionprops_table(
        labels, intensity_image=gray, properties=("label", "area", "centroid", "bbox", "intensity_mean")
    )
    assert tuple(table.columns) == REGION_COLUMNS
    np.testing.assert_array_equal(table["label"], expected["label"])
    np.testing.assert_array_equal(table["area"], expected["area"])
    np.testing.assert_allclose(table["centroid_row"], expected["centroid-0"], rtol=1e-12)
    np.testing.assert_allclose(table["centroid_col"], expected["centroid-1"], rtol=1e-12)
    for column, key in zip(("top", "left", "bottom", "right"), ("bbox-0", "bbox-1", "bbox-2", "bbox-3")):
        np.testing.assert_array_equal(table[column], expected[key])
    np.testing.assert_allclose(table["mean_intensity"], expected["intensity_mean"], rtol=1e-5)


def test_thousands_of_regions_take_time_in_proportion_to_the_pixels(rng):
    # dask-image's per-label measurements build a graph per label; this must not.
    labels, count = ndi.label(rng.random((512, 512)) > 0.6)
    assert count > 20_000
    lazy = region_table(da.from_array(labels, chunks=128), da.ones((512, 512), chunks=128))
    assert len(dict(lazy.dask)) < 100
    table = lazy.compute()
    assert len(table) == count and table["area"].sum() == np.count_nonzero(labels)


def test_an_image_without_regions_gives_an_empty_table():
    table = region_table(da.zeros((20, 30), dtype=np.int32, chunks=10), da.zeros((20, 30), chunks=10)).compute()
    assert len(table) == 0 and tuple(table.columns) == REGION_COLUMNS
