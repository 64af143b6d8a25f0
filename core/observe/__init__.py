"""Seeing what Dask does: the task graph task by task and in overview, how long each
stage's tasks ran, progress as tasks finish, a run recorded task by task, and its work and
span with what more workers would buy."""

from .overview import layer_graph, task_count
from .progress import ProgressCallback, TaskClock, for_this_compute, wait_with_progress
from .replay import RecordedRun, TaskRun, record_run
from .task_graph import OTHER_STAGE, TaskGraph, TaskNode, stage_slug, task_graph_of
from .timing import StageTimer, StageTimes, layer_owners, stage_of_layer, stage_timing
from .work_span import (
    MOST_WORKERS,
    WorkSpan,
    cost_beyond_recording,
    list_schedule,
    longest_chain,
    scheduling_cost,
    work_span,
)

__all__ = [
    "MOST_WORKERS",
    "OTHER_STAGE",
    "ProgressCallback",
    "RecordedRun",
    "StageTimer",
    "StageTimes",
    "TaskClock",
    "TaskGraph",
    "TaskNode",
    "TaskRun",
    "WorkSpan",
    "cost_beyond_recording",
    "for_this_compute",
    "layer_graph",
    "layer_owners",
    "list_schedule",
    "longest_chain",
    "record_run",
    "scheduling_cost",
    "stage_of_layer",
    "stage_slug",
    "stage_timing",
    "task_count",
    "task_graph_of",
    "wait_with_progress",
    "work_span",
]
