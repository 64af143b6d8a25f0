"""The chain in a real browser: built in the sidebar, carried by links into new sessions and
fresh servers, and the label stage against SciPy's regions."""

import csv

import numpy as np
import scipy.ndimage
import skimage.data
from browser import (
    Requests,
    Server,
    allow_the_dashboard,
    go,
    needs_chromium,
    open_tab,
    screenshot,
    task_view,
    wait_until_done,
)
from browser_app import (
    CLUSTER,
    DEFAULT_CHAIN,
    HOME,
    LABEL_CHAIN,
    SPEEDUP,
    TILES,
    add_stage,
    after_change,
    button,
    chain_in,
    chain_query,
    command_for,
    command_line,
    download,
    nav_steps,
    range_values,
    sidebar_steps,
    step_titles,
    widget,
)
from PIL import Image
from skimage.filters import threshold_otsu
from skimage.util import img_as_float32

from core.outputs.regions import REGION_COLUMNS
from core.pipeline.tiling import split_edges

pytestmark = needs_chromium


def test_a_chain_built_in_the_sidebar_is_the_address_and_the_command_line(server, page):
    page.goto(server.url)
    wait_until_done(page, HOME)
    chain = DEFAULT_CHAIN
    assert chain_in(page.url) == chain and sidebar_steps(page) == nav_steps(page) == step_titles(chain)

    add_stage(page, "Gaussian smoothing")
    chain = after_change(page, HOME, chain)
    assert chain == [*DEFAULT_CHAIN, "gaussian:sigma=1"]  # at the end, with its default
    assert command_line(page) == command_for(chain)

    sigma = widget(page, "step3.sigma").locator('input[type="range"]')
    sigma.focus()
    sigma.press("PageUp")  # a tenth of the slider, [0, 20], up
    chain = after_change(page, HOME, chain)
    shown = sigma.get_attribute("aria-valuetext")
    assert float(shown) > 1 and chain == [*DEFAULT_CHAIN, f"gaussian:sigma={float(shown):g}"]
    gaussian = chain[-1]
    assert command_line(page) == command_for(chain)

    button(page, "step3.up").click()
    chain = after_change(page, HOME, chain)
    assert chain == ["sobel:mode=x", gaussian, "clip:lo=0,hi=1"]
    assert command_line(page) == command_for(chain)
    button(page, "step2.up").click()  # a step's widgets are keyed by its place
    chain = after_change(page, HOME, chain)
    assert chain == [gaussian, "sobel:mode=x", "clip:lo=0,hi=1"]
    assert command_line(page) == command_for(chain)
    assert button(page, "step1.up").is_disabled()  # first now
    sigma = widget(page, "step1.sigma").locator('input[type="range"]')
    assert sigma.get_attribute("aria-valuetext") == shown  # its value moved with it

    button(page, "step3.remove").click()  # the clip
    chain = after_change(page, HOME, chain)
    assert chain == [gaussian, "sobel:mode=x"]
    assert command_line(page) == command_for(chain)
    assert button(page, "step2.down").is_disabled()  # the Sobel filter is last now
    assert nav_steps(page, "stMain") == step_titles(chain)  # Home's pictures, one per step
    assert page.locator('[data-testid="stImage"] img').count() == 3 + len(chain)


