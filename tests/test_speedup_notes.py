"""The Speed-up page's sentences: their numbers come from the measurements."""

import pytest

from ui.services.clock import duration, runs_on_words
from ui.services.scaling import GridPoint, GridScaling, ScalingPoint, WorkerScaling
from ui.services.speedup_notes import LARGER_IMAGE, grid_lesson, near_one, speedup_lesson, task_costs


def sweep(walls: dict[int, float], task_seconds: float = 0.040, tasks: int = 281, slowed: float = 1.0) -> WorkerScaling:
    """A worker sweep whose run on one thread computed for ``task_seconds`` over ``tasks``
    tasks, and whose runs on more threads for ``slowed`` times as long."""
    def seconds(k):
        return task_seconds * (slowed if k > 1 else 1.0)
    return WorkerScaling(tuple(
        ScalingPoint(k, wall, {"read": seconds(k) / 2, "sobel": seconds(k) / 2}, tasks, 0.0, tasks - 21)
        for k, wall in walls.items()
    ))


def test_a_run_on_one_thread_is_its_tasks_computing_and_what_surrounds_them():
    assert task_costs(0.040, 0.086, 200) == pytest.approx((0.0002, 0.00023))
    assert task_costs(0.040, 0.030, 200)[1] == 0  # never less than nothing around them


def test_a_speedup_near_one_is_explained_with_the_one_thread_numbers_and_a_larger_image():
    workers = sweep({1: 0.0863, 2: 0.0869})
    assert near_one(workers)
    text = speedup_lesson(workers)
    assert text.startswith("**Why hardly faster (0.99x on 2 threads)?**")
    for numbers in ("86.3 ms of wall time for 281 tasks (the pipeline's 260 and 21 summing its result)",
                    "for 40.0 ms in all", "**0.14 ms a task**",
                    "the other 46.3 ms, **0.16 ms a task**"):
        assert numbers in text, numbers
    assert "hands tasks out one after another" in text and "slowed each other" not in text
    assert f"{workers.serial_fraction:.0%}" in text and LARGER_IMAGE in text


def test_threads_that_slow_each_other_down_are_said_with_their_task_time():
    # Tasks that computed twice as long on two threads: nothing left for a speed-up.
    workers = sweep({1: 0.0122, 2: 0.0115}, task_seconds=0.00986, tasks=61, slowed=1.8)
    text = speedup_lesson(workers)
    assert "hands tasks out" not in text  # 0.04 ms around a task of 0.16 ms: not the cause
    assert "the same tasks computed for 17.7 ms in all, **1.8 times as long** as on one" in text
    assert "which leaves at most 1.1x" in text and LARGER_IMAGE in text


def test_a_good_speedup_says_the_tasks_keep_the_threads_busy():
    workers = sweep({1: 2.0, 2: 1.05}, task_seconds=1.9, tasks=100)
    assert not near_one(workers)
    text = speedup_lesson(workers)
    assert text.startswith("**1.90x on 2 threads.**") and "keep busy" in text and LARGER_IMAGE not in text


def test_one_core_has_no_speedup_to_explain():
    workers = sweep({1: 0.1})
    assert not near_one(workers) and "one core" in speedup_lesson(workers)


def grids(walls: list[float], tasks: list[int], task_seconds: list[float]) -> GridScaling:
    sizes = [1, 2, 4, 8, 16][: len(walls)]
    return GridScaling(tuple(
        GridPoint(g, g, n, wall, {"sobel": seconds}, n - 1) for g, wall, n, seconds in zip(sizes, walls, tasks, task_seconds)
    ), workers=2)


def test_the_grid_sweep_says_where_tasks_get_too_small_to_pay():
    text = grid_lesson(grids([0.0135, 0.012, 0.030, 0.120], [20, 60, 220, 860], [0.010, 0.011, 0.014, 0.030]))
    assert text.startswith("Fastest at **2 x 2 tiles** (12.0 ms of wall time).")
    # 4 x 4: 160 more tasks, 18 ms slower; each of its tasks computes for 14 ms / 220.
    assert ("160 more tasks made the run 18.0 ms slower, **0.11 ms for each extra task**, more than sharing the "
            "work among 2 threads saved, and more than a task there computes (**0.06 ms** on average).") in text
    assert duration(0.014 / 220) == "0.06 ms"


def test_a_grid_whose_tasks_still_compute_long_says_only_what_splitting_cost():
    text = grid_lesson(grids([0.008, 0.015], [9, 56], [0.0057, 0.0228]))
    assert text.endswith("**0.15 ms for each extra task**, more than sharing the work among 2 threads saved. "
                         "Splitting further only adds work for the scheduler.")


def test_a_grid_sweep_that_pays_to_the_end_says_so():
    text = grid_lesson(grids([4.0, 2.1, 1.2], [20, 60, 220], [7.9, 8.0, 8.1]))
    assert text.startswith("Fastest at **4 x 4 tiles** (1.20 s of wall time).") and "paid all the way" in text


@pytest.mark.parametrize("seconds, text", [
    (2.5, "2.50 s"), (1.0, "1.00 s"), (0.0863, "86.3 ms"), (0.01, "10.0 ms"), (0.00031, "0.31 ms"), (0.0, "0.00 ms"),
])
def test_a_duration_reads_as_the_browser_writes_it_and_a_short_one_is_never_zero_seconds(seconds, text):
    assert duration(seconds) == text


def test_where_it_ran_in_plain_words():
    assert runs_on_words("local", address="inproc://10.0.0.1/123/1") == "a local Dask cluster"
    assert runs_on_words("remote", address="tcp://scheduler:8786") == "a Dask cluster at tcp://scheduler:8786"
    assert runs_on_words("threads") == "threads in the server"
    assert runs_on_words("local", starting=True) == "threads in the server while the cluster starts"
    assert runs_on_words("local", small_tiles=True) == "threads in the server, for tiles this small"
