"""The real app in a real browser: `streamlit run app.py` driven by headless Chromium."""

import csv
import urllib.parse
from pathlib import Path

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
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect
from skimage.filters import threshold_otsu
from skimage.util import img_as_float32

from core.outputs.pictures import to_uint8
from core.outputs.regions import REGION_COLUMNS
from core.pipeline.build import build_pipeline
from core.pipeline.samples import load_sample
from core.pipeline.stage_table import STAGES, parse_chain
from core.pipeline.tiling import partition, split_edges

pytestmark = needs_chromium

HOME, TILES = "Dask, tile by tile", "1 · Tiles on disk"
CLUSTER, SPEEDUP = "Where Dask runs", "Speed-up: what more workers buy"
#: The sidebar's links with the default chain, and the title of the page each opens.
NAV = {
    "Home": HOME,
    "1 · Tiles": TILES,
    "2 · Grayscale": "2 · Grayscale, tile by tile",
    "3 · Stitched": "3 · Stitched into one image",
    "4 · Sobel edges": "4 · Sobel edges",
    "5 · Clip": "5 · Clip",
    "Cluster": CLUSTER,
    "Speed-up": SPEEDUP,
}
DEFAULT_CHAIN = ["sobel:mode=x", "clip:lo=0,hi=1"]
SIDEBAR_STEPS = '[data-testid="stSidebar"] [data-testid="stMarkdownContainer"] strong'
LABEL_CHAIN = ["gaussian:sigma=2", "threshold:method=otsu", "label:connectivity=2"]
#: The first step's number: Tiles, Grayscale and Stitched come before the chain.
FIRST_STEP = 4
#: Collects the text of every progress bar the page shows, however briefly.
PROGRESS_LOG = """
window.progressSeen = [];
new MutationObserver(() => {
  for (const bar of document.querySelectorAll('[data-testid="stProgress"]')) {
    const text = bar.innerText.trim();
    if (text && !window.progressSeen.includes(text)) window.progressSeen.push(text);
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


# -- the chain, as the address, the sidebar and the command line show it ---------------------


def chain_query(chain: list[str]) -> str:
    """``chain=...`` for a link, encoded as the app writes it (``sobel%3Amode%3Dx%3B...``)."""
    return urllib.parse.urlencode({"chain": ";".join(chain)})


def chain_in(url: str) -> list[str] | None:
    """The steps of the address's ``chain=``, None without one."""
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True).get("chain")
    return None if values is None else [text for text in values[0].split(";") if text]


def step_titles(chain: list[str]) -> list[str]:
    """``4 · Sobel edges``, ``5 · Clip``: each step's title, from the stage table."""
    return [f"{FIRST_STEP + i} · {STAGES[text.partition(':')[0]].title}" for i, text in enumerate(chain)]


def sidebar_steps(page) -> list[str]:
    """The titles of the chain editor's boxes, top to bottom."""
    return page.locator(SIDEBAR_STEPS).all_inner_texts()


def wait_for_sidebar_steps(page, chain: list[str]) -> None:
    """Wait until the chain editor's boxes are ``chain``'s steps: the address changes as the
    run starts, and the browser may tell the run's end before it has drawn the boxes."""
    expect(page.locator(SIDEBAR_STEPS)).to_have_text(step_titles(chain), timeout=60_000)


def nav_steps(page, where: str = "stSidebar") -> list[str]:
    """The labels of the links to the step pages, in order; each links to its step."""
    links = page.locator(f'[data-testid="{where}"] a[href*="Stage?step="]')
    for number, link in enumerate(links.all(), start=1):
        assert link.get_attribute("href").endswith(f"Stage?step={number}")
    return links.locator('[data-testid="stMarkdownContainer"]').all_inner_texts()


def widget(page, key: str):
    """The sidebar widget with this key (``step3.sigma``: Streamlit's class ``st-key-step3-sigma``)."""
    return page.locator(f'[data-testid="stSidebar"] .st-key-{key.replace(".", "-")}')


def button(page, key: str):
    # A button with a tooltip is drawn twice, the second copy hidden.
    return widget(page, key).locator("button").filter(visible=True)


def add_stage(page, title: str) -> None:
    """Choose ``title`` in "Add a stage" and press Add."""
    choice = widget(page, "add_stage").locator("input")
    option = page.get_by_role("option", name=title, exact=True)
    # From the keyboard: a click scrolls the sidebar to the box, and scrolling closes the
    # list of choices as it opens. A rerun that redraws the sidebar as the key goes down
    # takes the focus away and the list stays shut (CI, once in ~30 runs): press again.
    for _ in range(5):
        choice.focus()
        choice.press("ArrowDown")
        try:
            option.wait_for(timeout=5_000)
            break
        except PlaywrightTimeoutError:
            continue
    option.click()
    assert choice.input_value() == title
    button(page, "add_step").click()


