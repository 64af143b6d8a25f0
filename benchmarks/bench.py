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
from .baselines import BASELINES, peak_mb

PIPELINES = ("project-threads", "project-local", *BASELINES)
#: Whole-image pipelines that would not fit in this machine's 24 GB at 1 GPix: their peak
#: memory grows linearly with the pixels (the "peak MB" column at 256 MPix in
#: benchmarks/RESULTS.md, "The benchmark, 4 MPix to 1 GPix").
TOO_BIG_FOR_MEMORY = {"tutorial": 512, "tutorial-compute": 512, "scipy": 512}
TILE_SIDE = 2048  # the project's grid: tiles of about this many pixels a side
#: What every pipeline here computes (the baselines' chain), given to the command line
#: explicitly so that a change of its default chain cannot make it compare unlike with unlike.
CHAIN = ("sobel:mode=x", "clip:lo=0,hi=1")
LABELS = {
    "project-threads": "this project, threads",
    "project-local": "this project, local cluster",
    "tutorial": "the tutorial, with its plots",
    "tutorial-compute": "the tutorial, computations only",
    "scipy": "SciPy, whole image",
    "opencv": "OpenCV, whole image",
}


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


#: The columns of the cores sweep, in the order the command line runs them: its own wall
#: times (load, partition, compute and write) and the wall time of each stage's tasks.
SWEEP_STAGES = ("load", "partition", "read", "grayscale", "stitch", "sobel", "clip", "write results",
                "compute and write")


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


def _ratio(result: dict | None, base: dict | None) -> str:
    """``result`` against ``base``: whole runs, and work times in brackets."""
    if not (result and base and "total" in result and "total" in base):
        return ""
    return f"{result['total'] / base['total']:.2f}x ({result['work'] / base['work']:.2f}x)"


def table(results: dict[int, dict[str, dict | None]]) -> str:
    """One row per size and pipeline, with the ratios the goals are stated in: of whole
    runs (start-up and imports included), and of work times in brackets."""
    lines = [
        f"{'MPix':>6}  {'pipeline':<17}{'run s':>7}{'work s':>8}{'ns/px':>7}{'peak MB':>9}"
        f"{'vs OpenCV':>17}{'tutorial / this':>17}{'(compute) / this':>18}{'vs threads':>17}"
    ]
    for mpix, row in results.items():
        pixels = mpix * 2**20
        for pipeline, result in row.items():
            if result is None:
                lines.append(f"{mpix:>6}  {pipeline:<17}  (not installed)")
                continue
            if "skipped" in result:
                lines.append(f"{mpix:>6}  {pipeline:<17}  (skipped: {result['skipped']})")
                continue
            if "error" in result:
                lines.append(f"{mpix:>6}  {pipeline:<17}  failed: {result['error'][:60]}")
                continue
            project = pipeline.startswith("project")
            versus_cv = _ratio(result, row.get("opencv"))
            speedup = _ratio(row.get("tutorial"), result) if project else ""
            compute_speedup = _ratio(row.get("tutorial-compute"), result) if project else ""
            versus_threads = _ratio(result, row.get("project-threads")) if pipeline == "project-local" else ""
            lines.append(
                f"{mpix:>6}  {pipeline:<17}{result['total']:>7.2f}{result['work']:>8.2f}"
                f"{result['work'] / pixels * 1e9:>7.1f}{result['peak_mb']:>9.0f}"
                f"{versus_cv:>17}{speedup:>17}{compute_speedup:>18}{versus_threads:>17}"
            )
    return "\n".join(lines)


