"""``python -m benchmarks.pyramids``: how long the pixel zoom's tile pyramids take to cut.

For each size, the photo (``bench.make_photo``) is read in tiles, turned gray and stitched
as the app does (2048-pixel tiles), persisted, and then, timed apart: the pyramid of the
stitched grayscale (the Stitched page's "after") and of the colour photo (its "before"),
each on Dask's threads, median of three, with the tiles' size on disk and the CPU seconds
of the process (all threads): on a shared machine those vary less than the wall time.
Each pyramid's coarse levels (what the view opens on) and fine levels are timed apart;
then both pictures as the pixel zoom cuts them: the coarse levels of one, then of the
other (the view opens), then the fine levels of both at once, in a thread each.

    python -m benchmarks.pyramids                # 0.26 (the astronaut), 16 and 64 MPix
    python -m benchmarks.pyramids --sizes 64
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np

from core.outputs.deep_zoom import write_coarse_levels, write_fine_levels
from core.pipeline import GRAYSCALE_RANGE, build_pipeline, load_image, load_sample, partition

from .bench import TILE_SIDE, make_photo


def _photo(megapixels: float, folder: Path) -> np.ndarray:
    if megapixels < 1:
        return load_sample("astronaut")
    return load_image(make_photo(int(megapixels), folder), max_pixels=2**31)


def _timed(work) -> tuple[float, float, object]:
    """The wall and CPU seconds of ``work()``, and what it returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _in_threads(*works) -> None:
    """``works`` at once, each in a thread of its own, as the app's cutters run."""
    threads = [threading.Thread(target=work) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def measure(megapixels: float, folder: Path, repeats: int) -> None:
    """Print the times of the pictures' pyramids at ``megapixels``."""
    pixels = _photo(megapixels, folder)
    side = max(1, math.ceil(max(pixels.shape[:2]) / TILE_SIDE))
    tiles = partition(pixels, side, side, folder / f"tiles-{megapixels}")
    stitched = dask.persist(build_pipeline(tiles, ()).stitched, scheduler="threads")[0]
    photo = da.from_array(pixels, chunks=(TILE_SIDE, TILE_SIDE, 3))
    pictures = [("stitched gray", stitched, GRAYSCALE_RANGE), ("colour photo", photo, (0.0, 255.0))]
    height, width = pixels.shape[:2]
    for label, image, value_range in pictures:
        target = folder / "pyramid"
        coarse, fine, cpu, described = [], [], [], None
        for _ in range(repeats):
            shutil.rmtree(target, ignore_errors=True)
            coarse_wall, coarse_cpu, _ = _timed(
                lambda image=image, target=target, value_range=value_range: write_coarse_levels(
                    image, target, value_range=value_range, scheduler="threads"
                )
            )
            fine_wall, fine_cpu, described = _timed(
                lambda image=image, target=target, value_range=value_range: write_fine_levels(
                    image, target, value_range=value_range, scheduler="threads"
                )
            )
            coarse.append(coarse_wall)
            fine.append(fine_wall)
            cpu.append(coarse_cpu + fine_cpu)
        whole = statistics.median(c + f for c, f in zip(coarse, fine))
        print(
            f"{width * height / 2**20:8.2f} MPix  {label:14s} coarse {statistics.median(coarse):6.2f} s  "
            f"fine {statistics.median(fine):6.2f} s  whole {whole:6.2f} s  "
            f"{statistics.median(cpu):6.2f} s CPU  {described.tile_bytes / 2**20:6.1f} MB of tiles  "
            f"levels {described.min_level}..{described.max_level}",
            flush=True,
        )
    opened, ready = [], []
    for _ in range(repeats):
        targets = [folder / f"zoom-{i}" for i in range(len(pictures))]
        for target in targets:
            shutil.rmtree(target, ignore_errors=True)
        start = time.perf_counter()
        for (_, image, value_range), target in zip(pictures, targets):
            write_coarse_levels(image, target, value_range=value_range, scheduler="threads")
        opened.append(time.perf_counter() - start)
        _in_threads(*[
            lambda image=image, value_range=value_range, target=target:
                write_fine_levels(image, target, value_range=value_range, scheduler="threads")
            for (_, image, value_range), target in zip(pictures, targets)
        ])
        ready.append(time.perf_counter() - start)
    print(
        f"{width * height / 2**20:8.2f} MPix  the zoom, both: opens after {statistics.median(opened):6.2f} s, "
        f"full resolution after {statistics.median(ready):6.2f} s",
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
