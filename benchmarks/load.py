"""Many visitors at once, in headless Chromium: each opens Home, uploads a picture of its
own and chooses a grid, all at the same time, on one server of the app.

    python -m benchmarks.load [--visitors 8] [--timeout 600]

Prints, for the app and for a baseline page with the same sidebar and pictures but no
pipeline (``benchmarks/baseline_page.py``), measured in the same run on a server of its
own: the seconds to each visitor's first page, to its upload's page and to its grid's page
(median and max over visitors), the server's memory (resident set, sampled every 0.2 s)
and whether every visitor saw its own picture and nothing of another's. Visitor 0 uploads
a 9.4-MPix picture and asks for 16 x 16 tiles; the others 1-MPix pictures and small grids.
Everything listens on 127.0.0.1; each phase and the whole run are bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
from PIL import Image
from skimage import data

from benchmarks import streamlit_server

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
TITLE = "Dask, tile by tile"
#: (rows, cols) per visitor, in turn: the first visitor's large upload in 16 x 16 tiles.
GRIDS = [(16, 16), (2, 3), (3, 3), (4, 4), (3, 2), (5, 5), (2, 4), (4, 3)]
#: Home, or the baseline page (``pages/9_Baseline.py`` in the copy: its address is ``/Baseline``).
PAGES = {"baseline": "/Baseline", "app": "/"}


def picture(visitor: int) -> bytes:
    """A PNG of the astronaut, tinted per visitor (so that every upload is its own), 3072
    pixels a side for visitor 0, 1024 for the others."""
    scale = 6 if visitor == 0 else 2
    pixels = np.kron(data.astronaut(), np.ones((scale, scale, 1), np.uint8))
    pixels[..., visitor % 3] //= 2 + visitor // 3
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def app_copy(folder: Path) -> Path:
    """The app as it would be deployed, plus the baseline page."""
    folder.mkdir(parents=True)
    for name in ("app.py", "core", "ui", "pages", ".streamlit"):
        source = REPO / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, folder / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if source.is_dir() else {}))
    shutil.copy(REPO / "benchmarks" / "baseline_page.py", folder / "pages" / "9_Baseline.py")
    return folder


class Server:
    def __init__(self, folder: Path, port: int):
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "TILE_CACHE_DIR": str(folder / "cache")}
        self.process = streamlit_server.start(folder, port, env, ["--server.fileWatcherType", "none"])
        self.peak_rss = self.rss()
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def rss(self) -> int:
        process = psutil.Process(self.process.pid)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])

    def _sample(self) -> None:
        while self._sampling:
            try:
                self.peak_rss = max(self.peak_rss, self.rss())
            except psutil.Error:
                return
            time.sleep(0.2)

    def stop(self) -> None:
        self._sampling = False
        streamlit_server.stop(self.process)


@dataclass
class Visit:
    visitor: int
    first_page: float | None = None
    upload_page: float | None = None
    grid_page: float | None = None
    problems: list[str] = field(default_factory=list)


SETTLED = """() => document.querySelector('[data-testid="stApp"]')
    ?.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]')"""


async def settled(tab, title: str = TITLE) -> None:
    await tab.get_by_role("heading", name=title).first.wait_for()
    await tab.wait_for_function(SETTLED)


async def visit(browser, url: str, visitor: int, upload: Path, names: list[str], phase_timeout: float) -> Visit:
    result = Visit(visitor)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = await context.new_page()
    tab.set_default_timeout(phase_timeout * 1000)
    outside = []
    tab.on("request", lambda request: request.url.startswith(("http://127.0.0.1", "data:", "blob:"))
           or outside.append(request.url))
    try:
        started = time.monotonic()
        await tab.goto(url)
        await settled(tab)
        await tab.locator('[data-testid="stImage"] img').nth(4).wait_for()
        result.first_page = time.monotonic() - started

        started = time.monotonic()
        await tab.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(upload))
        await tab.get_by_text(f"Using upload: {upload.name}").wait_for()
        await tab.get_by_text(f"Now showing: {upload.name}").wait_for()
        await settled(tab)
        result.upload_page = time.monotonic() - started
        digest = hashlib.sha256(upload.read_bytes()).hexdigest()
        if f"upload={digest}" not in tab.url:
            result.problems.append("the address does not name its own upload")

        rows, cols = GRIDS[visitor % len(GRIDS)]
        started = time.monotonic()
        fields = tab.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"] input')
        await fields.nth(0).fill(str(rows))
        await fields.nth(1).fill(str(cols))
        await fields.nth(1).press("Enter")
        await tab.wait_for_url(f"**rows={rows}&cols={cols}**")
        await tab.get_by_text(f"Now showing: {upload.name}, {rows} x {cols} tiles").wait_for()
        await settled(tab)
        result.grid_page = time.monotonic() - started

        text = await tab.locator("body").inner_text()
        result.problems += [f"shows {name}" for name in names if name != upload.name and name in text]
        if outside:
            result.problems.append(f"fetched from outside 127.0.0.1: {outside[:3]}")
    except Exception as e:  # a timeout: reported with the figures, the others go on
        result.problems.append(f"{type(e).__name__}: {str(e).splitlines()[0]}")
    finally:
        await context.close()
    return result


async def load(url: str, uploads: list[Path], phase_timeout: float) -> list[Visit]:
    from playwright.async_api import async_playwright

    names = [upload.name for upload in uploads]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            return await asyncio.gather(
                *(visit(browser, url, visitor, upload, names, phase_timeout) for visitor, upload in enumerate(uploads))
            )
        finally:
            await browser.close()


def figures(values: list[float | None]) -> str:
    done = [v for v in values if v is not None]
    if not done:
        return "      -       -"
    missing = f" ({len(values) - len(done)} timed out)" if len(done) < len(values) else ""
    return f"{statistics.median(done):7.1f} {max(done):7.1f}{missing}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=600, help="seconds for each server's whole run")
    args = parser.parse_args(argv)
    if CHROMIUM is None:
        print("Chromium is not on the PATH (apt-get install -y chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        uploads = []
        for visitor in range(args.visitors):
            uploads.append(temp / f"visitor{visitor}.png")
            uploads[-1].write_bytes(picture(visitor))
        print(f"{args.visitors} visitors at once: seconds to each page (median, max), server memory")
        print(f"  {'page':<9} {'first page':>15} {'upload':>15} {'grid':>15} {'peak RSS':>9} {'end RSS':>8}  problems")
        for name, path in PAGES.items():
            folder = app_copy(temp / name / "app")
            server = Server(folder, streamlit_server.free_port())
            try:
                visits = asyncio.run(asyncio.wait_for(
                    load(server.url + path, uploads, phase_timeout=args.timeout), args.timeout
                ))
                end_rss = server.rss()
            finally:
                server.stop()
            problems = [f"visitor {v.visitor}: {p}" for v in visits for p in v.problems]
            print(
                f"  {name:<9} {figures([v.first_page for v in visits])} {figures([v.upload_page for v in visits])} "
                f"{figures([v.grid_page for v in visits])} {server.peak_rss / 2**20:6.0f} MB {end_rss / 2**20:5.0f} MB"
                f"  {'; '.join(problems) or 'none'}"
            )
            others = visits[1:]
            print(
                f"  {'':<9} without visitor 0 (9.4 MPix, 16 x 16): {figures([v.first_page for v in others])} "
                f"{figures([v.upload_page for v in others])} {figures([v.grid_page for v in others])}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
