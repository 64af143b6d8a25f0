"""What the browser tests share: Chromium, a server of the app's own, and a record of every
address a tab asks for. Their fixtures are in ``conftest.py``."""

import os
import shutil
import urllib.parse
from pathlib import Path

import pytest

from benchmarks import streamlit_server
from benchmarks.streamlit_server import free_port

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not on the PATH (apt-get install -y chromium); the browser tests drive it",
)
REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "docs"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


class Server:
    """`streamlit run app.py` on a free port (or ``port``: a restart of a stopped server),
    with a tile cache of its own; with ``secrets``, that file instead of the usual
    ``.streamlit/secrets.toml``."""

    def __init__(self, cache: Path, secrets: Path | None = None, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cache.parent / f"streamlit-{self.port}.log"
        self._log_file = self.log.open("w")
        options = ["--secrets.files", str(secrets)] if secrets is not None else []
        try:
            self.process = streamlit_server.start(
                REPO, self.port, {**os.environ, "TILE_CACHE_DIR": str(cache)}, options, output=self._log_file
            )
        except RuntimeError as e:
            self._log_file.close()
            raise RuntimeError(f"{e}: {self.log.read_text()}") from None

    def stop(self):
        streamlit_server.stop(self.process)
        self._log_file.close()


class Requests:
    """Every URL a test's tabs request, websockets included, and the addresses they may reach:
    the app's server, the page's own data, and what the page embeds from the server's Dask
    cluster (its dashboard, on 127.0.0.1 too)."""

    def __init__(self):
        self.urls: list[str] = []
        self.allowed = ["data:", "blob:"]

    def allow(self, address: str) -> None:
        scheme, host = urllib.parse.urlsplit(address)[:2]
        assert scheme == "http" and host.startswith("127.0.0.1:"), address
        self.allowed += [f"http://{host}/", f"ws://{host}/"]

    def elsewhere(self) -> list[str]:
        return [url for url in self.urls if not url.startswith(tuple(self.allowed))]


def open_tab(browser, requests: Requests):
    """A fresh browser context (a new visitor: no cookies, a new Streamlit session) and its
    tab, which records every URL it requests."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.on("request", lambda request: requests.urls.append(request.url))
    tab.on("websocket", lambda websocket: requests.urls.append(websocket.url))
    return context, tab


def allow_the_dashboard(page, requests: Requests) -> None:
    """On the Cluster page: its link to Dask's dashboard, which the page also embeds."""
    requests.allow(page.get_by_role("link", name="Open Dask's own dashboard").get_attribute("href"))


def wait_until_done(page, title: str) -> None:
    """Wait for the page's own title, then for the script run to finish and every element
    to be drawn (each kind of widget is drawn by code the browser loads on first use,
    meanwhile a placeholder holds its place: a click then could land elsewhere)."""
    page.get_by_role("heading", name=title).first.wait_for()
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stApp"]')
               ?.getAttribute('data-test-script-state') === 'notRunning'
            && !document.querySelector('[data-testid="stSkeleton"]')"""
    )
    assert page.locator('[data-testid="stException"]').count() == 0


def go(page, label: str, title: str) -> None:
    page.locator('[data-testid="stSidebar"] a', has_text=label).first.click()
    wait_until_done(page, title)


def task_view(page, nth: int = 0):
    """The ``nth`` task view of the page (a frame of the app's own component), once its
    graph is laid out and drawn."""
    frame = page.frame_locator('iframe[title="ui.dask_view.dask_view"]').nth(nth)
    frame.locator('.tv-graph[data-ready="true"]').wait_for()
    return frame


def screenshot(page, name: str, height: int = 1000) -> None:
    """With ``SAVE_SCREENSHOTS`` set, the README's picture ``docs/NAME``, 1440 pixels wide."""
    if os.environ.get("SAVE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(exist_ok=True)
        page.set_viewport_size({"width": 1440, "height": height})
        page.screenshot(path=SCREENSHOTS / name)
        page.set_viewport_size({"width": 1400, "height": 1000})
