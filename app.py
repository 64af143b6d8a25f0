import streamlit as st

from core import task_count
from core.previews import clipped_preview, mosaic, to_display
from ui.run import TITLE, start_page
from ui.views import show_image

run = start_page("Home", with_edges=True)
rows, cols = run.tiles.grid
lo, hi = run.settings.clip
pipeline = run.pipeline

st.title(TITLE)
st.write(
    "This app splits an image into a grid of tile files, as if each part lived on a different "
    "machine, and lets Dask read the tiles back, turn them to grayscale, stitch them and find "
    "edges with a Sobel filter, in parallel. Each page shows one stage: its result, its Dask "
    "array, how long it took and the task graph Dask ran."
)
st.caption(f"Now showing: {run.image.label}, {rows} x {cols} tiles, Sobel {run.settings.sobel}.")

stages = [
    ("pages/1_Tiles.py", "1 · Tiles", mosaic(run.gray.tile_previews),
     run.gray.seconds.get("read", 0.0), [t for row in pipeline.tiles for t in row]),
    ("pages/2_Grayscale.py", "2 · Grayscale", mosaic(run.gray.gray_previews),
     run.gray.seconds.get("grayscale", 0.0), [g for row in pipeline.gray for g in row]),
    ("pages/3_Stitched.py", "3 · Stitched", to_display(run.gray.stitched_preview),
     run.gray.seconds.get("stitch", 0.0), pipeline.stitched),
    ("pages/4_Edges.py", "4 · Edges", clipped_preview(run.edges, lo, hi),
     run.edges.wall, run.clipped()),
]
for column, (page, label, picture, seconds, arrays) in zip(st.columns(len(stages)), stages):
    with column:
        st.page_link(page, label=label)
        show_image(picture)
        st.caption(f"{seconds:.2f} s · {task_count(arrays):,} tasks")
st.caption(
    "Tiles, grayscale and stitching: seconds their tasks ran, summed over threads. Edges: "
    "wall-clock seconds of the Sobel filter over the full image. Tasks: the size of each "
    "stage's graph, from the tile files on."
)
