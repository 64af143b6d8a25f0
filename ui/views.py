"""How the pages show a stage: its picture, its dask array, its time and its task graph."""

from __future__ import annotations

import io
import shlex
import zipfile
from collections.abc import Callable

import dask.array as da
import numpy as np
import streamlit as st

from core.observe import TaskGraph, task_count, task_graph_of
from core.outputs.notebook import notebook_text, pipeline_cells, script_text
from core.outputs.png import write_png
from core.pipeline import STAGES, Pipeline, ResultKind, Step, TileSet, chain_text
from ui.services.previews import Histogram, StepRun, preview_stride

from .plots import figure_png
from .services.clock import duration
from .services.runs import value_histogram
from .services.settings import RANGE_PARAMS, has_range
from .services.store import BoundedStore
from .task_view import show_task_view

__all__ = [
    "PICTURE_STYLE",
    "array_facts",
    "command_line",
    "png_bytes",
    "preview_png",
    "show_figure",
    "show_graph",
    "show_image",
    "show_preview",
    "show_step_histogram",
    "show_take_home",
    "stage_details",
    "stage_time",
    "task_graph_for",
    "tiles_zip",
]


#: The stage pages' graphs open on every task up to this many (the whole 16 x 16 pipeline
#: of a sample is 1,716), on the overview beyond: a graph of tens of thousands of tasks
#: takes the browser a long while to lay out, and is still one click away.
TASKS_LAID_OUT_FIRST = 5000
#: Pixels: the graph shares a column of the stage pages with the array's facts.
STAGE_GRAPH_HEIGHT = 420


@st.cache_resource
def _task_graphs() -> BoundedStore:
    return BoundedStore(64)  # a few hundred bytes a task


def png_bytes(pixels: np.ndarray) -> bytes:
    """PNG, not JPEG: edge maps are thin lines that JPEG blurs."""
    buffer = io.BytesIO()
    write_png(pixels, buffer)
    return buffer.getvalue()


#: The widest picture ``st.image`` sends as it is: it resizes a wider one, with
#: interpolation, and encodes it again.
PICTURE_MAX_SIDE = 1460


def fit(pixels: np.ndarray, max_side: int | None) -> np.ndarray:
    """Every n-th pixel, so that the long side is at most ``max_side`` (and at most
    ``PICTURE_MAX_SIDE``).

    Pictures shown in half or quarter columns need fewer pixels than the screen-sized
    previews, and a smaller PNG keeps a rerun on a slider change fast.
    """
    stride = preview_stride(pixels.shape, min(max_side or PICTURE_MAX_SIDE, PICTURE_MAX_SIDE))
    return pixels[::stride, ::stride]


#: A caption as wide as its picture at most, wrapping: a longer one stretched the picture
#: (a 384-pixel label picture drawn 425 wide under its caption). Streamlit names the
#: caption only by its test id; ``tests/test_browser_layout.py`` fails if that changes.
PICTURE_STYLE = '<style>[data-testid="stImageCaption"] {width: 0 !important; min-width: 100% !important;}</style>'


def show_png(png: bytes, caption: str | None = None) -> None:
    """A PNG as it is. Without ``output_format``, ``st.image`` decodes a picture without
    alpha and sends it as a JPEG encoded afresh on every run: blurred edges and masks,
    and 10-40 ms of a rerun."""
    st.image(png, caption=caption, output_format="PNG")


def show_image(pixels: np.ndarray, caption: str | None = None, *, max_side: int | None = None) -> None:
    """At its own size, or narrower to fit: previews are already screen-sized."""
    show_png(png_bytes(fit(pixels, max_side)), caption)


@st.cache_resource
def _encoded_previews() -> BoundedStore:
    return BoundedStore(64)


def preview_png(key: tuple, make_pixels, *, max_side: int | None = None) -> bytes:
    """The PNG of a picture that depends only on ``key``: built and encoded once."""
    return _encoded_previews().get_or_compute((*key, max_side), lambda: png_bytes(fit(make_pixels(), max_side)))


def show_preview(key: tuple, make_pixels, caption: str | None = None, *, max_side: int | None = None) -> None:
    """A picture that depends only on ``key``: built and encoded once, then reused."""
    show_png(preview_png(key, make_pixels, max_side=max_side), caption)


def show_figure(key: tuple, draw, caption: str | None = None) -> None:
    """A matplotlib figure that depends only on ``key``: drawn and encoded once, then reused."""
    encoded = _encoded_previews().get_or_compute(("figure", *key), lambda: figure_png(draw()))
    show_png(encoded, caption)


def stage_time(label: str, seconds: float, arrays, note: str) -> None:
    """The stage's time, and how many tasks its graph (from the tile files on) holds;
    ``note`` says what the time measures and where it ran, under them."""
    left, right = st.columns(2)
    left.metric(label, duration(seconds))
    right.metric("Tasks in its graph", f"{task_count(arrays):,}")
    st.caption(note)


def array_facts(array: da.Array, what: str) -> None:
    """Shape, dtype and chunking of a stage's dask array, as a learner would want them."""
    chunk_rows = sorted(set(array.chunks[0]))
    chunk_cols = sorted(set(array.chunks[1]))
    st.markdown(
        f"**{what}**: `dask.array` of shape `{array.shape}`, dtype `{array.dtype}`, "
        f"{array.npartitions:,} chunk{'s' if array.npartitions > 1 else ''} "
        f"({' x '.join(str(n) for n in array.numblocks)}), chunk heights "
        f"{_span(chunk_rows)} and widths {_span(chunk_cols)} pixels."
    )


def _span(sizes: list[int]) -> str:
    return str(sizes[0]) if len(sizes) == 1 else f"{sizes[0]}–{sizes[-1]}"


