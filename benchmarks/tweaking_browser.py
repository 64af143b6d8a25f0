"""How fast a tweak shows in the browser: headless Chromium against ``streamlit run app.py``.

    python -m benchmarks.tweaking_browser [--repeat 3]

A fresh server's first page, from the request to the page at rest; then on the clip step's
page of the 512-pixel sample at 2 x 2 (Sobel, clip; a value not computed before each time),
from the click or key press to the "After" picture's change, and to the page at rest; and
whether a page scrolled to the task graph moved meanwhile (the largest shift seen, in pixels,
sampled every animation frame). The app's default configuration (the local cluster).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks import streamlit_server

REPO = Path(__file__).resolve().parents[1]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
AT_REST = """() => document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]')"""
AFTER_PICTURE = "() => document.querySelectorAll('[data-testid=\"stMain\"] [data-testid=\"stImage\"] img')[1]?.src"
#: Every animation frame: the largest distance the page's scroll offset moved from its start.
WATCH_SCROLL = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const start = main.scrollTop;
  window.largestShift = 0;
  const look = () => { window.largestShift = Math.max(window.largestShift, Math.abs(main.scrollTop - start));
                       requestAnimationFrame(look); };
  look();
}"""


def first_page(browser, url: str) -> float:
    tab = browser.new_page(viewport={"width": 1400, "height": 900})
    started = time.perf_counter()
    tab.goto(url)
    tab.get_by_role("heading", name="Dask, tile by tile").first.wait_for(timeout=120_000)
    tab.wait_for_function(AT_REST, timeout=120_000)
    seconds = time.perf_counter() - started
    tab.close()
    return seconds


def change(tab, act) -> tuple[float, float]:
    """Seconds from ``act()`` to the "After" picture's change, and to the page at rest."""
    before = tab.evaluate(AFTER_PICTURE)
    started = time.perf_counter()
    act()
    tab.wait_for_function(f"() => ({AFTER_PICTURE})() !== {before!r}", timeout=60_000)
    shown = time.perf_counter() - started
    tab.wait_for_function(AT_REST, timeout=60_000)
    return shown, time.perf_counter() - started


def step_page_changes(browser, url: str, repeat: int) -> dict[str, list]:
    tab = browser.new_page(viewport={"width": 1400, "height": 900})
    tab.goto(f"{url}/Stage?step=2&sample=astronaut&rows=2&cols=2")
    tab.get_by_role("heading", name="5 · Clip").first.wait_for(timeout=120_000)
    tab.wait_for_function(AT_REST, timeout=120_000)
    tab.locator('iframe[title="ui.dask_view.dask_view"]').first.scroll_into_view_if_needed()
    tab.evaluate(WATCH_SCROLL)
    results: dict[str, list] = {"a new clip range": [], "a new Sobel mode": []}
    upper = tab.locator('[data-testid="stSidebar"] .st-key-step2-lo_hi input[type="range"]').last
    modes = ["y: change along each column", "magnitude: both combined", "x: change along each row (the tutorial's)"]
    for attempt in range(repeat):
        upper.focus()
        results["a new clip range"].append(change(tab, lambda: upper.press("ArrowLeft")))
        mode = tab.locator('[data-testid="stSidebar"] .st-key-step1-mode').get_by_text(modes[attempt % len(modes)])
        results["a new Sobel mode"].append(change(tab, mode.click))
    results["largest scroll shift (px)"] = [tab.evaluate("window.largestShift")]
    tab.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")
    with tempfile.TemporaryDirectory() as cache, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        firsts = []
        for _ in range(args.repeat):  # a fresh server each time
            port = streamlit_server.free_port()
            server = streamlit_server.start(REPO, port, {**os.environ, "TILE_CACHE_DIR": str(Path(cache) / f"tiles-{port}")})
            try:
                firsts.append(first_page(browser, f"http://127.0.0.1:{port}"))
                if len(firsts) == args.repeat:
                    changes = step_page_changes(browser, f"http://127.0.0.1:{port}", args.repeat)
            finally:
                streamlit_server.stop(server)
        browser.close()
    print(f"Headless Chromium, the app's default configuration; median of {args.repeat}")
    print(f"  a fresh server's first page, at rest   {statistics.median(firsts):5.2f} s  ({', '.join(f'{s:.2f}' for s in firsts)})")
    for label, values in changes.items():
        if label.startswith("largest"):
            print(f"  {label:<38} {values[0]:5.0f}")
            continue
        shown, rest = zip(*values)
        print(f"  {label:<38} picture {statistics.median(shown):5.2f} s ({', '.join(f'{s:.2f}' for s in shown)}),"
              f" at rest {statistics.median(rest):5.2f} s ({', '.join(f'{s:.2f}' for s in rest)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
