"""Store a 2-D result as an OME-Zarr multiscale image (OME-NGFF 0.5 on zarr v3), block by block.

Level 0 is the full-resolution array; each next level halves the one above (values by the
2 x 2 mean, masks and region labels by keeping every other pixel: a mean of labels would be
a label of no region) until the image fits in ``SMALLEST_SIDE`` pixels, so viewers such as
napari open it zoomed out and fetch detail only where one zooms in. Every level is written
by whichever thread or worker computed its blocks, in the caller's graph pass: nothing is
gathered in memory.

``zarr`` is imported inside the functions that write: its import is a cost the command
line's start-up does not have to pay when no zarr is asked for (``python -X importtime``;
benchmarks/RESULTS.md, "Figures quoted in the code before 2026-12-07").
"""

from __future__ import annotations

import os

import dask
import dask.array as da
import numpy as np

from ..errors import PipelineError
from .formats import OutputFormat, Planned, Result

__all__ = [
    "AXES",
    "DOWNSAMPLINGS",
    "OME_NGFF_VERSION",
    "OME_ZARR",
    "SMALLEST_SIDE",
    "downsampling_of",
    "multiscale_metadata",
    "multiscale_targets",
    "resolution_levels",
    "store_multiscale",
]

OME_NGFF_VERSION = "0.5"
#: Halve until the whole image fits in this many pixels a side: one screen, one chunk.
SMALLEST_SIDE = 512
#: Rows then columns, both in space; the results have no physical unit, so none is given.
AXES = ({"name": "y", "type": "space"}, {"name": "x", "type": "space"})
#: How a level is made from the one before, by the metadata's name for it: what it says
#: in words, and how it is computed.
DOWNSAMPLINGS = {
    "mean": (
        "each level the 2 x 2 mean of the one before, the odd last row or column dropped",
        "dask.array.coarsen with a 2 x 2 mean, trim_excess=True",
    ),
    "nearest": (
        "each level the top-left pixel of every 2 x 2 block of the one before, the odd last row or column dropped",
        "dask.array slicing [::2, ::2]",
    ),
}


