"""Server-side times of the dashboard at 16 MPix, run headless with Streamlit's AppTest.

    python benchmarks/dashboard.py

Measures (1) a cold upload: from the upload to every page shown once, and (2) on the clip
step's page, moving the clip range (only the clip runs again) against changing the Sobel
mode (the Sobel step and the clip run again), at 16 MPix and on the default 512 x 512
sample. AppTest runs the same scripts the server runs, in this process, so these are
server-side times (plus AppTest's own small overhead). ``$DASHBOARD_SCHEDULER`` chooses
where the stages run, as for the server (by default a local cluster).
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image
from skimage import data
from skimage.transform import resize
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
STEP_PAGE = "pages/4_Stage.py"
#: (page, step): the stage pages, then each step of the default chain (Sobel, clip).
PAGES = [("pages/1_Tiles.py", None), ("pages/2_Grayscale.py", None), ("pages/3_Stitched.py", None),
         (STEP_PAGE, 1), (STEP_PAGE, 2)]
SOBEL_MODE, CLIP_RANGE = "step1.mode", "step2.lo_hi"  # the default chain's widgets


def photo_16mpix(fmt: str) -> bytes:
    pixels = (resize(data.astronaut(), (4096, 4096), order=1) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def go(at: AppTest, page: str, step: int | None) -> AppTest:
    at.query_params.pop("step", None)
    if step is not None:
        at.query_params["step"] = str(step)
    return at.switch_page(page).run()


def timed(run) -> float:
    started = time.perf_counter()
    at = run()
    elapsed = time.perf_counter() - started
    assert not at.exception and not at.error, (at.exception, at.error)
    return elapsed


def cold_upload(payload: bytes, name: str, rows: int, cols: int) -> dict[str, float]:
    st.cache_resource.clear()
    os.environ["TILE_CACHE_DIR"] = tempfile.mkdtemp()
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update({"rows": str(rows), "cols": str(cols)})
    at.run()
    times = {"upload + home": timed(lambda: at.file_uploader(key="upload").set_value((name, payload, "image/png")).run())}
    for page, step in PAGES:
        name = page.split("_")[1][:-3] + (f" {step}" if step else "")
        times[name] = timed(lambda page=page, step=step: go(at, page, step))
    return times


def clip_page(rows: int, cols: int, payload: bytes | None) -> AppTest:
    """The clip step's page, its stages computed, for the upload (or the default sample)."""
    st.cache_resource.clear()
    os.environ["TILE_CACHE_DIR"] = tempfile.mkdtemp()
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update({"rows": str(rows), "cols": str(cols)})
    at.switch_page("pages/5_Cluster.py").run()  # waits for the cluster, if there is one
    if payload is not None:
        at.file_uploader(key="upload").set_value(("photo.png", payload, "image/png")).run()
    return go(at, STEP_PAGE, 2)


def clip_changes(at: AppTest, repeats: int = 10) -> list[float]:
    """Each a new range: the clip runs on the Sobel output kept in memory."""
    return [timed(lambda i=i: at.slider(key=CLIP_RANGE).set_value((0.0, 0.5 + 0.04 * i)).run()) for i in range(repeats)]


def mode_changes(at: AppTest) -> list[float]:
    """x to y to magnitude, each mode new: the Sobel filter and the clip run again."""
    return [timed(lambda mode=mode: at.radio(key=SOBEL_MODE).set_value(mode).run()) for mode in ("y", "magnitude")]


def report(label: str, at: AppTest) -> None:
    clips, modes = clip_changes(at), mode_changes(at)
    print(
        f"  {label:<22} clip change: median {statistics.median(clips) * 1000:5.0f} ms, max "
        f"{max(clips) * 1000:5.0f} ms (10)   Sobel mode change: {', '.join(f'{t * 1000:.0f}' for t in modes)} ms"
    )


if __name__ == "__main__":
    PAYLOADS = {"PNG": photo_16mpix("PNG"), "JPEG": photo_16mpix("JPEG")}
    grids = [(2, 2), (4, 4), (16, 16)]
    print("Cold upload of a 4096 x 4096 photo (16.8 MPix): seconds until each page is shown")
    for fmt, payload in PAYLOADS.items():
        for rows, cols in grids:
            times = cold_upload(payload, f"photo.{fmt.lower()}", rows, cols)
            steps = "  ".join(f"{k} {v:.2f}" for k, v in times.items())
            print(f"  {fmt:<4} {rows:>2}x{cols:<2} total {sum(times.values()):5.2f} s   ({steps})")
    print("\nOn the clip step's page (server-side rerun)")
    report("default sample, 2x2", clip_page(2, 2, None))
    for rows, cols in grids:
        report(f"16.8 MPix, {rows}x{cols}", clip_page(rows, cols, PAYLOADS["PNG"]))
    sys.exit(0)
