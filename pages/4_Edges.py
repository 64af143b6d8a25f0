import streamlit as st

from core import MIN_CHUNKS_PER_AXIS, MIN_SOBEL_CHUNK, merge_small_chunks
from core.previews import clipped_preview, full_resolution_png, to_display
from ui.run import start_page
from ui.state import clip_histogram
from ui.views import show_image, show_preview, stage_details

HALF_WIDTH = 1000  # pixels: the before and after pictures share the page's width

run = start_page("Edges", with_edges=True)
lo, hi = run.settings.clip
mode = run.settings.sobel

st.title("4 · Sobel edges, clipped")
st.write(
    "`dask_image.ndfilters.sobel` runs on every chunk with a one-pixel overlap borrowed from "
    "its neighbours, so tile borders leave no seams: the result equals SciPy's Sobel on the "
    f"whole image. Then the values are clipped to [{lo:g}, {hi:g}], shown from black to white."
)
tiles, chunks = run.pipeline.stitched.numblocks, merge_small_chunks(run.pipeline.stitched).numblocks
if chunks != tiles:
    st.caption(
        f"The filter runs on {chunks[0]} x {chunks[1]} chunks rather than the {tiles[0]} x "
        f"{tiles[1]} tiles: every task costs about a millisecond of scheduling on a cluster, so "
        f"neighbouring tiles are merged until chunks are {MIN_SOBEL_CHUNK} pixels a side, keeping "
        f"at least {MIN_CHUNKS_PER_AXIS} chunks per axis. The result is the same."
    )
before, after = st.columns(2)
with before:
    show_preview(
        ("stitched", str(run.tiles.folder)), lambda: to_display(run.gray.stitched_preview),
        caption="Before: stitched grayscale", max_side=HALF_WIDTH,
    )
with after:
    show_image(
        clipped_preview(run.edges, lo, hi), caption=f"After: Sobel {mode}, clipped to [{lo:g}, {hi:g}]",
        max_side=HALF_WIDTH,
    )

histogram, details = st.columns([3, 2], gap="large")
with histogram:
    st.subheader("Where the Sobel values lie")
    show_image(clip_histogram(run).render(lo, hi))
    st.caption(
        "Every pixel of the full image counts. Move the clip range in the sidebar: "
        "the filter does not run again."
    )
    st.download_button(
        "Download the edges (PNG, full resolution)",
        lambda: full_resolution_png(
            run.gray.stitched, mode, lo, hi, run.tiles.folder.parent, scheduler=run.scheduler
        ),
        file_name=f"edges-{mode}.png", mime="image/png",
    )

clipped = run.clipped()
with details:
    stage_details(
        clipped, "Clipped edges", "Sobel time", run.edges.wall,
        "Wall-clock seconds of the Sobel pass over the full image (with its histogram).",
        ("edges",) + run.graph_key, f"edges-{mode}.dot",
    )
