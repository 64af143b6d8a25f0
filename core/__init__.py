"""Tile-by-tile image processing with Dask: the core shared by the dashboard and the CLI.

This package never imports Streamlit.
"""

from .chain import Param, Stage, Step, step_labels
from .errors import PipelineError
from .filters import (
    DEFAULT_CHAIN,
    DERIVATIVE_MODES,
    MIN_CHUNKS_PER_AXIS,
    MIN_FILTER_CHUNK,
    STAGES,
    chain_arrays,
    chain_text,
    merge_small_chunks,
    output_ranges,
    parse_chain,
    sobel_range,
)
from .graphs import task_count
from .loading import DEFAULT_MAX_PIXELS, frame_count, load_image
from .replay import RecordedRun, TaskRun, record_run
from .results import to_uint8, write_results
from .stages import Pipeline, build_pipeline, read_tiles, stitch, to_grayscale
from .task_graph import TaskGraph, TaskNode, task_graph_of
from .tiling import TileSet, check_grid, image_digest, partition, partition_cached, split_edges

__all__ = [
    "DEFAULT_CHAIN",
    "DEFAULT_MAX_PIXELS",
    "DERIVATIVE_MODES",
    "MIN_CHUNKS_PER_AXIS",
    "MIN_FILTER_CHUNK",
    "STAGES",
    "Param",
    "Pipeline",
    "PipelineError",
    "RecordedRun",
    "Stage",
    "Step",
    "TaskGraph",
    "TaskNode",
    "TaskRun",
    "TileSet",
    "build_pipeline",
    "chain_arrays",
    "chain_text",
    "check_grid",
    "frame_count",
    "image_digest",
    "load_image",
    "merge_small_chunks",
    "output_ranges",
    "parse_chain",
    "partition",
    "partition_cached",
    "read_tiles",
    "record_run",
    "sobel_range",
    "split_edges",
    "step_labels",
    "stitch",
    "task_count",
    "task_graph_of",
    "to_grayscale",
    "to_uint8",
    "write_results",
]
