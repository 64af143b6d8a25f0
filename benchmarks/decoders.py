"""``python -m benchmarks.decoders``: decoding one big PNG into a NumPy array with each
decoder the streamed input could use, on one thread, in turns, best of ``--repeat``.

    python -m benchmarks.decoders                      # the 64-MPix photo of benchmarks.inputs
    python -m benchmarks.decoders --image photo.png --repeat 5

A decoder missing from this environment is skipped (pyspng, imagecodecs and OpenCV are
benchmark-only packages, not in requirements.txt).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("VIPS_CONCURRENCY", "1")  # one thread, as the other decoders
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _pillow(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image)


def _opencv(path: Path) -> np.ndarray:
    import cv2

    cv2.setNumThreads(1)
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]  # BGR to RGB, as the others give


def _pyvips(path: Path) -> np.ndarray:
    import pyvips

    return pyvips.Image.new_from_file(str(path), access="sequential").numpy()


def _pyspng(path: Path) -> np.ndarray:
    import pyspng

    return pyspng.load(path.read_bytes())


def _imagecodecs(path: Path) -> np.ndarray:
    import imagecodecs

    return imagecodecs.png_decode(path.read_bytes())


DECODERS = {"Pillow": _pillow, "OpenCV": _opencv, "pyvips": _pyvips, "pyspng": _pyspng, "imagecodecs": _imagecodecs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.decoders", description=__doc__.split("\n\n")[0])
    default = Path(tempfile.gettempdir()) / "dask-tiles-bench-inputs" / "64mpix" / "photo.png"
    parser.add_argument("--image", type=Path, default=default, help="made by python -m benchmarks.inputs")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not args.image.exists():
        parser.error(f"no {args.image}: run python -m benchmarks.inputs first, or give --image")
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])
    usable, reference = {}, None
    for name, decode in DECODERS.items():
        try:
            pixels = decode(args.image)  # also the warm-up: imports and first allocation
        except ImportError:
            print(f"{name}: not installed, skipped")
            continue
        if reference is None:
            reference = pixels
        assert np.array_equal(pixels, reference), f"{name} decoded other pixels"
        usable[name] = decode
    times: dict[str, list[float]] = {name: [] for name in usable}
    for _ in range(args.repeat):
        for name, decode in usable.items():
            start = time.perf_counter()
            decode(args.image)
            times[name].append(time.perf_counter() - start)
    print(f"{args.image.name}, one core, best of {args.repeat} (s):")
    for name, values in times.items():
        print(f"  {name:<12}{min(values):6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
