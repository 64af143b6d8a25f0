"""The pipeline on a cluster as a team starts one (``tests/private_cluster.py``): the code
not installed on any node, each worker on a disk of its own. The code is shipped, the tiles
travel in the graph and stay with the workers, the results come back block by block, and
everything equals SciPy, also when a worker dies mid-run."""

import importlib.metadata
import re
import shutil
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.ndimage as ndi
import zarr
from apptest import open_app
from PIL import Image
from private_cluster import Cluster, kill_tree, venv_of
from skimage import data, filters
from skimage.transform import resize

from core.cli import main
from core.pipeline import STAGES, build_pipeline, chain_arrays, parse_chain, partition
from core.pipeline.shipped import shipped, tile_paths, tiles_in_graph
from core.runtime.cluster import connect, workers_not_seeing, workers_not_seeing_folder
from core.runtime.fetch import compute_and_store_here
from core.runtime.shipping import code_zip, ship

REPO = Path(__file__).resolve().parents[1]
ATOL = 1e-4

#: A step of every stage of the table (the label stage after a threshold, below), and what
#: SciPy or scikit-image make of the whole grayscale image.
REFERENCES = {
    "gaussian:sigma=1": lambda g: ndi.gaussian_filter(g, 1),
    "median:size=3": lambda g: ndi.median_filter(g, size=3),
    "uniform:size=3": lambda g: ndi.uniform_filter(g, 3),
    "sobel:mode=magnitude": lambda g: np.hypot(ndi.sobel(g, axis=0), ndi.sobel(g, axis=-1)),
    "prewitt:mode=y": lambda g: ndi.prewitt(g, axis=0),
    "laplace": ndi.laplace,
    "clip:lo=0.2,hi=0.6": lambda g: np.clip(g, 0.2, 0.6),
    "threshold": lambda g: g > filters.threshold_otsu(g),
}


@pytest.fixture(scope="module")
def runner(private_cluster):
    connected = connect(private_cluster.address, timeout=30)  # checks the nodes, ships the code
    yield connected
    connected.close()


def test_every_stage_of_the_table_is_checked():
    assert {step.stage for step in parse_chain(list(REFERENCES))} | {"label"} == set(STAGES)


def test_the_code_reaches_the_scheduler_and_workers_that_lack_it(runner):
    def origin():
        import core

        return core.__file__

    version = code_zip().version
    for where in [*runner.client.run(origin).values(), runner.client.run_on_scheduler(origin)]:
        assert f"shipped-code/core-{version}.zip/core/__init__.py" in where


@pytest.mark.parametrize("grid", [(1, 1), (2, 7), (5, 4), (8, 8)])
def test_every_stage_on_workers_with_disks_of_their_own_equals_scipy(
    private_cluster, runner, photo, grayscale, monkeypatch, grid
):
    # Every tile border a chunk border: small tiles are not merged before a filter.
    monkeypatch.setattr("core.pipeline.chunks.MIN_FILTER_CHUNK", 1)
    folder = private_cluster.client_folder / f"stages-{grid[0]}x{grid[1]}"
    tiles = partition(photo, *grid, folder)
    assert workers_not_seeing(runner, tile_paths(tiles)) == sorted(runner.client.scheduler_info()["workers"])
    stitched = build_pipeline(shipped(tiles, folder), ()).stitched
    outputs = {text: chain_arrays(stitched, parse_chain([text]))[0] for text in REFERENCES}
    outputs["label"] = chain_arrays(stitched, parse_chain(["threshold", "label"]))[1]
    outputs["gray"] = stitched
    here = {name: np.full(array.shape, 123, array.dtype) for name, array in outputs.items()}  # no value of any
    with tiles_in_graph(tiles):
        compute_and_store_here(runner.client, [], [(outputs[name], here[name]) for name in outputs])

    on_threads = {name: array.compute(scheduler="threads") for name, array in outputs.items()}
    for name, array in here.items():
        np.testing.assert_array_equal(array, on_threads[name], err_msg=name)  # the same code, bit for bit
    gray = here["gray"]
    np.testing.assert_allclose(gray, grayscale(photo), atol=ATOL)
    for text, reference in REFERENCES.items():
        np.testing.assert_allclose(here[text].astype(float), reference(gray).astype(float), atol=ATOL, err_msg=text)
    expected, count = ndi.label(here["threshold"])
    assert here["label"].max() == count
    np.testing.assert_array_equal(here["label"] > 0, expected > 0)
    pairs = set(zip(here["label"][expected > 0].tolist(), expected[expected > 0].tolist()))
    assert len(pairs) == count  # each region one label, whatever its number


def photo_file(folder: Path, size: tuple[int, int]) -> Path:
    path = folder / f"photo-{size[0]}x{size[1]}.png"
    Image.fromarray((resize(data.coffee(), size, order=1) * 255).astype(np.uint8)).save(path)
    return path


