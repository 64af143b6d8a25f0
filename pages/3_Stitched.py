import streamlit as st

from ui.page import end_page, start_page
from ui.services.pages import STITCHED
from ui.services.previews import to_display
from ui.services.zoom_pyramids import photo_picture, stitched_picture
from ui.views import show_preview, stage_details
from ui.zoom import pixel_zoom_section

context = start_page(STITCHED)
folder = str(context.tile_files.folder)
rows, cols = context.tile_files.grid

st.title(STITCHED.title)
st.write(
    f"`dask.array.block` puts the {rows * cols} grayscale tiles back together. Nothing is "
    "copied: the tiles become the chunks of one large array, ready for filters that look "
    "across tile borders."
)
height, width = context.pipeline.stitched.shape
picture, details = st.columns([3, 2], gap="large")
with picture:
    show_preview(
        ("stitched", folder), lambda: to_display(context.stitch_run.stitched_preview),
        caption=f"{width} x {height} pixels, {rows} x {cols} chunks",
    )
stitching = (
    "microseconds, since each only hands a tile on as a chunk of the stitched array, copying nothing"
    if rows * cols > 1 else "none ran: one tile is the stitched image as it is"
)
with details:
    stage_details(
        context.pipeline.stitched, "Stitched image", "Stitching: task time", context.stitch_run.seconds.get("stitch", 0.0),
        f"Task time: how long the stitching tasks computed, summed over threads, on {context.ran_on}: "
        f"{stitching}. The tasks counted are every task from the tile files to this stage.",
        ("stitched", folder), "stitched.dot",
        pipeline=context.pipeline,
    )

pixel_zoom_section(
    photo_picture(context.image.digest, context.image.pixels, "the image as loaded"),
    stitched_picture(context.tile_files, context.stitch_run, "the stitched grayscale"),
    context.scheduler, key="zoom-stitched",
)

end_page(context)
