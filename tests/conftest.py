import gc
import warnings
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
import scipy.ndimage
import streamlit as st
from browser import CHROMIUM, CHROMIUM_FLAGS, Requests, Server, open_tab
from private_cluster import CAN_MOUNT, Cluster
from skimage import data
from skimage.color import rgb2gray
from skimage.util import img_as_float


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real RGB photo, cropped to a size that most grids do not divide."""
    return data.astronaut()[100:167, 150:203]  # 67 x 53


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def whole_image_gray(image: np.ndarray) -> np.ndarray:
    """The grayscale of the whole image as scikit-image makes it (float64 in [0, 1]): what
    the tiled grayscale stage must reproduce."""
    return rgb2gray(image) if image.ndim == 3 else img_as_float(image)


def scipy_on_the_whole_image(image: np.ndarray, mode: str, lo: float, hi: float) -> np.ndarray:
    """SciPy on the whole image: what the tiled pipeline must reproduce."""
    gray = whole_image_gray(image)
    if mode == "x":
        edges = scipy.ndimage.sobel(gray, axis=-1)
    elif mode == "y":
        edges = scipy.ndimage.sobel(gray, axis=0)
    else:
        edges = np.hypot(scipy.ndimage.sobel(gray, axis=0), scipy.ndimage.sobel(gray, axis=-1))
    return np.clip(edges, lo, hi)


@pytest.fixture(scope="session")
def reference() -> Callable[[np.ndarray, str, float, float], np.ndarray]:
    """``reference(image, mode, lo, hi)``: the clipped Sobel edges SciPy gives for the whole
    image, which every tiled result is compared with."""
    return scipy_on_the_whole_image


@pytest.fixture(scope="session")
def grayscale() -> Callable[[np.ndarray], np.ndarray]:
    """``grayscale(image)``: the whole image's grayscale, which ``reference`` starts from,
    for references of other chains."""
    return whole_image_gray


@pytest.fixture
def fresh_server(tmp_path, monkeypatch):
    """Each test is a new server: its own tile cache and empty shared caches."""
    monkeypatch.setenv("TILE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "threads")  # the cluster tests use a cluster
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture(scope="session")
def private_cluster(tmp_path_factory):
    """A scheduler and two workers as a team starts them (``tests/private_cluster.py``):
    none can import the project, and no worker sees ``cluster.client_folder``."""
    if not CAN_MOUNT:
        pytest.skip("workers with disks of their own need root and unshare (CI runs as root)")
    from distributed import Client

    cluster = Cluster(tmp_path_factory.mktemp("scratch"), tmp_path_factory.mktemp("client"))
    try:
        for _ in range(2):
            cluster.add_worker()

        def project_importable():
            import importlib.util

            return importlib.util.find_spec("core") is not None

        with Client(cluster.address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=120)
            # The nodes start as a team's would: without the project, which connect() ships.
            assert not any(client.run(project_importable).values())
            assert not client.run_on_scheduler(project_importable)
        yield cluster
    finally:
        cluster.stop()


# -- the browser tests' Chromium, server and tabs (``tests/browser.py``) -----------------


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
def requests(server) -> Requests:
    requests = Requests()
    requests.allow(server.url)
    return requests


@pytest.fixture
def page(browser, requests):
    """A tab of its own; whatever the test does, it fetches nothing from outside 127.0.0.1."""
    context, tab = open_tab(browser, requests)
    yield tab
    context.close()
    assert requests.urls and requests.elsewhere() == []


@pytest.fixture
def counted_steps(monkeypatch):
    """How often each stage really ran: the stitch stages and each step, by stage name."""
    import ui.services.runs as runs

    calls = Counter()
    real_stitch, real_step = runs.run_stitch_stages, runs.run_step

    def stitch(*args, **kwargs):
        calls["stitch"] += 1
        return real_stitch(*args, **kwargs)

    def step(step_input, step, *args, **kwargs):
        calls[step.stage] += 1
        return real_step(step_input, step, *args, **kwargs)

    monkeypatch.setattr(runs, "run_stitch_stages", stitch)
    monkeypatch.setattr(runs, "run_step", step)
    return calls
