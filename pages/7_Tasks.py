import streamlit as st

from core.observe import work_span
from core.pipeline import chain_text
from ui.page import end_page, show_errors, start_page
from ui.progress import on_page
from ui.services.clock import duration
from ui.services.pages import TASKS
from ui.services.previews import to_display
from ui.services.runs import recorded_run
from ui.task_view import PICTURE_SIDE, show_task_view, thread_labels, where_words
from ui.views import preview_png, task_graph_for

context = start_page(TASKS)
rows, cols = context.tile_files.grid
folder = str(context.tile_files.folder)
chain_key = tuple(chain_text(context.settings.chain))

st.title(TASKS.title)
graph = task_graph_for(("pipeline-graph", folder, chain_key), context.pipeline, None)
st.write(
    f"The whole pipeline for {context.image.label} in {rows} x {cols} tiles, from the tile files to the "
    f"chain's last step: {len(graph.nodes):,} tasks, one box each, coloured by stage. Dask runs a task as "
    "soon as the tasks it needs are done and a thread is free, so each tile's branch runs beside the "
    "others; the branches meet where a filter borrows a border of pixels from its neighbours."
)
with show_errors("Could not record the run"):
    run = recorded_run(context.tile_files, context.pipeline, context.scheduler, on_page)

tasks, wall, threads = st.columns(3)
tasks.metric("Tasks", f"{len(graph.nodes):,}")
wall.metric(
    "The recorded run: wall time", duration(run.wall),
    help=f"From the first task's start to the last one's end, on {where_words(run)}.",
)
threads.metric("Worker threads", f"{len(thread_labels(run))}", help=f"It ran on {where_words(run)}.")
spread = work_span(graph, run)
work, span, most = st.columns(3)
work.metric("Work", f"{spread.work:.3f} s", help="Every task's time added up: what one worker would take.")
span.metric(
    "Span", f"{spread.span:.3f} s",
    help="The longest chain of tasks that each wait for the one before: no number of workers runs faster. "
    "**Span** in the graph's bar highlights it.",
)
most.metric(
    "Work / span", f"{spread.parallelism:.1f}x",
    help="The most any number of workers can gain over one; the Speed-up page predicts 1 to 64 workers.",
)
st.caption(
    "**Find a tile's tasks**: click a tile in the picture; its tasks light up in the graph. **Click a task** "
    "to see its tile and the border it reads from its neighbours. **Play** replays the run: each task and "
    "tile goes from waiting (grey) to running (outlined) to done (in its stage's colour), and the timeline "
    "below shows one row per worker thread, one bar per task."
)
picture = preview_png(
    ("stitched", folder), lambda: to_display(context.stitch_run.stitched_preview), max_side=PICTURE_SIDE
)
show_task_view(
    graph, key="tasks-page", run=run, picture=picture,
    signature=repr((folder, chain_key, run.where, run.wall)), span=spread.span_tasks,
)
st.caption(
    f"The run was recorded when this page first opened for this image, grid and chain, on {where_words(run)}, "
    "and is kept for every visitor: a teammate opening the same link sees the same replay. It runs the whole "
    "pipeline at once, stages overlapping, where the step pages time each step alone from its input kept in "
    "memory: their wall times do not add up to this one. The Speed-up page times the same tasks on threads."
)

end_page(context)
