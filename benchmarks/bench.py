"""``python -m benchmarks.bench``: this pipeline against the tutorial's, SciPy's and OpenCV's.

Each pipeline runs in a fresh process on the same TIFF photo, so peak memory (the
process's maximum resident set, with its worker processes) is its own. Every pipeline
computes the full-resolution Sobel x of the grayscale image, clipped to [0, 1]. The
project's, SciPy's and OpenCV's deliver the same files, a float32 ``result.npy`` and an
8-bit ``result.png`` (the project also writes its tiles); the tutorial's ends as its
notebook does, with pictures (``tutorial``), or with the clipped edges in memory and no
pictures (``tutorial-compute``). The other pipelines live in ``benchmarks/baselines.py``.

Two times per run: the whole run, from starting the process to its exit (what someone
typing the command waits for), and the work, from the moment the pipeline's libraries are
imported to its last file written.

    python -m benchmarks.bench                 # 4, 16, 64 and 256 MPix
    python -m benchmarks.bench --sizes 4 16    # a quick look
    python -m benchmarks.bench --gigapixel     # adds 1 GPix (32768 x 32768)
    python -m benchmarks.bench --repeat 1      # one run of each instead of the median of three
    python -m benchmarks.bench --cores 1 2 4   # the project's pipelines pinned to 1, 2, 4 cores

With ``--cores``, the project's pipelines run once per number of cores k, each in a process
pinned to the first k usable cores, and the table gives the wall seconds of every stage and
its speed-up against one core (``speed-up = seconds on 1 core / seconds on k``); the plot,
``docs/cores.png``, draws the speed-ups against the ideal, k.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import baselines
from .baselines import peak_mb
from .bench_report import PIPELINES, plot, plot_speedup, sweep_table, table

#: Whole-image pipelines that would not fit in this machine's 24 GB at 1 GPix: their peak
#: memory grows linearly with the pixels (the "peak MB" column at 256 MPix in
#: benchmarks/RESULTS.md, "The benchmark, 4 MPix to 1 GPix").
TOO_BIG_FOR_MEMORY = {"tutorial": 512, "tutorial-compute": 512, "scipy": 512}
TILE_SIDE = 2048  # the project's grid: tiles of about this many pixels a side
#: What every pipeline here computes (the baselines' chain), given to the command line
#: explicitly so that a change of its default chain cannot make it compare unlike with unlike.
CHAIN = ("sobel:mode=x", "clip:lo=0,hi=1")


def make_photo(megapixels: int, folder: Path) -> Path:
    """A photo-like RGB TIFF of about ``megapixels``, the astronaut enlarged."""
    import tifffile
    from skimage import data
    from skimage.transform import resize

    path = folder / f"photo-{megapixels}mpix.tif"
    if path.exists():
        return path
    side = int(math.sqrt(megapixels * 2**20))
    base = (resize(data.astronaut(), (2048, 2048), order=1) * 255).astype(np.uint8)
    # Written in strips of the enlarged base, so even 1 GPix is never whole in memory.
    strip = np.tile(base, (1, math.ceil(side / 2048), 1))[:, :side]
    with tifffile.TiffWriter(path, bigtiff=side * side * 3 > 2**32 - 2**25) as tif:
        tif.write(_strips(strip, side), shape=(side, side, 3), dtype=np.uint8, photometric="rgb")
    return path


def _strips(strip: np.ndarray, side: int):
    written = 0
    while written < side:
        part = strip[: side - written]
        written += part.shape[0]
        yield part




def run_project(image: Path, scheduler: str, out: Path) -> tuple[dict, dict]:
    """Run ``python -m core`` in this process; return its stage times (task seconds, as
    the command line reports them) and the wall time of every stage (see ``SWEEP_STAGES``)."""
    from core import cli

    side = max(tifffile_shape(image)[:2])
    grid = max(2, math.ceil(side / TILE_SIDE))
    args = cli.build_parser().parse_args(
        [str(image), "--grid", f"{grid}x{grid}", *(f"--stage={step}" for step in CHAIN), "--out", str(out),
         "--scheduler", scheduler, "--max-pixels", str(2**31), "--no-progress"]
    )
    report = cli.run(args)
    stages = {"load": report.wall["load"], "partition": report.wall["partition"]}
    stages.update({f"{k} (task s)": v for k, v in report.stage_seconds.items()})
    stages["compute and write"] = report.wall["compute and write"]
    walls = {"load": report.wall["load"], "partition": report.wall["partition"]}
    for stage, seconds in report.stage_wall.items():
        walls["write results" if stage == "other" else stage] = seconds
    walls["compute and write"] = report.wall["compute and write"]
    return stages, walls


def tifffile_shape(path: Path) -> tuple[int, ...]:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        return tif.pages.first.shape


def run_one(pipeline: str, image: Path, out: Path) -> dict:
    """Run one of the project's pipelines in this process, writing into ``out``; return its
    stage times, its work time (libraries already imported) and peak memory."""
    importlib.import_module("core.cli")
    started = time.perf_counter()
    stages, walls = run_project(image, pipeline.split("-", 1)[1], out)
    work = time.perf_counter() - started
    return {"stages": stages, "stage_wall": walls, "work": work, "peak_mb": peak_mb(), "cores": usable_cores()}


def usable_cores() -> int:
    """The cores this process may use (its CPU affinity and any CPU quota), as Dask counts them."""
    import dask.system

    return dask.system.CPU_COUNT


def _pinned_to(cores: int | None):
    """A ``preexec_fn`` that keeps the child on the first ``cores`` of the usable cores,
    so that Dask's thread pool and the local cluster size themselves to ``cores``."""
    if cores is None:
        return None
    chosen = sorted(os.sched_getaffinity(0))[:cores]
    return lambda: os.sched_setaffinity(0, chosen)


