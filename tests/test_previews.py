import io
import threading
import time

import dask
import dask.array as da
import numpy as np
import pytest
import scipy.ndimage
from dask.callbacks import Callback
from PIL import Image
from skimage import data
from skimage.color import rgb2gray
from skimage.filters import threshold_otsu
from skimage.util import img_as_float32

from core.pipeline.build import build_pipeline
from core.pipeline.stage_table import STAGES, output_ranges, parse_chain, sobel_range
from core.pipeline.tiling import partition
from ui.services.previews import (
    HISTOGRAM_BINS,
    _lazy_histogram,
    full_resolution_png,
    marked_mosaic,
    measure_regions,
    mosaic,
    output_histogram,
    preview_stride,
    run_step,
    run_stitch_stages,
    to_display,
)


@pytest.mark.parametrize("shape, max_side, stride", [((512, 512), 1600, 1), ((4096, 3000), 1600, 3), ((1601, 10), 1600, 2)])
def test_preview_stride_brings_the_long_side_under_the_limit(shape, max_side, stride):
    assert preview_stride(shape, max_side) == stride
    assert -(-max(shape) // stride) <= max_side


@pytest.fixture
def stitch_run(tmp_path, photo):
    pipeline = build_pipeline(partition(photo, 3, 4, tmp_path / "tiles"), ())
    return run_stitch_stages(pipeline, max_side=30)


def test_stitch_stages_give_previews_a_histogram_and_a_persisted_image(stitch_run, photo):
    stride = stitch_run.stride
    assert stride == 3
    r0, c0 = 23, 14  # where tile (1, 1) starts: 67 rows and 53 columns split 3 x 4
    np.testing.assert_array_equal(stitch_run.tile_previews[1][1], photo[r0:45, c0:27][::stride, ::stride])
    assert stitch_run.stitched_preview.shape == stitch_run.stitched[::stride, ::stride].shape
    stitched = stitch_run.stitched.compute()
    np.testing.assert_allclose(stitch_run.stitched_preview, stitched[::stride, ::stride])
    assert stitch_run.histogram.counts.sum() == stitched.size
    # float32 bins: a value within rounding of an edge may count beside it, no more
    assert np.abs(stitch_run.histogram.counts - np.histogram(stitched, 200, (0.0, 1.0))[0]).sum() <= 2
    assert set(stitch_run.seconds) >= {"read", "grayscale", "stitch"}
    assert all(seconds >= 0 for seconds in stitch_run.seconds.values())


def test_histogram_bins_count_every_value_clipped_ones_at_the_ends():
    values = da.from_array(np.array([[0.0, 0.5, 0.999, 1.0], [1.0, 1.0, -0.25, 2.5]], np.float32), chunks=(1, 2))
    counts, edges = dask.compute(*_lazy_histogram(values, (0.0, 1.0)))
    assert len(counts) == len(edges) - 1 == HISTOGRAM_BINS and (edges[0], edges[-1]) == (0.0, 1.0)
    assert counts.sum() == 8  # the two outside the range too, in the end bins: rounding puts them there
    assert (counts[0], counts[HISTOGRAM_BINS // 2], counts[-1]) == (2, 1, 5)


def test_progress_reaches_the_total(tmp_path, photo):
    reports = []
    pipeline = build_pipeline(partition(photo, 2, 2, tmp_path / "t"), ())
    run_stitch_stages(pipeline, on_progress=lambda d, t: reports.append((d, t)))
    done, total = reports[-1]
    assert done == total > 0
    assert all(d <= t for d, t in reports)


def run_chain(stitch_run, texts: list[str], **kwargs):
    """Each step of the chain run from the one before, as the dashboard runs them."""
    chain = parse_chain(texts)
    runs, step_input = [], stitch_run.stitched
    for step, value_range in zip(chain, output_ranges(chain)):
        runs.append(run_step(step_input, step, value_range, stitch_run.stride, **kwargs))
        step_input = runs[-1].output
    return runs


@pytest.mark.parametrize("mode", ["x", "y", "magnitude"])
def test_the_clip_steps_picture_and_download_equal_scipys_clipped_sobel(stitch_run, photo, reference, mode):
    lo, hi = (0.1, 0.9) if mode == "magnitude" else (-0.5, 0.5)
    edges, clipped = run_chain(stitch_run, [f"sobel:mode={mode}", f"clip:lo={lo},hi={hi}"])
    full = reference(photo, mode, lo, hi)
    expected = np.rint((full - lo) / (hi - lo) * 255)
    stride = stitch_run.stride
    # float32 against float64: a value on a rounding boundary may land one step apart
    assert np.abs(clipped.picture.astype(int) - expected[::stride, ::stride]).max() <= 1
    assert edges.histogram.counts.sum() == photo.shape[0] * photo.shape[1]  # every pixel, not the preview
    assert (edges.histogram.bin_edges[0], edges.histogram.bin_edges[-1]) == pytest.approx(sobel_range(mode))
    assert clipped.value_range == (lo, hi) and edges.level is None and edges.regions is None
    download = np.asarray(Image.open(io.BytesIO(full_resolution_png(clipped.output, clipped.kind, clipped.value_range))))
    assert download.dtype == np.uint8 and download.shape == photo.shape[:2]
    assert np.abs(download.astype(int) - expected).max() <= 1


def test_a_step_runs_from_the_persisted_output_before_it_and_none_of_its_tasks(stitch_run, monkeypatch):
    (edges,) = run_chain(stitch_run, ["sobel:mode=x"])
    filtered = []
    sobel = scipy.ndimage.sobel
    # Counted by call, not by task key: the step fuses a filter into its chunks' tasks.
    monkeypatch.setattr(scipy.ndimage, "sobel", lambda *args, **kwargs: filtered.append(1) or sobel(*args, **kwargs))
    (clip,) = parse_chain(["clip:lo=0,hi=1"])
    run_step(edges.output, clip, (0.0, 1.0), stitch_run.stride)
    assert not filtered
    # The same step on the lazy Sobel runs the filter on every chunk: the check above can fail.
    lazy_edges = STAGES["sobel"].apply(stitch_run.stitched, mode="x")
    run_step(lazy_edges, clip, (0.0, 1.0), stitch_run.stride)
    assert len(filtered) == lazy_edges.npartitions


def test_a_clip_given_its_inputs_preview_runs_no_task_and_shows_the_same_pixels(stitch_run):
    (edges,) = run_chain(stitch_run, ["sobel:mode=magnitude"])
    (clip,) = parse_chain(["clip:lo=0.2,hi=1.5"])
    ran = []

    class Spy(Callback):
        def _pretask(self, key, dsk, state):
            ran.append(key[0] if isinstance(key, tuple) else key)

    with Spy():
        shown = run_step(edges.output, clip, (0.2, 1.5), stitch_run.stride, with_histogram=False,
                         input_preview=edges.preview)
        assert shown.deferred and shown.output.name not in ran
        shown.output.compute()
    assert shown.output.name in ran  # the check above can fail
    computed = run_step(edges.output, clip, (0.2, 1.5), stitch_run.stride, with_histogram=False)
    assert not computed.deferred
    assert shown.preview.dtype == computed.preview.dtype
    np.testing.assert_array_equal(shown.preview, computed.preview)
    np.testing.assert_array_equal(shown.output.compute(), computed.output.compute())
    # Its own histogram needs every pixel: then it runs.
    counted = run_step(edges.output, clip, (0.2, 1.5), stitch_run.stride, input_preview=edges.preview)
    assert not counted.deferred and counted.histogram is not None


def test_a_histogram_left_out_of_a_step_is_counted_later_from_its_output_the_same(stitch_run, photo):
    (edges,) = run_chain(stitch_run, ["sobel:mode=x"])
    (clip,) = parse_chain(["clip:lo=-0.5,hi=0.5"])
    with_counts = run_step(edges.output, clip, (-0.5, 0.5), stitch_run.stride)
    without = run_step(edges.output, clip, (-0.5, 0.5), stitch_run.stride, with_histogram=False)
    assert without.histogram is None and with_counts.histogram.counts.sum() == photo.shape[0] * photo.shape[1]
    np.testing.assert_array_equal(without.preview, with_counts.preview)
    later = output_histogram(without.output, without.value_range)
    np.testing.assert_array_equal(later.counts, with_counts.histogram.counts)
    np.testing.assert_array_equal(later.bin_edges, with_counts.histogram.bin_edges)


@pytest.fixture
def regions_run(tmp_path):
    """Tiles of a crop with a dozen regions, several across tile borders."""
    image = data.astronaut()[200:330, 100:300]
    pipeline = build_pipeline(partition(image, 3, 4, tmp_path / "tiles"), ())
    return image, run_stitch_stages(pipeline, max_side=60)


@pytest.mark.parametrize("connectivity", [1, 2])
def test_gaussian_otsu_and_labels_equal_scipy_and_scikit_image_on_the_whole_image(regions_run, connectivity):
    image, stitch_run = regions_run
    smooth, mask, labels = run_chain(
        stitch_run, ["gaussian:sigma=1", "threshold:method=otsu", f"label:connectivity={connectivity}"]
    )
    gray = rgb2gray(img_as_float32(image))
    expected_smooth = scipy.ndimage.gaussian_filter(gray, 1)
    np.testing.assert_allclose(smooth.output.compute(), expected_smooth, atol=1e-6)
    assert mask.kind == "mask" and mask.histogram is None
    assert mask.level == pytest.approx(threshold_otsu(expected_smooth), abs=1e-6)
    expected_labels, count = scipy.ndimage.label(
        expected_smooth > threshold_otsu(expected_smooth), scipy.ndimage.generate_binary_structure(2, connectivity)
    )
    assert labels.regions == count > 1
    assert labels.picture.shape == (*labels.preview.shape, 3)
    table = measure_regions(labels.output, stitch_run.stitched)
    assert len(table) == count
    assert sorted(table["area"]) == sorted(np.bincount(expected_labels.ravel())[1:])
    coloured = np.asarray(Image.open(io.BytesIO(full_resolution_png(labels.output, labels.kind, labels.value_range))))
    assert coloured.shape == (*image.shape[:2], 3)
    assert np.array_equal(coloured.any(axis=2), expected_labels > 0)  # background black, regions coloured


def test_a_threshold_with_a_value_reports_that_value(stitch_run):
    (mask,) = run_chain(stitch_run, ["threshold:value=0.4"])
    assert mask.level == 0.4
    np.testing.assert_array_equal(mask.output.compute(), stitch_run.stitched.compute() > np.float32(0.4))


def test_step_progress_reaches_the_total(stitch_run):
    reports = []
    run_chain(stitch_run, ["median:size=3"], on_progress=lambda d, t: reports.append((d, t)))
    done, total = reports[-1]
    assert done == total > 0


def test_mosaic_lays_tiles_out_with_gutters():
    tiles = [[np.zeros((2, 3), np.uint8), np.zeros((2, 2), np.uint8)], [np.zeros((1, 3), np.uint8), np.zeros((1, 2), np.uint8)]]
    picture = mosaic(tiles, gutter=1, fill=255)
    assert picture.shape == (2 + 1 + 1, 3 + 1 + 2)
    assert np.all(picture[2] == 255) and np.all(picture[:, 3] == 255)
    assert np.all(picture[:2, :3] == 0)


def test_marked_mosaic_frames_and_numbers_each_tile_by_its_group():
    orange = (255, 140, 0)
    suit = np.full((60, 60, 3), orange, np.uint8)  # a tile the colour of its frame
    gray = np.full((60, 60), 100, np.uint8)
    picture = marked_mosaic([[suit, gray, gray]], [[1, 0, None]], [(28, 131, 225), orange])
    assert picture.shape == (60, 3 * 60 + 2 * 6, 3)
    first, second, third = (picture[:, x:x + 60] for x in (0, 66, 132))
    frame = 2  # 60 // 28
    # Edged in black outside and white inside, the frame reads on a tile of its own colour.
    np.testing.assert_array_equal(first[0, 30], [0, 0, 0])
    np.testing.assert_array_equal(first[2, 30], orange)
    np.testing.assert_array_equal(first[frame + 1, 30], [255, 255, 255])
    np.testing.assert_array_equal(second[2, 30], [28, 131, 225])
    # The number's badge: white, with the dark strokes of the digit in it.
    badge = first[frame + 4:frame + 12, frame + 4:frame + 12]
    assert (badge == 255).all(axis=2).any() and (badge.max(axis=2) < 100).any()
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(third, np.full((60, 60, 3), 100, np.uint8))  # no group, no mark


@pytest.mark.parametrize("pixels, expected", [
    (np.array([[0.0, 0.5, 1.0]], np.float32), [[0, 128, 255]]),
    (np.array([[0, 65535]], np.uint16), [[0, 255]]),
    (np.array([[7, 200]], np.uint8), [[7, 200]]),
])
def test_to_display_makes_8_bit(pixels, expected):
    shown = to_display(pixels)
    assert shown.dtype == np.uint8
    np.testing.assert_array_equal(shown, expected)


def test_two_visitors_runs_at_once_on_threads_each_report_only_their_own_tasks(stitch_run):
    """The server computes several visitors' pages at the same time, on threads."""

    def slow(block):
        time.sleep(0.01)  # long enough for the two runs to overlap
        return block

    reports = {8: [], 32: []}
    start = threading.Barrier(2)

    def visit(chunk: int) -> None:
        step_input = stitch_run.stitched.rechunk(chunk).map_blocks(slow, dtype=np.float32)
        (clip,) = parse_chain(["clip:lo=0,hi=1"])
        start.wait()
        run_step(step_input, clip, (0.0, 1.0), stitch_run.stride, on_progress=lambda d, t: reports[chunk].append((d, t)))

    visitors = [threading.Thread(target=visit, args=(chunk,)) for chunk in reports]
    for visitor in visitors:
        visitor.start()
    for visitor in visitors:
        visitor.join()
    (small_chunks_total,) = {total for _, total in reports[8]}  # one graph: one total, its own
    (large_chunks_total,) = {total for _, total in reports[32]}
    assert small_chunks_total > large_chunks_total
    assert reports[8][-1] == (small_chunks_total, small_chunks_total)
    assert reports[32][-1] == (large_chunks_total, large_chunks_total)
    assert all(done <= total for done, total in reports[8] + reports[32])