def after_change(page, title: str, before: list[str]) -> list[str]:
    """Wait for the address's chain to differ from ``before`` and for the rerun to end;
    the sidebar's boxes and links then list the address's steps, in its order."""
    page.wait_for_url(lambda url: chain_in(url) != before)
    wait_until_done(page, title)
    chain = chain_in(page.url)
    wait_for_sidebar_steps(page, chain)
    assert sidebar_steps(page) == nav_steps(page) == step_titles(chain)
    return chain


def command_for(chain: list[str], image: str = "astronaut.png", grid: str = "2x2") -> str:
    return " ".join(["python -m core", image, "--grid", grid, *(f"--stage {text}" for text in chain)])


def command_line(page) -> str:
    return page.locator('[data-testid="stCode"] code').inner_text().strip()


def range_values(page, key: str) -> list[str]:
    return widget(page, key).locator('input[type="range"]').evaluate_all(
        "thumbs => thumbs.map(thumb => thumb.getAttribute('aria-valuetext'))"
    )


def progress_seen(page) -> list[str]:
    return page.evaluate("window.progressSeen")


def download(page, name: str, path: Path) -> str:
    """Press the download button ``name``, save the file at ``path`` and return the name the
    app gives it. Downloads do not rerun the page (a rerun replaced the other buttons'
    files, and a second download right after the first then fetched nothing), so the
    tests press them one after another without waiting."""
    with page.expect_download() as file:
        page.get_by_role("button", name=name).click()
    file.value.save_as(path)
    return file.value.suggested_filename


# -- the pages --------------------------------------------------------------------------------


def test_every_page_opens_from_the_navigation_with_its_graph(server, page, requests):
    page.goto(server.url)
    wait_until_done(page, HOME)
    page.locator('[data-testid="stImage"] img').nth(4).wait_for()  # a rerun may redraw them
    assert page.locator('[data-testid="stImage"] img').count() == 3 + len(DEFAULT_CHAIN)  # one per stage
    assert command_line(page) == command_for(DEFAULT_CHAIN)
    assert nav_steps(page) == nav_steps(page, "stMain") == ["4 · Sobel edges", "5 · Clip"]
    for label in list(NAV)[1:6]:
        go(page, label, NAV[label])
        assert task_view(page).locator("svg g.node").count() > 0
        assert "rows=2" in page.url and chain_in(page.url) == DEFAULT_CHAIN
    go(page, "Cluster", CLUSTER)  # the server runs on its default, a local cluster
    page.get_by_text("Which worker read which tile").wait_for()
    page.get_by_text("Each tile tinted with the colour of the worker that read it").wait_for()
    allow_the_dashboard(page, requests)  # on 127.0.0.1, as the page embeds it
    assert requests.elsewhere() == []  # not even the tab's icon or a font


def test_the_speedup_page_can_be_stopped_and_then_measures(server, page):
    # 16 x 16 tiles of the largest sample: a sweep of seconds, long enough to stop midway.
    page.goto(f"{server.url}/?sample=retina&rows=16&cols=16")
    wait_until_done(page, HOME)
    go(page, "Speed-up", SPEEDUP)
    page.get_by_role("button", name="Measure").click()
    page.get_by_text("tasks done").first.wait_for()
    page.get_by_role("button", name="Stop measuring").click()
    page.get_by_text("Stopped: an unfinished measurement keeps nothing").wait_for()
    wait_until_done(page, SPEEDUP)
    assert page.locator('[data-testid="stImage"] img').count() == 0  # nothing was kept
    page.get_by_role("button", name="Measure").click()  # the interrupted run left no lock behind
    page.locator('[data-testid="stImage"] img').nth(1).wait_for()
    wait_until_done(page, SPEEDUP)
    assert page.locator('[data-testid="stMetric"]').first.inner_text().startswith("1 worker")
    page.get_by_text("On grids of 1 x 1 to 16 x 16 tiles").wait_for()


def test_settings_and_the_url_survive_page_switches(server, page):
    page.goto(f"{server.url}/?rows=3&cols=4")
    wait_until_done(page, HOME)
    rows = page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"] input').first
    rows.fill("5")
    rows.press("Enter")
    page.wait_for_url("**rows=5**")
    go(page, "1 · Tiles", TILES)
    assert "rows=5" in page.url and "cols=4" in page.url
    page.get_by_text("split into 5 x 4 tile files").wait_for()
    go(page, "4 · Sobel edges", "4 · Sobel edges")
    assert "step=1" in page.url and chain_in(page.url) == DEFAULT_CHAIN
    assert page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"] input').first.input_value() == "5"


