"""The pipeline on real distributed clusters gives the threaded (and SciPy's) results."""

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import psutil
import pytest
from dask.system import CPU_COUNT
from PIL import Image
from skimage import data
from skimage.transform import resize

from core.cli import main
from core.errors import PipelineError
from core.pipeline.build import build_pipeline
from core.pipeline.stage_table import output_ranges, parse_chain
from core.pipeline.tiling import partition
from core.runtime.cluster import MIN_CLUSTER_TILE_PIXELS, check_workers_can_read, connect
from ui.services.previews import full_resolution_png, run_step, run_stitch_stages

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def local_cluster():
    runner = connect("local")
    yield runner
    runner.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def separate_processes(tmp_path):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = (tmp_path / "cluster.log").open("w")
    dask_cli = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler = subprocess.Popen(
        [*dask_cli, "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--no-nanny", "--host", "127.0.0.1", "--dashboard-address", ":0"],
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
        )
        for _ in range(2)
    ]
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)
    yield address, workers
    for process in [*workers, scheduler]:
        if process.poll() is None:
            process.terminate()
    for process in [*workers, scheduler]:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a worker still trying to reach its scheduler
            process.kill()
            process.wait()
    log.close()


@pytest.mark.parametrize("mode", ["x", "magnitude"])
def test_local_cluster_previews_equal_threads(tmp_path, photo, local_cluster, reference, mode):
    pipeline = build_pipeline(partition(photo, 3, 4, tmp_path / "tiles"), ())
    on_threads = run_stitch_stages(pipeline, max_side=30)
    on_cluster = run_stitch_stages(pipeline, max_side=30, scheduler=local_cluster.client)
    np.testing.assert_array_equal(on_cluster.stitched_preview, on_threads.stitched_preview)
    np.testing.assert_array_equal(
        on_cluster.stitched.compute(scheduler=local_cluster.client), on_threads.stitched.compute()
    )
    assert set(on_cluster.seconds) >= {"read", "grayscale", "stitch"}
    workers = set(local_cluster.client.scheduler_info()["workers"])
    assert set(on_cluster.tile_workers) == {(r, c) for r in range(3) for c in range(4)}
    assert set(on_cluster.tile_workers.values()) <= workers
    chain = parse_chain([f"sobel:mode={mode}", "clip:lo=0,hi=1"])
    runs = {}
    for where, stitched, scheduler in [("cluster", on_cluster, local_cluster.client), ("threads", on_threads, "threads")]:
        step_input, runs[where] = stitched.stitched, []
        for step, value_range in zip(chain, output_ranges(chain)):
            runs[where].append(run_step(step_input, step, value_range, stitched.stride, scheduler=scheduler))
            step_input = runs[where][-1].output
    edges, clipped = runs["cluster"]
    expected = reference(photo, mode, -10, 10)[:: on_cluster.stride, :: on_cluster.stride]
    np.testing.assert_allclose(edges.preview, expected, atol=1e-4)
    assert edges.histogram.counts.sum() == photo.shape[0] * photo.shape[1]
    downloads = [
        full_resolution_png(run.output, run.kind, run.value_range, scheduler=scheduler)
        for run, scheduler in [(clipped, local_cluster.client), (runs["threads"][1], "threads")]
    ]
    assert downloads[0] == downloads[1]  # compressed by the workers, byte for byte the same


def test_a_threshold_and_labels_on_a_local_cluster_give_what_threads_give(tmp_path, local_cluster):
    # Their level and region count come back gathered from single futures (``_gathered``).
    pipeline = build_pipeline(partition(data.coins(), 3, 3, tmp_path / "tiles"), ())
    runs = {}
    for where, scheduler in [("cluster", local_cluster.client), ("threads", "threads")]:
        stitched = run_stitch_stages(pipeline, max_side=100, scheduler=scheduler)
        chain = parse_chain(["gaussian:sigma=2", "threshold:method=otsu", "label:connectivity=2"])
        step_input, runs[where] = stitched.stitched, []
        for step, value_range in zip(chain, output_ranges(chain)):
            runs[where].append(run_step(step_input, step, value_range, stitched.stride, scheduler=scheduler))
            step_input = runs[where][-1].output
    for on_cluster, on_threads in zip(runs["cluster"], runs["threads"]):
        np.testing.assert_array_equal(on_cluster.preview, on_threads.preview)
        assert (on_cluster.level, on_cluster.regions) == (on_threads.level, on_threads.regions)
    assert runs["cluster"][1].level is not None and runs["cluster"][2].regions > 10


def test_progress_on_a_cluster_reaches_the_total(tmp_path, photo, local_cluster):
    reports = []
    pipeline = build_pipeline(partition(photo, 2, 3, tmp_path / "tiles"), ())
    run_stitch_stages(pipeline, scheduler=local_cluster.client, on_progress=lambda d, t: reports.append((d, t)))
    assert reports and reports[-1][0] == reports[-1][1]
    assert reports[-1][1] >= 3 * 6  # tasks, not outputs: each tile is read, converted and sliced
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)


