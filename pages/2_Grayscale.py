import streamlit as st

from core.previews import mosaic
from ui.run import start_page
from ui.views import show_preview, stage_details

run = start_page("Grayscale")
rows, cols = run.tiles.grid

st.title("2 · Grayscale, tile by tile")
st.write(
    "Each tile becomes grayscale on its own with `map_blocks(rgb2gray)`: one task per tile, "
    "run in parallel. Calling `rgb2gray` on the whole dask array, as the tutorial does, "
    "would compute everything at once and return a NumPy array."
)
picture, details = st.columns([3, 2], gap="large")
with picture:
    show_preview(
        ("gray", str(run.tiles.folder)), lambda: mosaic(run.gray.gray_previews),
        caption=f"{rows} x {cols} grayscale tiles",
    )

gray = [tile for row in run.pipeline.gray for tile in row]
with details:
    stage_details(
        gray, "Grayscale tile (0, 0)", "Grayscale time", run.gray.seconds.get("grayscale", 0.0),
        "Seconds the grayscale tasks ran, summed over threads and workers.",
        ("gray", str(run.tiles.folder)), "grayscale.dot",
    )
