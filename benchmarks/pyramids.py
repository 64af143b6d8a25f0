"""``python -m benchmarks.pyramids``: how long the pixel zoom's tile pyramids take to cut.

For each size, the photo (``bench.make_photo``) is read in tiles, turned gray and stitched
as the app does (2048-pixel tiles), persisted, and then, timed apart: the pyramid of the
stitched grayscale (the Stitched page's "after") and of the colour photo (its "before"),
each on Dask's threads, median of three, with the tiles' size on disk and the CPU seconds
of the process (all threads): on a shared machine those vary less than the wall time.

    python -m benchmarks.pyramids                # 0.26 (the astronaut), 16 and 64 MPix
    python -m benchmarks.pyramids --sizes 64
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np

from core import build_pipeline, load_image, partition
from core.filters import GRAYSCALE_RANGE
from core.pyramid import write_pyramid
from core.samples import load_sample

from .bench import TILE_SIDE, make_photo


def _photo(megapixels: float, folder: Path) -> np.ndarray:
    if megapixels < 1:
        return load_sample("astronaut")
    return load_image(make_photo(int(megapixels), folder), max_pixels=2**31)


def _median_seconds(write, repeats: int) -> tuple[float, float, object]:
    """The median wall and CPU seconds of ``write()``, and what it returned."""
    walls, cpus, described = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        described = write()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), described


def measure(megapixels: float, folder: Path, repeats: int) -> None:
    pixels = _photo(megapixels, folder)
    side = max(1, math.ceil(max(pixels.shape[:2]) / TILE_SIDE))
    tiles = partition(pixels, side, side, folder / f"tiles-{megapixels}")
    stitched = dask.persist(build_pipeline(tiles, ()).stitched, scheduler="threads")[0]
    photo = da.from_array(pixels, chunks=(TILE_SIDE, TILE_SIDE, 3))
    for label, image, value_range in [
        ("stitched gray", stitched, GRAYSCALE_RANGE), ("colour photo", photo, (0.0, 255.0)),
    ]:
        target = folder / "pyramid"

        def write():
            shutil.rmtree(target, ignore_errors=True)
            return write_pyramid(image, target, value_range=value_range, scheduler="threads")

        wall, cpu, described = _median_seconds(write, repeats)
        height, width = pixels.shape[:2]
        print(
            f"{width * height / 2**20:8.2f} MPix  {label:14s} {wall:7.2f} s  {cpu:7.2f} s CPU  "
            f"{described.tile_bytes / 2**20:8.1f} MB of tiles  levels {described.min_level}..{described.max_level}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.25, 16, 64], help="megapixels (under 1: the astronaut)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for megapixels in args.sizes:
            measure(megapixels, Path(folder), args.repeat)


if __name__ == "__main__":
    main()
