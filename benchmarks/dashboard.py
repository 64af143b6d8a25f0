"""Server-side times of the dashboard at 16 MPix, run headless with Streamlit's AppTest.

    python benchmarks/dashboard.py

Measures (1) a cold upload: from the upload to every page shown once, and (2) moving the
clip range on the Edges page. AppTest runs the same scripts the server runs, in this
process, so these are server-side times (plus AppTest's own small overhead).
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
PAGES = ["pages/1_Tiles.py", "pages/2_Grayscale.py", "pages/3_Stitched.py", "pages/4_Edges.py"]


def photo_16mpix(fmt: str) -> bytes:
    pixels = (resize(data.astronaut(), (4096, 4096), order=1) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return buffer.getvalue()


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
    for page in PAGES:
        times[page.split("_")[1][:-3]] = timed(lambda: at.switch_page(page).run())
    return times


def clip_changes(rows: int, cols: int, repeats: int = 10) -> list[float]:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update({"rows": str(rows), "cols": str(cols)})
    at.run()
    at.file_uploader(key="upload").set_value(("photo.png", PAYLOADS["PNG"], "image/png")).run()
    at.switch_page("pages/4_Edges.py").run()
    times = []
    for i in range(repeats):
        hi = 0.5 + 0.04 * i
        times.append(timed(lambda: at.slider(key="clip").set_value((0.0, hi)).run()))
    return times


if __name__ == "__main__":
    PAYLOADS = {"PNG": photo_16mpix("PNG"), "JPEG": photo_16mpix("JPEG")}
    grids = [(2, 2), (4, 4), (16, 16)]
    print("Cold upload of a 4096 x 4096 photo (16.8 MPix): seconds until each page is shown")
    for fmt, payload in PAYLOADS.items():
        for rows, cols in grids:
            times = cold_upload(payload, f"photo.{fmt.lower()}", rows, cols)
            steps = "  ".join(f"{k} {v:.2f}" for k, v in times.items())
            print(f"  {fmt:<4} {rows:>2}x{cols:<2} total {sum(times.values()):5.2f} s   ({steps})")
    print("\nClip change on the Edges page, 16.8 MPix (server-side rerun, 10 changes)")
    for rows, cols in grids:
        times = clip_changes(rows, cols)
        print(
            f"  {rows:>2}x{cols:<2} median {statistics.median(times) * 1000:5.0f} ms, "
            f"max {max(times) * 1000:5.0f} ms"
        )
    sys.exit(0)
