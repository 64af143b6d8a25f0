"""The pixel zoom's pyramids on disk (``ui.services.zoom_pyramids``): one folder per content under a name only the server can
make, coarse levels at once and fine ones by one thread of the server, bounded in size."""

import hashlib
import json
import os
import stat
import threading
import time

import dask.array as da
import numpy as np
import pytest
import streamlit as st
from PIL import Image

import ui.services.zoom_pyramids as zoom_pyramids
from core.outputs.deep_zoom import read_pyramid, tile_path, write_coarse_levels
from core.outputs.pictures import to_picture
from ui.services.zoom_pyramids import (
    PROGRESS,
    SECRET_FILE,
    Picture,
    photo_picture,
    pyramid_of,
    server_secret,
    wait_for_cutting,
)


@pytest.fixture(autouse=True)
def pyramids_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(zoom_pyramids, "PYRAMIDS", tmp_path / "pyramids")
    monkeypatch.setenv("TILE_CACHE_DIR", str(tmp_path / "cache"))
    st.cache_resource.clear()
    server_secret.cache_clear()
    yield tmp_path / "pyramids"
    st.cache_resource.clear()
    server_secret.cache_clear()


class Held:
    """Levels above 300 pixels a side are fine, and their cutters wait at ``gate``;
    ``reached`` is set once one is there."""

    def __init__(self):
        self.gate, self.reached = threading.Event(), threading.Event()

    def wait(self):
        self.reached.set()
        self.gate.wait()


@pytest.fixture
def held(monkeypatch):
    hold = Held()
    monkeypatch.setattr(zoom_pyramids, "_before_fine_levels", hold.wait)
    monkeypatch.setenv("PYRAMID_COARSE_SIDE", "300")
    yield hold
    hold.gate.set()


def values_picture(key: str, seed: int = 0) -> Picture:
    pixels = np.random.default_rng(seed).random((600, 700), dtype=np.float32)
    return Picture(("values", key), da.from_array(pixels, chunks=300), "values", (0.0, 1.0), "the output")


def test_a_picture_is_cut_once_into_a_folder_named_by_its_content(pyramids_folder):
    picture = values_picture("a")
    first = pyramid_of(picture, "threads")
    folder = pyramids_folder / picture.folder_name
    tile = folder / "10" / "0_0.png"
    written = tile.stat().st_mtime_ns
    assert pyramid_of(picture, "threads") == first == read_pyramid(folder)
    assert tile.stat().st_mtime_ns == written  # found on disk, not cut again
    # another range of the same pixels is another picture
    other = Picture(picture.key, picture.image, "values", (0.0, 2.0), "the output")
    assert other.folder_name != picture.folder_name


def test_a_server_removes_the_pyramids_of_an_older_format_once_and_keeps_its_own(pyramids_folder):
    older = pyramids_folder / hashlib.sha256(b"a sample's key").hexdigest()[:32]  # format 1's names
    (older / "9").mkdir(parents=True)
    (older / "pyramid.json").write_text("{}")
    picture = values_picture("a")
    pyramid_of(picture, "threads")
    assert not older.exists()
    assert (pyramids_folder / zoom_pyramids.FORMAT_FILE).read_text().strip() == str(zoom_pyramids.PYRAMID_FORMAT)

    st.cache_resource.clear()  # the next server, of the same code
    pyramid_of(values_picture("b"), "threads")
    assert read_pyramid(pyramids_folder / picture.folder_name) is not None


def test_a_photo_maps_its_whole_integer_range_to_black_and_white():
    assert photo_picture("d", np.zeros((4, 4, 3), np.uint8), "the photo").value_range == (0.0, 255.0)
    assert photo_picture("d", np.zeros((4, 4), np.uint16), "the photo").value_range == (0.0, 65535.0)
    pyramid = pyramid_of(photo_picture("d", np.full((4, 4, 3), 255, np.uint8), "the photo"), "threads")
    assert pyramid.channels == 3


def test_the_least_recently_opened_pyramids_go_when_the_folder_is_full(pyramids_folder, monkeypatch):
    old, new = values_picture("old", 1), values_picture("new", 2)
    pyramid_of(old, "threads")
    hour_ago = time.time() - 3600
    os.utime(pyramids_folder / old.folder_name, (hour_ago, hour_ago))
    monkeypatch.setenv("PYRAMID_CACHE_MAX_BYTES", "1")
    pyramid_of(new, "threads")
    assert sorted(p.name for p in pyramids_folder.iterdir() if p.is_dir()) == [new.folder_name]  # kept: just written


def test_folder_names_are_keyed_by_the_servers_secret_not_a_plain_digest(pyramids_folder, tmp_path, monkeypatch):
    picture = values_picture("a")
    name = picture.folder_name
    words = json.dumps([zoom_pyramids.PYRAMID_FORMAT, list(picture.key), picture.kind, list(picture.value_range)])
    assert name != hashlib.sha256(words.encode()).hexdigest()[:32]
    secret = tmp_path / "cache" / SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_bytes()) == 32
    server_secret.cache_clear()  # a restart, with the same cache folder
    assert picture.folder_name == name
    monkeypatch.setenv("TILE_CACHE_DIR", str(tmp_path / "another-cache"))  # another server's secret
    assert picture.folder_name != name
    assert (tmp_path / "another-cache" / SECRET_FILE).read_bytes() != secret.read_bytes()


