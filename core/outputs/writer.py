"""One ``write`` for every file a run leaves: the formats of ``FORMATS`` that apply to the
chain's result, all computed in one pass over the graph.

``result.npy`` (float32 values, a uint8 0/1 mask or integer labels), ``result.png`` (its
picture), ``regions.csv`` after a label stage, ``result.ome.zarr`` on request, and the
task graph as DOT, and, given the image file read, the notebook and script that repeat the
run with plain dask calls. The threads or workers that compute the blocks write the ``.npy``
and the zarr and compress the PNG in strips, so no full-resolution array is gathered here;
workers with disks of their own hand each block back to be written here as it comes
(``store_here``). A file appears only once the whole run succeeded; an earlier run's file
that this run does not write is removed, so that the folder holds one run's files.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path

import dask
import dask.array as da

from ..pipeline.build import Pipeline
from ..runtime.atomic import atomic_folder, atomic_path
from .formats import OutputFormat, result_of
from .graph_files import TASK_GRAPH, TASK_OVERVIEW
from .notebook import NOTEBOOK, SCRIPT
from .npy import NPY
from .ome_zarr import OME_ZARR
from .png import PNG
from .regions import REGIONS

__all__ = ["FORMATS", "OPTIONAL_FORMATS", "write"]

#: Every format a run can write, in the order they are reported.
FORMATS: tuple[OutputFormat, ...] = (NPY, PNG, OME_ZARR, REGIONS, TASK_GRAPH, TASK_OVERVIEW, NOTEBOOK, SCRIPT)
#: Those written only on request, by name.
OPTIONAL_FORMATS = {f.name: f for f in FORMATS if f.optional}

#: What the one pass does, in words, for a progress bar.
PASS_WORDS = "computing the blocks, storing them and compressing the PNG"

Compute = Callable[[list, str], list]
#: ``store_here(collections, stores, what)``: the collections' values, every (array,
#: target) of ``stores`` written in this process block by block in the same pass.
StoreHere = Callable[[list, list, str], list]


def _dask_compute(collections: list, what: str) -> list:
    return list(dask.compute(*collections))


def write(
    pipeline: Pipeline, out: str | Path, *, optional: Iterable[str] = (), compute: Compute | None = None,
    store_here: StoreHere | None = None, source: str | Path | None = None,
) -> list[str]:
    """Write the files of ``pipeline``'s result into ``out`` (which must exist); return
    their names, in ``FORMATS``' order.

    ``optional`` names the optional formats to write too (``OPTIONAL_FORMATS``).
    ``compute(collections, what)`` computes a list of collections and returns their values,
    ``what`` saying in words what it does (default: ``dask.compute``), so that the caller
    chooses scheduler, progress and timing; the blocks of the ``.npy`` and the zarr are
    stored in the same pass by whoever computes them. With ``store_here`` instead (for
    workers that cannot write ``out``), ``store_here(collections, stores, what)`` runs the
    pass and writes those blocks in this process (``core.runtime.fetch``). ``source`` is
    the image file the tiles were cut from: with it, the run also writes the notebook and
    the script that repeat it.
    """
    optional = set(optional)
    if optional - set(OPTIONAL_FORMATS):
        raise ValueError(f"unknown optional formats {sorted(optional - set(OPTIONAL_FORMATS))}")
    out = Path(out)
    result = result_of(pipeline, source)
    chosen = [
        f for f in FORMATS
        if result.kind in f.kinds and (not f.optional or f.name in optional) and (result.source or not f.needs_source)
    ]
    with ExitStack() as renames:
        plans = [f.plan(result, renames.enter_context(_partial(f, out))) for f in chosen]
        collections = [c for p in plans for c in p.collections]
        stores = [s for p in plans for s in p.stores]
        if store_here is not None:
            values = store_here(collections, stores, PASS_WORDS)
        else:
            if stores:
                arrays, targets = zip(*stores)
                collections.append(da.store(list(arrays), list(targets), lock=False, compute=False))
            values = _compute_in_order(compute or _dask_compute, collections, PASS_WORDS)
        for plan in plans:
            plan.finish(values[:len(plan.collections)])
            values = values[len(plan.collections):]
    _remove(out, [f for f in FORMATS if f not in chosen])
    return [f.file_name for f in chosen]


def _partial(output_format: OutputFormat, out: Path):
    return (atomic_folder if output_format.folder else atomic_path)(out / output_format.file_name)


def _compute_in_order(compute: Compute, collections: list, what: str) -> list:
    """``compute(collections, what)``'s values, in the order of ``collections``.

    ``dask.compute`` with graph optimisation (dask 2026.8) returns the values of mixed
    collections grouped by type, dask arrays apart from delayed objects, whatever order
    they were given in; handed over already grouped, they come back in the order given.
    """
    first_of_type: dict[type, int] = {}
    for i, collection in enumerate(collections):
        first_of_type.setdefault(type(collection), i)
    order = sorted(range(len(collections)), key=lambda i: (first_of_type[type(collections[i])], i))
    values = [None] * len(collections)
    for i, value in zip(order, compute([collections[i] for i in order], what)):
        values[i] = value
    return values


def _remove(out: Path, formats: list[OutputFormat]) -> None:
    # An earlier run's regions or zarr in the same folder would describe another result
    # beside this run's result.npy.
    for output_format in formats:
        path = out / output_format.file_name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
