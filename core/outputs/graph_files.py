"""The run's task graph as Graphviz DOT files: every task, and the overview."""

from __future__ import annotations

from ..observe.task_graph import TaskGraph
from .formats import OutputFormat, Planned

__all__ = ["TASK_GRAPH", "TASK_OVERVIEW"]


def _dot_file(source):
    """A plan writing ``source(task_graph)`` once the run is computed: the graph is built
    after the compute, which starts without waiting for it."""
    return lambda result, path: Planned((), lambda values: path.write_text(source(result.task_graph)))


TASK_GRAPH = OutputFormat(
    "graph", "graph.dot", "the task graph, one node per task, as Graphviz DOT", _dot_file(TaskGraph.dot),
)
TASK_OVERVIEW = OutputFormat(
    "graph-overview", "graph-overview.dot", "the task graph with one node per kind of task and its count",
    _dot_file(TaskGraph.overview_dot),
)
