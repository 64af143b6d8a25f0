"""The tests' cluster as a team starts one (``benchmarks/team_cluster.py``), and a node's
environment that lacks a package."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

from benchmarks.team_cluster import CAN_MOUNT, Cluster, kill_tree

__all__ = ["CAN_MOUNT", "Cluster", "kill_tree", "venv_of"]


def venv_of(folder: Path, *, without: tuple[str, ...] = (), versions: dict[str, str] | None = None) -> str:
    """A virtual environment with every package of this one but the distributions named in
    ``without`` (their modules and their metadata): a node where they are not installed;
    ``versions`` gives distributions metadata of another version (their code stays this
    one's), which is what a node's version checks read. Returns its Python."""
    versions = versions or {}
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    ours = Path(sysconfig.get_paths()["purelib"])
    theirs = folder / ours.relative_to(sys.prefix)
    left_out = {_normal(name) for name in without}
    relabelled = {_normal(name) for name in versions}
    for entry in ours.iterdir():  # dask_image/ and dask_image-2026.5.0.dist-info/ both start so
        name = _normal(entry.name.split("-")[0])
        if name not in left_out and not (name in relabelled and entry.name.endswith(".dist-info")):
            (theirs / entry.name).symlink_to(entry)
    for name, version in versions.items():
        metadata = theirs / f"{_normal(name)}-{version}.dist-info"
        metadata.mkdir()
        (metadata / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return str(folder / "bin" / "python")


def _normal(name: str) -> str:
    return name.lower().replace("-", "_")