def test_the_command_line_on_workers_with_disks_of_their_own(private_cluster, runner, capsys):
    folder = private_cluster.client_folder / "command-line"
    folder.mkdir()
    image = photo_file(folder, (300, 400))
    chain = ["--stage", "gaussian:sigma=1", "--stage", "threshold", "--stage", "label", "--zarr"]
    assert main([str(image), "--grid", "3x5", *chain, "--out", str(folder / "threads")]) == 0
    assert workers_not_seeing_folder(runner, folder)  # so the workers cannot write the results
    assert main([str(image), "--grid", "3x5", *chain, "--scheduler", private_cluster.address,
                 "--out", str(folder / "cluster")]) == 0
    report = capsys.readouterr().out.split("chain:")[-1]
    assert "and sent them to the workers, which cannot read this disk" in report
    assert "result blocks: written here as the workers computed them" in report

    threads, cluster = folder / "threads", folder / "cluster"
    np.testing.assert_array_equal(np.load(cluster / "result.npy"), np.load(threads / "result.npy"))
    assert (cluster / "result.png").read_bytes() == (threads / "result.png").read_bytes()
    pd.testing.assert_frame_equal(pd.read_csv(cluster / "regions.csv"), pd.read_csv(threads / "regions.csv"))
    levels = [zarr.open_group(path / "result.ome.zarr", mode="r") for path in (cluster, threads)]
    for level in levels[1].array_keys():
        np.testing.assert_array_equal(levels[0][level][:], levels[1][level][:])
    # Each tile went to a worker, which keeps it on its own disk.
    def tiles_held(dask_worker) -> list[str]:  # here, not in the module, to travel by value
        root = Path(dask_worker.local_directory) / "shipped-tiles"
        return sorted(path.name for path in root.glob("*/tile_*"))

    held = [name for names in runner.client.run(tiles_held).values() for name in names]
    assert {f"tile_r{r:03d}_c{c:03d}.tif" for r in range(3) for c in range(5)} <= set(held)


def test_a_changed_version_of_the_code_replaces_the_shipped_one(runner, tmp_path):
    changed = tmp_path / "core"
    shutil.copytree(REPO / "core", changed, ignore=shutil.ignore_patterns("__pycache__"))
    with (changed / "pipeline" / "build.py").open("a") as build:
        build.write('\nSHIPPED_MARK = "changed"\n')

    def mark():
        import core.pipeline.build

        return getattr(core.pipeline.build, "SHIPPED_MARK", None)

    def marks() -> set:
        return {*runner.client.run(mark).values(), runner.client.run_on_scheduler(mark)}

    assert marks() == {None}  # core.pipeline.build imported, as after any run
    try:
        ship(runner.client, code_zip(changed))
        # Not only the package: a submodule already imported is the new one too, which
        # Client.upload_file would have left as it was.
        assert marks() == {"changed"}
    finally:
        ship(runner.client)
    assert marks() == {None}


def test_a_worker_killed_mid_run_leaves_the_result_right(private_cluster, runner, grayscale, capsys):
    before = set(runner.client.scheduler_info()["workers"])
    victim = private_cluster.add_worker(nanny=True)  # joins after the code was shipped
    runner.client.wait_for_workers(len(before) + 1, timeout=120)
    (address,) = set(runner.client.scheduler_info()["workers"]) - before
    folder = private_cluster.client_folder / "killed"
    folder.mkdir()
    image = photo_file(folder, (1200, 1200))
    exits = []
    run = threading.Thread(target=lambda: exits.append(main([
        str(image), "--grid", "6x6", "--stage", "median:size=5", "--stage", "sobel:mode=magnitude",
        "--scheduler", private_cluster.address, "--out", str(folder / "out"),
    ])))
    run.start()
    try:
        deadline = time.monotonic() + 120
        # Killed once it holds tiles: they must be made again elsewhere, from the graph.
        while not any("shipped-tile" in str(key) for key in runner.client.has_what().get(address, ())):
            assert time.monotonic() < deadline and run.is_alive(), "the worker never got a tile"
            time.sleep(0.01)
        kill_tree(victim)
    finally:
        run.join(timeout=240)
    assert exits == [0], capsys.readouterr().err
    gray = grayscale(np.asarray(Image.open(image)))
    expected = np.hypot(*(ndi.sobel(ndi.median_filter(gray, size=5), axis=axis) for axis in (0, -1)))
    np.testing.assert_allclose(np.load(folder / "out" / "result.npy"), expected, atol=ATOL)


@pytest.mark.parametrize("node, fault", [
    ({"without": ("dask-image",)}, "lacks dask-image (this machine has {dask-image})"),
    ({"versions": {"numpy": "2.0.0"}}, "has numpy 2.0.0, this machine {numpy}"),
])
def test_a_worker_that_cannot_run_the_pipeline_is_one_clear_line(tmp_path, photo, capsys, fresh_server, monkeypatch, node, fault):
    python = venv_of(tmp_path / "venv", **node)
    (tmp_path / "scratch").mkdir()
    cluster = Cluster(tmp_path / "scratch", tmp_path)
    try:
        cluster.add_worker(python=python, private=False)
        from distributed import Client
        from distributed.versions import VersionMismatchWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VersionMismatchWarning)  # this test's own client's
            with Client(cluster.address, timeout=60, set_as_default=False) as client:
                client.wait_for_workers(1, timeout=120)
                (worker,) = client.scheduler_info()["workers"]
        Image.fromarray(photo).save(tmp_path / "photo.png")
        assert main([str(tmp_path / "photo.png"), "--scheduler", cluster.address, "--out", str(tmp_path / "out")]) == 1
        err = capsys.readouterr().err
        monkeypatch.setenv("DASHBOARD_SCHEDULER", cluster.address)
        at = open_app("pages/5_Cluster.py")
    finally:
        cluster.stop()
    fault = f"worker {worker} " + re.sub(r"\{(.+?)\}", lambda m: importlib.metadata.version(m[1]), fault)
    # One line: neither a traceback nor distributed's own table of mismatched versions.
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert fault in err
    assert not (tmp_path / "out").exists()  # nothing ran
    # The page says it, in the sidebar as every page does and on the Cluster page itself,
    # and runs on threads.
    assert not at.exception
    assert [fault in w.value for w in at.sidebar.warning] == [True]
    assert [fault in w.value for w in at.main.warning] == [True]
    assert "threads in the server" in " ".join(c.value for c in at.sidebar.caption)