def task_graph_for(key: tuple, pipeline: Pipeline, arrays) -> TaskGraph:
    """The task graph that computes ``arrays`` (part of ``pipeline``), built once per key."""
    return _task_graphs().get_or_compute(key, lambda: task_graph_of(pipeline, arrays))


def show_graph(key: tuple, arrays, filename: str, *, pipeline: Pipeline) -> None:
    """The task graph of ``arrays``, one box per task, to pan and zoom in the browser (the
    overview, one box per kind of operation, a click away); built once per key."""
    graph = task_graph_for(key, pipeline, arrays)
    n_tasks = len(graph.nodes)
    with st.expander(f"Task graph: {n_tasks:,} tasks", expanded=True):
        st.caption(
            "Each box is a task, named by what it does and where (\"read tile (1, 2)\"), coloured by its "
            "stage; an arrow runs from a task to the tasks that use its result, left to right. Wheel to zoom "
            "(the names show once they can be read), drag to pan, hover over a task for the part of the image "
            "it computes. **Overview**: one box per kind of operation, top to bottom. The Tasks page replays a run."
        )
        # The view's frame is as tall as the page tells it once it is drawn; its box keeps
        # that room meanwhile, so that a frame drawn afresh in a rerun cannot shorten the
        # page and move a visitor scrolled down to it.
        st.html(f"<style>.st-key-stage_graph {{min-height: {STAGE_GRAPH_HEIGHT}px;}}</style>")
        with st.container(key="stage_graph"):
            show_task_view(
                graph, key=f"graph-{filename}", signature=repr(key), height=STAGE_GRAPH_HEIGHT,
                mode="tasks" if n_tasks <= TASKS_LAID_OUT_FIRST else "overview",
            )
        st.download_button(
            "Download the graph (DOT)", graph.dot(), file_name=filename, mime="text/vnd.graphviz",
            key=f"dot-{filename}", on_click="ignore",
        )


def stage_details(
    arrays, what: str, time_label: str, seconds: float, note: str, graph_key: tuple, filename: str,
    *, pipeline: Pipeline,
) -> None:
    """What every stage page shows beside its picture: the dask array, time and graph.
    ``arrays`` are part of ``pipeline``, which says which stage each of their tasks belongs to."""
    first = arrays[0] if isinstance(arrays, list) else arrays
    array_facts(first, what)
    stage_time(time_label, seconds, arrays, note)
    show_graph(graph_key, arrays, filename, pipeline=pipeline)


def show_step_histogram(
    step: Step, step_run: StepRun, histogram_of: Callable[[int], Histogram | None], key: tuple, input_key: tuple
) -> None:
    """A step's values over the full image: a range (clip's) or a level (threshold's) on the
    histogram of the input it cuts, else the step's own values; nothing for masks and
    labels. ``histogram_of(0)`` gives the step's histogram, ``histogram_of(-1)`` its input's,
    asked only for the one drawn (either may be counted then). ``key`` and ``input_key``
    name the step's output and its input, for the drawings' cache."""
    band = tuple(step.values[name] for name in RANGE_PARAMS) if has_range(STAGES[step.stage]) else None
    cut = histogram_of(-1) if band is not None or step_run.level is not None else None
    if cut is not None:
        drawing = value_histogram(("input", *input_key), cut, "value of the step's input")
        text = f"range [{band[0]:g}, {band[1]:g}]" if band else f"threshold {step_run.level:.4g}"
        st.subheader("Where the input's values lie")
        show_image(drawing.render(band=band, level=None if band else step_run.level, text=text))
        st.caption(
            "Every pixel of the full image counts. Change the parameters in the sidebar: the "
            "steps before this one do not run again."
        )
    elif step_run.kind is ResultKind.VALUES and (own := histogram_of(0)) is not None:
        drawing = value_histogram(("output", *key), own, f"{STAGES[step.stage].title} value")
        st.subheader("Where the output's values lie")
        show_image(drawing.render())
        st.caption("Every pixel of the full image counts.")


def tiles_zip(tile_files: TileSet) -> bytes:
    """Every tile file of the set in one zip archive (TIFFs are stored as they are)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for row in tile_files.paths:
            for path in row:
                archive.write(path, arcname=path.name)
    return buffer.getvalue()


def command_line(image_name: str, grid: tuple[int, int], chain: tuple[Step, ...]) -> str:
    """The command that runs the same grid and chain on ``image_name`` (quoted for a shell)."""
    rows, cols = grid
    stages = " ".join(f"--stage {shlex.quote(text)}" for text in chain_text(chain))
    return f"python -m core {shlex.quote(image_name)} --grid {rows}x{cols} {stages}".rstrip()


def show_take_home(pipeline: Pipeline, image_file, title: str) -> None:
    """The chain as a notebook and a script to download (``core.outputs.notebook``), made
    when clicked: what the command line writes as ``pipeline.ipynb`` and ``pipeline.py``;
    ``image_file()`` is the file they read (made when asked for, for a large sample), None
    for an image no single file holds; ``title`` names the picture in the notebook's heading."""
    if image_file is None:
        st.caption("The notebook starts from one image file: this upload is several tiles, so there is none to take.")
        return
    notebook, script = st.columns(2)
    notebook.download_button(
        "Download as a notebook (pipeline.ipynb)", lambda: notebook_text(pipeline_cells(pipeline, image_file(), title)),
        file_name="pipeline.ipynb", mime="application/x-ipynb+json", on_click="ignore", key="download_notebook",
        icon=":material/book:", width="stretch",
    )
    script.download_button(
        "Download as a script (pipeline.py)", lambda: script_text(pipeline_cells(pipeline, image_file(), title)),
        file_name="pipeline.py", mime="text/x-python", on_click="ignore", key="download_script",
        icon=":material/code:", width="stretch",
    )
