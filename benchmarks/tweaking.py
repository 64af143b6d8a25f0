"""How fast a tweak comes back, server side, with Streamlit's AppTest on a 16-MPix upload.

    python -m benchmarks.tweaking [--repeat 3]

The app's default configuration (the local cluster, unless ``$DASHBOARD_SCHEDULER`` says
otherwise), the chain Gaussian, Sobel, clip, on the clip step's page. Each change is to a
value not computed before; the median of ``--repeat`` fresh servers. Twice: the upload
while the cluster starts (its first run goes on threads), and once the cluster is up.
Then where one rerun's time goes: the functions below, timed around each call.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import statistics
import tempfile
import time
from collections import defaultdict

import streamlit as st
from streamlit.testing.v1 import AppTest

from benchmarks.dashboard import APP, STEP_PAGE, go, photo_16mpix, timed
from ui.services.cluster import runner

CHAIN = "gaussian:sigma=1;sobel:mode=x;clip:lo=0,hi=1"
SIGMA, SOBEL_MODE, CLIP_RANGE = "step1.sigma", "step2.mode", "step3.lo_hi"
#: (module, function) timed for the breakdown: computing, then drawing.
PHASES = [
    ("ui.page", "sidebar"), ("ui.services.previews", "persist_and_wait"), ("ui.views", "show_preview"),
    ("ui.views", "show_step_histogram"), ("ui.views", "task_graph_for"), ("ui.task_view", "task_view_args"),
    ("ui.views", "show_graph"), ("ui.zoom", "pixel_zoom_section"),
]


def fresh_app(rows: int, cols: int, *, cluster_first: bool) -> AppTest:
    """The step-3 page of a fresh server, its cluster up (``cluster_first``) or closed, so
    that the next run starts it afresh and goes on threads meanwhile."""
    st.cache_resource.clear()
    os.environ["TILE_CACHE_DIR"] = tempfile.mkdtemp()
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update({"rows": str(rows), "cols": str(cols), "chain": CHAIN, "step": "3"})
    at.switch_page(STEP_PAGE).run()
    if cluster_first:
        runner(wait=True)
    else:
        st.cache_resource.clear()  # closes the cluster
    return at


def tweaks(at: AppTest, payload: bytes, attempt: int) -> dict[str, float]:
    """Seconds for each action, in turn, on the page ``fresh_app`` gave."""
    page = functools.partial(go, at, STEP_PAGE, 3)
    upload = at.file_uploader(key="upload").set_value(("photo.png", payload, "image/png"))
    times = {"the upload's first run": timed(upload.run)}
    runner(wait=True)
    times["again, just after the cluster came up"] = timed(page)
    times["again, later"] = timed(page)
    times["a new clip range"] = timed(at.slider(key=CLIP_RANGE).set_value((0.0, 0.5 + 0.05 * attempt)).run)
    times["a new Sobel mode"] = timed(at.radio(key=SOBEL_MODE).set_value(("y", "magnitude")[attempt % 2]).run)
    times["a new Gaussian sigma"] = timed(at.slider(key=SIGMA).set_value(1.5 + 0.5 * attempt).run)
    return times


def timing_phases() -> dict[str, float]:
    """Wrap each of ``PHASES`` so that its seconds add up in the returned dictionary."""
    spent: dict[str, float] = defaultdict(float)
    for module_name, name in PHASES:
        module = importlib.import_module(module_name)
        function = getattr(module, name)

        @functools.wraps(function)
        def timed_call(*args, _function=function, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _function(*args, **kwargs)
            finally:
                spent[_name] += time.perf_counter() - started

        setattr(module, name, timed_call)
    return spent


def breakdown(payload: bytes) -> None:
    spent = timing_phases()
    at = fresh_app(4, 4, cluster_first=True)
    at.file_uploader(key="upload").set_value(("photo.png", payload, "image/png")).run()
    changes = [
        ("nothing changed", functools.partial(go, at, STEP_PAGE, 3)),
        ("a new clip range", lambda: at.slider(key=CLIP_RANGE).set_value((0.0, 0.42)).run()),
        ("a new Sobel mode", lambda: at.radio(key=SOBEL_MODE).set_value("y").run()),
        ("a new Gaussian sigma", lambda: at.slider(key=SIGMA).set_value(2.0).run()),
    ]
    for label, change in changes:
        spent.clear()
        seconds = timed(change)
        parts = "  ".join(f"{name} {t * 1000:.0f}" for name, t in sorted(spent.items(), key=lambda kv: -kv[1]) if t >= 0.001)
        print(f"  {label:<22} {seconds * 1000:5.0f} ms: {parts}")


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:6.0f} ms (" + ", ".join(f"{s * 1000:.0f}" for s in seconds) + ")"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    photo = photo_16mpix("PNG")
    where = os.environ.get("DASHBOARD_SCHEDULER", "local cluster")
    print(f"16.8-MPix PNG upload, 4 x 4, chain {CHAIN}, on the step-3 page ({where}); median of {args.repeat}")
    for cluster_first in (False, True):
        print("The upload once the cluster is up" if cluster_first else "The upload while the cluster starts")
        runs = [tweaks(fresh_app(4, 4, cluster_first=cluster_first), photo, i) for i in range(args.repeat)]
        for label in runs[0]:
            print(f"  {label:<40} {ms([run[label] for run in runs])}")
    print("Where one rerun's time goes, on the cluster (ms in each function, nested ones counted twice)")
    breakdown(photo)
