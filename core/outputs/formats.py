"""What an output format is: a file (or folder) a run writes from the chain's result.

Every format is one ``OutputFormat``: its file name, which results it applies to, and its
``plan``, the lazy work it adds to the run's one pass over the graph and what it does with
the values once computed. ``writer.FORMATS`` lists them; ``writer.write`` writes those a
run asks for. Adding a format: a module with its plan and entry, a line in ``FORMATS``,
and its test (``docs/extending.md``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dask.array as da

from ..observe.task_graph import TaskGraph, task_graph_of
from ..pipeline.build import Pipeline
from ..pipeline.chain import ResultKind
from ..pipeline.stage_table import GRAYSCALE_RANGE, STAGES, output_ranges
from .pictures import to_picture

__all__ = ["OutputFormat", "Planned", "Result", "result_of"]


@dataclass(frozen=True)
class Result:
    """The chain's result as every format writes it: lazy, at full resolution."""

    pipeline: Pipeline
    kind: ResultKind
    value_range: tuple[float, float]  # bounds of its values, which its picture maps black..white
    source: Path | None = None  # the image file the run read, absolute; None: not a file's

    @functools.cached_property
    def array(self) -> da.Array:
        """The result in the type its kind is stored as: float32, uint8 0/1 or integer labels."""
        return self.kind.stored(self.pipeline.result)

    @functools.cached_property
    def picture(self) -> da.Array:
        """8-bit pixels: (H, W) for values and masks, (H, W, 3) RGB for labels."""
        return to_picture(self.array, self.kind, self.value_range)

    @property
    def intensity(self) -> da.Array:
        """The stitched grayscale image, whose values a region's mean intensity is of."""
        return self.pipeline.stitched

    @functools.cached_property
    def task_graph(self) -> TaskGraph:
        return task_graph_of(self.pipeline)


def result_of(pipeline: Pipeline, source: Path | None = None) -> Result:
    """The result of ``pipeline``'s chain: its last step's kind and output range, or the
    stitched grayscale image's for an empty chain; ``source`` is the image file read."""
    chain = pipeline.chain
    source = None if source is None else Path(source).resolve()
    if not chain:
        return Result(pipeline, ResultKind.VALUES, GRAYSCALE_RANGE, source)
    return Result(pipeline, STAGES[chain[-1].stage].kind, output_ranges(chain)[-1], source)


@dataclass(frozen=True)
class Planned:
    """An output's share of the run: lazy collections computed in the run's one pass,
    ``finish(values)``, given their values in order, which writes what remains, and
    ``stores``: arrays written block by block into targets (``target[slices] = block``) in
    the same pass, by whoever computes each block, or here where the workers cannot write
    this machine's disk (``writer.write``'s ``store_here``)."""

    collections: Sequence = ()
    finish: Callable[[list], None] = lambda values: None
    stores: Sequence[tuple[da.Array, object]] = ()


@dataclass(frozen=True)
class OutputFormat:
    """One kind of file a run writes.

    ``plan(result, path)`` writes into ``path``, a partial name that replaces
    ``file_name`` only once the whole run succeeded. An ``optional`` format is written only
    when asked for (the command line's ``--<flag>``); ``kinds`` are the results it applies
    to. ``folder``: it writes a folder, not a file. ``needs_source``: it is written only
    when the run names the image file it read (``Result.source``), as the notebook does.
    """

    name: str
    file_name: str
    help: str
    plan: Callable[[Result, Path], Planned]
    kinds: frozenset[ResultKind] = field(default_factory=lambda: frozenset(ResultKind))
    optional: bool = False
    flag: str | None = None
    folder: bool = False
    needs_source: bool = False
