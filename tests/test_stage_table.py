"""Every stage of the table equals SciPy / scikit-image on the whole image, whatever the tiles."""

import dask
import dask.array as da
import numpy as np
import pytest
import scipy.ndimage as ndi
from skimage import data, filters

from core.errors import PipelineError
from core.pipeline.build import build_pipeline
from core.pipeline.chunks import MIN_CHUNKS_PER_AXIS, merge_small_chunks
from core.pipeline.stage_table import DERIVATIVE_BOUNDS, STAGES, chain_arrays, output_ranges, parse_chain
from core.pipeline.threshold import otsu_threshold
from core.pipeline.tiling import partition

ATOL = 1e-4


def _derivative(kind, gray, mode):
    derivative = getattr(ndi, kind)
    if mode == "x":
        return derivative(gray, axis=-1)
    if mode == "y":
        return derivative(gray, axis=0)
    return np.hypot(derivative(gray, axis=0), derivative(gray, axis=-1))


#: Each filter of the table as written on the command line, and SciPy's on a whole image.
FILTERS = {
    "gaussian:sigma=2": lambda g: ndi.gaussian_filter(g, 2),
    "gaussian:sigma=0.7": lambda g: ndi.gaussian_filter(g, 0.7),
    "median:size=3": lambda g: ndi.median_filter(g, size=3),
    "median:size=6": lambda g: ndi.median_filter(g, size=6),
    "uniform:size=5": lambda g: ndi.uniform_filter(g, size=5),
    **{f"{kind}:mode={mode}": (lambda g, k=kind, m=mode: _derivative(k, g, m))
       for kind in ("sobel", "prewitt") for mode in ("x", "y", "magnitude")},
    "laplace": ndi.laplace,
}


@pytest.fixture
def every_tile_border_a_chunk_border(monkeypatch):
    # Filters merge small tiles into larger chunks; with 1 they keep one chunk per tile, so
    # every tile border is a border the filter must look across.
    monkeypatch.setattr("core.pipeline.chunks.MIN_FILTER_CHUNK", 1)


@pytest.mark.parametrize("rows", range(1, 17))
@pytest.mark.parametrize("cols", range(1, 17))
def test_every_filter_on_every_grid_equals_scipy_on_the_whole_image(
    tmp_path, photo, every_tile_border_a_chunk_border, rows, cols
):
    stitched = build_pipeline(partition(photo, rows, cols, tmp_path / "tiles"), ()).stitched
    filtered = [chain_arrays(stitched, parse_chain([text]))[0] for text in FILTERS]
    # One pass reads each tile once; unoptimised, the graph of every filter on 256 chunks
    # is built and run in less than half the time.
    gray, *results = dask.compute(stitched, *filtered, optimize_graph=False)
    for (text, scipy_filter), result in zip(FILTERS.items(), results):
        assert result.shape == photo.shape[:2] and result.dtype == np.float32, text
        np.testing.assert_allclose(result, scipy_filter(gray), rtol=0, atol=ATOL, err_msg=text)


@pytest.mark.parametrize("text", list(FILTERS))
def test_filters_on_merged_chunks_equal_scipy(tmp_path, photo, text):
    tiles = partition(photo, 16, 13, tmp_path / "tiles")
    pipeline = build_pipeline(tiles, parse_chain([text]))
    assert all(len(sizes) >= MIN_CHUNKS_PER_AXIS for sizes in pipeline.result.chunks)
    gray, result = dask.compute(pipeline.stitched, pipeline.result)
    np.testing.assert_allclose(result, FILTERS[text](gray), rtol=0, atol=ATOL)


def test_a_gaussian_wider_than_the_chunks_still_equals_scipy(tmp_path, photo, every_tile_border_a_chunk_border):
    tiles = partition(photo, 16, 16, tmp_path / "tiles")  # tiles of 3 to 5 pixels, a reach of 40
    pipeline = build_pipeline(tiles, parse_chain(["gaussian:sigma=10"]))
    gray, result = dask.compute(pipeline.stitched, pipeline.result)
    np.testing.assert_allclose(result, ndi.gaussian_filter(gray, 10), rtol=0, atol=ATOL)


