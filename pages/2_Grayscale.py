import streamlit as st

from ui.page import end_page, start_page
from ui.services.pages import GRAYSCALE
from ui.services.previews import mosaic
from ui.views import show_preview, stage_details

context = start_page(GRAYSCALE)
folder = str(context.tile_files.folder)
rows, cols = context.tile_files.grid

st.title(GRAYSCALE.title)
st.write(
    "Each tile becomes grayscale on its own with `map_blocks(rgb2gray)`: one task per tile, "
    "run in parallel. Calling `rgb2gray` on the whole dask array, as the tutorial does, "
    "would compute everything at once and return a NumPy array."
)
picture, details = st.columns([3, 2], gap="large")
with picture:
    show_preview(
        ("gray", folder), lambda: mosaic(context.stitch_run.gray_previews),
        caption=f"{rows} x {cols} grayscale tiles",
    )

gray_tiles = [tile for row in context.pipeline.gray_tiles for tile in row]
with details:
    stage_details(
        gray_tiles, "Grayscale tile (0, 0)", "Grayscale: task time", context.stitch_run.seconds.get("grayscale", 0.0),
        f"Task time: how long the grayscale tasks computed, summed over threads, on {context.ran_on}. "
        "The tasks counted are every task from the tile files to this stage.",
        ("gray", folder), "grayscale.dot",
        pipeline=context.pipeline,
    )

end_page(context)
