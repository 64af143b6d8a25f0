"""The pixel zoom in a real browser: the Stitched page and a step's page zoom down to single
image pixels, drawn as crisp squares from full-resolution tiles that the app serves itself,
and the swipe shows the before picture on its left, the after picture on its right. The
view opens on the coarse levels while the full resolution is still being cut."""

import io
import re
import urllib.request

import numpy as np
import pytest
from browser import Server, needs_chromium, screenshot, wait_until_done
from PIL import Image

pytestmark = needs_chromium

STITCHED = "3 · Stitched into one image"
SOBEL = "4 · Sobel edges"
#: Screen pixels a side that count as "one image pixel seen as a square": enough to sample
#: its middle and near its edges.
PIXEL_SIDE = 24
#: Between the astronaut's eyes: the column of her nose, the row of her eyes.
EYES = (224, 102)


def open_zoom(page, url: str, title: str, *, loaded: bool = True):
    """Open the page, switch its pixel zoom on, and return the zoom's frame once both
    pictures are open (and, if ``loaded``, every tile they want is drawn)."""
    page.goto(url)
    wait_until_done(page, title)
    page.get_by_text("Open the pixel zoom").click()
    wait_until_done(page, title)
    # the page's task graph sets its height once laid out, moving what lies below it
    page.wait_for_function(
        """() => [...document.querySelectorAll('iframe')].every((f) => {
            const graph = f.contentDocument?.querySelector('.tv-graph');
            return !graph || graph.dataset.ready === 'true';
        })"""
    )
    # the section's heading at the top of the window, the whole view below it
    page.get_by_role("heading", name="Inspect to the pixel").evaluate("e => e.scrollIntoView({block: 'start'})")
    component, frame = zoom_frame(page)
    frame.wait_for_function("() => daskZoom.viewer.world.getItemCount() === 2")
    if loaded:
        settle(frame)
    steady(page, component)
    return component, frame


def steady(page, component) -> None:
    """Bring the zoom into the window and wait until it stays there: the views above it set
    their heights as they finish drawing, and Streamlit may scroll the page as it reruns;
    the mouse acts on window coordinates, which must then still be the zoom's."""
    last = None
    for _ in range(100):
        page.get_by_role("heading", name="Inspect to the pixel").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)
        box = component.bounding_box()
        inside = box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]
        if box == last and inside:
            return
        last = box
    raise AssertionError("the pixel zoom kept moving on the page")


def zoom_frame(page):
    """The pixel zoom's iframe and frame: the page's task graph is a frame of the same
    component, above it."""
    page.wait_for_function("() => [...document.querySelectorAll('iframe')].some((f) => f.contentWindow?.daskZoom)")
    for component in page.locator("iframe").all():
        frame = component.element_handle().content_frame()
        if frame.evaluate("() => Boolean(window.daskZoom)"):
            return component, frame
    raise AssertionError("no pixel zoom on the page")


def settle(frame) -> None:
    """Wait until the viewer stops moving and has every tile it wants drawn."""
    frame.wait_for_function(
        """() => {
            const viewer = daskZoom.viewer;
            const world = viewer.world;
            return !viewer.isAnimating?.() && [0, 1].every((i) => world.getItemAt(i).getFullyLoaded());
        }"""
    )
    frame.wait_for_timeout(200)  # one more frame drawn after the last tile arrived


def pixel_side(frame) -> float:
    """How many screen pixels one image pixel spans now."""
    return frame.evaluate(
        "() => daskZoom.viewer.world.getItemAt(1).viewportToImageZoom(daskZoom.viewer.viewport.getZoom(true))"
    )


def zoom_in_with_the_wheel(page, component, frame, x: float, y: float, side: float = PIXEL_SIDE) -> None:
    """Turn the mouse wheel over the point (``x``, ``y``, fractions of the viewer) until one
    image pixel spans ``side`` screen pixels or more."""
    steady(page, component)
    box = component.bounding_box()
    page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
    for _ in range(60):
        if pixel_side(frame) >= side:
            break
        page.mouse.wheel(0, -200)
        page.wait_for_timeout(60)
    settle(frame)
    assert pixel_side(frame) >= side


