"""What a cluster's scheduler and workers must have installed to run the pipeline, checked
before any work: every package whose code the graph's tasks run, and the same dask,
distributed, numpy and Python as this process, which pickles the graph.

A fault is one line naming the package, the versions and the node, rather than a
deserialisation traceback from the middle of a run.
"""

from __future__ import annotations

from ..errors import PipelineError

__all__ = ["EQUAL", "NEEDED", "check_environment", "environment_faults"]

#: Distributions (as ``pip`` names them) that the scheduler and every worker must have:
#: those ``core`` imports (a node imports the whole package to unpickle one of its
#: functions) and those its tasks import as they run. ``tests/test_environment.py`` checks
#: the list against the imports of ``core``'s modules.
NEEDED = (
    "numpy",
    "scipy",
    "dask",
    "distributed",
    "cloudpickle",  # unpickles the plugins that ship the code (core.runtime.shipping)
    "dask-image",  # reads the tiles (dask_image.imread) and filters
    "pims",  # dask_image.imread's reader of the tile files
    "scikit-image",  # grayscale, Otsu's threshold, label colours
    "tifffile",  # tile files, tiled TIFF inputs
    "pillow",  # PNG and JPEG tiles, through pims
    "imageio",  # pims' reader of some tile formats
    "graphviz",  # imported with core.observe (no dot program is run on a node)
    "pandas",  # the region table, measured chunk by chunk
    "zarr",  # OME-Zarr inputs and results
)
#: These must be the very versions this process has: the graph is pickled with them.
EQUAL = ("python", "dask", "distributed", "numpy")


def _short_python(version: str | None) -> str | None:
    """``3.11.7.final.0`` -> ``3.11``: pickled code objects need the same minor version."""
    return ".".join(version.split(".")[:2]) if version else version


def environment_faults(versions: dict) -> list[str]:
    """Every fault in ``Client.get_versions(packages=NEEDED)``'s answer, one sentence each:
    a needed package missing on a node, or a package of ``EQUAL`` at another version than
    this process's (``versions["client"]``)."""
    mine = versions["client"]["packages"]
    nodes = [("the scheduler", versions["scheduler"])]
    nodes += [(f"worker {address}", info) for address, info in sorted(versions["workers"].items())]
    faults = []
    for node, info in nodes:
        theirs = info.get("packages", {}) if isinstance(info, dict) else {}
        for package in NEEDED:
            if package not in EQUAL and theirs.get(package) is None:
                faults.append(f"{node} lacks {package} (this machine has {mine.get(package)})")
        for package in EQUAL:
            here, there = mine.get(package), theirs.get(package)
            if package == "python":
                here, there = _short_python(here), _short_python(there)
            if there is None:
                faults.append(f"{node} lacks {package} (this machine has {here})")
            elif here != there:
                faults.append(f"{node} has {package} {there}, this machine {here}")
    return faults


def check_environment(client) -> None:
    """Ask the scheduler and every worker of ``client`` for their packages' versions.

    Raises
    ------
    PipelineError
        Naming the first fault (``environment_faults``), and how many more there are.
    """
    faults = environment_faults(client.get_versions(packages=list(NEEDED)))
    if faults:
        more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
        raise PipelineError(
            f"the cluster cannot run the pipeline: {faults[0]}{more}; every node needs the packages of "
            f"requirements.txt, with this machine's {', '.join(EQUAL[:-1])} and {EQUAL[-1]}"
        )
