"""The real app in a real browser: `streamlit run app.py` driven by headless Chromium."""


import numpy as np
from browser import (
    allow_the_dashboard,
    go,
    needs_chromium,
    task_view,
    wait_until_done,
)
from browser_app import (
    CLUSTER,
    DEFAULT_CHAIN,
    HOME,
    NAV,
    PROGRESS_LOG,
    SPEEDUP,
    TILES,
    after_change,
    chain_in,
    chain_query,
    command_for,
    command_line,
    download,
    nav_steps,
    progress_seen,
    widget,
)
from PIL import Image
from playwright.sync_api import expect

from core.outputs.pictures import to_uint8
from core.pipeline.build import build_pipeline
from core.pipeline.samples import load_sample
from core.pipeline.stage_table import parse_chain
from core.pipeline.tiling import partition

pytestmark = needs_chromium


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
    page.get_by_text("Each tile framed in the colour, and numbered with the number, of the worker that read it").wait_for()
    allow_the_dashboard(page, requests)  # on 127.0.0.1, as the page embeds it
    assert requests.elsewhere() == []  # not even the tab's icon or a font


def test_only_the_shown_step_is_marked_in_the_sidebar(server, page):
    # Streamlit marks every link to the running page as current: on the step page, all the
    # steps'. ui.navigation.step_link_style unmarks the others, by Streamlit's data-testid.
    page.goto(f"{server.url}/Stage?step=2")
    wait_until_done(page, "5 · Clip")
    links = page.locator('[data-testid="stSidebar"] a[href*="Stage?step="]')
    expect(links).to_have_count(2)
    looks = [
        link.evaluate("a => [getComputedStyle(a).backgroundColor, getComputedStyle(a.querySelector('p')).fontWeight]")
        for link in links.all()
    ]
    (other_background, other_weight), (shown_background, shown_weight) = looks
    plain = page.locator('[data-testid="stSidebar"] a[href*="Tiles"]').first.evaluate("a => getComputedStyle(a).backgroundColor")
    assert other_background == plain != shown_background
    assert int(other_weight) < int(shown_weight)


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