def test_a_chain_equals_the_same_chain_on_the_whole_image(tmp_path, photo, every_tile_border_a_chunk_border):
    tiles = partition(photo, 5, 7, tmp_path / "tiles")
    pipeline = build_pipeline(tiles, parse_chain(["median:size=3", "gaussian:sigma=1.5", "sobel:mode=magnitude",
                                                  "clip:lo=0.05,hi=0.8"]))
    gray, *steps = dask.compute(pipeline.stitched, *pipeline.steps)
    expected = [ndi.median_filter(gray, size=3)]
    expected.append(ndi.gaussian_filter(expected[-1], 1.5))
    expected.append(_derivative("sobel", expected[-1], "magnitude"))
    expected.append(np.clip(expected[-1], 0.05, 0.8))
    for got, want in zip(steps, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


# -- output ranges -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sobel", "prewitt"])
def test_derivative_bounds_are_reached(tmp_path, kind):
    image = np.zeros((20, 20), np.uint8)
    image[:10, 12:16] = 255  # a vertical band: the x derivative at both of its extremes
    image[12:16, :10] = 255  # a horizontal band: the y derivative
    image[2:5, 2:5] = [[0, 0, 255], [0, 0, 255], [0, 255, 255]]  # Sobel's largest magnitude
    image[2:5, 6:9] = [[0, 0, 255], [0, 0, 255], [0, 0, 0]]  # Prewitt's: (3, 1)
    tiles = partition(image, 3, 2, tmp_path / "tiles")
    for mode in ("x", "y", "magnitude"):
        chain = parse_chain([f"{kind}:mode={mode}"])
        values = build_pipeline(tiles, chain).result.compute()
        np.testing.assert_allclose([values.min(), values.max()], output_ranges(chain)[0], atol=1e-5)
    assert DERIVATIVE_BOUNDS[kind][1] > DERIVATIVE_BOUNDS[kind][0]


def test_ranges_follow_the_chain():
    chain = parse_chain(["gaussian:sigma=1", "sobel:mode=x", "clip:lo=-1,hi=2", "laplace", "threshold"])
    assert output_ranges(chain) == [(0.0, 1.0), (-4.0, 4.0), (-1.0, 2.0), (-12.0, 12.0), (0.0, 1.0)]


# -- threshold ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def coins():
    """Bright coins on a darker background: blobs that cross tile borders."""
    return data.coins()[:170, :230]


GRIDS = [(1, 1), (2, 3), (5, 4), (9, 11), (16, 16)]


@pytest.mark.parametrize("grid", GRIDS)
def test_otsu_threshold_equals_scikit_image_on_the_whole_image(tmp_path, coins, grid):
    pipeline = build_pipeline(partition(coins, *grid, tmp_path / "tiles"), parse_chain(["gaussian:sigma=1", "threshold"]))
    smooth, level, mask = dask.compute(pipeline.steps[0], otsu_threshold(pipeline.steps[0]), pipeline.result)
    assert level == filters.threshold_otsu(smooth)
    assert mask.dtype == np.uint8
    np.testing.assert_array_equal(mask, smooth > filters.threshold_otsu(smooth))


def test_otsu_of_a_flat_image_is_its_value():
    flat = da.full((30, 40), 0.25, dtype=np.float32, chunks=10)
    assert otsu_threshold(flat).compute() == filters.threshold_otsu(flat.compute()) == np.float32(0.25)


def test_a_threshold_value_keeps_what_lies_above_it(tmp_path, coins):
    pipeline = build_pipeline(partition(coins, 3, 3, tmp_path / "tiles"), parse_chain(["threshold:value=0.6"]))
    gray, mask = dask.compute(pipeline.stitched, pipeline.result)
    np.testing.assert_array_equal(mask, (gray > np.float32(0.6)).astype(np.uint8))


# -- labels ------------------------------------------------------------------------------


def assert_same_regions(labels: np.ndarray, expected: np.ndarray) -> None:
    """The same regions, whatever their numbers: each label maps to exactly one expected
    label and back, and the numbers run 1..N."""
    np.testing.assert_array_equal(labels > 0, expected > 0)
    pairs = set(zip(labels[expected > 0].tolist(), expected[expected > 0].tolist()))
    count = expected.max()
    assert len(pairs) == count == len({a for a, _ in pairs}) == len({b for _, b in pairs})
    assert set(np.unique(labels)) == set(range(count + 1))


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("connectivity", [1, 2])
def test_labels_are_scipys_regions_across_tile_borders(tmp_path, coins, grid, connectivity):
    tiles = partition(coins, *grid, tmp_path / "tiles")
    chain = parse_chain(["gaussian:sigma=1", "threshold", f"label:connectivity={connectivity}"])
    mask, labels = dask.compute(*build_pipeline(tiles, chain).steps[1:])
    expected, _ = ndi.label(mask, ndi.generate_binary_structure(2, connectivity))
    assert expected.max() > 10  # enough coins to mean something
    assert_same_regions(labels, expected)


def test_a_region_crossing_every_tile_gets_one_label(tmp_path):
    image = np.zeros((64, 64), np.uint8)
    image[30:34, :] = 255  # a bar through every column of tiles
    image[:, 5] = 255  # and one through every row
    image[50:52, 50:52] = 255  # a separate square
    chain = parse_chain(["threshold:value=0.5", "label"])
    labels = build_pipeline(partition(image, 8, 8, tmp_path / "tiles"), chain).result.compute()
    assert labels.max() == 2
    assert len(np.unique(labels[30:34, :])) == 1 and labels[0, 5] == labels[31, 60] != labels[50, 50]


def test_connectivity_2_joins_diagonal_neighbours(tmp_path):
    image = np.zeros((8, 8), np.uint8)
    image[2, 2] = image[3, 3] = 255
    tiles = partition(image, 2, 2, tmp_path / "tiles")  # the two pixels lie in different tiles
    counts = [build_pipeline(tiles, parse_chain(["threshold:value=0.5", f"label:connectivity={c}"])).result.max().compute()
              for c in (1, 2)]
    assert counts == [2, 1]


def test_filters_after_a_mask_work_on_floats(tmp_path, coins):
    pipeline = build_pipeline(partition(coins, 2, 2, tmp_path / "tiles"), parse_chain(["threshold", "gaussian:sigma=1"]))
    mask, smooth = dask.compute(*pipeline.steps)
    assert smooth.dtype == np.float32
    np.testing.assert_allclose(smooth, ndi.gaussian_filter(mask.astype(np.float32), 1), atol=1e-6)


# -- merging small chunks ----------------------------------------------------------------


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


def test_merged_chunk_borders_stay_on_tile_borders(tmp_path, photo):
    stitched = build_pipeline(partition(photo, 16, 13, tmp_path / "tiles"), ()).stitched
    merged = merge_small_chunks(stitched, 9)
    for sizes, tile_sizes in zip(merged.chunks, stitched.chunks):
        assert sum(sizes) == sum(tile_sizes) and len(sizes) >= MIN_CHUNKS_PER_AXIS
        assert set(np.cumsum(sizes)) <= set(np.cumsum(tile_sizes))


# -- the table ---------------------------------------------------------------------------


def test_every_stage_is_lazy_and_has_what_the_product_shows(tmp_path, photo):
    stitched = build_pipeline(partition(photo, 2, 2, tmp_path / "tiles"), ()).stitched
    for name, stage in STAGES.items():
        assert stage.title and stage.about, name
        for param in stage.params:
            assert param.help and (param.type is not str or param.default in param.choices), (name, param.name)
        output = stage.apply(stitched, **stage.step().values)
        assert isinstance(output, da.Array) and output.shape == stitched.shape, name


@pytest.mark.parametrize("text, message", [
    ("gaussian:sigma=-1", "gaussian:sigma must lie in"),
    ("median:size=0", "median:size must lie in"),
    ("sobel:mode=diagonal", "sobel:mode must be one of x, y, magnitude"),
    ("prewitt:mode=", "prewitt:mode must be one of"),
    ("clip:lo=1,hi=1", "clip needs lo < hi"),
    ("clip:lo=nan,hi=1", "finite"),
    ("threshold:method=otsu,value=0.3", "not both"),
    ("label:connectivity=3", "label:connectivity must lie in"),
])
def test_bad_parameters_raise_one_readable_error(text, message):
    with pytest.raises(PipelineError, match=message):
        parse_chain([text])


@pytest.mark.parametrize(
    "text, largest_that_runs, message",
    [
        ("gaussian:sigma=2.76", "gaussian:sigma=2.75", "sigma at most 2.75"),
        ("median:size=25", "median:size=23", "size at most 23"),
        ("uniform:size=25", "uniform:size=23", "size at most 23"),
    ],
)
def test_a_filter_reaching_past_the_image_says_how_far_it_may_reach(text, largest_that_runs, message):
    image = da.zeros((40, 11), chunks=(20, 6), dtype=np.float32)  # 11 pixels wide
    with pytest.raises(PipelineError, match=message):
        chain_arrays(image, parse_chain([text]))
    [largest] = chain_arrays(image, parse_chain([largest_that_runs]))
    assert largest.compute().shape == (40, 11)


# -- the notebook's code lines -------------------------------------------------------------


@pytest.mark.parametrize("name", list(STAGES))
def test_every_stage_has_the_line_of_code_the_notebook_runs(name):
    """tests/test_notebook.py runs every stage's line in a Jupyter kernel against the stage."""
    stage = STAGES[name]
    values = {param.name: param.default for param in stage.params}
    for float_input in (True, False):
        line = stage.code_line("previous", values, float_input=float_input)
        compile(line, name, "eval")  # one expression
        assert "previous" in line and "core." not in line
    assert stage.code_line("previous", values).count("astype(numpy.float32)") == 0
