import streamlit as st

from core.previews import clipped_preview, full_resolution_edges, to_display
from ui.plots import histogram_figure
from ui.run import start_page
from ui.views import array_facts, png_bytes, show_graph, show_image, stage_time

run = start_page("Edges", with_edges=True)
lo, hi = run.settings.clip
mode = run.settings.sobel

st.title("4 · Sobel edges, clipped")
st.write(
    "`dask_image.ndfilters.sobel` runs on every chunk with a one-pixel overlap borrowed from "
    "its neighbours, so tile borders leave no seams: the result equals SciPy's Sobel on the "
    f"whole image. Then the values are clipped to [{lo:g}, {hi:g}], shown from black to white."
)
before, after = st.columns(2)
with before:
    show_image(to_display(run.gray.stitched_preview), caption="Before: stitched grayscale")
with after:
    show_image(clipped_preview(run.edges, lo, hi), caption=f"After: Sobel {mode}, clipped to [{lo:g}, {hi:g}]")

histogram, details = st.columns([3, 2], gap="large")
with histogram:
    st.subheader("Where the Sobel values lie")
    st.pyplot(histogram_figure(run.edges.counts, run.edges.bin_edges, lo, hi))
    st.caption(
        "Every pixel of the full image counts. Move the clip range in the sidebar: "
        "the filter does not run again."
    )
    st.download_button(
        "Download the edges (PNG, full resolution)",
        lambda: png_bytes(full_resolution_edges(run.gray.stitched, mode, lo, hi)),
        file_name=f"edges-{mode}.png", mime="image/png",
    )

clipped = run.clipped()
with details:
    array_facts(clipped, "Clipped edges")
    stage_time(
        "Sobel time", run.edges.wall, clipped,
        "Wall-clock seconds of the Sobel pass over the full image (with its histogram).",
    )
    show_graph(("edges",) + run.graph_key, clipped, f"edges-{mode}.dot")