def under(frame, item: int, x: float, y: float) -> dict:
    """The full-resolution pixel of picture ``item`` (0 before, 1 after) under the point
    (``x``, ``y``, fractions of the viewer), and where that pixel's square lies on screen."""
    return frame.evaluate(
        """([item, x, y]) => {
            const viewer = daskZoom.viewer;
            const image = viewer.world.getItemAt(item);
            const box = viewer.element;
            const point = image.viewerElementToImageCoordinates(
                new OpenSeadragon.Point(x * box.clientWidth, y * box.clientHeight));
            const column = Math.floor(point.x), row = Math.floor(point.y);
            const topLeft = image.imageToViewerElementCoordinates(new OpenSeadragon.Point(column, row));
            const bottomRight = image.imageToViewerElementCoordinates(new OpenSeadragon.Point(column + 1, row + 1));
            return {column, row, left: topLeft.x, top: topLeft.y, right: bottomRight.x, bottom: bottomRight.y};
        }""",
        [item, x, y],
    )


def sources(frame) -> list[dict]:
    """The before and after pictures the view was given: their address and pyramid."""
    return frame.evaluate("() => daskZoom.sources")


def tile_pixels(server, source: dict, column: int, row: int) -> np.ndarray:
    """The full-resolution tile holding the pixel at (``column``, ``row``), as served, in RGB."""
    pyramid = source["pyramid"]
    size = pyramid["tile_size"]
    url = f"{server.url}/{source['path']}/{pyramid['max_level']}/{column // size}_{row // size}.png"
    with urllib.request.urlopen(url) as response:
        return np.asarray(Image.open(io.BytesIO(response.read())).convert("RGB"))


def tile_pixel(server, source: dict, column: int, row: int) -> np.ndarray:
    """The pixel at (``column``, ``row``) of a picture, as served."""
    size = source["pyramid"]["tile_size"]
    return tile_pixels(server, source, column, row)[row % size, column % size]


def screen(page) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"))


def assert_one_pixel_as_a_square(page, server, component, frame, item: int, x: float, y: float) -> None:
    """The square of the image pixel under (``x``, ``y``) shows that pixel's colour from
    near one edge to near the other: no smoothing, no blending with its neighbours."""
    found = under(frame, item, x, y)
    assert found["right"] - found["left"] >= PIXEL_SIDE - 0.5
    want = tile_pixel(server, sources(frame)[item], found["column"], found["row"])
    box = component.bounding_box()
    shot = screen(page)
    for fx in (0.2, 0.5, 0.8):
        for fy in (0.2, 0.5, 0.8):
            sx = round(box["x"] + found["left"] + fx * (found["right"] - found["left"]))
            sy = round(box["y"] + found["top"] + fy * (found["bottom"] - found["top"]))
            assert np.abs(shot[sy, sx].astype(int) - want).max() <= 1, (found, fx, fy, shot[sy, sx], want)


def full_resolution_requests(requests, frame) -> list[str]:
    wanted = [f"/{s['path']}/{s['pyramid']['max_level']}/" for s in sources(frame)]
    return [[url for url in requests.urls if folder in url] for folder in wanted]


