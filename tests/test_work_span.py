"""Work, span and the list scheduler: small graphs whose answer is known by hand, the bounds
every schedule keeps, and a recorded run read as one."""

from itertools import pairwise

import numpy as np
import pytest

from core.observe import list_schedule, longest_chain, record_run, scheduling_cost, task_graph_of, work_span
from core.observe.replay import RecordedRun, TaskRun
from core.pipeline import build_pipeline, parse_chain, partition

#: name -> (durations, edges (dependency, dependent), {workers: wall}, span, its tasks)
BY_HAND = {
    # 0 -> 1 -> 2: nothing runs side by side, however many workers
    "chain": ([1.0, 2.0, 3.0], [(0, 1), (1, 2)], {1: 6.0, 2: 6.0, 8: 6.0}, 6.0, [0, 1, 2]),
    # 0 -> 1 and 0 -> 2: after the root, its two branches side by side
    "fork": ([1.0, 2.0, 3.0], [(0, 1), (0, 2)], {1: 6.0, 2: 4.0, 3: 4.0}, 4.0, [0, 2]),
    # 0 -> 2 and 1 -> 2: the join waits for the longer of the two
    "join": ([2.0, 3.0, 1.0], [(0, 2), (1, 2)], {1: 6.0, 2: 4.0}, 4.0, [1, 2]),
    # four independent tasks: two rounds on two workers
    "independent": ([3.0, 3.0, 2.0, 2.0], [], {1: 10.0, 2: 5.0, 4: 3.0}, 3.0, [0]),
    # a diamond: 0 -> {1, 2} -> 3
    "diamond": ([1.0, 4.0, 2.0, 1.0], [(0, 1), (0, 2), (1, 3), (2, 3)], {1: 8.0, 2: 6.0}, 6.0, [0, 1, 3]),
}


@pytest.mark.parametrize("name", list(BY_HAND))
def test_small_graphs_take_the_time_worked_out_by_hand(name):
    durations, edges, walls, span, chain = BY_HAND[name]
    for workers, wall in walls.items():
        assert list_schedule(durations, edges, workers) == pytest.approx(wall), workers
    assert longest_chain(durations, edges) == (pytest.approx(span), chain)


def test_the_ready_task_of_lowest_priority_goes_first():
    # Two workers, three independent tasks: the long one last makes the run longer.
    assert list_schedule([1.0, 1.0, 4.0], [], 2) == 5.0
    assert list_schedule([1.0, 1.0, 4.0], [], 2, priority=[1, 2, 0]) == 4.0


def test_a_task_never_starts_before_its_dependencies_even_with_idle_workers():
    # 0 (long) -> 2; 1 is short and free: 2 waits for 0, not for a worker.
    assert list_schedule([5.0, 1.0, 1.0], [(0, 2)], 2) == 6.0


def test_no_worker_and_a_cycle_are_refused():
    with pytest.raises(ValueError, match="worker"):
        list_schedule([1.0], [], 0)
    with pytest.raises(ValueError, match="cycle"):
        list_schedule([1.0, 1.0], [(0, 1), (1, 0)], 1)


@pytest.mark.parametrize("seed", range(5))
def test_every_schedule_lies_between_the_bounds_of_work_and_span(seed):
    rng = np.random.default_rng(seed)
    count = 60
    durations = rng.exponential(1.0, count).tolist()
    edges = [(i, j) for j in range(count) for i in range(j) if rng.random() < 0.05]
    work, (span, chain) = sum(durations), longest_chain(durations, edges)
    assert all((a, b) in set(edges) for a, b in pairwise(chain))  # a chain of real dependencies
    assert sum(durations[i] for i in chain) == pytest.approx(span)
    for workers in (1, 2, 3, 8, 64):
        wall = list_schedule(durations, edges, workers)
        # Graham's bound: a greedy schedule is never idle while work is ready.
        assert max(work / workers, span) - 1e-9 <= wall <= work / workers + span + 1e-9
    assert list_schedule(durations, edges, 1) == pytest.approx(work)
    assert list_schedule(durations, edges, count) == pytest.approx(span)


def test_a_recorded_run_becomes_durations_in_the_graphs_order(tmp_path, photo):
    pipeline = build_pipeline(partition(photo, 2, 2, tmp_path / "tiles"), parse_chain(["sobel", "clip"]))
    graph, run = task_graph_of(pipeline), record_run(pipeline)
    spread = work_span(graph, run)
    by_key = {task.key: task for task in run.tasks}
    assert spread.durations == tuple(by_key[node.key].stop - by_key[node.key].start for node in graph.nodes)
    assert spread.work == pytest.approx(sum(task.stop - task.start for task in run.tasks))
    assert spread.span <= run.wall + 1e-9  # the run itself followed every chain
    first, last = graph.nodes[spread.span_tasks[0]], graph.nodes[spread.span_tasks[-1]]
    assert first.stage == "read" and last.stage == "clip"  # from a tile file to the result
    assert spread.predict(1) == pytest.approx(spread.work)
    assert spread.predict(64) == pytest.approx(spread.span)
    assert spread.predict(2, per_task=0.001) > spread.predict(2)
    assert spread.parallelism == pytest.approx(spread.work / spread.span)


def test_a_task_the_run_did_not_record_counts_as_instant(tmp_path, photo):
    pipeline = build_pipeline(partition(photo, 1, 2, tmp_path / "tiles"), parse_chain(["clip"]))
    graph = task_graph_of(pipeline)
    recorded = [TaskRun(node.key, "w", 0, float(i), float(i) + 1.0) for i, node in enumerate(graph.nodes[1:])]
    spread = work_span(graph, RecordedRun(tuple(recorded), len(recorded), "threads"))
    assert spread.durations[0] == 0.0 and spread.work == len(recorded)


def test_the_scheduling_cost_is_measured_on_threads_and_on_a_cluster():
    from core.runtime.cluster import connect

    threads = scheduling_cost(tasks=50)
    runner = connect("local", dashboard=False)
    try:
        cluster = scheduling_cost(runner.client, tasks=50)
    finally:
        runner.close()
    assert 0 < threads < 0.05 and 0 < cluster < 0.5
    assert cluster > threads  # every task crosses the cluster's scheduler, and back


def test_durations_recorded_on_threads_already_hold_the_threads_cost():
    from core.observe import cost_beyond_recording

    assert cost_beyond_recording(0.0001, "threads", 0.0001) == 0.0
    assert cost_beyond_recording(0.002, "threads", 0.0001) == pytest.approx(0.0019)  # the cluster's, beyond
    assert cost_beyond_recording(0.0001, "tcp://127.0.0.1:8786", 0.0001) == 0.0001  # a task stream: compute alone


def test_the_graph_the_speedup_page_times_is_recorded_whole_sum_included(tmp_path, photo):
    from ui.services.scaling import checksum_of

    pipeline = build_pipeline(partition(photo, 2, 2, tmp_path / "tiles"), parse_chain(["sobel", "clip"]))
    checksum = checksum_of(pipeline)
    graph, run = task_graph_of(pipeline, checksum), record_run(pipeline, array=checksum)
    assert sorted(task.key for task in run.tasks) == sorted(node.key for node in graph.nodes)
    spread = work_span(graph, run)
    assert graph.nodes[spread.span_tasks[-1]].stage == "other"  # the chain ends in the sum
    assert len(graph.nodes) > len(task_graph_of(pipeline).nodes)