def test_moving_the_clip_range_redraws_the_picture_without_running_the_filter_again(server, page, requests):
    # The local cluster up first: stages run on threads while it starts would run again on it.
    page.goto(f"{server.url}/Cluster")
    wait_until_done(page, CLUSTER)
    allow_the_dashboard(page, requests)
    page.add_init_script(PROGRESS_LOG)
    chain = ["sobel:mode=magnitude", "clip:lo=0,hi=1"]  # with an image and grid no other test runs
    page.goto(f"{server.url}/Stage?step=2&sample=retina&rows=4&cols=4&{chain_query(chain)}")
    wait_until_done(page, "5 · Clip")
    after = page.locator('[data-testid="stImage"]', has_text="After: 0 black, 1 white").locator("img")
    before_src = after.get_attribute("src")
    # The Sobel filter ran for this page, and its progress bar was seen: it would be seen again.
    assert any(text.startswith("Running step 4 · Sobel edges") for text in progress_seen(page))
    page.evaluate("window.progressSeen = []")

    hi = widget(page, "step2.lo_hi").locator('input[type="range"]').last
    hi.focus()
    hi.press("PageDown")  # a tenth of the slider, [0, 4.47], down
    chain = after_change(page, "5 · Clip", chain)
    shown = float(hi.get_attribute("aria-valuetext"))
    assert 0 < shown < 1 and chain == ["sobel:mode=magnitude", f"clip:lo=0,hi={shown:g}"]
    after = page.locator('[data-testid="stImage"]', has_text=f"After: 0 black, {shown:g} white").locator("img")
    assert after.get_attribute("src") != before_src
    assert [text for text in progress_seen(page) if not text.startswith("Running step 5 · Clip")] == []


def test_the_full_resolution_download_is_the_apps_result(server, page, tmp_path):
    page.goto(f"{server.url}/Stage?step=2&sample=coffee&clip=0,0.5")  # a link from before the chain
    wait_until_done(page, "5 · Clip")
    chain = ["sobel:mode=x", "clip:lo=0,hi=0.5"]
    assert chain_in(page.url) == chain
    page.get_by_text("After: 0 black, 0.5 white").wait_for()
    assert download(page, "Download the result (PNG, full resolution)", tmp_path / "clip.png") == "step5-clip.png"
    picture = np.asarray(Image.open(tmp_path / "clip.png"))
    assert picture.shape == (400, 600) and picture.dtype == np.uint8  # the coffee sample, whole
    # The same tiles and chain run here, mapped 0 -> black, 0.5 -> white.
    result = build_pipeline(partition(load_sample("coffee"), 2, 2, tmp_path / "tiles"), parse_chain(chain)).result
    np.testing.assert_array_equal(picture, to_uint8(result.compute(scheduler="threads"), 0.0, 0.5))
    assert picture.min() == 0 and picture.max() == 255


def test_an_uploaded_photo_goes_through_every_stage(server, page, tmp_path):
    photo = tmp_path / "street.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)).save(photo)
    page.goto(server.url)
    wait_until_done(page, HOME)
    page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(photo))
    page.get_by_text("Using upload: street.png").wait_for()
    page.get_by_text("Now showing: street.png").wait_for()
    wait_until_done(page, HOME)
    go(page, "3 · Stitched", "3 · Stitched into one image")
    page.get_by_text("400 x 300 pixels").wait_for()
    go(page, "5 · Clip", "5 · Clip")
    page.get_by_text("After: 0 black, 1 white").wait_for()
    assert page.locator('[data-testid="stSidebar"]').get_by_text("Using upload: street.png").is_visible()


def test_a_bad_upload_shows_an_error_not_a_traceback(server, page, tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("this is not a picture\n" * 10)
    page.goto(f"{server.url}/Tiles")
    wait_until_done(page, TILES)
    page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(fake))
    page.locator('[data-testid="stAlertContentError"]').get_by_text("Could not read this image").wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in page.content()


# -- the chain ----------------------------------------------------------------------------------


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
        page.get_by_text("Each tile tinted with the colour of the worker that read it").wait_for()
        allow_the_dashboard(page, requests)
        screenshot(page, "cluster.png")
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
        screenshot(page, "speedup.png", height=1800)
        context.close()
    finally:
        fresh.stop()
    assert requests.urls and requests.elsewhere() == []