def test_the_view_opens_on_coarse_levels_and_one_thread_cuts_the_fine_ones(pyramids_folder, held):
    picture = values_picture("big")  # 700 -> 350 -> 175 pixels wide: only level 8 is coarse
    first = pyramid_of(picture, "threads")
    folder = pyramids_folder / picture.folder_name
    assert (first.ready_level, first.max_level, first.complete) == (8, 10, False)
    assert (folder / tile_path(8, 0, 0)).exists() and not any(folder.glob("10/*.png"))
    # another session meanwhile: the same partial pyramid, the same thread
    assert pyramid_of(picture, "threads") == first
    assert zoom_pyramids._cutters().busy() == [picture.folder_name]
    assert held.reached.wait(10)  # the thread at work, its progress written
    assert json.loads((folder / PROGRESS).read_text())["complete"] is False
    held.gate.set()
    wait_for_cutting(picture, timeout=60)
    assert read_pyramid(folder).complete and json.loads((folder / PROGRESS).read_text())["complete"] is True
    assert pyramid_of(picture, "threads").complete and zoom_pyramids._cutters().busy() == []
    pixels = np.concatenate([np.concatenate([np.asarray(Image.open(folder / tile_path(10, c, r))) for c in range(3)], 1)
                             for r in range(3)])
    np.testing.assert_array_equal(pixels[:600, :700], to_picture(picture.image.compute(), "values", (0.0, 1.0)))


def test_a_partial_pyramid_left_by_a_stopped_server_is_finished_by_the_next(pyramids_folder, monkeypatch):
    picture = values_picture("stopped")
    folder = pyramids_folder / picture.folder_name
    zoom_pyramids._older_formats_removed()  # a server of this code
    write_coarse_levels(picture.image, folder, coarse_side=300)  # and then it stopped
    st.cache_resource.clear()  # a new server: no thread at work on it
    assert not pyramid_of(picture, "threads").complete  # opened as what it is
    wait_for_cutting(picture, timeout=60)
    assert read_pyramid(folder).complete and any(folder.glob("10/*.png"))


def test_a_pyramid_being_cut_is_never_pruned(pyramids_folder, held, monkeypatch):
    cutting, other = values_picture("cutting", 1), values_picture("other", 2)
    pyramid_of(cutting, "threads")
    assert held.reached.wait(10)  # its cutter at work (and done writing into it for now)
    hour_ago = time.time() - 3600  # its visitor opened it long ago
    os.utime(pyramids_folder / cutting.folder_name, (hour_ago, hour_ago))
    monkeypatch.setenv("PYRAMID_CACHE_MAX_BYTES", "1")
    pyramid_of(other, "threads")
    assert {p.name for p in pyramids_folder.iterdir()} >= {cutting.folder_name, other.folder_name}
    held.gate.set()
    wait_for_cutting(cutting, timeout=60)
    wait_for_cutting(other, timeout=60)
    assert read_pyramid(pyramids_folder / cutting.folder_name).complete


def test_a_remote_clusters_result_is_cut_here_from_its_blocks(pyramids_folder, private_cluster, monkeypatch):
    # The workers cannot write this server's disk, and threads cannot run a graph of futures:
    # threads here cut it, each block fetched from the cluster.
    from core.runtime.cluster import connect

    monkeypatch.setenv("PYRAMID_COARSE_SIDE", "300")  # coarse levels now, fine ones in a thread
    runner = connect(private_cluster.address, timeout=30)
    try:
        here = values_picture("here")
        persisted = runner.client.persist(here.image)
        remote = Picture(("remote",), persisted, "values", (0.0, 1.0), "the output")
        # A clip's output is lazy on its persisted input (``StepRun.deferred``).
        lazy = Picture(("lazy",), da.clip(persisted, 0.0, 1.0), "values", (0.0, 1.0), "the output")
        for picture in (remote, lazy):
            pyramid_of(picture, runner.client)
            wait_for_cutting(picture, timeout=60)
    finally:
        runner.close()
    pyramid_of(here, "threads")
    wait_for_cutting(here, timeout=60)
    cut_here = pyramids_folder / here.folder_name
    tiles = sorted(path.relative_to(cut_here) for path in cut_here.glob("*/*.png"))
    for cut_there in (pyramids_folder / picture.folder_name for picture in (remote, lazy)):
        assert read_pyramid(cut_there).complete
        assert tiles and tiles == sorted(path.relative_to(cut_there) for path in cut_there.glob("*/*.png"))
        assert all((cut_there / tile).read_bytes() == (cut_here / tile).read_bytes() for tile in tiles)
