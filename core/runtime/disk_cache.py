"""A content-addressed folder on disk, bounded in size, safe for several users at once.

Entries are tile folders (written by ``tiling.partition_cached``) and uploaded files.
Names come from SHA-256 digests only, never from user-supplied file names.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

__all__ = ["entry_size", "prune", "store_bytes", "touch"]


def store_bytes(data: bytes, folder: str | os.PathLike) -> tuple[str, Path]:
    """Save ``data`` as ``folder/<sha256>`` (atomically, once) and return digest and path."""
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(folder)
    path = folder / digest
    if path.exists():
        touch(path)
        return digest, path
    folder.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{digest[:16]}-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)
    return digest, path


def touch(path: str | os.PathLike) -> None:
    """Mark an entry as just used, so pruning removes it last."""
    with contextlib.suppress(FileNotFoundError):
        os.utime(path)


def entry_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def prune(root: str | os.PathLike, max_bytes: int, *, min_age: float = 300.0) -> list[Path]:
    """Delete the least recently used entries of ``root`` (and of its sub-folders of
    entries) until the total is at most ``max_bytes``.

    Entries used in the last ``min_age`` seconds are kept even over the limit: another
    session may be reading them right now. Returns the removed paths.
    """
    root = Path(root)
    if not root.exists():
        return []
    entries = []
    for group in [root, *(p for p in root.iterdir() if p.is_dir() and p.name == "uploads")]:
        for entry in group.iterdir():
            if entry.name.startswith(".") or entry.name == "uploads":
                continue  # staging folders belong to writers still at work
            try:
                entries.append((entry.stat().st_mtime, entry_size(entry), entry))
            except FileNotFoundError:
                continue  # removed by another session meanwhile
    total = sum(size for _, size, _ in entries)
    removed = []
    now = time.time()
    for mtime, size, entry in sorted(entries, key=lambda e: e[0]):
        if total <= max_bytes:
            break
        if now - mtime < min_age:
            break
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        total -= size
        removed.append(entry)
    return removed
