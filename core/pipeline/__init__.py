"""The pipeline: an image (or its tile files) in, every stage a lazy dask array out.

``loading`` decodes an image, ``tiling`` writes it as a grid of tile files, ``build``
reads them back with ``dask_image.imread`` and makes grayscale, stitched and the chain's
arrays; ``chain`` says what a stage and a step are, ``stage_table`` lists the stages;
``shipped`` sends tile files in the graph to workers that cannot read them.
"""

from .build import Pipeline, build_pipeline, read_tiles, stitch, to_grayscale
from .chain import Param, ResultKind, Stage, Step, parse_step, step_labels
from .chunks import MIN_CHUNKS_PER_AXIS, MIN_FILTER_CHUNK, merge_small_chunks
from .loading import DEFAULT_MAX_PIXELS, frame_count, load_image
from .samples import DEFAULT_SAMPLE, SAMPLES, load_sample, sample_file
from .shipped import ShippedTiles, shipped, tile_paths
from .stage_table import (
    DEFAULT_CHAIN,
    DERIVATIVE_MODES,
    GRAYSCALE_RANGE,
    STAGES,
    chain_arrays,
    chain_text,
    check_chain,
    output_ranges,
    parse_chain,
    sobel_range,
)
from .tiling import TileSet, check_grid, image_digest, partition, partition_cached, split_edges

__all__ = [
    "DEFAULT_CHAIN",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_SAMPLE",
    "DERIVATIVE_MODES",
    "GRAYSCALE_RANGE",
    "MIN_CHUNKS_PER_AXIS",
    "MIN_FILTER_CHUNK",
    "SAMPLES",
    "STAGES",
    "Param",
    "Pipeline",
    "ResultKind",
    "ShippedTiles",
    "Stage",
    "Step",
    "TileSet",
    "build_pipeline",
    "chain_arrays",
    "chain_text",
    "check_chain",
    "check_grid",
    "frame_count",
    "image_digest",
    "load_image",
    "load_sample",
    "merge_small_chunks",
    "output_ranges",
    "parse_chain",
    "parse_step",
    "partition",
    "partition_cached",
    "read_tiles",
    "sample_file",
    "shipped",
    "sobel_range",
    "split_edges",
    "step_labels",
    "stitch",
    "tile_paths",
    "to_grayscale",
]
