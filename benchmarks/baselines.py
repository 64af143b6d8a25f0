"""The pipelines the benchmark compares this project with: the tutorial's, SciPy's, OpenCV's,
libvips'.

Run as a file (``python -P benchmarks/baselines.py PIPELINE IMAGE OUT``) this module imports nothing
of the project, as none of these pipelines would; it prints one line of JSON with the
time of each stage, the work time (from the moment the pipeline's libraries are imported
to its last result) and the process's peak memory.

Every pipeline computes the full-resolution Sobel x of the grayscale image, clipped to
[0, 1]. SciPy's, OpenCV's and libvips' write what the project writes, a float32 ``result.npy``
and an 8-bit ``result.png``; the tutorial's ends as its notebook does, with pictures. libvips
reads what the project reads: one image file (PNG, JPEG, TIFF, tiled or not), or a folder
of tiles named ``tile_r000_c000.*``, joined as the project stitches them.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["BASELINES", "LIBRARIES", "run_baseline"]

#: What each pipeline imports before its work starts: its share of a whole run, not of
#: the work time.
LIBRARIES = {
    "tutorial": ["dask.array", "dask_image.imread", "dask_image.ndfilters", "matplotlib.pylab",
                 "skimage.color", "skimage.io"],
    "tutorial-compute": ["dask.array", "dask_image.imread", "dask_image.ndfilters", "skimage.color",
                         "skimage.io"],
    "scipy": ["scipy.ndimage", "tifffile", "PIL.Image", "skimage.color"],
    "opencv": ["cv2", "tifffile"],
    "libvips": ["pyvips"],
}
BASELINES = tuple(LIBRARIES)


def _timed(stages: dict, name: str, step):
    started = time.perf_counter()
    result = step()
    stages[name] = time.perf_counter() - started
    return result


def run_tutorial(image: Path, out: Path, *, plots: bool = True) -> dict:
    """The tutorial's notebook, cell by cell: the same library calls in the same order, its
    2 x 2 split into files of the input's format, its eager ``rgb2gray`` on the dask array.

    ``plots``: draw its pictures as Jupyter shows them (each ``plt.show()`` renders the
    figures as PNG at their own dpi and closes them, as the inline backend does when a
    cell ends). Without, the pictures are left out and the clipped edges computed as the
    last plot would. ``display(edges.visualize())`` is always left out: it needs
    Graphviz's ``dot`` program, which this machine does not have.
    """
    import dask.array
    import dask_image.imread
    import dask_image.ndfilters
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pylab as plt
    from skimage.color import rgb2gray
    from skimage.io import imread, imsave

    def show():
        for number in plt.get_fignums():
            plt.figure(number).savefig(io.BytesIO(), format="png", bbox_inches="tight")
        plt.close("all")

    # From here on, the tutorial's code; only its prints are left out.
    def partion_image(imgfile, n_h=2, n_w=2, plot=True):
        im = imread(imgfile)
        h, w, _ = im.shape
        h_s, w_s = h // n_h, w // n_w
        k = 0
        for i in range(n_h):
            for j in range(n_w):
                imsave(imgfile[:-4] + f"_part_{k:03d}" + imgfile[-4:],
                       im[i * h_s:(i + 1) * h_s, j * w_s:(j + 1) * w_s, :], check_contrast=False)
                k += 1
        if plot:
            k = 0
            plt.figure(figsize=(20, 16))
            plt.subplots_adjust(0, 0, 1, 1, 0.05, 0.05)
            for _ in range(n_h):
                for _ in range(n_w):
                    im = plt.imread(imgfile[:-4] + f"_part_{k:03d}" + imgfile[-4:])
                    plt.subplot(n_h, n_w, k + 1), plt.imshow(im), plt.title(f"image part-{k + 1}", size=20)
                    k += 1
            show()

    def plot_image(image):
        plt.figure(figsize=(20, 20))
        plt.imshow(image, cmap="gray")
        show()

    stages = {}
    imgfile = str(out / ("save" + image.suffix))
    os.symlink(image, imgfile)
    _timed(stages, "partition" + (" and its plot" if plots else ""), lambda: partion_image(imgfile, plot=plots))
    filename_pattern = os.path.join(str(out), "save_part_*" + image.suffix)
    partitioned_images = _timed(stages, "read (lazy)", lambda: dask_image.imread.imread(filename_pattern))
    result = _timed(stages, "rgb2gray (eager)", lambda: rgb2gray(partitioned_images))
    if plots:
        _timed(stages, "plot part 1", lambda: plot_image(result[0]))
    data = [result[i, ...] for i in range(result.shape[0])]
    data = [data[i:i + 2] for i in range(0, len(data), 2)]
    combined_image = _timed(stages, "block", lambda: dask.array.block(data))
    if plots:
        _timed(stages, "plot stitched", lambda: plot_image(combined_image))
    edges = dask_image.ndfilters.sobel(combined_image)
    edges = np.clip(edges, 0, 1)
    if plots:
        _timed(stages, "sobel + clip, plotted", lambda: plot_image(edges))
    else:
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
    _timed(stages, "write npy", lambda: np.save(out / "result.npy", edges))
    eight_bit = Image.fromarray(np.rint(edges * 255).astype(np.uint8))
    _timed(stages, "write png", lambda: eight_bit.save(out / "result.png", compress_level=1))
    return stages


def run_opencv(image: Path, out: Path) -> dict:
    import cv2
    import tifffile

    stages = {}
    pixels = _timed(stages, "load", lambda: tifffile.imread(image))
    gray = _timed(stages, "grayscale", lambda: cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255)
    edges = _timed(stages, "sobel", lambda: cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT))
    _timed(stages, "clip", lambda: np.clip(edges, 0, 1, out=edges))
    _timed(stages, "write npy", lambda: np.save(out / "result.npy", edges))
    eight_bit = cv2.convertScaleAbs(edges, alpha=255)
    _timed(stages, "write png", lambda: cv2.imwrite(str(out / "result.png"), eight_bit, [cv2.IMWRITE_PNG_COMPRESSION, 1]))
    return stages


def _vips_input(image: Path):
    """The image as libvips opens it, streaming: a file, or a folder of tiles joined."""
    import re

    import pyvips

    if not image.is_dir():
        return pyvips.Image.new_from_file(str(image), access="sequential")
    tiles = sorted((tuple(int(n) for n in re.findall(r"\d+", p.name)[:2]), p) for p in image.glob("tile_r*_c*.*"))
    cols = 1 + max(position[1] for position, _ in tiles)
    return pyvips.Image.arrayjoin([pyvips.Image.new_from_file(str(p), access="sequential") for _, p in tiles],
                                  across=cols)


def run_libvips(image: Path, out: Path) -> dict:
    """libvips' own pipeline, as its users write it: every operation runs on its threads in
    strips, the file decoded as the strips go (``VIPS_CONCURRENCY`` is the cores it may use),
    the clipped edges computed once into memory, and both files written from there by
    libvips (the ``.npy`` through NumPy's header, its data libvips' own memory)."""
    import pyvips

    stages = {}
    source = _vips_input(image)
    gray = (source.cast("float") / 255).recomb([[0.2125, 0.7154, 0.0721]])  # rgb2gray's weights
    kernel = pyvips.Image.new_from_array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])  # SciPy's Sobel x
    clipped = gray.conv(kernel, precision="float").clamp(min=0, max=1)
    edges = _timed(stages, "read, grayscale, sobel, clip", lambda: clipped.copy_memory())
    _timed(stages, "write npy", lambda: np.save(out / "result.npy", edges.numpy()))
    eight_bit = (edges * 255).rint().cast("uchar")
    _timed(stages, "write png", lambda: eight_bit.pngsave(str(out / "result.png"), compression=1))
    return stages


def peak_mb() -> float:
    """The largest resident set of this process or of any child it waited for, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def run_baseline(pipeline: str, image: Path, out: Path) -> dict:
    """Run one baseline in this process, writing into ``out``; return its stage times, its
    work time (libraries already imported) and peak memory."""
    for library in LIBRARIES[pipeline]:
        importlib.import_module(library)
    started = time.perf_counter()
    if pipeline.startswith("tutorial"):
        stages = run_tutorial(image, out, plots=pipeline == "tutorial")
    elif pipeline == "scipy":
        stages = run_scipy(image, out)
    elif pipeline == "libvips":
        stages = run_libvips(image, out)
    else:
        stages = run_opencv(image, out)
    return {"stages": stages, "work": time.perf_counter() - started, "peak_mb": peak_mb()}


if __name__ == "__main__":
    pipeline, image, out = sys.argv[1:]
    print(json.dumps(run_baseline(pipeline, Path(image), Path(out))))