def test_the_stitched_image_zooms_to_single_pixels_with_the_photo_left_of_the_swipe(server, page, requests):
    component, frame = open_zoom(page, f"{server.url}/Stitched?sample=astronaut&rows=2&cols=2", STITCHED)
    before, after = sources(frame)
    assert before["pyramid"]["channels"] == 3 and after["pyramid"]["channels"] == 1
    assert (before["pyramid"]["width"], before["pyramid"]["height"]) == (512, 512)
    # Opened whole: the coarsest level, one tile each, and no full-resolution tile yet.
    # (512 pixels fit the view at about one screen pixel each, so 512 / 2 is not enough.)
    assert all(re.search(r"/app/static/pyramids/\w+/\d+/\d+_\d+\.png$", url)
               for url in requests.urls if "/pyramids/" in url)

    # Drag the swipe between the astronaut's eyes: the photo in colour on its left, gray on its right.
    corners = frame.evaluate(
        """() => {
            const image = daskZoom.viewer.world.getItemAt(1);
            const a = image.imageToViewerElementCoordinates(new OpenSeadragon.Point(0, 0));
            const b = image.imageToViewerElementCoordinates(image.getContentSize());
            return [a.x, a.y, b.x, b.y];
        }"""
    )
    steady(page, component)
    box = component.bounding_box()
    left, top, right, bottom = corners
    cut = left + (right - left) * EYES[0] / 512
    handle = frame.locator(".zoom-swipe-handle").bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + cut, handle["y"] + handle["height"] / 2, steps=8)
    page.mouse.up()
    settle(frame)
    line = frame.locator(".zoom-swipe").bounding_box()
    assert abs(line["x"] + line["width"] / 2 - (box["x"] + cut)) <= 2
    shot = screen(page)
    # below the overview in the top right corner, above the labels
    rows = np.linspace(top + 0.3 * (bottom - top), bottom - 60, 12).round().astype(int) + round(box["y"])
    colourful_left = [np.ptp(shot[y, round(box["x"] + x)].astype(int)) > 12
                      for x in np.linspace(left + 5, cut - 20, 8) for y in rows]
    gray_right = [np.ptp(shot[y, round(box["x"] + x)].astype(int)) <= 1
                  for x in np.linspace(cut + 20, right - 5, 16) for y in rows]
    assert np.mean(colourful_left) > 0.5 and all(gray_right)
    screenshot(page, "zoom.png")

    # Into the astronaut's eyes, down to the pixel, on both sides of the swipe.
    swipe, eyes = cut / box["width"], (top + (bottom - top) * EYES[1] / 512) / box["height"]
    zoom_in_with_the_wheel(page, component, frame, swipe + 15 / box["width"], eyes, side=10)  # beside the line
    screenshot(page, "zoom-pixels.png")
    zoom_in_with_the_wheel(page, component, frame, swipe + 15 / box["width"], eyes)
    assert all(full_resolution_requests(requests, frame))
    assert_one_pixel_as_a_square(page, server, component, frame, 0, swipe - 0.08, 0.4)
    assert_one_pixel_as_a_square(page, server, component, frame, 1, swipe + 0.08, 0.4)
    # the readout names the pixel under the mouse
    readout = re.fullmatch(r"pixel \((\d+), (\d+)\) of 512 x 512, ([\d.]+) screen pixels a side",
                           frame.locator(".zoom-readout").inner_text())
    assert readout and float(readout[3]) >= PIXEL_SIDE


def test_a_step_zooms_to_the_pixel_from_its_input_to_its_output(server, page, requests):
    chain = "sobel:mode=x;clip:lo=0,hi=1"
    component, frame = open_zoom(page, f"{server.url}/Stage?step=1&sample=coins&rows=3&cols=2&chain={chain}", SOBEL)
    before, after = sources(frame)
    assert (after["pyramid"]["width"], after["pyramid"]["height"]) == (384, 303)
    assert before["path"] != after["path"]
    zoom_in_with_the_wheel(page, component, frame, 0.55, 0.5)  # beside the swipe line, in the middle
    assert all(full_resolution_requests(requests, frame))
    assert_one_pixel_as_a_square(page, server, component, frame, 0, 0.3, 0.5)  # the grayscale
    assert_one_pixel_as_a_square(page, server, component, frame, 1, 0.7, 0.5)  # its Sobel x
    # The last pixel, in the bottom-right corner (303 rows: a short last row of tiles), is whole too.
    corner = frame.evaluate(
        """() => {
            const viewer = daskZoom.viewer, image = viewer.world.getItemAt(1), size = image.getContentSize();
            viewer.viewport.panTo(image.imageToViewportCoordinates(size.x - 8, size.y - 6), true);
            const centre = image.imageToViewerElementCoordinates(new OpenSeadragon.Point(size.x - 0.5, size.y - 0.5));
            return [centre.x / viewer.element.clientWidth, centre.y / viewer.element.clientHeight];
        }"""
    )
    settle(frame)
    assert under(frame, 1, *corner)["column"] == 383 and under(frame, 1, *corner)["row"] == 302
    assert_one_pixel_as_a_square(page, server, component, frame, 1, *corner)
    # and they are two pictures: the input's tile is not the output's
    assert not np.array_equal(tile_pixels(server, before, 0, 0), tile_pixels(server, after, 0, 0))

    # Another direction of the filter: a new output, shown where the old one was looked at.
    looked_at = frame.evaluate("() => daskZoom.viewer.viewport.getBounds().toString()")
    page.locator('[data-testid="stSidebar"] .st-key-step1-mode').get_by_text("y: change along each column").click()
    page.wait_for_url(lambda url: "mode%3Dy" in url or "mode=y" in url)
    wait_until_done(page, SOBEL)
    frame.wait_for_function("(path) => daskZoom.sources[1].path !== path", arg=after["path"])
    settle(frame)
    assert sources(frame)[0] == before
    assert frame.evaluate("() => daskZoom.viewer.viewport.getBounds().toString()") == looked_at
    assert pixel_side(frame) >= PIXEL_SIDE
    assert_one_pixel_as_a_square(page, server, component, frame, 1, 0.7, 0.5)  # the Sobel y now


