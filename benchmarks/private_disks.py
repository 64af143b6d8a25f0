"""The command line on a cluster whose workers have disks of their own, against the same run
on a cluster whose workers share the tile folder.

    python -m benchmarks.private_disks                   # 64 MPix, 4 x 4 tiles, 3 runs each
    python -m benchmarks.private_disks --megapixels 16 --repeat 5

Two clusters as a team starts them (``benchmarks/team_cluster.py``), each a scheduler and two
single-threaded worker processes started from a scratch folder without the project: the
private one's workers each in a mount namespace of its own, with tmpfs over their local
directory and over the folder the command line writes in (so it needs root), the shared one's
on this disk. Each run is the whole command in a fresh process, ``python -m core photo.png
--grid 4x4 --scheduler ADDRESS --out FOLDER``, timed from its start to its exit, with the
compute-and-write seconds it reports; the runs alternate between the clusters, so that a
busy spell of the machine touches both. Prints every run, the medians, their ratio, the
peak memory of the command's process, the CPU seconds of the command, the scheduler and
the workers (where the extra work of sending tiles and fetching blocks goes), and the load
average before and after.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.team_cluster import CAN_MOUNT, Cluster  # noqa: E402

WORKERS = 2


def photo_png(megapixels: int, folder: Path) -> Path:
    """A photo-like RGB PNG of about ``megapixels``: the astronaut enlarged. One image file,
    so that both runs cut it into the same tile files here."""
    from PIL import Image
    from skimage import data
    from skimage.transform import resize

    side = int((megapixels * 2**20) ** 0.5)
    path = folder / f"photo-{megapixels}mpix.png"
    base = (resize(data.astronaut(), (2048, 2048), order=1) * 255).astype(np.uint8)
    reps = -(-side // 2048)
    Image.fromarray(np.tile(base, (reps, reps, 1))[:side, :side]).save(path, compress_level=1)
    return path


def start(scratch: Path, client_folder: Path, private: bool) -> Cluster:
    from distributed import Client

    scratch.mkdir()
    cluster = Cluster(scratch, client_folder)
    for _ in range(WORKERS):
        cluster.add_worker(private=private)
    with Client(cluster.address, timeout=60, set_as_default=False) as client:
        client.wait_for_workers(WORKERS, timeout=120)
    return cluster


def cpu_seconds(cluster: Cluster) -> tuple[float, float]:
    """CPU seconds so far of the scheduler, and of the workers (with their children)."""
    def used(process: psutil.Process) -> float:
        times = process.cpu_times()
        return times.user + times.system

    workers = [member for worker in cluster.workers
               for member in (psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True))]
    return used(psutil.Process(cluster.scheduler.pid)), sum(used(worker) for worker in workers)


def run(image: Path, cluster: Cluster, out: Path) -> tuple[float, float, float, float, float, float, str]:
    """(whole seconds, compute-and-write seconds, peak MB of the command, CPU seconds of the
    command, of the scheduler and of the workers, the command's tiles line)."""
    shutil.rmtree(out, ignore_errors=True)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    scheduler, workers = cpu_seconds(cluster)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "core", str(image), "--grid", "4x4", "--scheduler", cluster.address, "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    whole = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    scheduler, workers = (now - before for now, before in zip(cpu_seconds(cluster), (scheduler, workers)))
    if done.returncode:
        raise SystemExit(done.stderr)
    compute = float(re.search(r"compute \(wall\)\s+\d+\s+([\d.]+)", done.stdout)[1])
    peak = float(re.search(r"peak memory of this process: ([\d,]+) MB", done.stdout)[1].replace(",", ""))
    tiles = re.search(r"^tiles: (.*)$", done.stdout, re.MULTILINE)[1]
    return whole, compute, peak, command, scheduler, workers, tiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not CAN_MOUNT:
        raise SystemExit("workers with disks of their own need root and unshare")
    with tempfile.TemporaryDirectory(prefix="private-disks-") as temp:
        temp = Path(temp)
        client_folder = temp / "client"
        client_folder.mkdir()
        image = photo_png(args.megapixels, client_folder)
        print(f"{image.name}, {WORKERS} worker processes of 1 thread each, {os.cpu_count()} cores; "
              f"load average before: {os.getloadavg()}", flush=True)
        clusters = {
            "shared": start(temp / "shared", client_folder, private=False),
            "private": start(temp / "private", client_folder, private=True),
        }
        times: dict[str, list[tuple]] = {name: [] for name in clusters}
        try:
            for name, cluster in clusters.items():  # a warm-up each: imports, shipped code
                run(image, cluster, client_folder / f"out-{name}")
            for repeat in range(args.repeat):
                for name, cluster in clusters.items():
                    *measured, tiles = run(image, cluster, client_folder / f"out-{name}")
                    times[name].append(measured)
                    print(f"run {repeat + 1} {name:>7}: {_line(measured)}; tiles: {tiles}", flush=True)
        finally:
            for cluster in clusters.values():
                cluster.stop()
        medians = {name: [statistics.median(column) for column in zip(*runs)] for name, runs in times.items()}
        for name, measured in medians.items():
            print(f"median {name:>7}: {_line(measured)}")
        print(f"private / shared: {medians['private'][0] / medians['shared'][0]:.2f} whole, "
              f"{medians['private'][1] / medians['shared'][1]:.2f} compute and write")
        print(f"load average after: {os.getloadavg()}")


def _line(measured) -> str:
    whole, compute, peak, command, scheduler, workers = measured
    return (f"{whole:6.2f} s whole, {compute:6.2f} s compute and write, peak {peak:,.0f} MB; CPU s: "
            f"command {command:.2f}, scheduler {scheduler:.2f}, workers {workers:.2f}")


if __name__ == "__main__":
    main()