def test_a_shared_link_carries_the_chain_into_a_new_session(server, browser, page, requests):
    page.goto(f"{server.url}/Tiles?sample=camera")
    wait_until_done(page, TILES)
    widget(page, "step1.mode").get_by_text("magnitude: both combined").click()  # a radio takes its words
    chain = after_change(page, TILES, DEFAULT_CHAIN)
    assert chain == ["sobel:mode=magnitude", "clip:lo=0,hi=1"]
    hi = widget(page, "step2.lo_hi").locator('input[type="range"]').last
    hi.focus()
    hi.press("ArrowLeft")
    chain = after_change(page, TILES, chain)
    assert chain == ["sobel:mode=magnitude", "clip:lo=0,hi=0.99"]
    add_stage(page, "Threshold")
    chain = after_change(page, TILES, chain)
    assert chain[2:] == ["threshold:method=otsu"]
    widget(page, "step3.method").get_by_text("a value").click()
    chain = after_change(page, TILES, chain)
    assert chain[2:] == ["threshold:method=value,value=0.5"]
    value = widget(page, "step3.value").locator("input")
    value.fill("0.25")
    value.press("Enter")
    chain = after_change(page, TILES, chain)
    assert chain == ["sobel:mode=magnitude", "clip:lo=0,hi=0.99", "threshold:method=value,value=0.25"]

    context, shared = open_tab(browser, requests)  # someone else, given the link
    try:
        shared.goto(page.url)
        wait_until_done(shared, TILES)
        assert chain_in(shared.url) == chain
        assert sidebar_steps(shared) == nav_steps(shared) == ["4 · Sobel edges", "5 · Clip", "6 · Threshold"]
        assert widget(shared, "step1.mode").get_by_role("radio", name="magnitude: both combined").is_checked()
        assert range_values(shared, "step2.lo_hi") == ["0.00", "0.99"]
        assert widget(shared, "step3.method").get_by_role("radio", name="a value").is_checked()
        assert widget(shared, "step3.value").locator("input").input_value() == "0.25"
        for number, (text, title) in enumerate(zip(chain, step_titles(chain)), start=1):
            go(shared, title, title)
            assert f"step={number}" in shared.url and chain_in(shared.url) == chain
            shared.get_by_text(text, exact=True).wait_for()  # "This step, as the link ... write it"
            shared.get_by_text("After: ").wait_for()
    finally:
        context.close()
    assert chain_in(page.url) == chain  # the first visitor's chain is their own
    assert requests.elsewhere() == []  # neither visitor fetched anything from elsewhere


def coins_regions() -> tuple[np.ndarray, int]:
    """SciPy and scikit-image on the whole coins sample, as float32 in [0, 1] as the app reads
    it: the regions the label page must find."""
    smooth = scipy.ndimage.gaussian_filter(img_as_float32(skimage.data.coins()), 2)
    mask = smooth > threshold_otsu(smooth)
    return scipy.ndimage.label(mask, scipy.ndimage.generate_binary_structure(2, 2))


def test_smoothing_thresholding_and_labelling_coins_finds_scipys_regions(server, page, requests, tmp_path):
    labels, count = coins_regions()
    inner_edges = [split_edges(length, 3)[1:-1] for length in labels.shape]  # between the 3 x 3 tiles
    assert any(  # coins that lie in two tiles or more, which the labels must join
        any(box.start < edge < box.stop for box, edges in zip(boxes, inner_edges) for edge in edges)
        for boxes in scipy.ndimage.find_objects(labels)
    )
    page.goto(f"{server.url}/?sample=coins&rows=3&cols=3&{chain_query(LABEL_CHAIN)}")
    wait_until_done(page, HOME)
    assert chain_in(page.url) == LABEL_CHAIN
    assert sidebar_steps(page) == nav_steps(page) == ["4 · Gaussian smoothing", "5 · Threshold", "6 · Labels"]
    page.get_by_text(f"{count:,} regions").wait_for()  # under the labels' picture
    assert command_line(page) == command_for(LABEL_CHAIN, "coins.png", "3x3")

    go(page, "6 · Labels", "6 · Labels")
    assert "step=3" in page.url and chain_in(page.url) == LABEL_CHAIN
    found = page.locator('[data-testid="stMetric"]', has_text="Regions found")
    assert found.locator('[data-testid="stMetricValue"]').inner_text() == f"{count:,}"
    page.locator('[data-testid="stDataFrame"]').wait_for()
    page.get_by_text("After: the regions in colour (ten colours, repeated), the background black").wait_for()

    assert download(page, "Download the region table (CSV)", tmp_path / "regions.csv") == "step6-regions.csv"
    with open(tmp_path / "regions.csv", newline="") as file:
        header, *rows = list(csv.reader(file))
    assert header == list(REGION_COLUMNS) and header[:2] == ["label", "area"]
    assert len(rows) == count
    assert [int(row[0]) for row in rows] == list(range(1, count + 1))
    assert sorted(int(row[1]) for row in rows) == sorted(np.bincount(labels.ravel())[1:])

    assert download(page, "Download the result (PNG, full resolution)", tmp_path / "labels.png") == "step6-label.png"
    picture = np.asarray(Image.open(tmp_path / "labels.png"))
    assert picture.shape == (*labels.shape, 3)
    assert np.array_equal(picture.any(axis=2), labels > 0)  # black exactly off the regions
    for region in range(1, count + 1):  # each region, across tile borders too, in one colour
        assert len(np.unique(picture[labels == region], axis=0)) == 1
    assert requests.elsewhere() == []


