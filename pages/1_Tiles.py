import pandas as pd
import streamlit as st

from core.previews import mosaic
from ui.run import start_page
from ui.views import show_preview, stage_details, tiles_zip

run = start_page("Tiles")
rows, cols = run.tiles.grid

st.title("1 · Tiles on disk")
st.write(
    f"The image was split into {rows} x {cols} tile files, as if each part lived on its own "
    "machine. Dask reads each file lazily with `dask_image.imread`: one small array per tile."
)
picture, details = st.columns([3, 2], gap="large")
with picture:
    show_preview(
        ("tiles", str(run.tiles.folder)), lambda: mosaic(run.gray.tile_previews),
        caption=f"{run.image.label}: {rows} x {cols} tiles",
    )

files = pd.DataFrame(
    [
        {
            "file": run.tiles.path(r, c).name,
            "row": r,
            "column": c,
            "pixels (h x w)": " x ".join(str(n) for n in run.tiles.tile_shape(r, c)[:2]),
            "size on disk (kB)": round(run.tiles.path(r, c).stat().st_size / 1000, 1),
        }
        for r in range(rows)
        for c in range(cols)
    ]
)
with picture:
    st.dataframe(files, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(files)))
    st.download_button(
        f"Download the tiles (zip, {files['size on disk (kB)'].sum() / 1000:,.1f} MB)",
        lambda: tiles_zip(run.tiles), file_name="tiles.zip", mime="application/zip",
    )

tiles = [tile for row in run.pipeline.tiles for tile in row]
with details:
    stage_details(
        tiles, f"Tile {run.tiles.path(0, 0).name}", "Reading time", run.gray.seconds.get("read", 0.0),
        "Seconds the read tasks ran, summed over threads and workers.",
        ("tiles", str(run.tiles.folder)), "tiles.dot",
    )
