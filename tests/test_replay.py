"""A run recorded task by task: every task of the drawn graph once, in an order that could run."""

import time

import pytest

from core.observe.replay import THIS_PROCESS, record_run
from core.observe.task_graph import task_graph_of
from core.pipeline.build import build_pipeline
from core.pipeline.stage_table import parse_chain
from core.pipeline.tiling import partition


@pytest.fixture
def pipeline(tmp_path, photo):
    chain = parse_chain(["gaussian:sigma=1", "sobel:mode=magnitude", "threshold", "label"])
    return build_pipeline(partition(photo, 2, 3, tmp_path / "tiles"), chain)


def check_the_run_replays_the_graph(run, graph):
    keys = [task.key for task in run.tasks]
    assert sorted(keys) == sorted(node.key for node in graph.nodes)  # each task once, and no others
    assert min(task.start for task in run.tasks) == 0.0
    assert all(task.stop >= task.start >= 0.0 for task in run.tasks)
    assert run.wall == max(task.stop for task in run.tasks)
    assert [task.start for task in run.tasks] == sorted(task.start for task in run.tasks)
    when = {task.key: task for task in run.tasks}
    for dependency, dependent in graph.edges:  # nothing starts before what it needs is done
        assert when[graph.nodes[dependent].key].start >= when[graph.nodes[dependency].key].stop - 1e-6


def test_on_threads_every_task_is_recorded_once_with_its_thread(pipeline):
    progress = []
    run = record_run(pipeline, on_progress=lambda done, total: progress.append((done, total)))
    check_the_run_replays_the_graph(run, task_graph_of(pipeline))
    assert run.where == "threads"
    assert {task.worker for task in run.tasks} == {THIS_PROCESS}
    assert all(isinstance(task.thread, int) for task in run.tasks)
    assert progress[-1][0] == progress[-1][1] >= len(run.tasks)


def test_on_a_cluster_the_task_stream_gives_the_same_tasks_and_keeps_nothing(pipeline):
    from core.observe.progress import wait_with_progress
    from core.runtime.cluster import connect

    runner = connect("local", dashboard=False)
    try:
        # The pages keep the stitched image on the cluster under the graph's own keys: the
        # recorded run must still run (and record) the tasks that made it.
        stitched = runner.client.persist(pipeline.stitched, optimize_graph=False)
        wait_with_progress([stitched])
        run = record_run(pipeline, runner.client)
        del stitched
        workers = set(runner.client.scheduler_info()["workers"])
        deadline = time.monotonic() + 30  # generous: a loaded CI machine is slow to tidy up
        while runner.client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) and time.monotonic() < deadline:
            time.sleep(0.05)  # the scheduler forgets released tasks a moment later
        left = runner.client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
    finally:
        runner.close()
    check_the_run_replays_the_graph(run, task_graph_of(pipeline))
    assert run.where == runner.address
    assert {task.worker for task in run.tasks} <= workers
    assert left == 0  # no block of the result stays on the workers
