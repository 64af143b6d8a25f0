import pandas as pd
import streamlit as st

from core.pipeline import MIN_FILTER_CHUNK, chain_text
from ui.page import end_page, show_errors, start_page
from ui.plots import grid_figure, speedup_figure
from ui.prediction import predicted_scaling, show_prediction
from ui.progress import on_page
from ui.services.clock import duration
from ui.services.cluster import runner
from ui.services.pages import SPEEDUP
from ui.services.scaling import GRID_SIZES
from ui.services.speedup_notes import grid_lesson, speedup_lesson
from ui.services.sweeps import SWEEP_REPEATS, grid_scaling, worker_scaling
from ui.views import show_figure

context = start_page(SPEEDUP)
rows, cols = context.tile_files.grid
chain = context.settings.chain
chain_key = tuple(chain_text(chain))

st.title(SPEEDUP.title)
st.write(
    f"How much faster does the pipeline run with more workers? **Measure** times it on 1, 2, … "
    f"worker threads, up to the cores this server may use, for {context.image.label} in {rows} x "
    f"{cols} tiles and the chain in the sidebar. If the work divided perfectly, k workers would "
    "take 1/k of one worker's time: the dashed line. It never quite does: whatever cannot run "
    "side by side (handing out tasks, "
    "Python code that holds the GIL, the memory bus all threads share) stays as long as it "
    "was, and by Amdahl's law that serial fraction caps the speed-up at 1 / fraction."
)
where = (
    "Measured with Dask's threaded scheduler in the server process, whatever the other pages run "
    "on: the local cluster's workers are threads of this process too, so these are the same "
    "cores, without the cluster's scheduling cost per task and without other visitors' tasks "
    f"queued in between. Each point is the fastest of {SWEEP_REPEATS} runs. The other pages' times ran on "
    f"{context.ran_on}, one stage at a time and with their previews, so they differ from these."
)
if runner().kind == "remote":
    where += " The remote cluster's workers are not measured here: only this server's cores."
st.caption(where)

measure_column, stop_column, _ = st.columns([1, 1, 5])
measure = measure_column.button("Measure", type="primary", key="measure_speedup", width="stretch")
stop = stop_column.button(
    "Stop measuring", key="stop_speedup", width="stretch",
    help="Stops a measurement in progress (so does changing a setting or leaving the page).",
)
if stop:
    st.info("Stopped: an unfinished measurement keeps nothing. Press Measure to start again.")
with show_errors("Could not measure"):
    workers = worker_scaling(context.tile_files, chain, measure=measure, watch=on_page)
    grids = grid_scaling(context.image, chain, measure=measure, watch=on_page)
if workers is None and grids is None and not stop:
    st.info(
        "Nothing measured yet for this image, grid and chain. A measurement takes a few "
        "seconds, and is kept for every visitor of this server."
    )

prediction = None
if workers is not None:
    with show_errors("Could not predict"):
        prediction = predicted_scaling(context, on_page)

if workers is not None:
    most = workers.points[-1]
    st.subheader(f"On 1 to {most.workers} worker threads")
    st.caption(
        f"Wall time of the whole pipeline, {most.pipeline_tasks:,} tasks as the Tasks page counts them, on "
        f"threads in the server; each run also sums its result ({most.tasks - most.pipeline_tasks:,} tasks "
        "more), which stands in for using it."
    )
    one, many, speedup, serial = st.columns(4)
    one.metric("1 worker", duration(workers.walls[0]), help="Wall time on 1 thread.")
    many.metric(f"{most.workers} workers", duration(most.wall), help=f"Wall time on {most.workers} threads.")
    speedup.metric("Speed-up", f"{workers.speedups[-1]:.2f}x", help=f"Ideal: {most.workers}x")
    if workers.serial_fraction is not None:
        fraction = workers.serial_fraction
        serial.metric(
            "Serial fraction (Amdahl)", f"{fraction:.0%}",
            help="Fitted to the wall times: the share of one worker's time that more workers did not "
            "shorten. " + (f"It caps the speed-up at {1 / fraction:.1f}x." if fraction > 0 else "No cap seen."),
        )
    st.markdown(speedup_lesson(workers))
    show_figure(
        ("speedup", str(context.tile_files.folder), chain_key, tuple(workers.walls), prediction and prediction.spread.measured),
        lambda: speedup_figure(workers, prediction),
    )
    st.caption(
        "Right: every bar adds up the time each task ran, over all threads (task time). If the work divided "
        "perfectly the bars would keep one height as k grows; where they grow, the threads slowed "
        "each other down (memory bandwidth, the GIL, other programs on the machine), and that time "
        "is lost to parallelism. Other: summing the chain's result, which stands in for using it, so "
        "that nothing full-sized is gathered."
    )
    with st.expander("The numbers"):
        st.dataframe(
            pd.DataFrame(
                {
                    "workers": workers.workers,
                    "wall time (ms)": [round(1000 * w, 2) for w in workers.walls],
                    "ideal (ms)": [round(1000 * w, 2) for w in workers.ideal_walls],
                    "speed-up": [round(s, 2) for s in workers.speedups],
                    "task time (ms)": [round(1000 * p.task_seconds, 2) for p in workers.points],
                    "tasks": [p.pipeline_tasks for p in workers.points],
                    "tasks run, with the sum": [p.tasks for p in workers.points],
                }
            ),
            hide_index=True,
        )

if prediction is not None:
    show_prediction(prediction, workers)

if grids is not None:
    st.subheader(f"On grids of {GRID_SIZES[0]} x {GRID_SIZES[0]} to {GRID_SIZES[-1]} x {GRID_SIZES[-1]} tiles")
    figure, numbers = st.columns([3, 2], gap="large")
    with figure:
        show_figure(
            ("grids", context.image.digest, chain_key, tuple(p.wall for p in grids.points)), lambda: grid_figure(grids)
        )
    with numbers:
        st.write(
            "More tiles make more tasks, and each task costs scheduling time of its own whatever "
            "its size: past some grid that overhead outgrows what the parallelism wins. The filters "
            f"merge tiles narrower than {MIN_FILTER_CHUNK} pixels first (see their pages), so their "
            "tasks grow more slowly than the tiles."
        )
        st.markdown(grid_lesson(grids))
        st.dataframe(
            pd.DataFrame(
                {
                    "grid": [f"{p.rows} x {p.cols}" for p in grids.points],
                    "tasks": [p.pipeline_tasks for p in grids.points],
                    "wall time (ms)": [round(1000 * p.wall, 2) for p in grids.points],
                    "task time per task (ms)": [round(1000 * p.task_seconds / p.tasks, 3) for p in grids.points],
                }
            ),
            hide_index=True,
        )
        st.caption(
            f"Wall time of the whole pipeline on {grids.workers} threads in the server. Tasks: the pipeline's, "
            "as the Tasks page counts them; each run also sums its result. Task time per task: what a task "
            "computes on average, summed over threads and divided among every task run."
        )

end_page(context)
