import hashlib
import os
import time

import numpy as np

from core.pipeline.tiling import partition_cached
from core.runtime.disk_cache import entry_size, prune, store_bytes


def age(path, seconds):
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_bytes_are_stored_under_their_digest_once(tmp_path):
    digest, path = store_bytes(b"hello", tmp_path / "uploads")
    assert digest == hashlib.sha256(b"hello").hexdigest()
    assert path.name == digest and path.read_bytes() == b"hello"
    again, _ = store_bytes(b"hello", tmp_path / "uploads")
    assert again == digest
    assert os.listdir(tmp_path / "uploads") == [digest]


def test_prune_removes_least_recently_used_first(tmp_path, photo):
    old = partition_cached(photo, 2, 2, tmp_path).folder
    middle = partition_cached(photo, 3, 3, tmp_path).folder
    _, upload = store_bytes(b"x" * 1000, tmp_path / "uploads")
    new = partition_cached(photo, 4, 4, tmp_path).folder
    for path, seconds in ((old, 3000), (upload, 2500), (middle, 2000), (new, 1000)):
        age(path, seconds)
    budget = entry_size(new) + entry_size(middle)
    removed = prune(tmp_path, budget, min_age=60)
    assert removed == [old, upload]
    assert middle.exists() and new.exists()


def test_prune_keeps_entries_in_use_even_over_budget(tmp_path, photo):
    folder = partition_cached(photo, 2, 2, tmp_path).folder
    assert prune(tmp_path, 0, min_age=60) == []
    assert folder.exists()


def test_reuse_refreshes_an_entry(tmp_path, photo):
    folder = partition_cached(photo, 2, 2, tmp_path).folder
    age(folder, 5000)
    partition_cached(photo, 2, 2, tmp_path)
    assert time.time() - folder.stat().st_mtime < 60


def test_staging_folders_are_left_to_their_writers(tmp_path):
    staging = tmp_path / ".abc-123"
    staging.mkdir()
    (staging / "tile.tif").write_bytes(np.zeros(100, np.uint8).tobytes())
    age(staging, 5000)
    assert prune(tmp_path, 0, min_age=0) == []
