"""``python -m core.bench``: this pipeline against the tutorial's, SciPy's and OpenCV's.

Each pipeline runs in a fresh process on the same TIFF photo, so peak memory (the
process's maximum resident set, with its worker processes) is its own. Every pipeline
computes the full-resolution Sobel x of the grayscale image, clipped to [0, 1]. The
project's, SciPy's and OpenCV's deliver the same files, a float32 ``edges.npy`` and an
8-bit ``edges.png`` (the project also writes its tiles); the tutorial's ends as written,
with the array in memory for a plot.

    python -m core.bench                 # 4, 16, 64 and 256 MPix
    python -m core.bench --sizes 4 16    # a quick look
    python -m core.bench --gigapixel     # adds 1 GPix (32768 x 32768)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PIPELINES = ("project-threads", "project-local", "tutorial", "scipy", "opencv")
#: Whole-image pipelines that would not fit in this machine's 24 GB at 1 GPix: measured at
#: 256 MPix, the tutorial's peaked at 8.3 GB and SciPy's at 9.1 GB, and both grow linearly.
TOO_BIG_FOR_MEMORY = {"tutorial": 512, "scipy": 512}
TILE_SIDE = 2048  # the project's grid: tiles of about this many pixels a side


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


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def _timed(stages: dict, name: str, step):
    started = time.perf_counter()
    result = step()
    stages[name] = time.perf_counter() - started
    return result


def run_project(image: Path, scheduler: str, out: Path) -> dict:
    from .cli import build_parser, run

    side = max(tifffile_shape(image)[:2])
    grid = max(2, math.ceil(side / TILE_SIDE))
    args = build_parser().parse_args(
        [str(image), "--grid", f"{grid}x{grid}", "--out", str(out), "--scheduler", scheduler,
         "--max-pixels", str(2**31), "--no-progress"]
    )
    report = run(args)
    stages = {"load": report.wall["load"], "partition": report.wall["partition"]}
    stages.update({f"{k} (task s)": v for k, v in report.stage_seconds.items()})
    stages["compute and write"] = report.wall["compute and write"]
    return stages


def tifffile_shape(path: Path) -> tuple[int, ...]:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        return tif.pages.first.shape


def run_tutorial(image: Path, out: Path) -> dict:
    """The tutorial's steps as written: same library calls, its 2 x 2 split, eager rgb2gray."""
    import dask.array
    import dask_image.imread
    import dask_image.ndfilters
    from skimage.color import rgb2gray
    from skimage.io import imread, imsave

    stages = {}
    imgfile = str(out / ("save" + image.suffix))
    os.symlink(image, imgfile)

    def partion_image(imgfile, n_h=2, n_w=2):
        im = imread(imgfile)
        h, w, _ = im.shape
        h_s, w_s = h // n_h, w // n_w
        k = 0
        for i in range(n_h):
            for j in range(n_w):
                imsave(imgfile[:-4] + "_part_{:03d}".format(k) + imgfile[-4:],
                       im[i * h_s:(i + 1) * h_s, j * w_s:(j + 1) * w_s, :], check_contrast=False)
                k += 1

    _timed(stages, "partition", lambda: partion_image(imgfile))
    pattern = os.path.join(str(out), "save_part_*" + image.suffix)
    partitioned = _timed(stages, "read (lazy)", lambda: dask_image.imread.imread(pattern))
    result = _timed(stages, "rgb2gray (eager)", lambda: rgb2gray(partitioned))
    data = [result[i, ...] for i in range(result.shape[0])]
    data = [data[i:i + 2] for i in range(0, len(data), 2)]
    combined = _timed(stages, "block", lambda: dask.array.block(data))
    edges = dask_image.ndfilters.sobel(combined)
    edges = np.clip(edges, 0, 1)
    _timed(stages, "sobel + clip (compute)", lambda: np.asarray(edges))
    return stages


def run_scipy(image: Path, out: Path) -> dict:
    import scipy.ndimage
    import tifffile
    from PIL import Image
    from skimage.color import rgb2gray

    stages = {}
    pixels = _timed(stages, "load", lambda: tifffile.imread(image))
    gray = _timed(stages, "grayscale", lambda: rgb2gray(pixels).astype(np.float32))
    edges = _timed(stages, "sobel", lambda: scipy.ndimage.sobel(gray, axis=-1))
    _timed(stages, "clip", lambda: np.clip(edges, 0, 1, out=edges))
    _timed(stages, "write npy", lambda: np.save(out / "edges.npy", edges))
    eight_bit = Image.fromarray(np.rint(edges * 255).astype(np.uint8))
    _timed(stages, "write png", lambda: eight_bit.save(out / "edges.png", compress_level=1))
    return stages


