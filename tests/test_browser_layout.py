"""The page stays in place while a change reruns it, in Chromium: its scroll position, its
pictures' boxes and its title, frame after frame, with the run's progress in a floating box."""

from browser import needs_chromium, task_view, wait_until_done
from browser_app import chain_in, widget

pytestmark = needs_chromium

CLIP = "5 · Clip"
#: Records, every animation frame until ``window.stopLayoutLog()``, where the page's
#: pictures and title are, how far the page is scrolled and what the run's box shows.
LAYOUT_LOG = """
() => {
  window.layoutLog = [];
  let going = true;
  window.stopLayoutLog = () => { going = false; };
  const main = document.querySelector('[data-testid="stMain"]');
  const box = document.querySelector('.st-key-run_status');
  const record = () => {
    window.layoutLog.push({
      scroll: main.scrollTop,
      title: main.querySelector('h1').getBoundingClientRect().top,
      pictures: [...main.querySelectorAll('[data-testid="stImage"] img')].map(
        picture => [picture.getBoundingClientRect().top, picture.getBoundingClientRect().height]),
      box: box && getComputedStyle(box).visibility === 'visible' ? box.innerText : null,
    });
    if (going) requestAnimationFrame(record);
  };
  record();
}
"""


def test_a_change_keeps_the_scroll_position_and_every_picture_in_place(server, page):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{server.url}/Stage?step=2&sample=chelsea&rows=3&cols=3")
    wait_until_done(page, CLIP)
    graph = page.locator('iframe[title="ui.dask_view.dask_view"]').first
    task_view(page)
    graph.scroll_into_view_if_needed()  # down to the task graph, as a visitor reading it would be
    page.evaluate(LAYOUT_LOG)
    widget(page, "step1.mode").get_by_text("magnitude: both combined").click()
    page.wait_for_url(lambda url: chain_in(url)[0] == "sobel:mode=magnitude")
    wait_until_done(page, CLIP)
    page.evaluate("window.stopLayoutLog()")
    log = page.evaluate("window.layoutLog")

    first = log[0]
    assert first["scroll"] > 1000 and len(first["pictures"]) >= 2
    for frame in log:
        assert abs(frame["scroll"] - first["scroll"]) <= 3, frame
        assert abs(frame["title"] - first["title"]) <= 3, frame
        assert len(frame["pictures"]) == len(first["pictures"]), frame
        for (top, height), (first_top, first_height) in zip(frame["pictures"], first["pictures"]):
            assert abs(top - first_top) <= 3 and abs(height - first_height) <= 3, frame
    # The run's progress and Cancel button float over the page in a box shown only while
    # it holds something.
    assert all(frame["box"] is None or frame["box"].strip() for frame in log)
    assert log[-1]["box"] is None


def test_a_caption_wider_than_its_picture_wraps_rather_than_stretching_it(server, page):
    # The labels' caption is wider than the 384-pixel picture: it stretched the picture
    # to 425 pixels, interpolated, until the page's style sheet made captions wrap.
    page.set_viewport_size({"width": 1440, "height": 1300})
    page.goto(f"{server.url}/Stage?step=2&sample=coins&rows=3&cols=3&chain=threshold:method=otsu;label:connectivity=2")
    wait_until_done(page, "5 · Labels")
    sizes = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img')]
        .map(picture => [picture.naturalWidth, picture.getBoundingClientRect().width])""")
    assert len(sizes) >= 2 and all(natural > 0 and shown <= natural + 0.5 for natural, shown in sizes), sizes
