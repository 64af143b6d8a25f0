import streamlit as st

from core.previews import to_display
from ui.run import start_page
from ui.views import show_preview, stage_details

run = start_page("Stitched")
rows, cols = run.tiles.grid

st.title("3 · Stitched into one image")
st.write(
    f"`dask.array.block` puts the {rows * cols} grayscale tiles back together. Nothing is "
    "copied: the tiles become the chunks of one large array, ready for filters that look "
    "across tile borders."
)
height, width = run.pipeline.stitched.shape
picture, details = st.columns([3, 2], gap="large")
with picture:
    show_preview(
        ("stitched", str(run.tiles.folder)), lambda: to_display(run.gray.stitched_preview),
        caption=f"{width} x {height} pixels, {rows} x {cols} chunks",
    )
with details:
    stage_details(
        run.pipeline.stitched, "Stitched image", "Stitching time", run.gray.seconds.get("stitch", 0.0),
        "Seconds the stitching tasks ran, summed over threads and workers.",
        ("stitched", str(run.tiles.folder)), "stitched.dot",
    )