def run_opencv(image: Path, out: Path) -> dict:
    import cv2
    import tifffile

    stages = {}
    pixels = _timed(stages, "load", lambda: tifffile.imread(image))
    gray = _timed(stages, "grayscale", lambda: cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255)
    edges = _timed(stages, "sobel", lambda: cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT))
    _timed(stages, "clip", lambda: np.clip(edges, 0, 1, out=edges))
    _timed(stages, "write npy", lambda: np.save(out / "edges.npy", edges))
    eight_bit = cv2.convertScaleAbs(edges, alpha=255)
    _timed(stages, "write png", lambda: cv2.imwrite(str(out / "edges.png"), eight_bit, [cv2.IMWRITE_PNG_COMPRESSION, 1]))
    return stages


def run_one(pipeline: str, image: Path) -> dict:
    """Run one pipeline in this process; return its stage times, total and peak memory."""
    with tempfile.TemporaryDirectory(dir=image.parent) as scratch:
        out = Path(scratch)
        started = time.perf_counter()
        if pipeline.startswith("project-"):
            stages = run_project(image, pipeline.split("-", 1)[1], out)
        elif pipeline == "tutorial":
            stages = run_tutorial(image, out)
        elif pipeline == "scipy":
            stages = run_scipy(image, out)
        else:
            stages = run_opencv(image, out)
        total = time.perf_counter() - started
    return {"stages": stages, "total": total, "peak_mb": _peak_mb()}


def measure(pipeline: str, image: Path, timeout: float) -> dict | None:
    """``run_one`` in a fresh process, or None if the pipeline cannot run here."""
    if pipeline == "opencv":
        try:
            import cv2  # noqa: F401  (an optional extra: pip install opencv-python-headless)
        except ImportError:
            return None
    completed = subprocess.run(
        [sys.executable, "-m", "core.bench", "--one", pipeline, str(image)],
        capture_output=True, text=True, timeout=timeout,
    )
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"error": tail[0]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def table(results: dict[int, dict[str, dict | None]]) -> str:
    """One row per size and pipeline, with the ratios the goals are stated in."""
    lines = [
        f"{'MPix':>6}  {'pipeline':<16}{'seconds':>9}{'ns/pixel':>10}{'peak MB':>9}"
        f"{'vs OpenCV':>11}{'tutorial / this':>17}{'vs threads':>12}"
    ]
    for mpix, row in results.items():
        pixels = mpix * 2**20
        opencv, tutorial, threads = (
            (row.get(name) or {}).get("total") for name in ("opencv", "tutorial", "project-threads")
        )
        for pipeline, result in row.items():
            if result is None:
                lines.append(f"{mpix:>6}  {pipeline:<16}  (not installed)")
                continue
            if "skipped" in result:
                lines.append(f"{mpix:>6}  {pipeline:<16}  (skipped: {result['skipped']})")
                continue
            if "error" in result:
                lines.append(f"{mpix:>6}  {pipeline:<16}  failed: {result['error'][:60]}")
                continue
            total = result["total"]
            versus_cv = f"{total / opencv:.2f}x" if opencv else "-"
            speedup = f"{tutorial / total:.2f}x" if tutorial and pipeline.startswith("project") else ""
            versus_threads = f"{total / threads:.2f}x" if threads and pipeline == "project-local" else ""
            lines.append(
                f"{mpix:>6}  {pipeline:<16}{total:>9.2f}{total / pixels * 1e9:>10.1f}"
                f"{result['peak_mb']:>9.0f}{versus_cv:>11}{speedup:>17}{versus_threads:>12}"
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
            axes.plot(*zip(*points), marker="o", label=pipeline)
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xlabel("image size (megapixels)")
    axes.set_ylabel("end-to-end seconds")
    axes.set_title("Sobel x of a photo, clipped, on this machine")
    axes.legend()
    figure.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 16, 64, 256], metavar="MPIX")
    parser.add_argument("--gigapixel", action="store_true", help="also 1024 MPix (32768 x 32768)")
    parser.add_argument("--pipelines", nargs="+", choices=PIPELINES, default=list(PIPELINES))
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dask-tiles-bench")
    parser.add_argument("--plot", type=Path, default=Path("docs/benchmark.png"))
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--one", nargs=2, metavar=("PIPELINE", "IMAGE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one[0], Path(args.one[1]))))
        return 0

    args.workdir.mkdir(parents=True, exist_ok=True)
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
            results[mpix][pipeline] = measure(pipeline, image, args.timeout)
    print(table(results))
    print("\nstages (seconds):")
    for mpix, row in results.items():
        for pipeline, result in row.items():
            if result and "stages" in result:
                parts = ", ".join(f"{k} {v:.2f}" for k, v in result["stages"].items())
                print(f"  {mpix} MPix {pipeline}: {parts}")
    args.plot.parent.mkdir(parents=True, exist_ok=True)
    plot(results, args.plot)
    print(f"\nplot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
