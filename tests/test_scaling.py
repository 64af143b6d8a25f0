import dask.system
import numpy as np
import pytest

from core.errors import PipelineError
from core.pipeline.stage_table import parse_chain
from core.pipeline.tiling import partition
from ui.services.scaling import (
    MeasurementCancelled,
    ScalingPoint,
    WorkerScaling,
    amdahl_serial_fraction,
    default_worker_counts,
    measure_grids,
    measure_workers,
)


@pytest.fixture
def tiles(photo, tmp_path):
    return partition(photo, 2, 3, tmp_path / "tiles")


def test_each_worker_count_gets_a_point_with_every_stage_timed(tiles):
    scaling = measure_workers(tiles, workers=[1, 2])
    assert scaling.workers == [1, 2]
    for point in scaling.points:
        assert point.wall > 0
        assert list(point.stage_seconds) == ["read", "grayscale", "stitch", "sobel", "clip", "other"]
        assert all(seconds > 0 for seconds in point.stage_seconds.values()), point.stage_seconds
        # Tasks run inside the run, so their time on one thread cannot exceed its wall time.
        assert point.workers > 1 or sum(point.stage_seconds.values()) <= point.wall


def test_each_step_of_the_chain_is_timed_under_its_label(tiles):
    chain = parse_chain(["gaussian:sigma=1", "gaussian:sigma=2", "threshold:method=otsu"])
    (point,) = measure_workers(tiles, chain=chain, workers=[1]).points
    assert list(point.stage_seconds) == ["read", "grayscale", "stitch", "gaussian", "gaussian 2", "threshold", "other"]
    # Otsu's threshold once fused copies of the tiles' graph under other names, reading each
    # tile again (and timing nothing as grayscale): every stage must run tasks of its own.
    assert all(seconds > 0 for seconds in point.stage_seconds.values()), point.stage_seconds


def test_one_worker_is_always_the_baseline(tiles):
    assert measure_workers(tiles, workers=[2]).workers == [1, 2]


@pytest.mark.parametrize("mode, lo, hi", [("x", 0.0, 1.0), ("magnitude", 0.1, 2.0)])
def test_the_result_does_not_depend_on_the_workers_and_matches_scipy(photo, tiles, reference, mode, lo, hi):
    chain = parse_chain([f"sobel:mode={mode}", f"clip:lo={lo},hi={hi}"])
    scaling = measure_workers(tiles, chain=chain, workers=[1, 2, 3])
    checksums = {point.checksum for point in scaling.points}
    assert len(checksums) == 1  # the same reduction tree, whatever the threads
    expected = reference(photo, mode, lo, hi).sum()
    assert checksums.pop() == pytest.approx(expected, rel=1e-5)


def test_progress_counts_every_task_of_every_run_up_to_the_total(tiles):
    calls = []
    scaling = measure_workers(
        tiles, workers=[1, 2], repeats=2, report=lambda done, total: calls.append((done, total))
    )
    total = scaling.points[0].tasks * 2 * 2
    assert calls[-1] == (total, total)
    done = [d for d, _ in calls]
    assert done == sorted(done) and all(t == total for _, t in calls)


def test_cancelling_stops_the_graph_at_its_next_task(tiles):
    asked = []

    def cancelled() -> bool:
        asked.append(True)
        return len(asked) > 5

    # One run of a graph of dozens of tasks: only the per-task check can see the sixth answer.
    with pytest.raises(MeasurementCancelled, match="cancelled"):
        measure_workers(tiles, workers=[1], cancelled=cancelled)
    assert len(asked) == 6  # it stopped at the first True: no further task was started


def test_cancelled_before_starting_runs_nothing(tiles):
    calls = []
    with pytest.raises(MeasurementCancelled):
        measure_workers(tiles, workers=[1, 2], report=lambda *a: calls.append(a), cancelled=lambda: True)
    assert calls == []


