"""Every environment variable the dashboard reads, in one table: its name, default and
meaning. The README's configuration table is checked against it (``tests/test_config.py``).

Where the work runs is the server's choice, never a visitor's: results from a scheduler are
unpickled in the server's process.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.outputs.deep_zoom import COARSE_SIDE

__all__ = ["SETTINGS", "Setting", "get"]


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, its default as the README writes it, what it
    means, and how its text becomes a value."""

    name: str
    default: str
    meaning: str
    parse: Callable[[str], object] = str
    #: Read by the browser tests only; left out of the README's table.
    for_tests: bool = False


def _cache_dir(text: str) -> Path:
    return Path(text or Path(tempfile.gettempdir()) / "dask-tiles-cache")


SETTINGS = {
    setting.name: setting
    for setting in (
        Setting(
            "DASHBOARD_SCHEDULER", "",
            "Where Dask runs: `threads`, `local` (a LocalCluster in the server) or a scheduler's "
            "address; unset: `DASK_SCHEDULER_ADDRESS` if set, else `local`",
        ),
        Setting(
            "DASK_SCHEDULER_ADDRESS", "",
            "Dask's own setting (`scheduler-address`): the cluster to use when `DASHBOARD_SCHEDULER` is unset",
        ),
        Setting(
            "DASHBOARD_CLUSTER_IDLE_SECONDS", "300",
            "A local cluster with no work for this long is closed, and started again when a page needs it",
            float,
        ),
        Setting(
            "TILE_CACHE_DIR", "",
            "Where tile files and uploads are kept; unset: `dask-tiles-cache` in the temp folder",
            _cache_dir,
        ),
        Setting("TILE_CACHE_MAX_BYTES", str(4 * 2**30), "Bound of the tile cache, least recently used removed first", int),
        Setting(
            "PYRAMID_CACHE_MAX_BYTES", str(2**30),
            "Bound of the pixel zoom's tiles under `static/pyramids/`, least recently opened removed first",
            int,
        ),
        Setting(
            "PYRAMID_COARSE_SIDE", str(COARSE_SIDE),
            "The pixel zoom opens once the levels up to this many pixels a side are cut; finer ones follow",
            int,
        ),
        Setting(
            "PYRAMID_HOLD_FINE_LEVELS", "",
            "A file: the zoom's fine levels wait until it exists (the browser tests' view of a half-cut pyramid)",
            for_tests=True,
        ),
    )
}


def get(name: str):
    """The setting's value now: the variable's text, or its default, parsed."""
    setting = SETTINGS[name]
    return setting.parse(os.environ.get(name) or setting.default)