@pytest.fixture
def held_server(tmp_path, monkeypatch):
    """A server of its own whose pyramids have one coarse level at 512 x 512 (256 pixels a
    side), the full resolution cut only once the file it returns exists."""
    go = tmp_path / "go"
    monkeypatch.setenv("PYRAMID_COARSE_SIDE", "256")
    monkeypatch.setenv("PYRAMID_HOLD_FINE_LEVELS", str(go))
    (tmp_path / "cache").mkdir()
    running = Server(tmp_path / "cache" / "tiles")
    yield running, go
    running.stop()


def test_the_view_opens_on_coarse_tiles_before_full_resolution_is_cut_then_sharpens(held_server, page, requests):
    server, go = held_server
    requests.allow(server.url)
    answers = []
    page.on("response", lambda response: answers.append((response.url, response.status)))
    component, frame = open_zoom(page, f"{server.url}/Stitched?sample=astronaut&rows=2&cols=2", STITCHED, loaded=False)
    before, after = sources(frame)
    assert [s["pyramid"]["ready_level"] for s in (before, after)] == [8, 8]
    assert [s["pyramid"]["max_level"] for s in (before, after)] == [9, 9]
    # The view is open and says the full resolution is coming; it has asked for full-resolution
    # tiles and was told they are not there, and draws the coarse ones.
    frame.locator(".zoom-progress").filter(has_text=re.compile(r"Full resolution being prepared: \d+ %")).wait_for()
    def missing(source):
        return any(f"/{source['path']}/9/" in url and status == 404 for url, status in answers)

    def coarse(source):
        return any(f"/{source['path']}/8/0_0.png" in url and status == 200 for url, status in answers)

    frame.wait_for_function("() => daskZoom.viewer.world.getItemAt(1).getTilesToDraw().length > 0")
    assert all(missing(source) and coarse(source) for source in (before, after))
    assert not frame.evaluate("() => [0, 1].some((i) => daskZoom.viewer.world.getItemAt(i).getFullyLoaded())")
    # the photo's pixels, left of the swipe: drawn from the coarse tiles, not the frame's background
    x, y = frame.evaluate(
        """() => {
            const point = daskZoom.viewer.world.getItemAt(0).imageToViewerElementCoordinates(
                new OpenSeadragon.Point(128, 256));
            return [point.x, point.y];
        }"""
    )
    box = component.bounding_box()
    assert np.abs(screen(page)[round(box["y"] + y), round(box["x"] + x)].astype(int) - [14, 17, 23]).max() > 8

    go.touch()  # the fine levels are cut now: the view fetches them again, and says no more
    frame.locator(".zoom-progress").wait_for(state="detached")
    settle(frame)
    # every tile that was not there yet was asked for again, and came
    waited = {url for url, status in answers if status == 404 and "/pyramids/" in url}
    assert waited and waited <= {url for url, status in answers if status == 200}
    zoom_in_with_the_wheel(page, component, frame, 0.55, 0.4)
    assert all(full_resolution_requests(requests, frame))
    assert_one_pixel_as_a_square(page, server, component, frame, 0, 0.45, 0.4)
    assert_one_pixel_as_a_square(page, server, component, frame, 1, 0.65, 0.4)
