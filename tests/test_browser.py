"""The real app in a real browser: `streamlit run app.py` driven by headless Chromium."""

import gc
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not on the PATH (apt-get install -y chromium); the browser tests drive it",
)
REPO = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
NAV = ["Home", "1 · Tiles", "2 · Grayscale", "3 · Stitched", "4 · Edges", "Cluster", "Speed-up"]
TITLES = ["Dask, tile by tile", "1 · Tiles on disk", "2 · Grayscale, tile by tile",
          "3 · Stitched into one image", "4 · Sobel edges, clipped", "Where Dask runs",
          "Speed-up: what more workers buy"]
SCREENSHOTS = REPO / "docs"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run app.py` on a free port, with a tile cache of its own."""

    def __init__(self, cache: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cache.parent / f"streamlit-{self.port}.log"
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=REPO, env={**os.environ, "TILE_CACHE_DIR": str(cache)},
            stdout=self._log_file, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).read() == b"ok":
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"streamlit did not start: {self.log.read_text()}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log_file.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()
    # Playwright does not wait for its driver process to exit; collect its handle now,
    # or the ResourceWarning would surface in whichever test next runs the collector.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("cache") / "tiles")
    yield running
    running.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()


def wait_until_done(page, title: str) -> None:
    """Wait for the page's own title, then for the script run to finish."""
    page.get_by_role("heading", name=title).wait_for()
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stApp"]')
               ?.getAttribute('data-test-script-state') === 'notRunning'"""
    )
    assert page.locator('[data-testid="stException"]').count() == 0


def go(page, label: str, title: str) -> None:
    page.locator('[data-testid="stSidebar"] a', has_text=label).first.click()
    wait_until_done(page, title)


def test_every_page_opens_from_the_navigation_with_its_graph(server, page):
    hosts = set()
    page.on("request", lambda request: hosts.add(urllib.parse.urlsplit(request.url).hostname))
    page.goto(server.url)
    wait_until_done(page, TITLES[0])
    page.locator('[data-testid="stImage"] img').nth(3).wait_for()  # a rerun may redraw them
    assert page.locator('[data-testid="stImage"] img').count() == 4
    for label, title in zip(NAV[1:5], TITLES[1:5]):
        go(page, label, title)
        page.locator('[data-testid="stGraphVizChart"] svg').first.wait_for()
        assert page.locator('[data-testid="stGraphVizChart"] svg g.node').count() > 0
        assert "rows=2" in page.url and "sobel=x" in page.url
    go(page, "Cluster", TITLES[5])  # the server runs on its default, a local cluster
    page.get_by_text("Which worker read which tile").wait_for()
    page.get_by_text("Each tile tinted with the colour of the worker that read it").wait_for()
    assert page.get_by_role("link", name="Open Dask's own dashboard").get_attribute("href").startswith(
        "http://127.0.0.1:"
    )
    assert hosts == {"127.0.0.1"}  # nothing fetched from elsewhere, not even the tab's icon


def test_the_speedup_page_can_be_stopped_and_then_measures(server, page):
    # 16 x 16 tiles of the largest sample: a sweep of seconds, long enough to stop midway.
    page.goto(f"{server.url}/?sample=retina&rows=16&cols=16")
    wait_until_done(page, TITLES[0])
    go(page, "Speed-up", TITLES[6])
    page.get_by_role("button", name="Measure").click()
    page.get_by_text("tasks done").first.wait_for()
    page.get_by_role("button", name="Stop measuring").click()
    page.get_by_text("Stopped: an unfinished measurement keeps nothing").wait_for()
    wait_until_done(page, TITLES[6])
    assert page.locator('[data-testid="stImage"] img').count() == 0  # nothing was kept
    page.get_by_role("button", name="Measure").click()  # the interrupted run left no lock behind
    page.locator('[data-testid="stImage"] img').nth(1).wait_for()
    wait_until_done(page, TITLES[6])
    assert page.locator('[data-testid="stMetric"]').first.inner_text().startswith("1 worker")
    page.get_by_text("On grids of 1 x 1 to 16 x 16 tiles").wait_for()


def test_settings_and_the_url_survive_page_switches(server, page):
    page.goto(f"{server.url}/?rows=3&cols=4")
    wait_until_done(page, TITLES[0])
    rows = page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"] input').first
    rows.fill("5")
    rows.press("Enter")
    page.wait_for_url("**rows=5**")
    go(page, "1 · Tiles", TITLES[1])
    assert "rows=5" in page.url and "cols=4" in page.url
    page.get_by_text("split into 5 x 4 tile files").wait_for()
    go(page, "4 · Edges", TITLES[4])
    assert page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"] input').first.input_value() == "5"


def test_moving_the_clip_slider_updates_the_edges(server, page):
    page.goto(f"{server.url}/Edges")
    wait_until_done(page, TITLES[4])
    thumb = page.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').last
    thumb.focus()
    for _ in range(10):
        thumb.press("ArrowLeft")
    page.wait_for_url("**clip=0%2C0.9**")
    hi = thumb.get_attribute("aria-valuetext") or thumb.input_value()
    assert 0.85 <= float(hi) < 1
    page.get_by_text(f"clipped to [0, {float(hi):g}]").first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_the_full_resolution_download_is_the_clipped_edge_map(server, page, tmp_path):
    page.goto(f"{server.url}/Edges?sample=coffee&clip=0,0.5")
    wait_until_done(page, TITLES[4])
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the edges (PNG, full resolution)").click()
    saved = tmp_path / "edges.png"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "edges-x.png"
    edges = np.asarray(Image.open(saved))
    assert edges.shape == (400, 600) and edges.dtype == np.uint8  # the coffee sample, whole
    assert edges.min() == 0 and edges.max() == 255


def test_an_uploaded_photo_goes_through_every_stage(server, page, tmp_path):
    photo = tmp_path / "street.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)).save(photo)
    page.goto(server.url)
    wait_until_done(page, TITLES[0])
    page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(photo))
    page.get_by_text("Using upload: street.png").wait_for()
    page.get_by_text("Now showing: street.png").wait_for()
    wait_until_done(page, TITLES[0])
    go(page, "3 · Stitched", TITLES[3])
    page.get_by_text("400 x 300 pixels").wait_for()


def test_a_bad_upload_shows_an_error_not_a_traceback(server, page, tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("this is not a picture\n" * 10)
    page.goto(f"{server.url}/Tiles")
    wait_until_done(page, TITLES[1].replace("1 · Tiles on disk", "1 · Tiles on disk"))
    page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(fake))
    page.locator('[data-testid="stAlertContentError"]').get_by_text("Could not read this image").wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in page.content()


def test_a_deep_link_is_the_first_request_to_a_fresh_server(browser, tmp_path):
    fresh = Server(tmp_path / "tiles")
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{fresh.url}/Edges?sample=coffee&rows=3&cols=5&clip=0,0.5&sobel=magnitude")
        wait_until_done(page, TITLES[4])
        sidebar = page.locator('[data-testid="stSidebar"]')
        inputs = sidebar.locator('[data-testid="stNumberInput"] input')
        assert (inputs.nth(0).input_value(), inputs.nth(1).input_value()) == ("3", "5")
        assert sidebar.get_by_role("radio", name="magnitude: both combined").is_checked()
        page.get_by_text("clipped to [0, 0.5]").first.wait_for()
        page.locator('[data-testid="stGraphVizChart"] svg').first.wait_for()
        if os.environ.get("SAVE_SCREENSHOTS"):
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=SCREENSHOTS / "edges.png")
        go(page, "1 · Tiles", TITLES[1])
        assert "rows=3" in page.url and "cols=5" in page.url and "sample=coffee" in page.url
        page.get_by_text("split into 3 x 5 tile files").wait_for()
        page.locator('[data-testid="stDataFrame"] canvas').first.wait_for()
        if os.environ.get("SAVE_SCREENSHOTS"):
            page.screenshot(path=SCREENSHOTS / "tiles.png")
        go(page, "Cluster", TITLES[5])
        page.get_by_text("Each tile tinted with the colour of the worker that read it").wait_for()
        if os.environ.get("SAVE_SCREENSHOTS"):
            page.screenshot(path=SCREENSHOTS / "cluster.png")
        page.goto(f"{fresh.url}/Speedup")  # the default sample and grid: what a visitor first sees
        wait_until_done(page, TITLES[6])
        page.get_by_role("button", name="Measure").click()
        page.get_by_text("On grids of").wait_for()
        page.locator('[data-testid="stImage"] img').nth(1).wait_for()
        wait_until_done(page, TITLES[6])
        if os.environ.get("SAVE_SCREENSHOTS"):
            page.set_viewport_size({"width": 1400, "height": 1800})
            page.screenshot(path=SCREENSHOTS / "speedup.png")
        context.close()
    finally:
        fresh.stop()
