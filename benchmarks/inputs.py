"""``python -m benchmarks.inputs``: the same photo as one PNG, as a folder of tile files and
as a tiled TIFF, through the command line and through libvips, on 1 and 2 cores.

Every run is a fresh process pinned to the first k usable cores (``taskset``; libvips is
also told ``VIPS_CONCURRENCY=k``), doing the same work: read, grayscale, Sobel x, clip to
[0, 1], write a float32 result and an 8-bit PNG. Runs go round every input, pipeline and
core count in turn, ``--repeat`` times, and the fastest of each is kept: the whole
process's wall time (imports included) and its peak memory. ``--gigapixel`` also runs the
command line once on a 32768 x 32768 tiled TIFF, for its peak memory.

    python -m benchmarks.inputs                  # 64 MPix, 1 and 2 cores, best of 3
    python -m benchmarks.inputs --megapixels 16 --repeat 1
    python -m benchmarks.inputs --repeat 0 --gigapixel   # the 1-GPix peak memory alone
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CHAIN = ("sobel:mode=x", "clip:lo=0,hi=1")
TILES = 4  # the folder of tiles, and the PNG's grid: 4 x 4
TIFF_TILE = 512  # pixels a side of the tiled TIFF's tiles
INPUTS = ("png", "tile files", "tiled tiff")


def photo(megapixels: int) -> np.ndarray:
    """A photo-like image: the astronaut enlarged and repeated, with noise (a photo's PNG
    compresses far less than a smooth picture's)."""
    from skimage import data
    from skimage.transform import resize

    side = int(math.sqrt(megapixels * 2**20))
    base = (resize(data.astronaut(), (2048, 2048), order=1) * 255).astype(np.uint8)
    image = np.tile(base, (math.ceil(side / 2048), math.ceil(side / 2048), 1))[:side, :side]
    noise = np.random.default_rng(0).integers(-8, 9, image.shape, dtype=np.int16)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def prepare(megapixels: int, folder: Path) -> dict[str, Path]:
    """The photo as each input, written once into ``folder``."""
    import tifffile
    from PIL import Image

    paths = {"png": folder / "photo.png", "tile files": folder / "tiles", "tiled tiff": folder / "photo-tiled.tif"}
    if all(path.exists() for path in paths.values()):
        return paths
    image = photo(megapixels)
    Image.fromarray(image).save(paths["png"], compress_level=6)
    paths["tile files"].mkdir(exist_ok=True)
    edges = [np.linspace(0, side, TILES + 1).astype(int) for side in image.shape[:2]]
    for r in range(TILES):
        for c in range(TILES):
            tile = image[edges[0][r]:edges[0][r + 1], edges[1][c]:edges[1][c + 1]]
            Image.fromarray(tile).save(paths["tile files"] / f"tile_r{r:03d}_c{c:03d}.png", compress_level=6)
    tifffile.imwrite(paths["tiled tiff"], image, tile=(TIFF_TILE, TIFF_TILE), compression="zlib", photometric="rgb")
    return paths


def command(pipeline: str, source: Path, out: Path, cores: int) -> tuple[list[str], dict]:
    pinned = ["taskset", "-c", ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:cores])]
    env = {**os.environ, "VIPS_CONCURRENCY": str(cores)}
    if pipeline == "project":
        grid = ["--grid", f"{TILES}x{TILES}"] if source.suffix == ".png" else []
        stages = [f"--stage={step}" for step in CHAIN]
        args = [sys.executable, "-m", "core", str(source), *grid, *stages, "--out", str(out), "--no-progress",
                "--max-pixels", str(2**31)]
        return [*pinned, *args], {**env, "PYTHONPATH": str(REPO)}
    return [*pinned, sys.executable, "-P", str(REPO / "benchmarks" / "baselines.py"), "libvips", str(source),
            str(out)], env


def measure(pipeline: str, source: Path, cores: int) -> tuple[float, float]:
    """Whole-process wall seconds and peak MB of one run, in a fresh process."""
    out = Path(tempfile.mkdtemp(prefix="bench-out-"))
    try:
        args, env = command(pipeline, source, out, cores)
        started = time.perf_counter()
        # GNU time reports the process's own peak resident set (kB), as its last line.
        done = subprocess.run(["/usr/bin/time", "-f", "%M", *args], env=env, check=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - started
        return wall, int(done.stderr.strip().splitlines()[-1]) / 1024
    finally:
        shutil.rmtree(out, ignore_errors=True)


def table(best: dict, cores: list[int]) -> str:
    lines = [f"{'input':<12}{'pipeline':<10}" + "".join(f"{f'{k} core' + ('s' if k > 1 else ''):>10}" for k in cores)
             + f"{f'{cores[-1]}/{cores[0]}':>9}{'vs libvips':>12}{'peak MB':>9}"]
    for kind in INPUTS:
        for pipeline in ("project", "libvips"):
            walls = [best[kind, pipeline, k][0] for k in cores]
            ratio = best[kind, "project", cores[-1]][0] / best[kind, "libvips", cores[-1]][0]
            lines.append(
                f"{kind:<12}{pipeline:<10}" + "".join(f"{w:>10.2f}" for w in walls) + f"{walls[-1] / walls[0]:>9.2f}"
                + (f"{ratio:>11.2f}x" if pipeline == "project" else f"{'':>12}")
                + f"{best[kind, pipeline, cores[-1]][1]:>9.0f}"
            )
    return "\n".join(lines)


def gigapixel(folder: Path) -> str:
    """The command line on a 1-GPix tiled TIFF, written tile by tile so it is never whole here."""
    import tifffile

    path, side = folder / "giga-tiled.tif", 32768
    if not path.exists():
        strip = photo(64)[:TIFF_TILE]  # 512 rows of the 64-MPix photo, its tiles repeated
        across = strip.shape[1] // TIFF_TILE
        tiles = (strip[:, (c % across) * TIFF_TILE:(c % across + 1) * TIFF_TILE]  # row by row, as tifffile takes them
                 for _ in range(side // TIFF_TILE) for c in range(side // TIFF_TILE))
        partial = path.with_suffix(".partial")  # a run stopped halfway leaves no file to trust
        tifffile.imwrite(partial, tiles, shape=(side, side, 3), dtype=np.uint8, tile=(TIFF_TILE, TIFF_TILE),
                         compression="zlib", photometric="rgb", bigtiff=True)
        partial.replace(path)
    wall, peak = measure("project", path, len(os.sched_getaffinity(0)))
    return f"1 GPix tiled TIFF, project on {len(os.sched_getaffinity(0))} cores: {wall:.1f} s, peak {peak:,.0f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inputs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--gigapixel", action="store_true")
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "dask-tiles-bench-inputs")
    args = parser.parse_args(argv)
    folder = args.folder / f"{args.megapixels}mpix"
    folder.mkdir(parents=True, exist_ok=True)
    paths = prepare(args.megapixels, folder)
    runs: dict = {}
    for _ in range(args.repeat):
        for kind in INPUTS:
            for cores in args.cores:
                for pipeline in ("project", "libvips"):
                    runs.setdefault((kind, pipeline, cores), []).append(measure(pipeline, paths[kind], cores))
    best = {key: min(values) for key, values in runs.items()}
    if runs:  # --repeat 0: the gigapixel run alone
        print(f"{args.megapixels} MPix photo, {TILES} x {TILES} tiles, best of {args.repeat}, whole process (s):")
        print(table(best, sorted(args.cores)))
    if args.gigapixel:
        print(gigapixel(args.folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
