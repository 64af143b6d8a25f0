"""A grid submitted just after an upload: is it applied whole? Headless Chromium against
``streamlit run app.py``.

    python -m benchmarks.grid_race [--tries 4] [--delays 0 0.3 1 2]

Each try opens the Tiles page in a new tab, uploads a picture not seen before, waits the
delay, fills 3 x 3 into the grid's form as the load benchmark's visitors do (``fill``, then
Enter) and reads the grid the address settles on. Prints, per delay, how many tries came out
otherwise: a half-applied grid such as 3 x 2, a grid not applied, or the upload lost. A race, so a count
rather than a test (benchmarks/RESULTS.md, "Tweaking").
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import sync_playwright

from benchmarks import streamlit_server
from benchmarks.tweaking_browser import AT_REST, FLAGS

REPO = Path(__file__).resolve().parents[1]


def grid_in(url: str) -> tuple[str, str]:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return query["rows"][0], query["cols"][0]


def one_try(browser, url: str, picture: Path, delay: float) -> str:
    """What came of it: the grid applied (``3 x 3``), ``grid not applied`` or ``upload lost``."""
    tab = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        tab.goto(f"{url}/Tiles")
        tab.wait_for_function(AT_REST, timeout=120_000)
        tab.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(picture))
        time.sleep(delay)
        fields = tab.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"] input')
        fields.nth(0).fill("3")
        fields.nth(1).fill("3")
        fields.nth(1).press("Enter")
        try:
            tab.wait_for_url(lambda address: grid_in(address) != ("2", "2"), timeout=20_000)
        except PlaywrightTimeoutError:
            return "grid not applied"
        tab.wait_for_function(AT_REST, timeout=60_000)
        time.sleep(1.0)  # a last rerun, if any, rewrites the address
        tab.wait_for_function(AT_REST, timeout=60_000)
        if tab.get_by_text("Using upload").count() == 0:
            return "upload lost"
        return " x ".join(grid_in(tab.url))
    finally:
        tab.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=4)
    parser.add_argument("--delays", type=float, nargs="+", default=[0.0, 0.3, 1.0, 2.0])
    args = parser.parse_args(argv)
    rng = np.random.default_rng()
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        port = streamlit_server.free_port()
        server = streamlit_server.start(REPO, port, {**os.environ, "TILE_CACHE_DIR": f"{folder}/tiles"})
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS, headless=True)
        try:
            for delay in args.delays:
                grids = []
                for attempt in range(args.tries):
                    picture = Path(folder) / f"photo-{delay}-{attempt}.png"
                    Image.fromarray(rng.integers(0, 256, (900, 1200, 3), dtype=np.uint8)).save(picture)
                    grids.append(one_try(browser, f"http://127.0.0.1:{port}", picture, delay))
                wrong = [outcome for outcome in grids if outcome != "3 x 3"]
                print(f"  {delay:4.1f} s after the upload: {len(wrong)} of {len(grids)} not applied whole {wrong or ''}")
        finally:
            browser.close()
            streamlit_server.stop(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
