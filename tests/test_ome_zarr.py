"""The OME-Zarr multiscale image: exact level 0, mean-pooled levels, NGFF 0.5 metadata, atomic."""

import json
import os

import dask
import dask.array as da
import numpy as np
import pytest
import zarr

from core.errors import PipelineError
from core.outputs.ome_zarr import SMALLEST_SIDE, multiscale_metadata, resolution_levels, store_multiscale
from core.pipeline.build import build_pipeline
from core.pipeline.tiling import partition
from core.runtime.atomic import atomic_folder
from core.runtime.cluster import connect


def mean_2x2(image: np.ndarray) -> np.ndarray:
    """The 2 x 2 mean of the whole image in NumPy, the odd last row and column dropped."""
    height, width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    return image[:height, :width].reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))


def numpy_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    result = [image]
    for _ in range(levels - 1):
        result.append(mean_2x2(result[-1]))
    return result


@pytest.fixture
def uneven(rng) -> tuple[np.ndarray, da.Array]:
    """A float32 image of odd sides in blocks that are neither equal nor even."""
    image = rng.random((1101, 1303), dtype=np.float32)
    return image, da.from_array(image, chunks=((400, 367, 334), (500, 433, 370)))


def write(image: da.Array, path, **options) -> zarr.Group:
    dask.compute(*store_multiscale(image, path, **options), scheduler="threads")
    return zarr.open_group(path, mode="r")


@pytest.mark.parametrize("compressed", [True, False])
def test_level_0_equals_the_input_exactly_for_uneven_blocks(tmp_path, uneven, compressed):
    image, blocks = uneven
    group = write(blocks, tmp_path / "image.ome.zarr", compressed=compressed)
    level_0 = group["0"]
    assert level_0.dtype == np.float32
    np.testing.assert_array_equal(level_0[:], image)
    # zarr needs equal chunks: the blocks were rechunked to the largest along each axis
    assert level_0.chunks == (400, 500)
    assert bool(level_0.compressors) == compressed


def test_each_level_is_the_2x2_mean_of_the_whole_image_until_it_fits_512(tmp_path, uneven):
    image, blocks = uneven
    group = write(blocks, tmp_path / "image.ome.zarr")
    # 1101 x 1303 -> 550 x 651 -> 275 x 325, the first that fits in 512 pixels a side
    expected = numpy_pyramid(image, 3)
    assert sorted(group.array_keys()) == ["0", "1", "2"]
    for level, want in enumerate(expected):
        stored = group[str(level)][:]
        assert stored.shape == want.shape and stored.dtype == np.float32, level
        # float32 sums of the same four pixels in another order: within an ulp or two
        np.testing.assert_allclose(stored, want, rtol=3e-7, atol=0, err_msg=f"level {level}")
    assert max(group["2"].shape) <= SMALLEST_SIDE < max(group["1"].shape)


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.bool_])
def test_labels_and_masks_keep_every_other_pixel_never_a_mean(tmp_path, rng, dtype):
    # Labels 1 and 3 side by side: a mean would make 2, a region that is not there.
    image = rng.integers(0, 4, (1101, 1303)).astype(dtype)
    group = write(da.from_array(image, chunks=((400, 367, 334), (500, 433, 370))), tmp_path / "labels.ome.zarr")
    assert sorted(group.array_keys()) == ["0", "1", "2"]
    for level in range(3):
        stored = group[str(level)][:]
        step = 2**level
        height, width = image.shape[0] // step, image.shape[1] // step
        assert stored.dtype == dtype, level
        every_other = image[: height * step : step, : width * step : step]
        np.testing.assert_array_equal(stored, every_other, err_msg=f"level {level}")
    (multiscale,) = group.attrs["ome"]["multiscales"]
    assert multiscale["type"] == "nearest" and "top-left pixel" in multiscale["metadata"]["description"]


def test_the_levels_can_be_asked_for_and_impossible_ones_are_refused(uneven):
    _, blocks = uneven
    assert [level.shape for level in resolution_levels(blocks, levels=5)] == [
        (1101, 1303), (550, 651), (275, 325), (137, 162), (68, 81)
    ]
    assert len(resolution_levels(blocks, levels=11)) == 11  # 1101 halves 10 times to 1 row
    with pytest.raises(PipelineError, match="1 to 11 levels, got levels=12"):
        resolution_levels(blocks, levels=12)
    with pytest.raises(PipelineError, match="2-D"):
        resolution_levels(da.zeros((4, 4, 3)))
    with pytest.raises(PipelineError, match="real numbers, integers or booleans, got complex64"):
        resolution_levels(da.zeros((4, 4), dtype=np.complex64))
    assert len(resolution_levels(da.zeros((512, 300)))) == 1  # already fits: level 0 alone


