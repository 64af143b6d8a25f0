"""A server a team shares, in Chromium: settings applied whole whatever the timing (during a
run, across a server restart), and a long run cancelled from the page."""

import re
import urllib.parse

import numpy as np
import pytest
from browser import Requests, Server, needs_chromium, open_tab, wait_until_done
from browser_app import add_stage, chain_in, wait_for_sidebar_steps
from PIL import Image
from playwright.sync_api import expect

pytestmark = needs_chromium

TILES = "1 · Tiles on disk"


def grid_in(url: str) -> tuple[str, str]:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return query["rows"][0], query["cols"][0]


def grid_inputs(page):
    inputs = page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"] input')
    return inputs.nth(0), inputs.nth(1)


def type_number(field, number: int) -> None:
    """As a visitor types: select what is there, type the digits."""
    field.click()
    field.press("Control+a")
    field.press_sequentially(str(number), delay=30)


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "street.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (600, 800, 3), dtype=np.uint8)).save(path)
    return path


def test_a_grid_typed_while_an_upload_runs_is_applied_whole(server, page, photo):
    page.goto(f"{server.url}/Tiles")
    wait_until_done(page, TILES)
    rows, cols = grid_inputs(page)
    type_number(rows, 3)
    rows.press("Tab")  # in the form, not yet applied
    # The upload runs the page again while the visitor goes on typing: the sidebar it draws
    # used to set the rows back to 2, and the form then submitted 2 x 3.
    page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(photo))
    page.get_by_text("Using upload: street.png").wait_for()
    wait_until_done(page, TILES)
    assert rows.input_value() == "3"  # what the visitor typed is still there
    assert grid_in(page.url) == ("2", "2")  # and not applied: the upload's run did not receive it
    type_number(cols, 3)
    cols.press("Enter")
    page.wait_for_url(lambda url: grid_in(url) != ("2", "2"))
    wait_until_done(page, TILES)
    assert grid_in(page.url) == ("3", "3")
    page.get_by_text("split into 3 x 3 tile files").wait_for()


def test_after_a_server_restart_the_first_click_and_grid_are_applied(browser, tmp_path, photo):
    cache = tmp_path / "tiles"
    running = Server(cache)
    requests = Requests()
    requests.allow(running.url)
    context, page = open_tab(browser, requests)
    try:
        page.goto(f"{running.url}/Tiles")
        wait_until_done(page, TILES)
        page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(photo))
        page.get_by_text("Using upload: street.png").wait_for()
        wait_until_done(page, TILES)

        running.stop()  # the tab stays open; the server comes back on the same port
        running = Server(cache, port=running.port)
        mode = page.locator(".st-key-step1-mode")
        mode.get_by_text("magnitude: both combined").click()  # the new server's first message
        page.wait_for_url("**mode%3Dmagnitude**")
        wait_until_done(page, TILES)
        assert mode.get_by_role("radio", name="magnitude: both combined").is_checked()
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text("Using upload: street.png").is_visible()  # not "a shared upload"

        running.stop()
        running = Server(cache, port=running.port)
        rows, cols = grid_inputs(page)
        type_number(rows, 5)
        type_number(cols, 5)
        cols.press("Enter")  # the first message again, this time the grid's form
        page.wait_for_url(lambda url: grid_in(url) != ("2", "2"))
        wait_until_done(page, TILES)
        assert grid_in(page.url) == ("5", "5")
        page.get_by_text("split into 5 x 5 tile files").wait_for()
        assert "mode%3Dmagnitude" in page.url  # the earlier click survived the second restart
        assert sidebar.get_by_text("Using upload: street.png").is_visible()
    finally:
        context.close()
        running.stop()
    assert requests.elsewhere() == []


def step_box(page, title: str):
    """The sidebar's box of the step titled ``title`` (``4 · Gaussian smoothing``): the
    innermost block holding the title, found by what the visitor sees, not by widget keys."""
    return page.locator('[data-testid="stSidebar"] [data-testid="stVerticalBlock"]').filter(
        has=page.get_by_text(title, exact=True)
    ).last