def test_cancellation_is_a_pipeline_error_the_pages_already_show():
    assert issubclass(MeasurementCancelled, PipelineError)


def test_worker_counts_below_one_are_refused(tiles):
    with pytest.raises(PipelineError, match="at least 1"):
        measure_workers(tiles, workers=[0, 2])


@pytest.mark.parametrize("cores, counts", [
    (1, [1]),
    (2, [1, 2]),
    (8, [1, 2, 3, 4, 5, 6, 7, 8]),
    (12, [1, 2, 3, 4, 5, 6, 7, 8, 12]),
    (40, [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 40]),
])
def test_worker_counts_step_by_one_then_double_and_end_at_the_cores(cores, counts):
    assert default_worker_counts(cores) == counts


def test_worker_counts_default_to_the_cores_dask_may_use(monkeypatch):
    monkeypatch.setattr(dask.system, "CPU_COUNT", 3)
    assert default_worker_counts() == [1, 2, 3]


@pytest.mark.parametrize("serial", [0.0, 0.1, 0.5, 1.0])
def test_amdahl_fit_recovers_the_serial_fraction_of_times_that_follow_the_law(serial):
    workers = [1, 2, 3, 4, 8]
    walls = [2.0 * (serial + (1 - serial) / k) for k in workers]
    assert amdahl_serial_fraction(workers, walls) == pytest.approx(serial, abs=1e-9)


def test_amdahl_fit_needs_two_worker_counts_and_stays_within_zero_and_one():
    assert amdahl_serial_fraction([1], [1.0]) is None
    assert amdahl_serial_fraction([1, 2], [1.0, 1.5]) == 1.0  # slower with more workers
    assert amdahl_serial_fraction([1, 2], [1.0, 0.4]) == 0.0  # better than ideal: noise


def test_ideal_line_and_speedups_are_relative_to_one_worker():
    points = tuple(ScalingPoint(k, wall, {}, 10, 0.0, 8) for k, wall in [(1, 4.0), (2, 2.5), (4, 1.6)])
    scaling = WorkerScaling(points)
    assert scaling.ideal_walls == [4.0, 2.0, 1.0]
    assert scaling.speedups == [1.0, 1.6, 2.5]
    fraction = scaling.serial_fraction
    assert scaling.amdahl_speedup(1) == pytest.approx(1.0)
    assert scaling.amdahl_speedup(4) == pytest.approx(1 / (fraction + (1 - fraction) / 4))


def test_grid_sweep_times_each_grid_that_fits_and_counts_more_tasks_for_more_tiles(photo, tmp_path):
    calls = []
    grids = measure_grids(
        photo, tmp_path / "cache", grids=[4, 1, 2, 100], workers=2, report=lambda *a: calls.append(a)
    )
    assert [(p.rows, p.cols) for p in grids.points] == [(1, 1), (2, 2), (4, 4)]  # 100 x 100 does not fit 67 x 53
    assert grids.workers == 2
    tasks = [p.tasks for p in grids.points]
    assert tasks == sorted(set(tasks))
    assert all(p.wall > 0 and list(p.stage_seconds) == ["read", "grayscale", "stitch", "sobel", "clip", "other"]
               for p in grids.points)
    assert calls[-1] == (sum(tasks), sum(tasks))
    written = sorted(folder.name.rsplit("-", 1)[1] for folder in (tmp_path / "cache").iterdir())
    assert written == ["01x01", "02x02", "04x04"]


def test_grid_sweep_refuses_when_no_grid_fits(tmp_path):
    with pytest.raises(PipelineError, match="none of the grids"):
        measure_grids(np.zeros((3, 3), np.uint8), tmp_path, grids=[4, 8])


def test_grid_sweep_can_be_cancelled(photo, tmp_path):
    with pytest.raises(MeasurementCancelled):
        measure_grids(photo, tmp_path, grids=[1, 2], cancelled=lambda: True)
