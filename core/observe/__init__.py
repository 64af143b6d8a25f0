"""Seeing what Dask does: the task graph task by task and in overview, how long each
stage's tasks ran, progress as tasks finish, and a run recorded task by task."""

from .overview import layer_graph, task_count
from .progress import ProgressCallback, TaskClock, for_this_compute, wait_with_progress
from .replay import RecordedRun, TaskRun, record_run
from .task_graph import OTHER_STAGE, TaskGraph, TaskNode, stage_slug, task_graph_of
from .timing import StageTimer, StageTimes, layer_owners, stage_of_layer, stage_timing

__all__ = [
    "OTHER_STAGE",
    "ProgressCallback",
    "RecordedRun",
    "StageTimer",
    "StageTimes",
    "TaskClock",
    "TaskGraph",
    "TaskNode",
    "TaskRun",
    "for_this_compute",
    "layer_graph",
    "layer_owners",
    "record_run",
    "stage_of_layer",
    "stage_slug",
    "stage_timing",
    "task_count",
    "task_graph_of",
    "wait_with_progress",
]