def downsampling_of(dtype) -> str:
    """``mean`` for floating-point values; ``nearest`` (every other pixel) for integers and
    booleans, which here are masks and region labels: categories, which a mean would turn
    into values of no category (the mean of labels 1 and 3 is 2, another region)."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.floating):
        return "mean"
    if np.issubdtype(dtype, np.integer) or dtype == np.bool_:
        return "nearest"
    raise PipelineError(f"a multiscale image here holds real numbers, integers or booleans, got {dtype}")


def resolution_levels(image: da.Array, *, levels: int | None = None, smallest: int = SMALLEST_SIDE) -> list[da.Array]:
    """The resolution levels of a 2-D image, each half the one before: the 2 x 2 mean for
    floating-point values, every other pixel for integers and booleans (``downsampling_of``).

    Parameters
    ----------
    image : dask.array.Array
        The full-resolution 2-D image; it is level 0 as it is, and every level keeps its
        dtype (float32 stays float32, labels stay int32).
    levels : int, optional
        How many levels, level 0 included. By default, halve until neither side exceeds
        ``smallest``.
    smallest : int
        The largest side of the last level when ``levels`` is not given.

    Returns
    -------
    list of dask.array.Array
        Level 0 first. A side of odd length loses its last row or column when halved
        (``trim_excess``), so level ``i`` has ``shape // 2**i``, as in most OME-Zarr writers.

    Raises
    ------
    PipelineError
        If ``image`` is not a 2-D array of real numbers, integers or booleans, or
        ``levels`` asks for a level with a side under 1 pixel.
    """
    if image.ndim != 2:
        raise PipelineError(f"a multiscale image here is 2-D (rows, columns), got shape {image.shape}")
    halve = _HALVINGS[downsampling_of(image.dtype)]
    if levels is not None:
        most = min(image.shape).bit_length()  # halvings until a side would be 0 pixels, plus one
        if not 1 <= levels <= most:
            raise PipelineError(f"a {image.shape[1]} x {image.shape[0]} image has 1 to {most} levels, got levels={levels}")
    result = [image]
    while _another_level(result[-1].shape, len(result), levels, smallest):
        result.append(halve(result[-1]))
    return result


def _mean_halving(image: da.Array) -> da.Array:
    # dask rechunks blocks of odd size to even ones itself.
    return da.coarsen(_mean_of_2x2, image, {0: 2, 1: 2}, trim_excess=True)


def _nearest_halving(image: da.Array) -> da.Array:
    height, width = (side // 2 * 2 for side in image.shape)  # the odd last row or column dropped
    return image[:height:2, :width:2]


def _mean_of_2x2(pairs: np.ndarray, axis: tuple[int, int] | None = None) -> np.ndarray:
    """``da.coarsen``'s reduction: the mean over axes 1 and 3 of a (rows, 2, cols, 2) block.

    Four strided additions in the block's dtype, an order of magnitude faster than
    ``np.mean(axis=(1, 3))``, which reduces over short, strided axes, for sums in another
    order (within an ulp of NumPy's mean). ``python benchmarks/zarr_vs_npy.py`` times the
    pyramid's writing; the figures: benchmarks/RESULTS.md, "Figures quoted in the code before
    2026-12-07".
    """
    if axis is None:  # dask probing the result's type with a 1 x 1 array
        return pairs
    total = pairs[:, 0, :, 0] + pairs[:, 1, :, 0]
    total += pairs[:, 0, :, 1]
    total += pairs[:, 1, :, 1]
    total *= total.dtype.type(0.25)
    return total


_HALVINGS = {"mean": _mean_halving, "nearest": _nearest_halving}


def _another_level(shape: tuple[int, int], count: int, levels: int | None, smallest: int) -> bool:
    if levels is not None:
        return count < levels
    return max(shape) > smallest and min(shape) >= 2


def multiscale_metadata(levels: int, *, name: str, downsampling: str = "mean") -> dict:
    """The group's ``ome`` attribute for ``levels`` levels named ``"0"``, ``"1"``, ...,
    made by ``downsampling`` (a key of ``DOWNSAMPLINGS``).

    Level ``i`` has pixels ``2**i`` times as large as level 0's (one scale per dataset, as
    0.5 requires). Taking a pixel's coordinate to be its centre, as napari does (the 0.5
    text leaves it unstated), a 2 x 2 mean is centred between the four pixels it averages,
    so level ``i`` also gets the one translation 0.5 allows, after the scale:
    ``(2**i - 1) / 2`` level-0 pixels. Without it, the levels would drift apart by up to
    half a coarse pixel as one zooms. A ``nearest`` level keeps the same transformations:
    each of its pixels stands for the ``2**i`` x ``2**i`` block of level 0 whose top-left
    pixel it is, so every level covers the same area.
    """
    description, method = DOWNSAMPLINGS[downsampling]
    datasets = [
        {
            "path": str(level),
            "coordinateTransformations": [
                {"type": "scale", "scale": [float(2**level)] * 2},
                {"type": "translation", "translation": [(2**level - 1) / 2] * 2},
            ],
        }
        for level in range(levels)
    ]
    return {
        "version": OME_NGFF_VERSION,
        "multiscales": [
            {
                "name": name,
                "axes": [dict(axis) for axis in AXES],
                "datasets": datasets,
                "type": downsampling,
                "metadata": {
                    "description": description,
                    "method": method,
                    "version": dask.__version__,
                },
            }
        ],
    }


def store_multiscale(
    image: da.Array,
    path: str | os.PathLike,
    *,
    levels: int | None = None,
    chunk: int | None = None,
    compressed: bool = True,
    name: str = "image",
) -> list:
    """Create an OME-Zarr multiscale image at ``path`` and return the lazy writes of its pixels.

    The group and its arrays (metadata only) are created now; the pixels are written when
    the caller computes the returned graph, with its own scheduler and in the same pass as
    its other outputs, so every block of ``image`` is computed once for all of them.

    Parameters
    ----------
    image : dask.array.Array
        The 2-D image, level 0: values (averaged into the coarser levels), or a mask or
        labels (integers: every other pixel kept).
    path : str or os.PathLike
        The folder of the zarr group, replaced if it exists (write into
        ``core.runtime.atomic_folder(...)``'s path to keep a previous one until the writes succeed).
    levels : int, optional
        How many levels; see ``resolution_levels``.
    chunk : int, optional
        The side of every level's square zarr chunks. By default the largest block of
        ``image`` along each axis, so that level 0's blocks are written as they are
        computed when they are regular. Zarr needs all chunks of an array equal (the last
        may be cut short), so uneven blocks are rechunked to it, which costs a copy of the
        blocks that straddle chunk boundaries. Coarser levels keep level 0's chunk shape
        (cut to their size), which merges their blocks, each a quarter the size of the
        level before: viewers then fetch equally large chunks at every zoom.
    compressed : bool
        True: zarr's default codec (zstd); False: raw bytes.
    name : str
        The multiscale image's name in the metadata.

    Returns
    -------
    list of dask.delayed.Delayed
        One graph writing every level; compute it (``dask.compute(*writes)``,
        ``client.compute(writes)``) to write the pixels.
    """
    stores = multiscale_targets(image, path, levels=levels, chunk=chunk, compressed=compressed, name=name)
    return [da.store([array for array, _ in stores], [target for _, target in stores], lock=False, compute=False)]


def multiscale_targets(
    image: da.Array,
    path: str | os.PathLike,
    *,
    levels: int | None = None,
    chunk: int | None = None,
    compressed: bool = True,
    name: str = "image",
) -> list[tuple[da.Array, object]]:
    """``store_multiscale``'s group created at ``path``, and each level with the zarr array
    it goes into, its blocks one zarr chunk (or a run of whole chunks) each: for whoever
    writes them, the workers (``dask.array.store``) or this process as blocks arrive."""
    import zarr

    resolutions = resolution_levels(image, levels=levels)
    chunk_shape = (chunk, chunk) if chunk else tuple(max(sizes) for sizes in image.chunks)
    group = zarr.open_group(
        store=os.fspath(path), mode="w", zarr_format=3,
        attributes={
            "ome": multiscale_metadata(len(resolutions), name=name, downsampling=downsampling_of(image.dtype))
        },
    )
    arrays, targets = [], []
    for index, level in enumerate(resolutions):
        chunks = tuple(min(side, size) for side, size in zip(chunk_shape, level.shape))
        targets.append(
            group.create_array(
                str(index), shape=level.shape, chunks=chunks, dtype=level.dtype,
                compressors="auto" if compressed else None, fill_value=0,
                dimension_names=[axis["name"] for axis in AXES],
            )
        )
        # Each dask block must be exactly one zarr chunk (or a run of whole chunks): two
        # threads writing parts of one chunk would overwrite each other's part.
        arrays.append(level.rechunk(chunks))
    return list(zip(arrays, targets))


def _plan(result: Result, path) -> Planned:
    return Planned(stores=multiscale_targets(result.array, path, name="result"))


OME_ZARR = OutputFormat(
    "ome-zarr", "result.ome.zarr",
    "an OME-Zarr multiscale image (zarr v3) that napari and other viewers open and zoom; "
    "about 1 s more at 64 MPix",
    _plan, optional=True, flag="zarr", folder=True,
)