def test_the_metadata_follows_ome_ngff_0_5(tmp_path, uneven):
    _, blocks = uneven
    path = tmp_path / "image.ome.zarr"
    group = write(blocks, path, name="edges")
    on_disk = json.loads((path / "zarr.json").read_text())
    assert on_disk["zarr_format"] == 3 and on_disk["node_type"] == "group"
    ome = on_disk["attributes"]["ome"]
    assert ome == multiscale_metadata(3, name="edges")
    assert ome["version"] == "0.5"
    (multiscale,) = ome["multiscales"]
    assert multiscale["name"] == "edges"
    assert multiscale["axes"] == [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    # paths from the highest resolution to the lowest, each an array of the group with the
    # axes' number of dimensions and their names
    assert [d["path"] for d in multiscale["datasets"]] == ["0", "1", "2"]
    for level, dataset in enumerate(multiscale["datasets"]):
        array = group[dataset["path"]]
        assert array.ndim == 2 and array.metadata.dimension_names == ("y", "x")
        # exactly one scale, then at most one translation, each with one value per axis
        scale, translation = dataset["coordinateTransformations"]
        assert scale == {"type": "scale", "scale": [2.0**level, 2.0**level]}
        # a 2 x 2 mean is centred between the pixels it averages, level 0's centres at 0, 1, ...
        assert translation == {"type": "translation", "translation": [(2**level - 1) / 2] * 2}
    assert "version" not in multiscale  # 0.4 kept it here; 0.5 keeps it beside "multiscales"


def test_a_level_0_pixel_and_its_coarse_pixel_share_the_centre_in_world_coordinates():
    (multiscale,) = multiscale_metadata(4, name="x")["multiscales"]
    for level, dataset in enumerate(multiscale["datasets"]):
        (scale,), (translation,) = ({t[k][0] for t in dataset["coordinateTransformations"] if k in t}
                                    for k in ("scale", "translation"))
        # coarse pixel 0 averages level-0 pixels 0 .. 2**level - 1, whose centres average to:
        assert 0 * scale + translation == np.mean(np.arange(2**level))


def test_the_pipeline_result_written_on_a_local_cluster_equals_threads(tmp_path, photo):
    pipeline = build_pipeline(partition(photo, 3, 2, tmp_path / "tiles"))
    runner = connect("local", dashboard=False)
    try:
        futures = runner.client.compute(store_multiscale(pipeline.result, tmp_path / "cluster.zarr"))
        runner.client.gather(futures)
    finally:
        runner.close()
    stored = zarr.open_group(tmp_path / "cluster.zarr", mode="r")
    np.testing.assert_array_equal(stored["0"][:], pipeline.result.compute())
    assert sorted(stored.array_keys()) == ["0"]  # 67 x 53 fits in one level


def test_the_folder_replaces_an_old_one_only_when_every_write_succeeded(tmp_path, uneven):
    image, blocks = uneven
    path = tmp_path / "image.ome.zarr"
    with atomic_folder(path) as partial:
        write(blocks, partial)
    assert sorted(os.listdir(tmp_path)) == ["image.ome.zarr"]

    def fail_on_the_last_block(block, block_info=None):
        if block_info[0]["chunk-location"] == (2, 2):
            raise OSError("disk full")
        return block

    broken = blocks.map_blocks(fail_on_the_last_block, dtype=np.float32)
    with pytest.raises(OSError, match="disk full"), atomic_folder(path) as partial:
        write(broken * 2, partial)
    assert sorted(os.listdir(tmp_path)) == ["image.ome.zarr"]  # no partial folder left
    np.testing.assert_array_equal(zarr.open_group(path, mode="r")["0"][:], image)  # the old one kept

    with atomic_folder(path) as partial:
        write(blocks * 2, partial)
    assert sorted(os.listdir(tmp_path)) == ["image.ome.zarr"]  # nor the old one
    np.testing.assert_array_equal(zarr.open_group(path, mode="r")["0"][:], image * 2)
