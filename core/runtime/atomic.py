"""Files and folders that appear whole or not at all: written under a name of the writer's
own, then renamed into place."""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_folder", "atomic_path"]


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path`` that replaces it only if the block succeeds.

    The temporary name is this writer's own (process and thread), so that writers of the
    same file at once (two sessions, two servers) never write into each other's, and a
    reader finds the old file or the new one, never half of one.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def atomic_folder(path: str | os.PathLike):
    """Yield a temporary folder beside ``path`` that replaces it only if the block succeeds.

    Like ``atomic_path``, for a folder: a failed run leaves neither a partial folder nor a
    damaged previous one. A previous folder is moved aside, the new one renamed into place,
    and only then the old one deleted, so ``path`` is missing only between the two renames.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    old = path.with_name(f".{path.name}.old")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        yield partial
        if path.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
        os.replace(partial, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
