"""Writing the float32 result: the ``.npy`` against the OME-Zarr, level 0 and whole pyramid.

    python benchmarks/zarr_vs_npy.py            # 64 MPix, 4 x 4 blocks of 2048, 3 runs each
    python benchmarks/zarr_vs_npy.py --repeat 1

The clipped Sobel x of the benchmark's photo is computed once and held in memory, so each
time below is the writing alone (threads of this process), as it would run inside the
command line's graph pass. Writes end in the page cache, as the command line's do (neither
syncs). Prints the median seconds and the size on disk of each variant.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench import make_photo
from core.outputs.npy import NpyFile
from core.outputs.ome_zarr import store_multiscale
from core.pipeline import (
    build_pipeline,
    load_image,
    partition,
    split_edges,
)


def result_in_memory(megapixels: int, grid: int, workdir: Path) -> np.ndarray:
    """The command line's default result (Sobel x clipped to [0, 1]) of the benchmark's photo."""
    image = load_image(make_photo(megapixels, workdir), max_pixels=2**31)
    pipeline = build_pipeline(partition(image, grid, grid, workdir / "tiles"))
    return pipeline.result.compute(scheduler="threads")


def npy(result: da.Array, out: Path) -> list:
    return [da.store(result, NpyFile(out / "result.npy", result.shape, np.float32), lock=False, compute=False)]


VARIANTS = {
    "npy": npy,
    "zarr level 0, zstd": lambda r, out: store_multiscale(r, out / "e.zarr", levels=1),
    "zarr level 0, raw": lambda r, out: store_multiscale(r, out / "e.zarr", levels=1, compressed=False),
    "zarr pyramid, zstd": lambda r, out: store_multiscale(r, out / "e.zarr"),
    "zarr pyramid, raw": lambda r, out: store_multiscale(r, out / "e.zarr", compressed=False),
    "npy + zarr pyramid, zstd": lambda r, out: npy(r, out) + store_multiscale(r, out / "e.zarr"),
}


def time_variant(write, result: da.Array, workdir: Path, repeat: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        out = Path(tempfile.mkdtemp(dir=workdir))
        try:
            started = time.perf_counter()
            dask.compute(*write(result, out), scheduler="threads")
            times.append(time.perf_counter() - started)
            size = int(subprocess.run(["du", "-sb", str(out)], capture_output=True, text=True).stdout.split()[0])
        finally:
            shutil.rmtree(out)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=int, default=64)
    parser.add_argument("--grid", type=int, default=4, help="blocks per side (default: 4, of 2048 at 64 MPix)")
    parser.add_argument("--uneven-grid", type=int, default=5, help="a grid of unequal blocks, for the rechunk's cost")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dask-tiles-bench")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    result = result_in_memory(args.megapixels, args.grid, args.workdir)
    side = result.shape[0]
    print(f"{side} x {result.shape[1]} float32 ({result.nbytes / 2**20:.0f} MiB), {dask.system.CPU_COUNT} cores, "
          f"median of {args.repeat}")
    print(f"{'variant':<34}{'seconds':>9}{'MB on disk':>12}")
    blocks = da.from_array(result, chunks=math.ceil(side / args.grid))
    for name, write in VARIANTS.items():
        seconds, size = time_variant(write, blocks, args.workdir, args.repeat)
        print(f"{name + f' ({args.grid}x{args.grid})':<34}{seconds:>9.2f}{size / 1e6:>12.1f}")
    # The project's tiles come in blocks of sizes differing by one pixel (numpy.array_split's);
    # zarr needs them equal, so the zarr is rechunked and the .npy is not.
    uneven = tuple(np.diff(split_edges(side, args.uneven_grid)))
    blocks = da.from_array(result, chunks=(uneven, uneven))
    for name in ("npy", "zarr level 0, zstd"):
        seconds, size = time_variant(VARIANTS[name], blocks, args.workdir, args.repeat)
        print(f"{name + f' ({args.uneven_grid}x{args.uneven_grid} uneven)':<34}{seconds:>9.2f}{size / 1e6:>12.1f}")


if __name__ == "__main__":
    main()
