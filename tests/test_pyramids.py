"""The app's pyramids on disk: one folder per content, cut once, bounded in size."""

import os
import time

import dask.array as da
import numpy as np
import pytest
import streamlit as st

import ui.pyramids
from core.pyramid import read_pyramid
from ui.pyramids import Picture, photo_picture, pyramid_of


@pytest.fixture(autouse=True)
def pyramids_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(ui.pyramids, "PYRAMIDS", tmp_path / "pyramids")
    st.cache_resource.clear()
    yield tmp_path / "pyramids"
    st.cache_resource.clear()


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
    monkeypatch.setattr(ui.pyramids, "PYRAMIDS_MAX_BYTES", 1)
    pyramid_of(new, "threads")
    assert sorted(p.name for p in pyramids_folder.iterdir()) == [new.folder_name]  # kept: just written
