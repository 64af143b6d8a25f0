"""A server a team shares, in Chromium: settings applied whole whatever the timing (during a
run, across a server restart), and a long run cancelled from the page."""

import urllib.parse

import numpy as np
import pytest
from PIL import Image

from browser import Requests, Server, needs_chromium, open_tab, wait_until_done

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


def test_a_long_run_is_cancelled_or_superseded_while_another_visitor_goes_on(server, browser, page, requests):
    # A median of 25 x 25 pixels over the largest sample: seconds of work on two cores.
    slow = "median:size=25"
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
    page.get_by_text("Running step 4 · Median filter").wait_for()
    page.locator(".st-key-step1-remove button").filter(visible=True).click()  # a new setting meanwhile
    page.wait_for_url(lambda url: "median" not in url)
    wait_until_done(page, "Dask, tile by tile")  # the empty chain: no median runs for it
    assert page.get_by_text("No stages: the stitched grayscale image is the result.").is_visible()
    assert page.locator('[data-testid="stImage"] img').count() == 3


def settled(page) -> None:
    """The script run has ended, whatever it drew."""
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stApp"]')
               ?.getAttribute('data-test-script-state') === 'notRunning'"""
    )