def move(page, title: str, arrow: str, before: list[str]) -> list[str]:
    """Press the ``arrow`` (``arrow_upward``, ``arrow_downward``) of the step titled
    ``title``, once the tab is connected; the chain the address then holds."""
    button = step_box(page, title).get_by_role("button", name=arrow).filter(visible=True)
    button.click()  # waits until enabled: while the server is away, every widget is disabled
    page.wait_for_url(lambda url: chain_in(url) != before)
    wait_until_done(page, TILES)
    return chain_in(page.url)


def test_after_a_server_restart_a_click_on_a_moved_step_is_applied(browser, tmp_path):
    cache = tmp_path / "tiles"
    running = Server(cache)
    requests = Requests()
    requests.allow(running.url)
    context, page = open_tab(browser, requests)
    default = ["sobel:mode=x", "clip:lo=0,hi=1"]
    try:
        page.goto(f"{running.url}/Tiles")
        wait_until_done(page, TILES)
        add_stage(page, "Gaussian smoothing")
        page.wait_for_url(lambda url: chain_in(url) != default)
        wait_until_done(page, TILES)
        chain = move(page, "6 · Gaussian smoothing", "arrow_upward", chain_in(page.url))
        chain = move(page, "5 · Gaussian smoothing", "arrow_upward", chain)
        assert chain == ["gaussian:sigma=1", *default]  # the third step added is the first now

        running.stop()
        running = Server(cache, port=running.port)
        sigma = page.locator('[data-testid="stSidebar"]').get_by_role("slider", name="Sigma")
        expect(sigma).to_be_enabled()  # reconnected
        sigma.focus()
        sigma.press("PageUp")  # the new server's first message: a tenth of [0, 20] up
        page.wait_for_url(lambda url: chain_in(url) != chain)
        wait_until_done(page, TILES)
        shown = sigma.get_attribute("aria-valuetext")
        chain = chain_in(page.url)
        assert float(shown) > 1 and chain == [f"gaussian:sigma={float(shown):g}", *default]
        wait_for_sidebar_steps(page, chain)

        chain = move(page, "4 · Gaussian smoothing", "arrow_downward", chain)
        assert chain == [default[0], f"gaussian:sigma={float(shown):g}", default[1]]
        running.stop()
        running = Server(cache, port=running.port)
        chain = move(page, "5 · Gaussian smoothing", "arrow_upward", chain)  # the first message again
        assert chain == [f"gaussian:sigma={float(shown):g}", *default]
        wait_for_sidebar_steps(page, chain)
        assert sigma.get_attribute("aria-valuetext") == shown  # the step's own value moved with it
    finally:
        context.close()
        running.stop()
    assert requests.elsewhere() == []


def test_a_long_run_is_cancelled_or_superseded_while_another_visitor_goes_on(server, browser, page, requests):
    # Two medians of 25 x 25 pixels over the largest sample: seconds of work on two cores,
    # to outlast the other visitor's page on a busy machine (one median did not, once).
    slow = "median:size=25;median:size=25"
    page.goto(f"{server.url}/?sample=retina&rows=4&cols=4&chain={slow}")
    page.get_by_text("Running step 4 · Median filter").wait_for()

    context, other = open_tab(browser, requests)  # someone else, meanwhile, on a small picture
    try:
        other.goto(f"{server.url}/?sample=coins&rows=2&cols=2")
        wait_until_done(other, "Dask, tile by tile")
        assert other.locator('[data-testid="stImage"] img').count() == 3 + 2  # every stage of theirs
    finally:
        context.close()

    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Cancelled: nothing of that run was kept").wait_for()
    settled(page)
    assert page.locator('[data-testid="stImage"] img').count() == 0
    assert page.get_by_text("Running step").count() == 0

    page.get_by_role("button", name="Run it again").click()
    # The first median, unless it had finished before the cancel: then it is kept, and the second runs.
    page.get_by_text(re.compile(r"Running step [45] · Median filter")).wait_for()
    page.locator(".st-key-step2-remove button").filter(visible=True).click()  # a new setting meanwhile
    page.wait_for_url(lambda url: url.count("median") == 1)
    wait_until_done(page, "Dask, tile by tile")  # the one median, and no second runs for it
    assert page.get_by_text("Running step").count() == 0
    assert page.locator('[data-testid="stImage"] img').count() == 3 + 1


def settled(page) -> None:
    """The script run has ended, whatever it drew."""
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stApp"]')
               ?.getAttribute('data-test-script-state') === 'notRunning'"""
    )
