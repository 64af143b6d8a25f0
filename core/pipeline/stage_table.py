"""The stage table: every stage a user can chain after the stitched grayscale image.

Each stage is one ``Stage`` entry in ``STAGES``: its function on dask arrays, its
parameters and what its output holds. The command line, the sidebar, the pages, the
timings, the previews, the cache keys and the shared links all read this table, so adding a
filter stage means adding its function and its entry here, and its test
(``docs/extending.md``). Stages with more to them have a module of their own
(``threshold``, ``labels``).

Every stage is lazy and equals its SciPy / scikit-image counterpart run on the whole image:
the filters borrow pixels across chunk borders (``map_overlap`` in dask-image), the Otsu
threshold comes from a histogram summed over all chunks, and labels are joined across chunk
borders as ``dask_image.ndmeasure.label`` joins them. Below the table: the chain's texts,
ranges and arrays, all read from it.
"""

from __future__ import annotations

import math

import dask.array as da
import dask_image.ndfilters
import numpy as np

from ..errors import PipelineError
from .chain import Param, ResultKind, Stage, Step, parse_step
from .chunks import filter_input
from .labels import label
from .threshold import threshold, value_implies_method

__all__ = [
    "DEFAULT_CHAIN",
    "DERIVATIVE_MODES",
    "GRAYSCALE_RANGE",
    "MODE_LABELS",
    "STAGES",
    "chain_arrays",
    "chain_text",
    "check_chain",
    "output_ranges",
    "parse_chain",
    "sobel_range",
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
    return dask_image.ndfilters.gaussian_filter(filter_input(image), sigma, truncate=GAUSSIAN_TRUNCATE)


def median(image: da.Array, size: int) -> da.Array:
    _check_reach(image, size // 2, f"median:size={size}", f"size at most {2 * min(image.shape) + 1}")
    return dask_image.ndfilters.median_filter(filter_input(image), size=size)


def uniform(image: da.Array, size: int) -> da.Array:
    _check_reach(image, size // 2, f"uniform:size={size}", f"size at most {2 * min(image.shape) + 1}")
    return dask_image.ndfilters.uniform_filter(filter_input(image), size=size)


# -- edges -------------------------------------------------------------------------------


def _derivative(kind: str, image: da.Array, mode: str) -> da.Array:
    derivative = getattr(dask_image.ndfilters, kind)
    image = filter_input(image)
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
    return dask_image.ndfilters.laplace(filter_input(image))


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


def _derivative_code(kind: str):
    """The notebook's call for a derivative filter in ``mode``."""
    along = {"x": -1, "y": 0}

    def code(mode: str) -> str:
        call = f"dask_image.ndfilters.{kind}({{float_image}}, axis={{axis}})"
        if mode in along:
            return call.replace("{axis}", str(along[mode]))
        return f"dask.array.hypot({call.replace('{axis}', '0')}, {call.replace('{axis}', '-1')})"

    return code


def _laplace_range(input_range):
    width = input_range[1] - input_range[0]  # the kernel: -4 at the centre, 1 at its four neighbours
    return (-4.0 * width, 4.0 * width)


# -- clip --------------------------------------------------------------------------------


def clip(image: da.Array, lo: float, hi: float) -> da.Array:
    as_image = image.dtype.type  # NumPy float64 scalars would promote float32 images
    return da.clip(image, as_image(lo), as_image(hi))


def _check_clip(values: dict) -> None:
    if not values["lo"] < values["hi"]:
        raise PipelineError(f"clip needs lo < hi, got lo={values['lo']:g} and hi={values['hi']:g}")


def _threshold_code(method: str, value: float) -> str:
    # Otsu's level from the whole image, as scikit-image computes it: the chain waits here
    # for every chunk (the command line sums per-chunk histograms to the same level).
    if method == "otsu":
        return "({float_image} > skimage.filters.threshold_otsu({float_image}.compute())).astype(numpy.uint8)"
    return "({float_image} > {value}).astype(numpy.uint8)"


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
            code=f"dask_image.ndfilters.gaussian_filter({{float_image}}, sigma={{sigma}}, truncate={GAUSSIAN_TRUNCATE!r})",
        ),
        Stage(
            "median", "Median filter",
            "`dask_image.ndfilters.median_filter` replaces each pixel with the median of its "
            "size x size neighbourhood, which removes speckles and keeps edges sharp.",
            median, (Param("size", int, 3, "side of the neighbourhood, in pixels", low=1, high=25),),
            code="dask_image.ndfilters.median_filter({float_image}, size={size})",
        ),
        Stage(
            "uniform", "Mean filter",
            "`dask_image.ndfilters.uniform_filter` replaces each pixel with the mean of its "
            "size x size neighbourhood: the cheapest smoothing, a box blur.",
            uniform, (Param("size", int, 3, "side of the neighbourhood, in pixels", low=1, high=25),),
            code="dask_image.ndfilters.uniform_filter({float_image}, size={size})",
        ),
        Stage(
            "sobel", "Sobel edges",
            "`dask_image.ndfilters.sobel` runs on every chunk with a one-pixel overlap "
            "borrowed from its neighbours, so tile borders leave no seams: the result equals "
            "SciPy's Sobel on the whole image.",
            sobel, (_MODE,), output_range=_derivative_range("sobel"), code=_derivative_code("sobel"),
        ),
        Stage(
            "prewitt", "Prewitt edges",
            "`dask_image.ndfilters.prewitt`: like Sobel, with equal weights across the "
            "derivative, so a little more sensitive to noise.",
            prewitt, (_MODE,), output_range=_derivative_range("prewitt"), code=_derivative_code("prewitt"),
        ),
        Stage(
            "laplace", "Laplace",
            "`dask_image.ndfilters.laplace`: the sum of second derivatives, zero on flat "
            "areas and on even slopes, large on thin lines and spots.",
            laplace, output_range=_laplace_range, code="dask_image.ndfilters.laplace({float_image})",
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
            code="dask.array.clip({image}, {lo}, {hi})",
            pointwise=True,
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
            kind=ResultKind.MASK,
            output_range=lambda input_range, **values: (0.0, 1.0),
            resolve=value_implies_method,
            code=_threshold_code,
        ),
        Stage(
            "label", "Labels",
            "Numbers each connected region of non-zero pixels as `dask_image.ndmeasure.label` "
            "does: `scipy.ndimage.label` on every chunk, then regions that touch across chunk "
            "borders are joined into one label. Connectivity 1 joins pixels that share a "
            "side, 2 also those that share a corner.",
            label,
            (Param("connectivity", int, 1, "1: sides only, 2: corners too", low=1, high=2),),
            kind=ResultKind.LABELS,
            output_range=lambda input_range, **values: (0.0, 1.0),
            code="dask_image.ndmeasure.label({image}, scipy.ndimage.generate_binary_structure(2, {connectivity}))[0]",
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
