"""Fusing a step's chunk tasks (``core.runtime.fusion``) changes how many tasks run, never a pixel."""

import dask
import numpy as np
import pytest
from dask.task_spec import Task
from distributed import Client, LocalCluster

from core.pipeline.build import build_pipeline
from core.pipeline.stage_table import STAGES, parse_chain
from core.pipeline.tiling import partition
from core.runtime import THREADS, connect
from core.runtime.fusion import fused_chunks, shares_memory

#: Every stage with its defaults, and the cases where a filter reaches past its neighbours.
TEXTS = [*STAGES, "sobel:mode=magnitude", "gaussian:sigma=10", "median:size=6"]


@pytest.fixture
def stitched(tmp_path, photo, monkeypatch):
    """The photo's grayscale in 5 x 4 chunks of 10 to 17 pixels, persisted as a step's input is."""
    monkeypatch.setattr("core.pipeline.chunks.MIN_FILTER_CHUNK", 1)  # a chunk per tile
    return build_pipeline(partition(photo, 5, 4, tmp_path / "tiles"), ()).stitched.persist()


def _step(image, text):
    (step,) = parse_chain([text])
    return STAGES[step.stage].apply(image, **step.values)


def _tasks(array) -> int:
    return sum(isinstance(node, Task) for node in dict(dask.optimize(array)[0].__dask_graph__()).values())


@pytest.mark.parametrize("text", TEXTS)
def test_fused_chunks_equal_the_unfused_for_every_stage(stitched, text):
    unfused, fused = dask.compute(_step(stitched, text), fused_chunks(_step(stitched, text)))
    assert fused.dtype == unfused.dtype
    np.testing.assert_array_equal(fused, unfused)


@pytest.mark.parametrize("text", ["sobel:mode=x", "gaussian:sigma=2", "median:size=3"])
def test_a_filter_runs_one_task_per_chunk_once_fused(stitched, text):
    filtered = _step(stitched, text)
    assert _tasks(filtered) > 3 * filtered.npartitions  # map_overlap's cuts: the check can fail
    assert _tasks(fused_chunks(filtered)) == filtered.npartitions


def test_fused_chunks_on_the_local_cluster_equal_threads(tmp_path, photo, stitched):
    runner = connect("local", dashboard=False)
    try:
        on_cluster = runner.client.persist(
            build_pipeline(partition(photo, 5, 4, tmp_path / "cluster"), ()).stitched
        )
        for text in ("gaussian:sigma=2", "sobel:mode=magnitude", "label"):
            np.testing.assert_array_equal(
                fused_chunks(_step(on_cluster, text)).compute(scheduler=runner.client),
                _step(stitched, text).compute(),
            )
    finally:
        runner.close()


def test_only_workers_in_this_process_share_its_memory():
    assert shares_memory(THREADS)
    runner = connect("local", dashboard=False)
    try:
        assert shares_memory(runner.client)
    finally:
        runner.close()
    # The same cluster reached over TCP, as a team's would be: its workers get whole
    # neighbour chunks only by the network.
    with (
        LocalCluster(n_workers=1, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        assert not shares_memory(client)
