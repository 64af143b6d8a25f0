"""What a task does and where, in words a learner reads: the boxes of the task graph
("read tile (1, 2)", "Sobel edges, chunk (0, 1)") and of its overview ("read tiles").

Dask names a task after the function that made it plus a token, ``('sobel-f738…', 0, 0)``;
the function's name alone (``dask.utils.key_split``) is still Dask's vocabulary
(``map_read_frame``, ``overlap``, ``_trim``). Here each is said as what it does to the
image; the tooltip of the DOT source keeps Dask's key for whoever downloads it.
"""

from __future__ import annotations

import math
import re

from ..pipeline.stage_table import STAGES

__all__ = ["OTHER_STAGE", "TILE_STAGES", "overview_words", "stage_slug", "stage_title", "task_words"]

#: The stage of tasks that no stage of the pipeline added.
OTHER_STAGE = "other"
#: Stages whose tasks work tile by tile: their place is a tile, later ones' a chunk.
TILE_STAGES = ("read", "grayscale")
#: The stitched image's stage, and the words of the stages before the chain.
FIXED_TITLES = {"read": "read", "grayscale": "grayscale", "stitch": "stitch"}

#: Dask's (and this project's) names for the pipeline's tasks, as what they do; ``{}``
#: is where the task lies ("tile (1, 2)", "chunk (0, 1)"), or "tiles"/"chunks" in the
#: overview. A stage's own function (``sobel``, ``gaussian_filter``) is said by its title.
ACTIONS = {
    "array": "file name of {}",  # dask-image's array of file names: one per tile
    "map_read_frame": "read {}",
    "grayscale": "grayscale {}",
    "concatenate": "stitch {}",  # dask.array.block: each chunk is a tile, nothing copied
    "overlap": "add border to {}",  # a chunk with the pixels it borrows from its neighbours
    "trim": "trim border of {}",
    "hypot": "magnitude of {}",  # a Sobel's or Prewitt's x and y, combined
    "chunk_min": "minimum of {}",
    "chunk_max": "maximum of {}",
    "min-aggregate": "minimum of the image",
    "max-aggregate": "maximum of the image",
    "block_histogram": "histogram of {}",
    "otsu_from_histogram": "Otsu's level",
    "gt": "threshold {}",
    "astype": "mask {}",
    "label_offsets": "number regions across chunks",
    "offset_labels": "renumber regions of {}",
    "border_strip": "border strip of {}",
    "touching_pairs": "regions touching across {}",
    "final_labels": "join regions across chunks",
    "lambda": "relabel {}",
    "from-value": "wrap {}",  # a computed value (Otsu's level, a relabelled chunk) as an array
}
#: ``getitem`` cuts a piece out of an array: the tile's frame out of what imread read, a
#: chunk's edge for its neighbour's border (a fractional index), or a piece of a result.
GETITEM = {"read": "frame of {}", "edge": "edge of {}", "other": "cut {}"}


def stage_slug(stage: str) -> str:
    """A stage's label as a CSS class name: ``gaussian 2`` -> ``gaussian-2``."""
    return re.sub(r"[^a-z0-9]+", "-", stage.lower()).strip("-") or OTHER_STAGE


def stage_title(stage: str) -> str:
    """A stage as the sidebar names it: ``sobel`` -> ``Sobel edges``, ``gaussian 2`` ->
    ``Gaussian smoothing 2``; ``read``, ``grayscale`` and ``stitch`` as they are."""
    if stage in FIXED_TITLES:
        return FIXED_TITLES[stage]
    name, _, repeat = stage.partition(" ")
    title = STAGES[name].title if name in STAGES else name
    return f"{title} {repeat}".strip()


def _action(name: str, stage: str, edge: bool) -> str:
    if name == "getitem":
        return GETITEM["read" if stage == "read" else "edge" if edge else "other"]
    if _is_stage_function(name, stage):
        return f"{stage_title(stage)}, {{}}"
    return ACTIONS.get(name, name.strip("_").replace("_", " ") + " {}")


def _is_stage_function(name: str, stage: str) -> bool:
    """Whether ``name`` is the step's own function: ``sobel`` in a Sobel step,
    ``gaussian_filter`` in a Gaussian one, ``clip`` in a clip."""
    base = stage.partition(" ")[0]
    return base in STAGES and name.strip("_") in (base, f"{base}_filter")


def _indices(key: str) -> list[float]:
    """The indices of a key written as ``str`` of a tuple: ``('sobel-…', 0, 0.9)`` -> [0, 0.9]."""
    match = re.fullmatch(r"\('[^']*',\s*(.*)\)", key)
    parts = [p.strip() for p in match[1].split(",")] if match else []
    try:
        return [float(p) for p in parts if p]
    except ValueError:
        return []


def _pair(numbers) -> str:
    return "(" + ", ".join(str(int(n)) for n in numbers) + ")"


def task_words(key: str, name: str, stage: str, block, tile, *, lines: bool = False) -> str:
    """What the task does and where: ``read tile (1, 2)``, ``Sobel edges, chunk (0, 1)``,
    ``edge of chunk (0, 0)``, ``Otsu's level``. Never Dask's token. ``lines``: the place
    on a line of its own, for a box half as wide."""
    indices = _indices(key)
    edge = len(indices) == 2 and any(not n.is_integer() for n in indices)
    if stage in TILE_STAGES and tile is not None:
        place = f"tile {_pair(tile)}"
    elif block is not None and len(block) == 2:
        place = f"chunk {_pair(block)}"
    elif edge:
        place = f"chunk {_pair(math.floor(n) for n in indices)}"
    elif tile is not None:
        place = f"tile {_pair(tile)}"
    else:
        place = ""
    return _fill(_action(name, stage, edge), place, "\n" if lines else " ")


def overview_words(name: str, stage: str) -> str:
    """What a box of the overview does: ``read tiles``, ``add border to chunks``,
    ``Sobel edges``."""
    if _is_stage_function(name, stage):
        return stage_title(stage)
    return _fill(_action(name, stage, False), "tiles" if stage in TILE_STAGES else "chunks", " ")


def _fill(action: str, place: str, separator: str) -> str:
    """``action`` with ``place`` where its ``{}`` is, after ``separator``; without a place,
    or on a line of its own, the comma before it goes."""
    if "{}" not in action:  # "Otsu's level": one for the whole image
        return action
    head, _, tail = action.partition("{}")
    head = head.rstrip()
    if not place or separator != " ":
        head = head.rstrip(",")
    return f"{head}{separator}{place}{tail}".strip() if place else f"{head}{tail}".strip()