def listening_addresses() -> set[str]:
    return {c.laddr.ip for c in psutil.Process().net_connections("inet") if c.status == psutil.CONN_LISTEN}


@pytest.mark.parametrize("dashboard", [True, False])
def test_a_local_cluster_listens_on_the_loopback_only(dashboard):
    before = listening_addresses()
    runner = connect("local", dashboard=dashboard)
    try:
        assert listening_addresses() - before <= {"127.0.0.1"}
        assert len(runner.client.scheduler_info()["workers"]) == CPU_COUNT
        port = runner.client.scheduler_info()["services"]["dashboard"]  # its HTTP server
        status = f"http://127.0.0.1:{port}/status"
        if dashboard:
            assert runner.dashboard_link == status
            with urllib.request.urlopen(status, timeout=30) as page:
                assert b"Dask" in page.read()
        else:
            assert runner.dashboard_link is None
            with pytest.raises(urllib.error.HTTPError, match="404"):  # health and metrics only
                urllib.request.urlopen(status, timeout=30)
    finally:
        runner.close()


def photo_file(tmp_path, size=(600, 800)) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray((resize(data.coffee(), size, order=1) * 255).astype(np.uint8)).save(path)
    return path


def run_cli(tmp_path, name, *options) -> np.ndarray:
    out = tmp_path / name
    assert main([str(photo_file(tmp_path)), "--grid", "3x5", "--sobel", "magnitude", "--out", str(out), *options]) == 0
    return np.load(out / "result.npy")


def test_command_line_on_a_local_cluster_equals_threads(tmp_path, capsys):
    on_threads = run_cli(tmp_path, "threads")
    on_cluster = run_cli(tmp_path, "local", "--scheduler", "local", "--progress", "--dashboard")
    np.testing.assert_array_equal(on_cluster, on_threads)
    shown = capsys.readouterr()
    assert "ran on: local (inproc://" in shown.out  # workers in this process
    assert "Dask's dashboard: http://127.0.0.1:" in shown.err
    assert "computing the blocks, storing them and compressing the PNG:" in shown.err
    assert "100% |" in shown.err.split("compressing the PNG:")[1]


def test_command_line_on_separate_scheduler_and_workers(tmp_path, separate_processes, reference, capsys):
    address, _ = separate_processes
    on_threads = run_cli(tmp_path, "threads")
    on_cluster = run_cli(tmp_path, "remote", "--scheduler", address)
    np.testing.assert_array_equal(on_cluster, on_threads)
    gray = np.asarray(Image.open(photo_file(tmp_path)).convert("RGB"))
    np.testing.assert_allclose(on_cluster, reference(gray, "magnitude", 0, 1), atol=1e-4)
    assert f"ran on: remote ({address})" in capsys.readouterr().out


def test_a_worker_killed_mid_compute_still_gives_the_right_result(tmp_path, separate_processes, reference):
    address, workers = separate_processes
    image = (resize(data.astronaut(), (1500, 1500), order=1) * 255).astype(np.uint8)
    pipeline = build_pipeline(partition(image, 12, 12, tmp_path / "tiles"), parse_chain(["sobel:mode=magnitude"]))
    runner = connect(address)
    try:
        future = runner.client.compute(pipeline.result)
        deadline = time.monotonic() + 30
        while not runner.client.processing() or not any(runner.client.processing().values()):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        workers[0].send_signal(signal.SIGKILL)
        assert workers[0].wait(timeout=10) == -signal.SIGKILL
        started = time.monotonic()
        result = future.result(timeout=120)
        assert time.monotonic() - started < 120
    finally:
        runner.close()
    np.testing.assert_allclose(result, reference(image, "magnitude", -10, 10), atol=1e-4)


def test_an_unreachable_scheduler_is_a_clear_error():
    started = time.monotonic()
    with pytest.raises(PipelineError, match=re.escape("cannot reach the Dask scheduler at tcp://127.0.0.1:9")):
        connect("tcp://127.0.0.1:9", timeout=2)
    assert time.monotonic() - started < 15


def test_workers_that_cannot_see_the_tiles_are_reported(tmp_path, local_cluster):
    check_workers_can_read(local_cluster, tmp_path)  # the local cluster shares this disk
    with pytest.raises(PipelineError, match="workers cannot read the tile folder"):
        check_workers_can_read(local_cluster, tmp_path / "not-there")


def test_tiles_too_small_for_a_cluster_run_on_threads(local_cluster):
    assert connect("threads").scheduler_for(1) == "threads"
    assert local_cluster.scheduler_for(MIN_CLUSTER_TILE_PIXELS) is local_cluster.client
    assert local_cluster.scheduler_for(MIN_CLUSTER_TILE_PIXELS - 1) == "threads"
