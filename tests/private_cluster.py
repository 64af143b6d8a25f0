"""The tests' cluster as a team starts one (``benchmarks/team_cluster.py``), and a node's
environment that lacks a package."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

from benchmarks.team_cluster import CAN_MOUNT, Cluster, kill_tree

__all__ = ["CAN_MOUNT", "Cluster", "kill_tree", "venv_without"]


def venv_without(folder: Path, *excluded: str) -> str:
    """A virtual environment with every package of this one but the distributions named
    (their modules and their metadata): a node where they are not installed. Its Python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    ours = Path(sysconfig.get_paths()["purelib"])
    theirs = folder / ours.relative_to(sys.prefix)
    names = {name.lower().replace("-", "_") for name in excluded}
    for entry in ours.iterdir():  # dask_image/ and dask_image-2026.5.0.dist-info/ both start so
        if entry.name.lower().split("-")[0] not in names:
            (theirs / entry.name).symlink_to(entry)
    return str(folder / "bin" / "python")
