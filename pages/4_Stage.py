import streamlit as st

from core.outputs.notebook import step_code
from core.pipeline import MIN_CHUNKS_PER_AXIS, MIN_FILTER_CHUNK, STAGES, ResultKind
from ui.page import end_page, start_step_page
from ui.progress import on_page
from ui.services.pages import step_number, step_title
from ui.services.previews import full_resolution_png, to_display
from ui.services.runs import region_table_of, step_histogram, step_key
from ui.services.zoom_pyramids import step_picture, stitched_picture
from ui.views import show_preview, show_step_histogram, stage_details
from ui.zoom import pixel_zoom_section

HALF_WIDTH = 1000  # pixels: the before and after pictures share the page's width
PICTURE_WORDS = {
    ResultKind.VALUES: "{lo:g} black, {hi:g} white",
    ResultKind.MASK: "1 white, 0 black",
    ResultKind.LABELS: "the regions in colour (ten colours, repeated), the background black",
}

context = start_step_page()
index, chain = context.step_index, context.settings.chain
step, step_run = chain[index], context.step_runs[index]
stage, number, folder = STAGES[step.stage], step_number(index), str(context.tile_files.folder)
previous_run = context.step_runs[index - 1] if index else None
step_input = context.pipeline.steps[index - 1] if index else context.pipeline.stitched
output = context.pipeline.steps[index]

st.title(step_title(step, index))
st.write(stage.about)
st.caption(f"This step, as the link and the command line write it: `{step.text(STAGES)}`")
code_line = step_code(context.pipeline, index)
if code_line:
    st.code(code_line, language="python")
    st.caption("This step as the notebook on the Home page writes it, in plain dask, dask-image or scikit-image.")
if output.numblocks != step_input.numblocks:
    merged, before = output.numblocks, step_input.numblocks
    st.caption(
        f"This stage runs on {merged[0]} x {merged[1]} chunks rather than the {before[0]} x {before[1]} "
        f"{'tiles' if index == 0 else 'chunks of its input'}: every task costs about a millisecond of "
        f"scheduling on a cluster, so neighbouring tiles are merged until chunks are {MIN_FILTER_CHUNK} "
        f"pixels a side, keeping at least {MIN_CHUNKS_PER_AXIS} chunks per axis. The result is the same."
    )

before_column, after_column = st.columns(2)
with before_column:
    if previous_run is None:
        show_preview(
            ("stitched", folder), lambda: to_display(context.stitch_run.stitched_preview),
            caption="Before: the stitched grayscale image", max_side=HALF_WIDTH,
        )
    else:
        show_preview(
            ("step-picture", *step_key(context.tile_files, chain, index - 1)), lambda: previous_run.picture,
            caption=f"Before: the output of {step_title(chain[index - 1], index - 1)}", max_side=HALF_WIDTH,
        )
with after_column:
    lo, hi = step_run.value_range
    show_preview(
        ("step-picture", *step_key(context.tile_files, chain, index)), lambda: step_run.picture,
        caption=f"After: {PICTURE_WORDS[step_run.kind].format(lo=lo, hi=hi)}", max_side=HALF_WIDTH,
    )

if previous_run is None:
    zoom_before = stitched_picture(context.tile_files, context.stitch_run, "the stitched grayscale")
else:
    zoom_before = step_picture(
        context.tile_files, chain, index - 1, previous_run, step_title(chain[index - 1], index - 1)
    )
pixel_zoom_section(
    zoom_before, step_picture(context.tile_files, chain, index, step_run, step_title(step, index)),
    context.scheduler, key=f"zoom-step{number}",
)

histogram_column, details = st.columns([3, 2], gap="large")
with histogram_column:
    show_step_histogram(
        step, step_run,
        lambda relative: step_histogram(
            context.tile_files, chain, index + relative, context.stitch_run, context.step_runs, context.scheduler,
            on_page,
        ),
        step_key(context.tile_files, chain, index),
        step_key(context.tile_files, chain, index - 1) if index else (folder, ()),
    )
    st.download_button(
        "Download the result (PNG, full resolution)",
        lambda: full_resolution_png(step_run.output, step_run.kind, step_run.value_range, scheduler=context.scheduler),
        file_name=f"step{number}-{step.stage}.png", mime="image/png",
        on_click="ignore",  # no rerun: it would replace the other buttons' files mid-click
    )
    if step_run.regions is not None:
        st.subheader("Regions")
        st.metric("Regions found", f"{step_run.regions:,}")
        table = region_table_of(
            context.tile_files, chain, index, step_run, context.stitch_run, context.scheduler, on_page
        )
        st.dataframe(table, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(table)))
        st.caption(
            "One row per region: its area in pixels, its centroid, its bounding box (bottom and right "
            "one past the region) and the mean of the grayscale image over it."
        )
        st.download_button(
            "Download the region table (CSV)", lambda: table.to_csv(index=False),
            file_name=f"step{number}-regions.csv", mime="text/csv", on_click="ignore",
        )

if step_run.deferred:
    timed = (
        f"Wall time: the preview alone. {stage.title} acts on each pixel alone, so its preview is its "
        "input's preview with the step applied, here on the server; the full-resolution output stays lazy on "
        f"its input, kept in memory on {context.ran_on}, and is computed where it is needed: by the next step, "
        "a download, the zoom."
    )
else:
    timed = (
        f"Wall time: from starting this step on the full image, from the previous stage's output kept in "
        f"memory, to having its preview{'' if step_run.histogram is None else ' and histogram'}, on "
        f"{context.ran_on}."
    )
with details:
    stage_details(
        output, f"Output of {stage.title}", "This step: wall time", step_run.wall,
        f"{timed} The tasks counted are every task from the tile files to this step: the whole pipeline's, "
        "for the last step.",
        ("step-graph", *step_key(context.tile_files, chain, index)), f"step{number}-{step.stage}.dot",
        pipeline=context.pipeline,
    )

end_page(context)
