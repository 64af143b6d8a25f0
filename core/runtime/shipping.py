"""The project's code sent to a cluster whose scheduler and workers do not have it: a zip
of the ``core`` package made here, named by a digest of its content, that a plugin puts
first on the import path of the scheduler and of every worker, those that join later
included.

A scheduler unpickles the task graph, so it needs the code as much as the workers do.
``Client.upload_file`` would send a zip too, but it reloads only the top-level package: a
changed ``core.pipeline.build`` already imported would stay as it was. Here the modules of
an older version are dropped before the new one is imported.

This module uses only the standard library and ``distributed``: its plugin classes travel
by value (``cloudpickle.register_pickle_by_value``), so that a node that cannot import
``core`` yet can unpickle them.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import re
import sys
import zipfile
from pathlib import Path

import cloudpickle
from distributed.diagnostics.plugin import SchedulerPlugin, WorkerPlugin

__all__ = ["PACKAGE", "PLUGIN_NAME", "CodeZip", "code_zip", "install", "package_files", "ship", "version_of"]

#: The package shipped: everything a task of the graph calls lives in it.
PACKAGE = "core"
#: One name on the scheduler and on the workers, so that a new version's registration
#: replaces the old one's and workers that join later get the latest.
PLUGIN_NAME = "dask-tiles-code"
_ZIP_NAME = re.compile(rf"{PACKAGE}-([0-9a-f]+)\.zip")
#: A fixed date for every member, so that the same files make the same zip.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def package_files(folder: str | os.PathLike) -> dict[str, bytes]:
    """The package's Python files by their path within its parent (``core/cli/run.py``):
    what the zip holds and what its version is a digest of."""
    folder = Path(folder)
    return {
        path.relative_to(folder.parent).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def version_of(files: dict[str, bytes]) -> str:
    """A digest of the files' names and contents: equal versions hold equal code."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{len(files[name])}\0".encode())
        digest.update(files[name])
    return digest.hexdigest()[:20]


class CodeZip:
    """A version of the package as a zip in memory."""

    def __init__(self, files: dict[str, bytes]):
        self.version = version_of(files)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(files):
                archive.writestr(zipfile.ZipInfo(name, _ZIP_DATE), files[name], zipfile.ZIP_DEFLATED)
        self.data = buffer.getvalue()

    @property
    def file_name(self) -> str:
        return f"{PACKAGE}-{self.version}.zip"


def code_zip(folder: str | os.PathLike | None = None) -> CodeZip:
    """The zip of the package in ``folder`` (by default the ``core`` this module is part of)."""
    return CodeZip(package_files(folder or Path(__file__).resolve().parents[1]))


def _origin(module) -> str:
    return getattr(getattr(module, "__spec__", None), "origin", None) or getattr(module, "__file__", None) or ""


def install(code: CodeZip, directory: str) -> None:
    """Make ``code`` the package this process imports: its zip written into ``directory``,
    put first on ``sys.path``, every module of another version dropped, then imported.

    Modules of the package loaded from an older zip, or from an installed copy whose files
    differ, are dropped from ``sys.modules``; an installed copy with the same files (the
    client's own process, a node with a checkout of the same commit) is kept as it is.
    """
    path = os.path.join(directory, code.file_name)
    if not os.path.exists(path):
        os.makedirs(directory, exist_ok=True)
        partial = f"{path}.{os.getpid()}.partial"
        with open(partial, "wb") as file:
            file.write(code.data)
        os.replace(partial, path)
    sys.path[:] = [entry for entry in sys.path if not _ZIP_NAME.fullmatch(os.path.basename(entry)) or entry == path]
    if path not in sys.path:
        sys.path.insert(0, path)
    loaded = sys.modules.get(PACKAGE)
    if loaded is not None and not _is_version(loaded, path, code.version):
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
    importlib.invalidate_caches()
    importlib.import_module(PACKAGE)


def _is_version(package, zip_path: str, version: str) -> bool:
    """Whether the loaded ``package`` is the code of ``version``: from its zip, or from a
    folder holding the same files."""
    origin = _origin(package)
    if origin.startswith(zip_path + os.sep):
        return True
    if _ZIP_NAME.fullmatch(os.path.basename(os.path.dirname(os.path.dirname(origin)))):
        return False  # another version's zip
    folder = os.path.dirname(origin)
    return os.path.isdir(folder) and version_of(package_files(folder)) == version


class ShippedCodeOnScheduler(SchedulerPlugin):
    """Puts the code on the scheduler's import path before it unpickles a graph."""

    def __init__(self, code: CodeZip):
        self.code = code

    async def start(self, scheduler) -> None:
        # Dropped first, so that the scheduler does not warn that a plugin of this name
        # is being overwritten: replacing it is the point.
        if PLUGIN_NAME in scheduler.plugins:
            scheduler.remove_plugin(name=PLUGIN_NAME)
        install(self.code, os.path.join(scheduler.local_directory, "shipped-code"))


class ShippedCodeOnWorkers(WorkerPlugin):
    """Puts the code on each worker's import path as it starts or joins."""

    def __init__(self, code: CodeZip):
        self.code = code

    def setup(self, worker) -> None:
        install(self.code, os.path.join(worker.local_directory, "shipped-code"))


def ship(client, code: CodeZip | None = None) -> CodeZip:
    """Send ``code`` (by default this process's package) to the scheduler and every worker
    of ``client``'s cluster, present and future; return it.

    Raises whatever a node's installation raised (distributed re-raises it here).
    """
    code = code or code_zip()
    client.register_plugin(ShippedCodeOnScheduler(code), name=PLUGIN_NAME)
    client.register_plugin(ShippedCodeOnWorkers(code), name=PLUGIN_NAME)
    return code


# distributed pickles an object with cloudpickle when its module is registered here, so
# the plugins and the functions they call go by value, not as a name to import.
cloudpickle.register_pickle_by_value(sys.modules[__name__])
