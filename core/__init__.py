"""Tile-by-tile image processing with Dask: the library under the dashboard and the
command line (``python -m core``).

The packages, each by concern (``docs/architecture.md``):

- ``core.pipeline``: an image or its tile files in, every stage a lazy dask array out;
- ``core.outputs``: the files a run writes from the chain's result;
- ``core.observe``: task graphs, stage timings, progress and recorded runs;
- ``core.runtime``: threads or a ``distributed`` cluster, cancelling, the disk cache.

What a script needs is re-exported here. This package never imports Streamlit.
"""

from .errors import PipelineError
from .observe import RecordedRun, TaskGraph, record_run, task_count, task_graph_of
from .outputs import FORMATS, write
from .pipeline import (
    DEFAULT_CHAIN,
    STAGES,
    Pipeline,
    ResultKind,
    Stage,
    Step,
    TileSet,
    build_pipeline,
    chain_text,
    load_image,
    load_sample,
    parse_chain,
    partition,
)
from .runtime import Runner, connect

__all__ = [
    "DEFAULT_CHAIN",
    "FORMATS",
    "STAGES",
    "Pipeline",
    "PipelineError",
    "RecordedRun",
    "ResultKind",
    "Runner",
    "Stage",
    "Step",
    "TaskGraph",
    "TileSet",
    "build_pipeline",
    "chain_text",
    "connect",
    "load_image",
    "load_sample",
    "parse_chain",
    "partition",
    "record_run",
    "task_count",
    "task_graph_of",
    "write",
]
