"""The stage table: every stage a user can chain after the stitched grayscale image.

Each stage is one ``Stage`` entry in ``STAGES``: its function on dask arrays, its
parameters and what its output holds. The command line, the sidebar, the pages, the
timings, the previews, the cache keys and the shared links all read this table, so adding a
stage means adding its function and its entry here (and its test).

Every stage is lazy and equals its SciPy / scikit-image counterpart run on the whole image:
the filters borrow pixels across chunk borders (``map_overlap`` in dask-image), the Otsu
threshold comes from a histogram summed over all chunks, and labels are joined across chunk
borders by ``dask_image.ndmeasure.label``.
"""

from __future__ import annotations

import math

import dask
import dask.array as da
import dask_image.ndfilters
import numpy as np
import scipy.ndimage
import scipy.sparse
from skimage.filters import threshold_otsu

from .chain import Param, Stage, Step, parse_step
from .errors import PipelineError

__all__ = [
    "DEFAULT_CHAIN",
    "DERIVATIVE_MODES",
    "GRAYSCALE_RANGE",
    "MIN_CHUNKS_PER_AXIS",
    "MIN_FILTER_CHUNK",
    "OTSU_BINS",
    "STAGES",
    "chain_arrays",
    "check_chain",
    "chain_text",
    "check_chain",
    "merge_small_chunks",
    "otsu_threshold",
    "output_ranges",
    "parse_chain",
    "sobel_range",
    "threshold_level",
]

#: What the stitched grayscale image holds: the input range of a chain's first step.
GRAYSCALE_RANGE = (0.0, 1.0)

#: Derivative filters: along x (columns, the tutorial's), along y (rows), or both.
DERIVATIVE_MODES = ("x", "y", "magnitude")
MODE_LABELS = {
    "x": "x: change along each row (the tutorial's)",
    "y": "y: change along each column",
    "magnitude": "magnitude: both combined",
}

#: Tiles narrower than this are merged with their neighbours before a filter. Every task
#: costs about a millisecond of scheduling on a cluster, more than filtering a 256 x 256
#: tile: at 16 MPix in a 16 x 16 grid, the Sobel stage took 4.2 s on the app's local
#: cluster with one chunk per tile, 1.5 s with 8 x 8 chunks, 0.65 s with 4 x 4.
MIN_FILTER_CHUNK = 1024
#: ...but never into fewer than this many chunks per axis, so that every core has work
#: and the filter still borrows pixels across chunk borders, as the demo shows.
MIN_CHUNKS_PER_AXIS = 4


