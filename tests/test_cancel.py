"""A computation its page stops waiting for stops too: on threads at the next task, on a
cluster by cancelling its futures (``core.runtime.cancel``)."""

import threading
import time

import dask.array as da
import numpy as np
import pytest

from core.observe.progress import ProgressCallback, for_this_compute, wait_with_progress
from core.runtime.cancel import persist_and_wait
from core.runtime.cluster import connect

BLOCKS = 16
BLOCK_SECONDS = 0.3


class VisitorMovedOn(BaseException):
    """As Streamlit's own: a script stopped mid-run is not an ``Exception``."""


#: Blocks computed, by key: the local cluster's workers are threads of this process.
RAN: dict[str, list] = {}
RAN_LOCK = threading.Lock()


def slow(block, *, ran: str):
    time.sleep(BLOCK_SECONDS)
    with RAN_LOCK:
        RAN.setdefault(ran, []).append(1)
    return block + 1


def slow_array(ran: str) -> da.Array:
    """``BLOCKS`` tasks of ``BLOCK_SECONDS`` each, counted in ``RAN[ran]`` as they end."""
    return da.zeros((BLOCKS, 10), chunks=(1, 10)).map_blocks(slow, ran=ran, dtype=float)


def moved_on_at_first_report(done, total):
    raise VisitorMovedOn


def test_on_threads_a_stopped_report_stops_the_graph_at_the_next_task():
    stopper = for_this_compute(ProgressCallback(moved_on_at_first_report, interval=0))
    with pytest.raises(VisitorMovedOn):
        persist_and_wait([slow_array("threads")], lambda persisted: None, scheduler="threads", num_workers=2, **stopper)
    time.sleep(2 * BLOCK_SECONDS)  # the tasks already running finish
    assert len(RAN["threads"]) <= 2 + 1  # those running when the first finished, not all BLOCKS


@pytest.fixture(scope="module")
def cluster():
    runner = connect("local", dashboard=False)
    yield runner.scheduler
    runner.close()


def scheduler_tasks(client) -> int:
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def test_on_a_cluster_a_stopped_wait_cancels_the_futures(cluster):
    started = time.monotonic()
    try:
        persist_and_wait(
            [slow_array("cluster")], lambda persisted: wait_with_progress(persisted, moved_on_at_first_report),
            scheduler=cluster,
        )
    except VisitorMovedOn:
        # Checked while the exception lives: its traceback holds the futures, as a stopped
        # page's may for a while; only cancelling them stops their tasks meanwhile.
        deadline = time.monotonic() + 5
        while scheduler_tasks(cluster) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert scheduler_tasks(cluster) == 0  # nothing left queued or running for nobody
    else:
        pytest.fail("the wait was not stopped")
    workers = len(cluster.scheduler_info()["workers"])
    assert len(RAN.get("cluster", [])) < BLOCKS - workers and time.monotonic() - started < BLOCKS * BLOCK_SECONDS / workers


def test_on_a_cluster_a_wait_that_ends_keeps_the_result(cluster):
    (result,) = persist_and_wait(
        [da.ones((4, 4), chunks=2) * 3], lambda persisted: wait_with_progress(persisted), scheduler=cluster
    )
    np.testing.assert_array_equal(result.compute(scheduler=cluster), np.full((4, 4), 3.0))
