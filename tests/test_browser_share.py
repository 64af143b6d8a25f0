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