def _grouped(sizes: tuple[int, ...], min_size: int, min_count: int) -> tuple[int, ...]:
    per_group = min(math.ceil(min_size / min(sizes)), len(sizes) // min_count)
    if per_group <= 1:
        return sizes
    groups = [sum(sizes[i:i + per_group]) for i in range(0, len(sizes), per_group)]
    if len(sizes) % per_group:  # a short remainder joins the group before it
        groups[-2:] = [groups[-2] + groups[-1]]
    return tuple(groups)


def merge_small_chunks(image: da.Array, min_size: int | None = None, min_count: int = MIN_CHUNKS_PER_AXIS) -> da.Array:
    """``image`` with runs of neighbouring chunks merged until each is ``min_size`` a side,
    keeping at least ``min_count`` chunks per axis (or all of them, if there are fewer).

    Chunk borders stay on tile borders, so the rechunk only concatenates whole tiles.
    ``min_size`` defaults to ``MIN_FILTER_CHUNK`` as it is when called (tests set it to 1
    to keep every tile border a chunk border).
    """
    min_size = MIN_FILTER_CHUNK if min_size is None else min_size
    chunks = tuple(_grouped(sizes, min_size, min_count) for sizes in image.chunks)
    return image if chunks == image.chunks else image.rechunk(chunks, method="tasks")


def _as_float(image: da.Array) -> da.Array:
    # A mask or labels filtered as they are would keep their integer type and wrap around.
    return image if image.dtype == np.float32 else image.astype(np.float32)


def _filter_input(image: da.Array) -> da.Array:
    return merge_small_chunks(_as_float(image))


# -- smoothing ---------------------------------------------------------------------------


#: How far ``scipy.ndimage.gaussian_filter`` reaches, in sigmas (its default ``truncate``).
GAUSSIAN_TRUNCATE = 4.0


def _check_reach(image: da.Array, reach: int, step: str, largest: str) -> None:
    """``map_overlap`` borrows ``reach`` pixels from the neighbours, and refuses a border
    wider than the whole image: say so in the step's terms rather than Dask's."""
    height, width = image.shape
    if reach > min(height, width):
        raise PipelineError(
            f"{step} reaches {reach} pixels from each pixel, more than this {width} x {height} "
            f"image's shorter side: use {largest}"
        )


def gaussian(image: da.Array, sigma: float) -> da.Array:
    # dask-image borrows ceil(truncate * sigma) pixels of border (scipy.ndimage: round()).
    _check_reach(image, math.ceil(GAUSSIAN_TRUNCATE * sigma), f"gaussian:sigma={sigma:g}",
                 f"sigma at most {math.floor(100 * min(image.shape) / GAUSSIAN_TRUNCATE) / 100:g}")
    return dask_image.ndfilters.gaussian_filter(_filter_input(image), sigma, truncate=GAUSSIAN_TRUNCATE)


def median(image: da.Array, size: int) -> da.Array:
    _check_reach(image, size // 2, f"median:size={size}", f"size at most {2 * min(image.shape) + 1}")
    return dask_image.ndfilters.median_filter(_filter_input(image), size=size)


def uniform(image: da.Array, size: int) -> da.Array:
    _check_reach(image, size // 2, f"uniform:size={size}", f"size at most {2 * min(image.shape) + 1}")
    return dask_image.ndfilters.uniform_filter(_filter_input(image), size=size)


# -- edges -------------------------------------------------------------------------------


def _derivative(kind: str, image: da.Array, mode: str) -> da.Array:
    derivative = getattr(dask_image.ndfilters, kind)
    image = _filter_input(image)
    if mode == "x":
        return derivative(image, axis=-1)
    if mode == "y":
        return derivative(image, axis=0)
    return da.hypot(derivative(image, axis=0), derivative(image, axis=-1))


def sobel(image: da.Array, mode: str) -> da.Array:
    return _derivative("sobel", image, mode)


def prewitt(image: da.Array, mode: str) -> da.Array:
    return _derivative("prewitt", image, mode)


def laplace(image: da.Array) -> da.Array:
    return dask_image.ndfilters.laplace(_filter_input(image))


#: The largest response of each derivative filter along one axis, and of the gradient
#: magnitude, for an image in [0, 1]; both are reached. Along one axis, the sum of the
#: kernel's positive weights; the magnitude's largest value lies at a corner of the unit
#: cube (it is convex), such as ``[[0, 0, 1], [0, 0, 1], [0, 1, 1]]`` for Sobel: sqrt(4² + 2²).
DERIVATIVE_BOUNDS = {"sobel": (4.0, math.sqrt(20.0)), "prewitt": (3.0, math.sqrt(10.0))}


def _derivative_range(kind: str):
    along_axis, magnitude = DERIVATIVE_BOUNDS[kind]

    def output_range(input_range, *, mode: str):
        width = input_range[1] - input_range[0]
        return (0.0, magnitude * width) if mode == "magnitude" else (-along_axis * width, along_axis * width)

    return output_range


def sobel_range(mode: str) -> tuple[float, float]:
    """Bounds of the Sobel response for a grayscale image in [0, 1]; both are reached."""
    if mode not in DERIVATIVE_MODES:
        raise PipelineError(f"sobel:mode must be one of {', '.join(DERIVATIVE_MODES)}, got {mode!r}")
    return _derivative_range("sobel")(GRAYSCALE_RANGE, mode=mode)


def _laplace_range(input_range):
    width = input_range[1] - input_range[0]  # the kernel: -4 at the centre, 1 at its four neighbours
    return (-4.0 * width, 4.0 * width)


# -- clip and threshold ------------------------------------------------------------------


def clip(image: da.Array, lo: float, hi: float) -> da.Array:
    as_image = image.dtype.type  # NumPy float64 scalars would promote float32 images
    return da.clip(image, as_image(lo), as_image(hi))


def _check_clip(values: dict) -> None:
    if not values["lo"] < values["hi"]:
        raise PipelineError(f"clip needs lo < hi, got lo={values['lo']:g} and hi={values['hi']:g}")


#: Bins of the Otsu histogram: scikit-image's default.
OTSU_BINS = 256


def _block_histogram(block: np.ndarray, lo, hi) -> np.ndarray:
    return np.histogram(block, bins=OTSU_BINS, range=(lo, hi))[0]


def _otsu_from_histogram(histograms: list[np.ndarray], lo, hi, dtype):
    if lo == hi:  # one value everywhere: scikit-image returns it
        return lo
    # The bin edges as np.histogram makes them for this range and dtype, as
    # scikit-image's histogram does for the whole image.
    edges = np.histogram_bin_edges(np.empty(0, dtype), bins=OTSU_BINS, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2.0
    return threshold_otsu(hist=(np.sum(histograms, axis=0), centres))


def otsu_threshold(image: da.Array) -> da.Array:
    """Otsu's threshold of the whole image as a lazy 0-d array: ``skimage.filters.
    threshold_otsu``'s histogram (256 bins from the minimum to the maximum), summed over
    the chunks."""
    # The extremes and the blocks as delayed objects of the image's own graph: handing the
    # 0-d arrays to each delayed call, or letting ``to_delayed`` optimise, made every call
    # finalize its own copy of the graph, which read each tile 11 times for 4 chunks.
    lo, hi = (extreme.to_delayed(optimize_graph=False).item() for extreme in (image.min(), image.max()))
    histogram = dask.delayed(_block_histogram, pure=True)
    histograms = [histogram(block, lo, hi) for block in image.to_delayed(optimize_graph=False).ravel()]
    threshold = dask.delayed(_otsu_from_histogram, pure=True)(histograms, lo, hi, image.dtype)
    return da.from_delayed(threshold, shape=(), dtype=image.dtype)


def threshold_level(image: da.Array, method: str, value: float):
    """The level a threshold compares ``image`` with: Otsu's, as a lazy 0-d array, or
    ``value`` as given (NumPy compares a float32 image with a Python float in float32)."""
    return otsu_threshold(_as_float(image)) if method == "otsu" else value


def threshold(image: da.Array, method: str, value: float) -> da.Array:
    """1 where ``image`` is above the threshold, else 0 (scikit-image's convention)."""
    return (_as_float(image) > threshold_level(image, method, value)).astype(np.uint8)


def _value_implies_method(values: dict, given: set[str]) -> dict:
    if "value" in given and "method" in given and values["method"] != "value":
        raise PipelineError("threshold takes method=otsu or value=V, not both")
    if "value" in given:
        return {**values, "method": "value"}
    return values


# -- labels ------------------------------------------------------------------------------


def _offset_labels(labels: np.ndarray, offset) -> np.ndarray:
    return np.where(labels > 0, labels + np.int32(offset), np.int32(0)).astype(np.int32)


def _label_offsets(*counts: int) -> np.ndarray:
    """Each chunk's first label less one, in row-major order, then the number of labels."""
    return np.cumsum([0, *counts])


def _border_strip(axis: int, *before_then_after: np.ndarray) -> np.ndarray:
    """The two-pixel-wide strip along one border between rows (``axis`` 0) or columns (1) of
    chunks: the last line of each chunk before it beside the first line of the chunk after."""
    half = len(before_then_after) // 2
    pairs = [
        np.concatenate([np.take(before, [-1], axis=axis), np.take(after, [0], axis=axis)], axis=axis)
        for before, after in zip(before_then_after[:half], before_then_after[half:])
    ]
    return np.concatenate(pairs, axis=1 - axis)


def _touching_pairs(strip: np.ndarray, structure: np.ndarray) -> np.ndarray:
    """(2, M) pairs of labels that touch across a two-pixel-wide strip along a chunk border.

    Labels are unique to their chunk, so two labels joined by the strip's own connected
    regions are one region (``dask_image.ndmeasure``'s rule for chunk faces).
    """
    joined, _ = scipy.ndimage.label(strip > 0, structure)
    pairs = np.unique(np.stack([joined.ravel(), strip.ravel()], axis=1), axis=0)
    pairs = pairs[pairs[:, 0] > 0]  # sorted by joined region, then label
    same_region = np.flatnonzero(np.diff(pairs[:, 0]) == 0)
    return np.stack([pairs[same_region, 1], pairs[same_region + 1, 1]])


def _final_labels(offsets: np.ndarray, *pairs: np.ndarray) -> np.ndarray:
    """For every provisional label (0..total), its final label: one per connected group,
    numbered 1..N in the order of the provisional labels, 0 kept for the background."""
    total = int(offsets[-1]) + 1
    i, j = np.concatenate([np.empty((2, 0), np.int64), *pairs], axis=1)
    import scipy.sparse.csgraph  # 55 ms of imports, which only a label stage needs

    graph = scipy.sparse.coo_matrix((np.ones(len(i)), (i, j)), shape=(total, total))
    _, groups = scipy.sparse.csgraph.connected_components(graph, directed=False)
    return groups.astype(np.int32)  # label 0 is node 0, alone: group 0


def label(image: da.Array, connectivity: int) -> da.Array:
    """Connected regions of the non-zero pixels, numbered 1..N (0: background); a region
    that crosses chunk borders gets one number.

    ``dask_image.ndmeasure.label``'s method: ``scipy.ndimage.label`` on each chunk, labels
    made unique by offsets, pairs of labels that touch across chunk borders, connected
    components of those pairs, and a relabelling. Written here on the chunks' delayed
    values because ``dask_image.ndmeasure.label`` wraps slices of the dask array in
    ``dask.delayed``, which copies the graph before them once per chunk and per border
    (``optimize_graph`` or not): after an Otsu threshold, whose histogram every chunk
    depends on, the 303 x 384 coins in 2 x 2 tiles took 16,587 tasks and 4.6 s, against
    304 tasks and 0.11 s with the threshold computed first.
    """
    structure = scipy.ndimage.generate_binary_structure(2, connectivity)
    image = merge_small_chunks(image)
    blocks = image.to_delayed(optimize_graph=False)
    # Delayed values are passed one by one, never in a list: for a list, dask.delayed
    # optimises and culls the whole graph behind it, each time (3.6 s of building a
    # 16 x 16 grid's labels).
    labelled = [[dask.delayed(scipy.ndimage.label, nout=2, pure=True)(b, structure) for b in row] for row in blocks]
    offsets = dask.delayed(_label_offsets, pure=True)(*(n for row in labelled for _, n in row))
    unique = [[dask.delayed(_offset_labels, pure=True)(labels, offsets[i * len(row) + j])
               for j, (labels, _) in enumerate(row)] for i, row in enumerate(labelled)]
    strip = dask.delayed(_border_strip, pure=True)
    pairs = [
        *(strip(0, *unique[i - 1], *unique[i]) for i in range(1, len(unique))),
        *(strip(1, *(row[j - 1] for row in unique), *(row[j] for row in unique)) for j in range(1, len(unique[0]))),
    ]
    touching = dask.delayed(_touching_pairs, pure=True)
    final = dask.delayed(_final_labels, pure=True)(offsets, *(touching(s, structure) for s in pairs))
    relabel = dask.delayed(lambda final, labels: final[labels], pure=True)
    return da.block([
        [da.from_delayed(relabel(final, labels), (height, width), np.int32) for labels, width in zip(row, image.chunks[1])]
        for row, height in zip(unique, image.chunks[0])
    ])


# -- the table ---------------------------------------------------------------------------

_MODE = Param("mode", str, "x", "which derivative", choices=DERIVATIVE_MODES, labels=MODE_LABELS)

STAGES: dict[str, Stage] = {
    stage.name: stage
    for stage in (
        Stage(
            "gaussian", "Gaussian smoothing",
            "`dask_image.ndfilters.gaussian_filter` blurs each chunk with a Gaussian, "
            "borrowing 4 sigma of pixels from its neighbours: the result equals SciPy's on "
            "the whole image.",
            gaussian, (Param("sigma", float, 1.0, "width of the Gaussian, in pixels", low=0.0, high=20.0),),
        ),
        Stage(
            "median", "Median filter",
            "`dask_image.ndfilters.median_filter` replaces each pixel with the median of its "
            "size x size neighbourhood, which removes speckles and keeps edges sharp.",
            median, (Param("size", int, 3, "side of the neighbourhood, in pixels", low=1, high=25),),
        ),
        Stage(
            "uniform", "Mean filter",
            "`dask_image.ndfilters.uniform_filter` replaces each pixel with the mean of its "
            "size x size neighbourhood: the cheapest smoothing, a box blur.",
            uniform, (Param("size", int, 3, "side of the neighbourhood, in pixels", low=1, high=25),),
        ),
        Stage(
            "sobel", "Sobel edges",
            "`dask_image.ndfilters.sobel` runs on every chunk with a one-pixel overlap "
            "borrowed from its neighbours, so tile borders leave no seams: the result equals "
            "SciPy's Sobel on the whole image.",
            sobel, (_MODE,), output_range=_derivative_range("sobel"),
        ),
        Stage(
            "prewitt", "Prewitt edges",
            "`dask_image.ndfilters.prewitt`: like Sobel, with equal weights across the "
            "derivative, so a little more sensitive to noise.",
            prewitt, (_MODE,), output_range=_derivative_range("prewitt"),
        ),
        Stage(
            "laplace", "Laplace",
            "`dask_image.ndfilters.laplace`: the sum of second derivatives, zero on flat "
            "areas and on even slopes, large on thin lines and spots.",
            laplace, output_range=_laplace_range,
        ),
        Stage(
            "clip", "Clip",
            "`dask.array.clip` sets values below lo to lo and above hi to hi; the picture "
            "maps [lo, hi] to black..white. Changing the range never reruns the stage before.",
            clip,
            (
                Param("lo", float, 0.0, "values below become lo (black)"),
                Param("hi", float, 1.0, "values above become hi (white)"),
            ),
            output_range=lambda input_range, *, lo, hi: (lo, hi),
            check=_check_clip,
        ),
        Stage(
            "threshold", "Threshold",
            "Pixels above the threshold become 1 (white), the others 0. Otsu's method picks "
            "the threshold that best separates the histogram in two; its histogram is summed "
            "over every chunk with Dask, so it equals scikit-image's on the whole image.",
            threshold,
            (
                Param("method", str, "otsu", "how the threshold is chosen", choices=("otsu", "value"),
                      labels={"otsu": "Otsu (from the histogram)", "value": "a value"}),
                Param("value", float, 0.5, "the threshold, with method=value", shown_when=("method", "value")),
            ),
            kind="mask",
            output_range=lambda input_range, **values: (0.0, 1.0),
            resolve=_value_implies_method,
        ),
        Stage(
            "label", "Labels",
            "Numbers each connected region of non-zero pixels as `dask_image.ndmeasure.label` "
            "does: `scipy.ndimage.label` on every chunk, then regions that touch across chunk "
            "borders are joined into one label. Connectivity 1 joins pixels that share a "
            "side, 2 also those that share a corner.",
            label,
            (Param("connectivity", int, 1, "1: sides only, 2: corners too", low=1, high=2),),
            kind="labels",
            output_range=lambda input_range, **values: (0.0, 1.0),
        ),
    )
}

#: The tutorial's chain: Sobel along x, clipped to [0, 1].
DEFAULT_CHAIN: tuple[Step, ...] = (STAGES["sobel"].step(mode="x"), STAGES["clip"].step(lo=0.0, hi=1.0))


def parse_chain(texts) -> tuple[Step, ...]:
    """Steps from texts such as ``gaussian:sigma=2``; raises ``PipelineError`` on the first
    bad one."""
    return tuple(parse_step(text, STAGES) for text in texts)


def chain_text(chain: tuple[Step, ...]) -> list[str]:
    return [step.text(STAGES) for step in chain]


def output_ranges(chain: tuple[Step, ...], input_range=GRAYSCALE_RANGE) -> list[tuple[float, float]]:
    """The bounds of each step's output, for a grayscale input in ``input_range``."""
    ranges = []
    for step in chain:
        input_range = STAGES[step.stage].output_range(input_range, **step.values)
        ranges.append(input_range)
    return ranges


def check_chain(chain: tuple[Step, ...], shape: tuple[int, int]) -> None:
    """Raise the ``PipelineError`` that ``chain`` would raise on an image of ``shape`` (a
    filter reaching past the image, say), before any work: the steps are built on a lazy
    stand-in and nothing is computed."""
    chain_arrays(da.zeros(shape, dtype=np.float32), chain)


def chain_arrays(image: da.Array, chain: tuple[Step, ...]) -> list[da.Array]:
    """Each step's output, lazily, each built on the one before."""
    arrays = []
    for step in chain:
        image = STAGES[step.stage].apply(image, **step.values)
        arrays.append(image)
    return arrays