def measure(pipeline: str, image: Path, timeout: float, cores: int | None = None) -> dict | None:
    """One pipeline in a fresh process, timed from start to exit: the whole run,
    interpreter and imports included, as a user of each pipeline would wait for it. None
    if the pipeline cannot run here. With ``cores``, the process runs on that many of
    the usable cores only."""
    if pipeline == "opencv":
        try:
            import cv2  # noqa: F401  (an optional extra: pip install opencv-python-headless)
        except ImportError:
            return None
    if pipeline.startswith("project-"):
        command = [sys.executable, "-m", "benchmarks.bench", "--one"]
    else:  # as a file, its folder kept off the path (-P): it imports nothing of this project
        command = [sys.executable, "-P", baselines.__file__]
    # The outputs are deleted after the clock stops: removing gigabytes is not the work.
    with tempfile.TemporaryDirectory(dir=image.parent) as out:
        started = time.perf_counter()
        completed = subprocess.run(
            [*command, pipeline, str(image), out], capture_output=True, text=True, timeout=timeout,
            preexec_fn=_pinned_to(cores),
        )
        total = time.perf_counter() - started
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"error": tail[0]}
    return {**json.loads(completed.stdout.strip().splitlines()[-1]), "total": total}


def measure_median(pipeline: str, image: Path, timeout: float, repeat: int, cores: int | None = None) -> dict | None:
    """The run with the median whole time of ``repeat`` runs: this machine's timings vary
    by tens of percent from one run to the next."""
    runs = [measure(pipeline, image, timeout, cores) for _ in range(repeat)]
    if any(run is None or "error" in run for run in runs):
        return next(run for run in runs if run is None or "error" in run)
    return sorted(runs, key=lambda run: run["total"])[(repeat - 1) // 2]


def _cores_option(parser: argparse.ArgumentParser, asked: list[int] | None) -> list[int]:
    """The numbers of cores to sweep: as asked, or 1 and all usable; never more than usable."""
    usable = usable_cores()
    if asked is None or asked == []:
        return sorted({1, usable})
    too_many = [k for k in asked if not 1 <= k <= usable]
    if too_many:
        parser.error(f"--cores takes 1 to {usable} (the usable cores here), got {too_many}")
    return sorted(set(asked))


def run_sweep(args, cores: list[int]) -> int:
    """Measure the project's pipelines on each number of cores; print and plot the speed-ups."""
    pipelines = [p for p in args.pipelines if p.startswith("project-")] or ["project-threads", "project-local"]
    results: dict[int, dict[str, dict[int, dict | None]]] = {}
    for mpix in args.sizes:
        image = make_photo(mpix, args.workdir)
        results[mpix] = {}
        for pipeline in pipelines:
            results[mpix][pipeline] = {}
            for k in cores:
                print(f"{mpix} MPix: {pipeline} on {k} core{'s' * (k > 1)}…", file=sys.stderr, flush=True)
                results[mpix][pipeline][k] = measure_median(pipeline, image, args.timeout, args.repeat, k)
    (args.workdir / "cores.json").write_text(json.dumps(results, indent=1))
    print(sweep_table(results))
    print("\nSeconds are wall times; a stage's are while any of its tasks ran, so stages overlap.")
    plot_path = args.plot or Path("docs/cores.png")
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    plot_speedup(results, plot_path)
    print(f"\nplot: {plot_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 16, 64, 256], metavar="MPIX")
    parser.add_argument("--gigapixel", action="store_true", help="also 1024 MPix (32768 x 32768)")
    parser.add_argument("--pipelines", nargs="+", choices=PIPELINES, default=list(PIPELINES))
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dask-tiles-bench")
    parser.add_argument("--plot", type=Path, help="default: docs/benchmark.png, with --cores docs/cores.png")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the median kept (default: 3)")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument(
        "--cores", type=int, nargs="*", metavar="K",
        help="sweep: run the project's pipelines pinned to K cores for each K and print each "
        "stage's speed-up against 1 core (default, with no K: 1 and all usable cores)",
    )
    parser.add_argument("--one", nargs=3, metavar=("PIPELINE", "IMAGE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one[0], Path(args.one[1]), Path(args.one[2]))))
        return 0

    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.cores is not None:
        return run_sweep(args, _cores_option(parser, args.cores))
    sizes = args.sizes + ([1024] if args.gigapixel else [])
    results: dict[int, dict[str, dict | None]] = {}
    for mpix in sizes:
        image = make_photo(mpix, args.workdir)
        results[mpix] = {}
        for pipeline in args.pipelines:
            if mpix > TOO_BIG_FOR_MEMORY.get(pipeline, mpix):
                results[mpix][pipeline] = {"skipped": "the whole image would not fit in memory"}
                continue
            print(f"{mpix} MPix: {pipeline}…", file=sys.stderr, flush=True)
            results[mpix][pipeline] = measure_median(pipeline, image, args.timeout, args.repeat)
    # Kept, so that a long run's numbers outlive anything that goes wrong after it.
    (args.workdir / "results.json").write_text(json.dumps(results, indent=1))
    print(table(results))
    print("\nstages (seconds):")
    for mpix, row in results.items():
        for pipeline, result in row.items():
            if result and "stages" in result:
                parts = ", ".join(f"{k} {v:.2f}" for k, v in result["stages"].items())
                print(f"  {mpix} MPix {pipeline}: {parts}")
    plot_path = args.plot or Path("docs/benchmark.png")
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    plot(results, plot_path)
    print(f"\nplot: {plot_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