# -- a fresh server, and the README's screenshots ---------------------------------------------


def test_a_deep_link_is_the_first_request_to_a_fresh_server(browser, tmp_path):
    fresh = Server(tmp_path / "tiles")
    requests = Requests()
    requests.allow(fresh.url)
    try:
        context, page = open_tab(browser, requests)
        # A link from before the chain (sobel=, clip=), to the clip's page.
        page.goto(f"{fresh.url}/Stage?step=2&sample=coffee&rows=3&cols=5&clip=0,0.5&sobel=magnitude")
        wait_until_done(page, "5 · Clip")
        assert chain_in(page.url) == ["sobel:mode=magnitude", "clip:lo=0,hi=0.5"] and "step=2" in page.url
        sidebar = page.locator('[data-testid="stSidebar"]')
        inputs = sidebar.locator('[data-testid="stNumberInput"] input')
        assert (inputs.nth(0).input_value(), inputs.nth(1).input_value()) == ("3", "5")
        assert widget(page, "step1.mode").get_by_role("radio", name="magnitude: both combined").is_checked()
        assert range_values(page, "step2.lo_hi") == ["0.00", "0.50"]
        page.get_by_text("After: 0 black, 0.5 white").wait_for()
        task_view(page)
        screenshot(page, "stage.png", height=1300)  # down to the chain's first box in the sidebar
        go(page, "1 · Tiles", TILES)
        assert "rows=3" in page.url and "cols=5" in page.url and "sample=coffee" in page.url
        page.get_by_text("split into 3 x 5 tile files").wait_for()
        page.locator('[data-testid="stDataFrame"] canvas').first.wait_for()
        screenshot(page, "tiles.png")
        go(page, "Cluster", CLUSTER)
        page.get_by_text("Each tile framed in the colour, and numbered with the number, of the worker that read it").wait_for()
        allow_the_dashboard(page, requests)
        screenshot(page, "cluster.png", height=1300)  # down to the grid of workers
        page.goto(f"{fresh.url}/Stage?step=3&sample=coins&rows=3&cols=3&{chain_query(LABEL_CHAIN)}")
        wait_until_done(page, "6 · Labels")
        page.locator('[data-testid="stDataFrame"] canvas').first.wait_for()
        page.get_by_text("After: the regions in colour (ten colours, repeated), the background black").wait_for()
        screenshot(page, "labels.png", height=1300)  # down to the region table
        page.goto(f"{fresh.url}/Speedup")  # the default sample and grid: what a visitor first sees
        wait_until_done(page, SPEEDUP)
        page.get_by_role("button", name="Measure").click()
        page.get_by_text("On grids of").wait_for()
        page.locator('[data-testid="stImage"] img').nth(1).wait_for()
        wait_until_done(page, SPEEDUP)
        screenshot(page, "speedup.png", height=2200)  # down to the grid sweep and what it says
        context.close()
    finally:
        fresh.stop()
    assert requests.urls and requests.elsewhere() == []
