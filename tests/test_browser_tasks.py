"""The task graphs and the replay in Chromium: zoom, hover, a tile's tasks and a task's tile,
the time slider and play, at 8 x 8 and 16 x 16 tiles; nothing fetched from elsewhere
(the ``page`` fixture checks every request)."""

import re
import time

import pytest
from browser import needs_chromium, screenshot, task_view, wait_until_done

from core.observe.task_graph import task_graph_of
from core.pipeline.build import build_pipeline
from core.pipeline.samples import load_sample
from core.pipeline.stage_table import parse_chain
from core.pipeline.tiling import partition

pytestmark = needs_chromium

TASKS = "Every task, and the run replayed"
DEFAULT_CHAIN = ["sobel:mode=x", "clip:lo=0,hi=1"]
#: Seconds the browser may take to lay out the whole 16 x 16 pipeline (1,716 tasks): it took
#: 1-3 s on the 2-core machine these tests were written on, while other work ran.
LAYOUT_BOUND = 30


@pytest.fixture(scope="module")
def graph_of(tmp_path_factory):
    """``graph_of(rows, cols, sample)``: the task graph the app draws for the sample and the
    default chain. Its keys differ from the server's (the tile files' paths are in their
    tokens); its order, stages and pixels are the same."""
    def make(rows: int, cols: int, sample: str = "astronaut"):
        tiles = partition(load_sample(sample), rows, cols, tmp_path_factory.mktemp(f"{sample}{rows}x{cols}"))
        return task_graph_of(build_pipeline(tiles, parse_chain(DEFAULT_CHAIN)))

    return make


def open_tasks(server, page, rows: int, cols: int, sample: str = "astronaut"):
    page.goto(f"{server.url}/Tasks?sample={sample}&rows={rows}&cols={cols}")
    wait_until_done(page, TASKS)
    return task_view(page)


def layout_seconds(view) -> float:
    """How long the view took from asking for the layout to drawing it, as it measured."""
    return int(view.locator(".tv-graph").get_attribute("data-layout-ms")) / 1000


