import streamlit as st

from core.observe import task_count
from core.pipeline import chain_text
from ui.page import end_page, start_page
from ui.services.clock import TASK_TIME, WALL_TIME, duration
from ui.services.pages import GRAYSCALE, HOME, STEP_PAGE, STEP_PARAM, STITCHED, TASKS, TILES, step_title
from ui.services.previews import mosaic, to_display
from ui.services.runs import step_key
from ui.views import command_line, show_preview, show_take_home

THUMBNAIL = 480  # pixels: four pictures share the page's width
#: The tutorial this app follows, by its title.
TUTORIAL = "Python图像处理【23】分布式图像处理"
PER_ROW = 4

context = start_page(HOME, all_steps=True)
settings, pipeline, stitched = context.settings, context.pipeline, context.stitch_run
rows, cols = context.tile_files.grid
folder = str(context.tile_files.folder)
chain = settings.chain

st.title(HOME.title)
st.write(
    f"This app follows the tutorial **{TUTORIAL}** (Python image processing, part 23: distributed image "
    "processing). The tutorial splits a photo into 2 x 2 tile files, as if each part lived on a different "
    "machine, reads them back lazily with `dask_image.imread`, turns each to grayscale, stitches them into "
    "one array with `dask.array.block`, finds edges with `dask_image.ndfilters.sobel` and clips them to "
    "[0, 1]. The pages take those steps one at a time, in the sidebar's order: each shows its result, its "
    "Dask array, how long it took and the task graph Dask ran."
)
st.markdown(
    "What the app adds to the tutorial: any grid up to 16 x 16 tiles, and your own photo; a chain of stages "
    "you build in the sidebar (the tutorial's Sobel and clip by default; also Gaussian, median and mean "
    "filters, Prewitt, Laplace, a threshold and labelled regions); every task of the pipeline, and a run "
    "replayed task by task (**Tasks**); where Dask runs, on threads or a cluster (**Cluster**); and what "
    "more workers buy (**Speed-up**)."
)
chain_words = " → ".join(f"`{text}`" for text in chain_text(chain)) or "no stages"
st.caption(f"Now showing: {context.image.label}, {rows} x {cols} tiles; chain: {chain_words}.")

thumbnails = [
    (TILES.file, TILES.label, None, ("tiles", folder), lambda: mosaic(stitched.tile_previews),
     stitched.seconds.get("read", 0.0), TASK_TIME, [t for row in pipeline.tile_arrays for t in row], ""),
    (GRAYSCALE.file, GRAYSCALE.label, None, ("gray", folder), lambda: mosaic(stitched.gray_previews),
     stitched.seconds.get("grayscale", 0.0), TASK_TIME, [g for row in pipeline.gray_tiles for g in row], ""),
    (STITCHED.file, STITCHED.label, None, ("stitched", folder), lambda: to_display(stitched.stitched_preview),
     stitched.seconds.get("stitch", 0.0), TASK_TIME, pipeline.stitched, ""),
]
for index, (step, step_run) in enumerate(zip(chain, context.step_runs)):
    regions = "" if step_run.regions is None else f" · {step_run.regions:,} regions"
    thumbnails.append(
        (STEP_PAGE.file, step_title(step, index), {STEP_PARAM: index + 1},
         ("step-picture", *step_key(context.tile_files, chain, index)), lambda step_run=step_run: step_run.picture,
         step_run.wall, WALL_TIME, pipeline.steps[index], regions)
    )
for first in range(0, len(thumbnails), PER_ROW):
    for column, (page, label, query, key, picture, seconds, clock_kind, arrays, extra) in zip(
        st.columns(PER_ROW), thumbnails[first:first + PER_ROW]
    ):
        with column:
            st.page_link(page, label=label, query_params=query)
            show_preview(key, picture, max_side=THUMBNAIL)
            st.caption(f"{duration(seconds)} {clock_kind} · {task_count(arrays):,} tasks{extra}")
st.caption(
    f"Times, on {context.ran_on}: for the tiles, grayscale and stitching, {TASK_TIME}, how long their tasks "
    f"computed, summed over threads; for each step, {WALL_TIME}, from the previous stage's output kept in "
    "memory to the step's preview. Tasks: every task from the tile files to that stage, so the last step's "
    "count is the whole pipeline's, as the Tasks and Speed-up pages count it."
)
st.page_link(
    TASKS.file, label="Tasks: every task of this pipeline, and a run replayed task by task",
    icon=":material/account_tree:",
)

st.subheader("The same chain on a big image, from the command line")
st.code(command_line(context.image.file_name, settings.grid, chain), language="bash")
if chain:
    st.caption(
        f"Replace `{context.image.file_name}` with your image's path. It writes the tiles, the "
        "result at full resolution and its task graph into `out/` (see `python -m core --help`)."
    )
else:
    st.caption(
        "The command line has no empty chain: without `--stage` it runs the tutorial's Sobel "
        "and clip. Add a stage in the sidebar to get a command for it."
    )

st.subheader("Take it home: the chain as a notebook")
st.write(
    "The same steps as plain dask, dask-image and scikit-image code, with a note before each one: "
    "it splits the image into tile files, reads them back, and runs the chain, from any folder "
    "where the packages of `requirements.txt` are installed. It reads the image from this server's "
    "disk: on another machine, point its `IMAGE` at your copy."
)
show_take_home(pipeline, None if context.image.tiles else context.image.file, context.image.label)

end_page(context)