def plot(results: dict[int, dict[str, dict | None]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    for pipeline in PIPELINES:
        points = [
            (mpix, row[pipeline]["total"]) for mpix, row in results.items()
            if row.get(pipeline) and "total" in row[pipeline]
        ]
        if points:
            axes.plot(*zip(*points), marker="o", label=LABELS[pipeline])
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xlabel("image size (megapixels)")
    axes.set_ylabel("whole run, seconds (median of the runs)")
    axes.set_title("Sobel x of a photo, clipped, on this machine")
    axes.legend()
    figure.savefig(path, dpi=120)


def speedups(by_cores: dict[int, dict]) -> dict[int, dict[str, float]]:
    """Per number of cores, each stage's speed-up against one core: seconds on 1 / seconds
    on k, for the whole run (``run``), the work (``work``) and every stage's wall time.

    A stage missing or of zero seconds on either side has no speed-up.
    """
    base = by_cores.get(1)
    if not _measured(base):
        return {}
    result = {}
    for cores, run in by_cores.items():
        if not _measured(run):
            continue
        pairs = {"run": (base["total"], run["total"]), "work": (base["work"], run["work"])}
        pairs.update({stage: (base["stage_wall"].get(stage, 0.0), run["stage_wall"].get(stage, 0.0))
                      for stage in SWEEP_STAGES})
        result[cores] = {name: one / k for name, (one, k) in pairs.items() if one > 0 and k > 0}
    return result


def _measured(run: dict | None) -> bool:
    return bool(run) and "total" in run and "stage_wall" in run


_SWEEP_COLUMNS = ("run", "work", *SWEEP_STAGES)
_SWEEP_HEADINGS = {"compute and write": "compute", "write results": "write", "partition": "partit."}


def sweep_table(results: dict[int, dict[str, dict[int, dict | None]]]) -> str:
    """Per size, pipeline and number of cores: wall seconds of the whole run, the work and
    every stage, and on the line below each speed-up against one core."""
    width = 10
    lines = [f"{'MPix':>6}  {'pipeline':<17}{'cores':>6}"
             + "".join(f"{_SWEEP_HEADINGS.get(c, c):>{width}}" for c in _SWEEP_COLUMNS)]
    for mpix, row in results.items():
        for pipeline, by_cores in row.items():
            ups = speedups(by_cores)
            for cores, run in by_cores.items():
                head = f"{mpix:>6}  {pipeline:<17}{cores:>6}"
                if not _measured(run):
                    lines.append(f"{head}  failed: {(run or {}).get('error', 'no result')[:60]}")
                    continue
                seconds = {"run": run["total"], "work": run["work"], **run["stage_wall"]}
                lines.append(head + "".join(f"{seconds.get(c, 0.0):>{width}.2f}" for c in _SWEEP_COLUMNS))
                if cores != 1 and cores in ups:
                    lines.append(f"{'speed-up vs 1 core':>29}"
                                 + "".join(f"{_times(ups[cores].get(c)):>{width}}" for c in _SWEEP_COLUMNS))
    return "\n".join(lines)


def _times(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.2f}x"


def plot_speedup(results: dict[int, dict[str, dict[int, dict | None]]], path: Path) -> None:
    """Speed-up against cores of the whole run, the work and each compute stage, one panel
    per pipeline of the largest size, with the ideal (k times faster on k cores)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    mpix = max(results)
    pipelines = list(results[mpix])
    figure = Figure(figsize=(5.5 * len(pipelines), 4.5), layout="constrained")
    for index, pipeline in enumerate(pipelines):
        axes = figure.add_subplot(1, len(pipelines), index + 1)
        ups = speedups(results[mpix][pipeline])
        cores = sorted(ups)
        axes.plot(cores, cores, linestyle="--", color="grey", label="ideal")
        for name in ("run", "work", "read", "grayscale", "sobel", "clip", "write results"):
            points = [(k, ups[k][name]) for k in cores if name in ups[k]]
            if points:
                axes.plot(*zip(*points), marker="o", label={"run": "whole run", "work": "work"}.get(name, name))
        axes.set_xlabel("cores")
        axes.set_ylabel("speed-up against 1 core")
        axes.set_xticks(cores)
        axes.set_title(f"{LABELS[pipeline]}, {mpix} MPix")
        axes.legend(fontsize="small")
    figure.savefig(path, dpi=120)


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