def until(condition, timeout: float = 10.0):
    """Wait for ``condition()`` to hold (the view updates on animation frames)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def tasks_marked(view, selector: str) -> set[int]:
    return set(view.locator(f"g.node{selector}").evaluate_all("nodes => nodes.map(n => Number(n.dataset.task))"))


def span(region) -> str:
    top, bottom, left, right = region
    return f"rows {top}:{bottom}, columns {left}:{right}"


def slide(view, permille: int) -> None:
    view.locator(".tv-slider").fill(str(permille))


def replay_time(view) -> float:
    return float(view.locator(".tv-replay").get_attribute("data-time"))


def test_the_graph_zooms_under_the_wheel_and_a_hover_names_a_task_its_pixels_and_its_run(server, page, graph_of):
    graph = graph_of(8, 8)
    view = open_tasks(server, page, 8, 8)
    print(f"8 x 8: {len(graph.nodes)} tasks laid out in {layout_seconds(view):.2f} s")
    assert layout_seconds(view) < LAYOUT_BOUND
    assert view.locator("svg g.node[data-task]").count() == len(graph.nodes)  # one box per task, 564

    panel = view.locator(".tv-graph")
    fitted = float(panel.get_attribute("data-zoom"))
    panel.hover()
    page.mouse.wheel(0, -500)
    until(lambda: float(panel.get_attribute("data-zoom")) > fitted)
    page.mouse.wheel(0, 500)
    page.mouse.wheel(0, 500)
    until(lambda: float(panel.get_attribute("data-zoom")) < fitted)
    view.get_by_role("button", name="Fit").click()
    assert float(panel.get_attribute("data-zoom")) == 1  # svg-pan-zoom's scale: 1 is the whole graph

    index = next(i for i, node in enumerate(graph.nodes) if node.name == "sobel" and node.reads)
    node = graph.nodes[index]
    view.locator(f"#t{index}").hover()
    tip = view.locator(".tv-tip")
    tip.wait_for()
    text = tip.inner_text()
    assert text.splitlines()[0] == node.label  # what it does and where, never its key
    assert node.label.startswith("Sobel edges, chunk (") and "sobel-" not in text
    assert "Stage: sobel" in text
    assert f"Computes {span(node.region)} of the image" in text
    assert f"Reads {span(node.reads)} (a border of up to 1 pixel from its neighbours)" in text
    assert re.search(r"Ran [\d.]+ (ms|s), from [\d.]+ (ms|s), on (worker \d+ · )?thread \d+", text), text


def test_a_tile_lights_up_exactly_its_tasks_and_a_task_outlines_its_tiles_and_borrowed_border(server, page, graph_of):
    # The 303 x 384 coins in 8 x 8 tiles: tiles too small for the cluster, so the recorded
    # run is on threads whenever the test runs (see the replay's test).
    graph = graph_of(8, 8, "coins")
    view = open_tasks(server, page, 8, 8, "coins")
    view.locator("rect.tv-tile[data-tile='3,5']").click()
    assert tasks_marked(view, ".tv-hit") == set(graph.tasks_of_tile(3, 5))
    assert view.locator("svg.tv-svg.tv-focus").count() == 1  # the others dimmed
    assert "Tile (3, 5): its" in view.locator(".tv-side .tv-caption").inner_text()
    view.locator("rect.tv-tile[data-tile='3,5']").click()  # again: nothing highlighted
    assert tasks_marked(view, ".tv-hit") == set()

    # A Sobel chunk inside the image: tiles this small are merged for the filter, so its
    # pixels lie on several tiles.
    index = next(i for i, node in enumerate(graph.nodes) if node.name == "sobel" and node.reads and node.region[0] > 0)
    node = graph.nodes[index]
    view.get_by_role("button", name="Fit").click()  # the whole graph: the first view shows its top
    view.locator(f"#t{index}").click()
    assert index in tasks_marked(view, ".tv-chosen")
    top, bottom, left, right = node.region
    covered = {
        f"{r},{c}"
        for r in range(8) for c in range(8)
        if graph.row_edges[r] < bottom and graph.row_edges[r + 1] > top
        and graph.col_edges[c] < right and graph.col_edges[c + 1] > left
    }
    outlined = set(view.locator("rect.tv-tile.tv-owner").evaluate_all("tiles => tiles.map(t => t.dataset.tile)"))
    assert outlined == covered and len(covered) > 1
    for name, region in (("tv-region", node.region), ("tv-reads", node.reads)):
        box = view.locator(f"rect.{name}")
        top, bottom, left, right = region
        drawn = [float(box.get_attribute(a)) for a in ("x", "y", "width", "height")]
        assert drawn == [left, top, right - left, bottom - top]
    assert node.reads != node.region and view.locator("path.tv-border").count() == 1  # the borrowed frame, shaded
    assert view.locator("svg.tv-tiles").get_attribute("data-zoomed") == "true"  # a pixel wide: zoomed in to see it
    page.mouse.move(0, 0)  # the tooltip would hide the picture
    screenshot(page, "tasks-border.png", height=1100)
    view.locator("rect.tv-tile[data-tile='1,1']").click()
    screenshot(page, "tasks.png", height=1100)


def test_the_replay_goes_from_all_waiting_to_all_done_and_plays(server, page, graph_of):
    # 16 x 16 tiles of 32 pixels run on threads even with a cluster (see the Cluster page):
    # on a cluster, a run reuses the stitched image the other pages left there.
    graph = graph_of(16, 16)
    view = open_tasks(server, page, 16, 16)
    every = set(range(len(graph.nodes)))
    tiles = view.locator("rect.tv-tile")
    tile_states = lambda: set(tiles.evaluate_all("tiles => tiles.map(t => t.dataset.state)"))  # noqa: E731
    assert tasks_marked(view, "[data-state='done']") == every  # it opens on the run's end

    slide(view, 0)
    assert replay_time(view) == 0
    assert tasks_marked(view, "[data-state='waiting']") == every
    assert tile_states() == {"waiting"}

    slide(view, 500)
    done, waiting = tasks_marked(view, "[data-state='done']"), tasks_marked(view, "[data-state='waiting']")
    assert done and waiting and not done & waiting
    wall = float(view.locator(".tv-replay").get_attribute("data-wall"))
    assert replay_time(view) == pytest.approx(wall / 2, rel=0.01)
    screenshot(page, "tasks-replay.png", height=1300)

    slide(view, 1000)
    assert tasks_marked(view, "[data-state='done']") == every
    assert tile_states() == {"done"}

    view.get_by_role("button", name="▶ Play").click()  # from the end: starts again at 0
    until(lambda: 0 < replay_time(view) < wall)
    first = replay_time(view)
    until(lambda: replay_time(view) > first)
    view.get_by_role("button", name="❚❚ Pause").click()
    paused = replay_time(view)
    time.sleep(0.3)
    assert replay_time(view) == paused < wall


def test_the_whole_16_by_16_pipeline_lays_out_in_the_browser_with_its_overview(server, page, graph_of):
    graph = graph_of(16, 16)
    view = open_tasks(server, page, 16, 16)
    seconds = layout_seconds(view)
    print(f"16 x 16: {len(graph.nodes)} tasks laid out in {seconds:.2f} s")
    assert seconds < LAYOUT_BOUND
    assert view.locator("svg g.node[data-task]").count() == len(graph.nodes) == 1716
    view.get_by_role("button", name="Overview").click()
    view.locator('.tv-graph[data-mode="overview"][data-ready="true"]').wait_for()
    boxes = view.locator("svg g.node").count()
    assert 0 < boxes < 20  # one per kind of operation
    view.get_by_role("button", name="Every task").click()
    view.locator('.tv-graph[data-mode="tasks"][data-ready="true"]').wait_for()
    assert view.locator("svg g.node[data-task]").count() == len(graph.nodes)


def test_span_lights_up_a_chain_of_dependent_tasks_from_a_tile_file_to_the_result(server, page, graph_of):
    graph = graph_of(2, 2)
    view = open_tasks(server, page, 2, 2)
    view.get_by_role("button", name="Span").click()
    assert view.locator(".tv").get_attribute("data-selected") == "span"
    chain = tasks_marked(view, ".tv-hit")
    lit_edges = view.locator("g.edge.tv-hit").count()
    assert len(chain) >= 4 and lit_edges == len(chain) - 1  # one edge from each task to the next
    stages = {graph.nodes[index].stage for index in chain}
    assert {"read", "clip"} <= stages
    view.get_by_role("button", name="Span").click()  # again: nothing highlighted
    assert tasks_marked(view, ".tv-hit") == set()
