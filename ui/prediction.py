"""The Speed-up page's prediction: what 1 to 64 workers would take, from the work and span
of the Tasks page's recorded run, beside the measured points, and where and why they part."""

from __future__ import annotations

import streamlit as st

from core.pipeline import chain_text
from ui.services.runs import recorded_checksum_run
from ui.services.scaling import WorkerScaling, checksum_of
from ui.services.sweeps import Prediction, prediction_of
from ui.views import task_graph_for

__all__ = ["PREDICTED_WORKERS", "parting_words", "predicted_scaling", "show_prediction"]

#: The worker counts the page gives a number for.
PREDICTED_WORKERS = (1, 4, 16, 64)


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f} ms"


def parting_words(prediction: Prediction, measured: WorkerScaling) -> str:
    """Where the prediction and the measured points part, in a sentence per measured count."""
    parts = []
    for point in measured.points:
        predicted = prediction.wall(point.workers)
        parts.append(
            f"{point.workers} worker{'s' if point.workers > 1 else ''}: {_ms(predicted)} predicted, "
            f"{_ms(point.wall)} measured ({(predicted - point.wall) / point.wall:+.0%})"
        )
    return "; ".join(parts) + "."


def predicted_scaling(context, watch) -> Prediction:
    """The prediction from a run recorded as the Tasks page records one, of the graph the
    measured points run (the checksum of the chain's result), on threads as they run:
    durations recorded on the cluster's workers, threads of this process beside its
    scheduler, come out longer."""
    folder, chain_key = str(context.tile_files.folder), tuple(chain_text(context.settings.chain))
    run = recorded_checksum_run(context.tile_files, context.pipeline, watch)
    graph = task_graph_for(("checksum-graph", folder, chain_key), context.pipeline, checksum_of(context.pipeline))
    return prediction_of(context.tile_files, graph, run, context.scheduler)


def show_prediction(prediction: Prediction, measured: WorkerScaling) -> None:
    """The prediction's numbers and words; its curve is the Speed-up figure's last panel."""
    spread = prediction.spread
    st.subheader("What more workers would buy")
    st.write(
        f"A run of what the points above time, recorded task by task as the Tasks page records one, on "
        f"{spread.recorded_workers} thread{'s' if spread.recorded_workers > 1 else ''}, replayed on k workers: each task "
        "as long as it took there, started as soon as the tasks it needs are done and a worker is free, plus "
        "the scheduler's own cost per task (the figure's last panel). Two bounds frame it: the **work**, every task's time added up, shared by k workers; "
        "and the **span**, the longest chain of tasks that each wait for the one before, which no number "
        "of workers shortens."
    )
    work, span, most = st.columns(3)
    work.metric("Work", _ms(spread.work), help="Every task's time added up: what one worker would take.")
    span.metric("Span", _ms(spread.span), help="The longest chain of dependent tasks; the Tasks page highlights it.")
    most.metric("Work / span", f"{spread.parallelism:.1f}x", help="The most any number of workers can gain over one.")
    one = prediction.wall(1)
    for column, k in zip(st.columns(len(PREDICTED_WORKERS)), PREDICTED_WORKERS):
        column.metric(
            f"{k} worker{'s' if k > 1 else ''} (predicted)", _ms(prediction.wall(k)),
            f"{one / prediction.wall(k):.1f}x one worker" if k > 1 else None,
            delta_color="off", help="On threads; the cluster's line is in the figure where the pages run on one.",
        )
    costs = ", ".join(
        f"{1e6 * cost:.0f} µs a task on {'threads' if kind == 'threads' else 'the cluster'}"
        for kind, cost in prediction.costs.items()
    )
    st.caption(
        f"Measured against predicted, on this server: {parting_words(prediction, measured)} Scheduling, "
        f"timed on a chain of tasks that do nothing: {costs}; a task's time recorded on threads already "
        "holds the threads' share."
    )
    st.write(
        "**Where they part, and why.** The prediction takes each task to last as long as it did in the "
        "recorded run, whatever runs beside it; real workers slow each other down. Threads share the "
        "memory bus: a filter streams its whole chunk through memory, and two at once each get less "
        "bandwidth. Python code between NumPy's calls holds the GIL, so only one thread runs it at a time. "
        "Durations recorded on several threads already carry that contention, which makes the prediction "
        "for one worker too slow; for more workers than the recording had, it is too fast. Neither line "
        "counts the serial decode: one thread decodes the image file before any task starts, which on a "
        "large photo can take as long as the whole graph and which no number of workers shortens. Past "
        f"about {spread.parallelism:.0f} workers the prediction stops falling: the span is all that is left."
    )
