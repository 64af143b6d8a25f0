"""The run as a notebook and a script to take home: the tutorial's steps for this image, grid
and chain, written as the plain dask, dask-image and scikit-image calls they are.

``pipeline.ipynb`` and ``pipeline.py`` hold the same cells: split the image into tile files,
read each lazily with ``dask_image.imread``, grayscale per tile, ``dask.array.block``, each
step of the chain as its stage's code line (``Stage.code`` in the stage table), then
``compute`` and ``result.npy`` in the working folder. A Markdown cell before each step says
what it does and why. The code imports nothing of this project, so that it runs anywhere
the packages of ``requirements.txt`` are installed.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..pipeline.build import Pipeline
from ..pipeline.chain import step_labels
from ..pipeline.loading import loading_code
from ..pipeline.stage_table import STAGES, chain_text
from .formats import OutputFormat, Planned, Result, result_of

__all__ = ["NOTEBOOK", "SCRIPT", "Cell", "notebook_text", "pipeline_cells", "script_text", "step_code", "step_variables"]

#: Graphs with more tasks than this are not drawn: Graphviz would take minutes over a
#: picture nobody can read.
MOST_TASKS_DRAWN = 2000

IMPORTS = """\
import pathlib
import shutil

import dask.array
import dask_image.imread
import dask_image.ndfilters
import dask_image.ndmeasure
import numpy
import PIL.Image
import PIL.ImageOps
import scipy.ndimage
import skimage.color
import skimage.filters
import skimage.util
import tifffile"""

DRAW = f'''\
def draw(array, name):
    """The task graph of ``array``, saved as graph-<name>.svg and shown, where Graphviz's
    dot program is installed."""
    if shutil.which("dot") is None:
        print("Graphviz's dot program is not installed: no task graph drawn")
    elif len(array.__dask_graph__()) > {MOST_TASKS_DRAWN}:
        print(f"{{len(array.__dask_graph__()):,}} tasks: too many to draw readably")
    else:
        return array.visualize(filename=f"graph-{{name}}.svg")'''

OVERLAP_WORDS = (
    "A filter computes each pixel from its neighbours, and at a chunk's border some neighbours "
    "live in the next chunk. dask-image's filters use `map_overlap`: each chunk borrows a strip "
    "of its neighbours' pixels as wide as the filter reaches (one pixel for Sobel, 4 sigma for a "
    "Gaussian), filters the enlarged chunk and trims the strip off again, so the tile borders "
    "leave no seams and the result equals the filter on the whole image. Nothing runs yet: each "
    "line below only adds tasks to the graph."
)


@dataclass(frozen=True)
class Cell:
    """One cell: Markdown or code."""

    kind: str  # "markdown" or "code"
    text: str


def step_variables(chain) -> list[str]:
    """The variable holding each step's output: the step's label as a Python name
    (``gaussian``, then ``gaussian_2`` for a second Gaussian)."""
    return [label.replace(" ", "_") for label in step_labels(chain)]


def step_code(pipeline: Pipeline, index: int) -> str | None:
    """The line the notebook runs for step ``index`` of ``pipeline``'s chain, such as
    ``gaussian = dask_image.ndfilters.gaussian_filter(stitched, sigma=2.0, truncate=4.0)``;
    None for a stage declared without a code line."""
    chain, names = pipeline.chain, step_variables(pipeline.chain)
    step_input = pipeline.steps[index - 1] if index else pipeline.stitched
    line = STAGES[chain[index].stage].code_line(
        names[index - 1] if index else "stitched", chain[index].values, float_input=step_input.dtype == "float32"
    )
    return None if line is None else f"{names[index]} = {line}"


def pipeline_cells(pipeline: Pipeline, image: Path, title: str | None = None) -> list[Cell]:
    """The notebook's cells for ``pipeline`` run on the image file ``image``; ``title``
    names the picture in the heading (by default, the file's name)."""
    result = result_of(pipeline, image)
    return [*_opening_cells(pipeline, result, title), *_tile_cells(pipeline), *_chain_cells(pipeline),
            *_compute_cells(pipeline, result)]


def _opening_cells(pipeline: Pipeline, result: Result, title: str | None) -> list[Cell]:
    """What the notebook does, its imports, ``draw``, and the image decoded."""
    rows, cols = len(pipeline.tile_arrays), len(pipeline.tile_arrays[0])
    words = " → ".join(f"`{text}`" for text in chain_text(pipeline.chain)) or "no further steps"
    return [
        Cell("markdown", f"# {title or result.source.name}, tile by tile\n\n"
             f"Dask processes this image the way the dashboard *Dask, tile by tile* showed: split into "
             f"{rows} x {cols} tile files as if each part lived on its own machine, read back lazily, turned "
             f"to grayscale tile by tile, stitched into one array, then the chain {words}, and computed. "
             "Every line is a plain dask, dask-image or scikit-image call. Run it from any folder: it "
             "writes the tiles into `tiles/` and the result into `result.npy` there."),
        Cell("code", IMPORTS),
        Cell("markdown", "Each step's task graph is drawn where Graphviz's `dot` program is installed "
             "(`apt-get install graphviz`, `brew install graphviz`), and saved beside the result."),
        Cell("code", DRAW),
        Cell("markdown", "## The image\n\n`IMAGE` is the picture this notebook was made for, by its full "
             "path; on another machine, point it at your copy. It is decoded as a photo viewer shows it: "
             "gray or RGB, 8 or 16 bits a channel."),
        Cell("code", f"IMAGE = {json.dumps(str(result.source))}\n{loading_code(result.source)}\n"
             "image.shape, image.dtype"),
    ]


def _tile_cells(pipeline: Pipeline) -> list[Cell]:
    """The tutorial's part: tile files, read lazily, grayscale per tile, stitched."""
    rows, cols = len(pipeline.tile_arrays), len(pipeline.tile_arrays[0])
    colour = pipeline.tile_arrays[0][0].ndim == 3
    return [
        Cell("markdown", "## 1. Split into tile files\n\nEach tile is a file of its own, as if it lived on "
             "another machine. `numpy.array_split` keeps every pixel: where the grid does not divide the "
             "image, the first tiles get one row or column more (the tutorial's `h // n_h` dropped the "
             "rest). Uncompressed TIFF keeps 16-bit colour and is fast to write."),
        Cell("code", f"ROWS, COLS = {rows}, {cols}\n"
             'TILES = pathlib.Path("tiles")\nTILES.mkdir(exist_ok=True)\nnames = []\n'
             "for r, band in enumerate(numpy.array_split(image, ROWS, axis=0)):\n    names.append([])\n"
             "    for c, tile in enumerate(numpy.array_split(band, COLS, axis=1)):\n"
             '        names[r].append(TILES / f"tile_r{r:03d}_c{c:03d}.tif")\n'
             "        tifffile.imwrite(names[r][c], tile)\n[[tile.name for tile in row] for row in names]"),
        Cell("markdown", "## 2. Read each tile lazily\n\n`dask_image.imread.imread` makes a lazy array of "
             "each file: nothing is read until something is computed, and then each tile is read by a task "
             "of its own. One call per file: given a pattern, `imread` assumes that every file has the "
             "first one's shape, which uneven tiles do not."),
        Cell("code", "tiles = [[dask_image.imread.imread(str(name))[0] for name in row] for row in names]\n"
             "tiles[0][0]"),
        Cell("markdown", "## 3. Grayscale, tile by tile\n\n" + (
            "`skimage.color.rgb2gray` given a whole dask array would compute it and hand back NumPy; "
            "`map_blocks` runs it on each tile as a task of its own, so every tile turns gray beside the "
            "others without waiting for the whole image. The colours become float32 first: half the "
            "memory of float64, within 1e-7 of it." if colour else
            "The image is gray already: `map_blocks` makes each tile float32 in [0, 1] as a task of its "
            "own, as the filters expect.")),
        Cell("code", (
            "def to_gray(block):\n    return skimage.color.rgb2gray(skimage.util.img_as_float32(block))\n\n\n"
            "gray_tiles = [[tile.map_blocks(to_gray, drop_axis=2, dtype=numpy.float32) for tile in row] for row in tiles]"
            if colour else
            "gray_tiles = [[tile.map_blocks(skimage.util.img_as_float32, dtype=numpy.float32) for tile in row] "
            "for row in tiles]") + "\ngray_tiles[0][0]"),
        Cell("markdown", "## 4. Stitch\n\n`dask.array.block` joins the grid of tiles into one array whose "
             "chunks are the tiles: nothing is copied, and every step after it works on the whole image "
             "while Dask keeps one task per chunk."),
        Cell("code", 'stitched = dask.array.block(gray_tiles)\ndraw(stitched, "stitched")'),
        Cell("code", "stitched"),
    ]


def _chain_cells(pipeline: Pipeline) -> list[Cell]:
    """Each step of the chain: its note, its code line and its graph, and its array."""
    chain = pipeline.chain
    cells = [Cell("markdown", f"## 5. The chain\n\n{OVERLAP_WORDS}")] if chain else []
    for index, (step, name) in enumerate(zip(chain, step_variables(chain))):
        stage, line = STAGES[step.stage], step_code(pipeline, index)
        cells.append(Cell("markdown", f"### Step {index + 1}: {stage.title}, `{step.text(STAGES)}`\n\n{stage.about}"))
        if line is None:
            line = f"raise NotImplementedError({f'the stage {step.stage} has no code line in its Stage entry'!r})"
        cells += [Cell("code", f'{line}\ndraw({name}, "{name}")'), Cell("code", name)]
    return cells


def _compute_cells(pipeline: Pipeline, result: Result) -> list[Cell]:
    """The one compute, and ``result.npy`` in the type the command line stores."""
    last = step_variables(pipeline.chain)[-1] if pipeline.chain else "stitched"
    stored = f".astype(numpy.{result.kind.dtype.name})" if result.kind.dtype is not None else ""
    return [
        Cell("markdown", "## Compute\n\nOnly now does Dask run anything: `compute` runs every task of the "
             "graph on threads, each as soon as the tasks it needs are done, and gathers the result as one "
             "NumPy array, saved as `result.npy`."),
        Cell("code", f'result = {last}.compute(){stored}\nnumpy.save("result.npy", result)\nresult.shape, result.dtype'),
    ]


def notebook_text(cells: list[Cell]) -> str:
    """The cells as a Jupyter notebook (nbformat 4)."""
    # Imported here: a notebook is written by the client, and a cluster's nodes, which
    # import core to unpickle its tasks, need not have nbformat.
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    notebook = new_notebook(
        cells=[new_markdown_cell(c.text) if c.kind == "markdown" else new_code_cell(c.text) for c in cells],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    return nbformat.writes(notebook)


def script_text(cells: list[Cell]) -> str:
    """The cells as a Python script, in the percent format that editors and jupytext read
    as cells: ``# %%`` before code, ``# %% [markdown]`` before commented Markdown."""
    parts = []
    for cell in cells:
        if cell.kind == "markdown":
            lines = [
                wrapped for line in cell.text.splitlines()
                for wrapped in textwrap.wrap(line, 86, break_on_hyphens=False) or [""]
            ]
            parts.append("# %% [markdown]\n" + "\n".join(f"# {line}".rstrip() for line in lines))
        else:
            parts.append(f"# %%\n{cell.text}")
    return "\n\n".join(parts) + "\n"


def _text_file(render):
    """A plan that writes ``render(cells)`` once the run is computed."""
    def plan(result: Result, path: Path) -> Planned:
        return Planned((), lambda values: path.write_text(render(pipeline_cells(result.pipeline, result.source))))

    return plan


NOTEBOOK = OutputFormat(
    "notebook", "pipeline.ipynb",
    "this run as a Jupyter notebook of plain dask, dask-image and scikit-image calls, with a note before each step",
    _text_file(notebook_text), needs_source=True,
)
SCRIPT = OutputFormat(
    "script", "pipeline.py", "the same as a Python script", _text_file(script_text), needs_source=True,
)
