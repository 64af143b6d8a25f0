"""``core.runtime.fetch``: blocks computed on a cluster and written here, one at a time."""

import dask
import dask.array as da
import numpy as np
import pytest

from core.errors import PipelineError
from core.runtime.cluster import connect
from core.runtime.fetch import block_slices, compute_and_store_here


@pytest.fixture(scope="module")
def client():
    runner = connect("local", dashboard=False)
    yield runner.client
    runner.close()


class Recorder:
    """A store target that keeps what it was given, and when."""

    def __init__(self, shape, dtype):
        self.array = np.full(shape, 99, dtype)
        self.writes = []

    def __setitem__(self, index, block):
        self.writes.append(index)
        self.array[index] = block


def test_block_slices_cover_uneven_chunks_once():
    slices = block_slices(((3, 1, 2), (4, 5)))
    assert len(slices) == 6 and slices[2, 1] == (slice(4, 6), slice(4, 9))
    covered = np.zeros((6, 9), int)
    for index in slices.values():
        covered[index] += 1
    assert (covered == 1).all()


def test_every_block_is_written_once_into_every_target_that_wants_it(client, rng):
    image = da.from_array(rng.random((50, 70), dtype=np.float32), chunks=((20, 17, 13), (30, 40)))
    doubled = image * 2
    # The same blocks go to two targets, as the .npy and a zarr's first level share theirs.
    first, second, third = Recorder(image.shape, np.float32), Recorder(image.shape, np.float32), Recorder((50, 70), np.float32)
    values = compute_and_store_here(client, [doubled.sum(), dask.delayed(len)("four")],
                                    [(doubled, first), (doubled, second), (image.rechunk(25), third)])
    assert values == [pytest.approx(float(doubled.sum().compute())), 4]
    for target, expected, blocks in [(first, doubled, 6), (second, doubled, 6), (third, image, 6)]:
        np.testing.assert_array_equal(target.array, expected.compute())
        assert len(target.writes) == len(set(map(str, target.writes))) == blocks


def test_a_failing_task_is_raised_here(client):
    def broken(block):
        raise ValueError("this block cannot be computed")

    image = da.zeros((20, 20), chunks=10).map_blocks(broken, dtype=float)
    with pytest.raises(ValueError, match="this block cannot be computed"):
        compute_and_store_here(client, [], [(image, Recorder((20, 20), float))])


def test_a_pass_longer_than_the_timeout_is_a_clear_error(client):
    def slow(block):
        import time

        time.sleep(2)
        return block

    image = da.zeros((20, 20), chunks=10).map_blocks(slow, dtype=float)
    with pytest.raises(PipelineError, match=r"did not finish within 0\.5 s"):
        compute_and_store_here(client, [], [(image, Recorder((20, 20), float))], timeout=0.5)
