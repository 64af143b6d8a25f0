import streamlit as st

from core import task_count
from core.previews import clipped_preview, mosaic, to_display
from ui.run import TITLE, start_page
from ui.views import show_image, show_preview

THUMBNAIL = 480  # pixels: four pictures share the page's width

run = start_page("Home", with_edges=True)
rows, cols = run.tiles.grid
lo, hi = run.settings.clip
pipeline, gray, folder = run.pipeline, run.gray, str(run.tiles.folder)

st.title(TITLE)
st.write(
    "This app splits an image into a grid of tile files, as if each part lived on a different "
    "machine, and lets Dask read the tiles back, turn them to grayscale, stitch them and find "
    "edges with a Sobel filter, in parallel. Each page shows one stage: its result, its Dask "
    "array, how long it took and the task graph Dask ran."
)
st.caption(f"Now showing: {run.image.label}, {rows} x {cols} tiles, Sobel {run.settings.sobel}.")

stages = [
    ("pages/1_Tiles.py", "1 · Tiles", ("tiles", folder), lambda: mosaic(gray.tile_previews),
     gray.seconds.get("read", 0.0), [t for row in pipeline.tiles for t in row]),
    ("pages/2_Grayscale.py", "2 · Grayscale", ("gray", folder), lambda: mosaic(gray.gray_previews),
     gray.seconds.get("grayscale", 0.0), [g for row in pipeline.gray for g in row]),
    ("pages/3_Stitched.py", "3 · Stitched", ("stitched", folder), lambda: to_display(gray.stitched_preview),
     gray.seconds.get("stitch", 0.0), pipeline.stitched),
    ("pages/4_Edges.py", "4 · Edges", None, lambda: clipped_preview(run.edges, lo, hi),
     run.edges.wall, run.clipped()),
]
for column, (page, label, key, picture, seconds, arrays) in zip(st.columns(len(stages)), stages):
    with column:
        st.page_link(page, label=label)
        if key is None:  # depends on the clip range: drawn afresh
            show_image(picture(), max_side=THUMBNAIL)
        else:
            show_preview(key, picture, max_side=THUMBNAIL)
        st.caption(f"{seconds:.2f} s · {task_count(arrays):,} tasks")
st.caption(
    "Tiles, grayscale and stitching: seconds their tasks ran, summed over threads. Edges: "
    "wall-clock seconds of the Sobel filter over the full image. Tasks: the size of each "
    "stage's graph, from the tile files on."
)
