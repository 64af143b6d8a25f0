import os

import numpy as np
import pytest
import tifffile

import core.pipeline.tiling
from core.errors import PipelineError
from core.pipeline.tiling import image_digest, partition, partition_cached, split_edges


@pytest.mark.parametrize("length, parts", [(10, 3), (67, 16), (5, 5), (100, 1), (17, 4)])
def test_edges_follow_numpy_array_split(length, parts):
    edges = split_edges(length, parts)
    sizes = [len(piece) for piece in np.array_split(np.arange(length), parts)]
    assert list(np.diff(edges)) == sizes
    assert edges[0] == 0 and edges[-1] == length


@pytest.mark.parametrize("grid", [(1, 1), (2, 2), (3, 5), (16, 16), (7, 1)])
def test_every_pixel_is_kept_in_exactly_one_tile(tmp_path, photo, grid):
    tiles = partition(photo, *grid, tmp_path / "tiles")
    assert tiles.grid == grid
    rows = [np.concatenate([tifffile.imread(p) for p in row], axis=1) for row in tiles.paths]
    np.testing.assert_array_equal(np.concatenate(rows, axis=0), photo)
    for r in range(grid[0]):
        for c in range(grid[1]):
            assert tifffile.imread(tiles.path(r, c)).shape == tiles.tile_shape(r, c)


def test_sixteen_bit_grayscale_tiles(tmp_path, rng):
    image = rng.integers(0, 65536, (31, 29), dtype=np.uint16)
    tiles = partition(image, 3, 4, tmp_path / "tiles")
    np.testing.assert_array_equal(tifffile.imread(tiles.path(2, 3)), image[21:, 22:])


def test_tile_names_are_zero_padded_by_position(tmp_path, photo):
    tiles = partition(photo, 2, 11, tmp_path / "tiles")
    names = sorted(p.name for p in (tmp_path / "tiles").glob("*.tif"))
    assert names[:2] == ["tile_r000_c000.tif", "tile_r000_c001.tif"]
    assert names[-1] == "tile_r001_c010.tif"
    assert tiles.path(1, 10).name == "tile_r001_c010.tif"


def test_cache_folder_is_content_addressed_and_reused(tmp_path, photo):
    first = partition_cached(photo, 2, 3, tmp_path)
    stamps = {p: p.stat().st_mtime_ns for p in first.folder.iterdir()}
    again = partition_cached(photo.copy(), 2, 3, tmp_path)
    assert again.folder == first.folder
    assert {p: p.stat().st_mtime_ns for p in again.folder.iterdir()} == stamps

    other_grid = partition_cached(photo, 3, 2, tmp_path)
    other_image = partition_cached(photo[::-1], 2, 3, tmp_path)
    assert len({first.folder, other_grid.folder, other_image.folder}) == 3


def test_a_folder_of_another_image_is_replaced(tmp_path, photo):
    partition(photo[::-1], 2, 2, tmp_path / "tiles")
    tiles = partition(photo, 2, 2, tmp_path / "tiles")
    np.testing.assert_array_equal(tifffile.imread(tiles.path(0, 0)), photo[:34, :27])
    assert sorted(os.listdir(tmp_path)) == ["tiles"]


def test_a_failed_write_leaves_nothing_behind(tmp_path, photo, monkeypatch):
    real_write = tifffile.imwrite
    calls = []

    def failing_write(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_write(path, *args, **kwargs)

    monkeypatch.setattr(core.pipeline.tiling.tifffile, "imwrite", failing_write)
    with pytest.raises(OSError):
        partition(photo, 2, 3, tmp_path / "tiles")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("grid, message", [
    ((0, 2), "at least 1 row and 1 column, got 0 rows and 2 columns"),
    ((2, 0), "at least 1 row and 1 column, got 2 rows and 0 columns"),
    # The photo is 67 rows of 53 pixels: the grid and the image are both rows first.
    ((68, 1), "a grid of 68 rows and 1 column does not fit an image of 67 rows and 53 columns of pixels"),
    ((1, 54), "a grid of 1 row and 54 columns does not fit an image of 67 rows and 53 columns of pixels"),
])
def test_impossible_grids_are_refused(tmp_path, photo, grid, message):
    with pytest.raises(PipelineError, match=message):
        partition(photo, *grid, tmp_path / "tiles")
    assert not (tmp_path / "tiles").exists()


def test_a_grid_too_large_for_a_one_pixel_image_says_which_grid_fits(tmp_path):
    with pytest.raises(PipelineError, match=r"so use at most 1 row and 1 column$"):
        partition(np.zeros((1, 1), np.uint8), 2, 2, tmp_path / "tiles")
    assert partition(np.zeros((1, 1), np.uint8), 1, 1, tmp_path / "tiles").grid == (1, 1)


def test_one_pixel_per_tile_is_allowed(tmp_path, rng):
    image = rng.integers(0, 256, (5, 4), dtype=np.uint8)
    tiles = partition(image, 5, 4, tmp_path / "tiles")
    assert tifffile.imread(tiles.path(4, 3)).shape == (1, 1)


def test_the_digest_changes_with_any_pixel_and_with_shape_or_dtype(rng, monkeypatch):
    monkeypatch.setattr("core.pipeline.tiling.DIGEST_STRIP_BYTES", 64)  # many strips on a small image
    image = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    digest = image_digest(image)
    assert image_digest(image.copy()) == digest
    for changed in [(0, 0, 0), (20, 15, 1), (39, 29, 2)]:
        other = image.copy()
        other[changed] ^= 1
        assert image_digest(other) != digest, changed
    assert image_digest(image.reshape(30, 40, 3)) != digest
    assert image_digest(image.astype(np.uint16)) != digest
    assert image_digest(image[:, :, 0]) == image_digest(np.ascontiguousarray(image[:, :, 0]))
