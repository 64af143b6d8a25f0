"""A stage's wall time: the union of its tasks' spans, on threads as on a cluster."""

import time

import dask
import dask.array as da
import numpy as np

from core.observe.progress import for_this_compute
from core.observe.timing import StageTimer, StageTimes, stage_timing


def test_a_stage_wall_time_counts_overlapping_tasks_once():
    times = StageTimes(owner={"read": "read", "sobel": "sobel"})
    for key, spans in [
        (("read", 0), [(0.0, 2.0)]),
        (("read", 1), [(1.0, 3.0)]),  # overlaps the first: 0..3 in all
        (("read", 2), [(5.0, 6.0)]),  # after a gap
        (("read", 3), [(5.5, 5.8)]),  # inside the one before
        (("sobel", 0), [(2.0, 4.0), (4.5, 5.0)]),  # one task, run in two parts
        ("store-123", [(0.0, 0.5)]),
    ]:
        times.record(key, spans, "worker")
    assert times.wall_seconds() == {"read": 4.0, "sobel": 2.5, "other": 0.5}
    assert np.isclose(times.seconds["read"], 2.0 + 2.0 + 1.0 + 0.3)  # task seconds add up
    assert times.tasks == {"read": 4, "sobel": 1, "other": 1}


def test_on_threads_parallel_tasks_add_up_to_more_task_seconds_than_wall_seconds():
    def nap(block):
        time.sleep(0.05)  # releases the GIL, as NumPy and SciPy do
        return block

    blocks = da.zeros((4, 4), chunks=2).map_blocks(nap, dtype=float, name="nap")
    timer = StageTimer({"nap": "sobel"})
    dask.compute(blocks, scheduler="threads", num_workers=4, optimize_graph=False, **for_this_compute(timer))
    task_seconds, wall = timer.times.seconds["sobel"], timer.times.wall_seconds()["sobel"]
    assert timer.times.tasks["sobel"] == 4 and task_seconds >= 0.2
    assert 0.05 <= wall < task_seconds * 0.75  # the four naps overlapped


def test_on_a_cluster_the_task_stream_gives_the_same_spans():
    from core.runtime.cluster import connect

    blocks = da.ones((4, 4), chunks=2).map_blocks(np.negative, dtype=float, name="negate")
    runner = connect("local", dashboard=False)
    try:
        with stage_timing({"negate": "clip"}, runner.client) as timing:
            runner.client.compute(blocks, optimize_graph=False).result()
        times = timing.times
    finally:
        runner.close()
    assert times.tasks["clip"] == 4
    assert 0 < times.wall_seconds()["clip"] <= times.seconds["clip"] + 1e-9
    assert set(times.wall_seconds()) == set(times.seconds)
