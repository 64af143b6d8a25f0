"""Tile-by-tile edge detection with Dask: the core shared by the dashboard and the CLI.

This package never imports Streamlit.
"""

from .errors import PipelineError
from .graphs import MAX_TASK_NODES, task_count, task_graph
from .loading import DEFAULT_MAX_PIXELS, load_image
from .results import to_uint8, write_results
from .stages import (
    MIN_CHUNKS_PER_AXIS,
    MIN_SOBEL_CHUNK,
    SOBEL_MODES,
    Pipeline,
    build_pipeline,
    clip,
    merge_small_chunks,
    read_tiles,
    sobel,
    sobel_range,
    stitch,
    to_grayscale,
)
from .tiling import TileSet, check_grid, image_digest, partition, partition_cached, split_edges

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MAX_TASK_NODES",
    "MIN_CHUNKS_PER_AXIS",
    "MIN_SOBEL_CHUNK",
    "SOBEL_MODES",
    "Pipeline",
    "PipelineError",
    "TileSet",
    "build_pipeline",
    "check_grid",
    "clip",
    "image_digest",
    "load_image",
    "merge_small_chunks",
    "partition",
    "partition_cached",
    "read_tiles",
    "sobel",
    "sobel_range",
    "split_edges",
    "stitch",
    "task_count",
    "task_graph",
    "to_grayscale",
    "to_uint8",
    "write_results",
]
