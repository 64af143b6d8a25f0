import pandas as pd
import streamlit as st

from core.pipeline.shipped import ShippedTiles
from core.runtime.cluster import MIN_CLUSTER_TILE_PIXELS
from ui.page import end_page, start_page
from ui.plots import WORKER_COLOURS
from ui.services.cluster import cluster_problem, dashboard_reachable, runner
from ui.services.pages import CLUSTER, TASKS
from ui.services.previews import marked_mosaic
from ui.views import show_image

context = start_page(CLUSTER, wait_for_cluster=True)
active = runner(wait=True)
rows, cols = context.tile_files.grid

st.title(CLUSTER.title)
if active.client is None:
    if cluster_problem():  # the sidebar says it too, but this page is where one looks for it
        st.warning(cluster_problem())
    st.write(
        "The pipeline runs on a pool of threads inside the server process: no cluster is "
        "configured (`DASHBOARD_SCHEDULER=threads`), or the configured one could not be "
        "reached. Set `DASHBOARD_SCHEDULER=local` or `DASK_SCHEDULER_ADDRESS` on the server "
        "to use a `distributed` cluster."
    )
    end_page(context)
    st.stop()

workers = active.client.scheduler_info(n_workers=-1)["workers"]
threads = sum(info.get("nthreads", 0) for info in workers.values())
if active.kind == "local":
    where = (
        f"a local Dask cluster: {len(workers)} workers with {threads} threads in all, running inside this "
        "server, and a scheduler that hands them tasks as the `distributed` library does on many machines"
    )
else:
    where = f"a Dask cluster of {len(workers)} workers with {threads} threads in all, whose scheduler is at `{active.address}`"
st.write(
    f"The pipeline runs on {where}. Each tile is read and converted by whichever worker is free, and the "
    "stitched image stays in the workers' memory: only screen-sized previews come back to this app."
)
on_cluster = context.scheduler is active.scheduler
sent = on_cluster and isinstance(context.tile_files, ShippedTiles)
if sent:
    st.info(
        "The workers cannot read this server's tile folder: they have disks of their own, as "
        "separate machines do. Each tile file went to a worker in the task graph, and that "
        "worker keeps it on its own disk; if a worker is lost, the scheduler sends its tiles "
        "to another. Results come back here a screen at a time."
    )
tile_workers = context.stitch_run.tile_workers if on_cluster else {}
gone = sorted(set(tile_workers.values()) - set(workers))  # since the tiles were read
labels = {address: f"worker {i + 1}" for i, address in enumerate([*sorted(workers), *gone])}
table = pd.DataFrame(
    [
        {
            "worker": labels[address],
            "address": address,
            "threads": info.get("nthreads", 0),
            "memory limit (GB)": round(info.get("memory_limit", 0) / 1e9, 2),
        }
        for address, info in sorted(workers.items())
    ]
)
if active.kind == "local":  # in-process addresses (inproc://...) that say nothing to a visitor
    table = table.drop(columns="address")
st.dataframe(table, hide_index=True, width="stretch")
st.page_link(
    TASKS.file, label="The task stream: the last run replayed, one bar per task, one row per worker thread",
    icon=":material/play_circle:",
)
if active.dashboard_link and dashboard_reachable(active.dashboard_link, st.context.url):
    st.link_button("Open Dask's own dashboard", active.dashboard_link)
    st.caption(
        "The dashboard is served by the scheduler: the link works only from a browser that can reach "
        "that address (on the server itself, for a local cluster). The Tasks page replays a run from "
        "its recorded task stream, for anyone who can open this app."
    )
elif active.dashboard_link:
    st.caption(
        "Dask's own dashboard is served by the local cluster on the server's own address (127.0.0.1), "
        "which only a browser on the server itself can open, so it is not linked here. The Tasks page "
        "replays a run from its recorded task stream, for anyone who can open this app."
    )

st.subheader("Which worker holds which tile" if sent else "Which worker read which tile")
if not on_cluster:
    height, width = context.tile_files.tile_shape(0, 0)[:2]
    st.info(
        f"These tiles ({width} x {height} pixels) were read on threads in the server, not on "
        "the cluster: a cluster spends about a millisecond scheduling each task, more than "
        f"reading and converting a tile this small takes. Tiles of at least "
        f"{MIN_CLUSTER_TILE_PIXELS:,} pixels go to the workers: choose a smaller grid or a "
        "larger image. The Speed-up page shows how the time per task grows with the grid."
    )
elif tile_workers:
    readers = [[tile_workers.get((r, c)) for c in range(cols)] for r in range(rows)]
    colour_of = {address: i for i, address in enumerate(labels)}  # the legend's order
    picture, legend = st.columns([3, 2], gap="large")
    with picture:
        show_image(
            marked_mosaic(
                context.stitch_run.tile_previews, [[colour_of.get(a) for a in row] for row in readers],
                [rgb for _, rgb in WORKER_COLOURS],
            ),
            caption=f"Each tile framed in the colour, and numbered with the number, of the worker that "
            f"{'holds' if sent else 'read'} it",
            max_side=900,
        )
    with legend:
        st.markdown(
            "  ".join(
                f":{WORKER_COLOURS[i % len(WORKER_COLOURS)][0]}[**■ {label}**]"
                for i, label in enumerate(labels.values())
            )
        )
        index_of = {label: i for i, label in enumerate(labels.values())}

        def cell_colour(name: str) -> str:
            if name not in index_of:
                return ""
            red, green, blue = WORKER_COLOURS[index_of[name] % len(WORKER_COLOURS)][1]
            return f"background-color: rgba({red}, {green}, {blue}, 0.35)"

        grid = pd.DataFrame(
            [[labels.get(a, "") for a in row] for row in readers],
            index=[f"row {r}" for r in range(rows)],
            columns=[f"col {c}" for c in range(cols)],
        )
        st.dataframe(grid.style.map(cell_colour), width="stretch")
        st.caption(f"The same, as a grid: each cell is a tile, named by the worker that {'holds' if sent else 'read'} it.")
else:
    st.caption("These tiles were read before the cluster started, or on threads.")

end_page(context)
