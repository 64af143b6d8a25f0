import pandas as pd
import streamlit as st

from ui.page import end_page, start_page
from ui.services.pages import TILES
from ui.services.previews import mosaic
from ui.views import show_preview, stage_details, tiles_zip

context = start_page(TILES)
tile_files = context.tile_files
rows, cols = tile_files.grid

st.title(TILES.title)
st.write(
    f"The image was split into {rows} x {cols} tile files, as if each part lived on its own "
    "machine. Dask reads each file lazily with `dask_image.imread`: one small array per tile."
)
picture, details = st.columns([3, 2], gap="large")
with picture:
    show_preview(
        ("tiles", str(tile_files.folder)), lambda: mosaic(context.stitch_run.tile_previews),
        caption=f"{context.image.label}: {rows} x {cols} tiles",
    )

files = pd.DataFrame(
    [
        {
            "file": tile_files.path(r, c).name,
            "row": r,
            "column": c,
            "pixels (h x w)": " x ".join(str(n) for n in tile_files.tile_shape(r, c)[:2]),
            "size on disk (kB)": round(tile_files.path(r, c).stat().st_size / 1000, 1),
        }
        for r in range(rows)
        for c in range(cols)
    ]
)
with picture:
    st.dataframe(files, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(files)))
    st.download_button(
        f"Download the tiles (zip, {files['size on disk (kB)'].sum() / 1000:,.1f} MB)",
        lambda: tiles_zip(tile_files), file_name="tiles.zip", mime="application/zip",
        on_click="ignore",  # no rerun: it would replace the other buttons' files mid-click
    )

tile_arrays = [tile for row in context.pipeline.tile_arrays for tile in row]
with details:
    stage_details(
        tile_arrays, f"Tile {tile_files.path(0, 0).name}", "Reading: task time",
        context.stitch_run.seconds.get("read", 0.0),
        f"Task time: how long the read tasks computed, summed over threads, on {context.ran_on}. "
        "The tasks counted are every task from the tile files to this stage.",
        ("tiles", str(tile_files.folder)), "tiles.dot",
        pipeline=context.pipeline,
    )

end_page(context)
