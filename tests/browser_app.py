"""What the browser tests do on the app's pages: the sidebar's steps and links, the chain
in the address, the command line Home shows, downloads and progress bars."""

import urllib.parse
from pathlib import Path

from browser import wait_until_done
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from core.pipeline.stage_table import STAGES

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


def choose_stage(page, title: str) -> None:
    """Choose ``title`` in "Add a stage"."""
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


def add_stage(page, title: str) -> None:
    """Choose ``title`` in "Add a stage" and press Add."""
    choose_stage(page, title)
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
