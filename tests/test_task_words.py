"""The task graph's words: each box says what its task does and where, never Dask's token."""

import re

import pytest

from core.observe.overview import layer_graph
from core.observe.task_graph import task_graph_of
from core.observe.task_words import overview_words, stage_title, task_words
from core.observe.timing import stage_of_layer
from core.pipeline.build import build_pipeline
from core.pipeline.stage_table import STAGES, parse_chain
from core.pipeline.tiling import partition

#: A token as Dask writes it into a key, or any part of one.
TOKEN = re.compile(r"[0-9a-f]{8,}")
#: Every stage in a chain or two, so that each of their tasks is named.
CHAINS = [
    ("sobel:mode=magnitude", "clip:lo=0,hi=1"),
    ("gaussian:sigma=1", "threshold", "label"),
    ("median:size=3", "uniform:size=3", "prewitt:mode=y", "laplace", "threshold:method=value,value=0.1"),
]


@pytest.fixture
def graph_for(tmp_path, photo):
    def make(chain, rows=2, cols=3):
        pipeline = build_pipeline(partition(photo, rows, cols, tmp_path / f"{rows}x{cols}"), parse_chain(chain))
        return task_graph_of(pipeline), pipeline
    return make


def labels_of(source: str) -> list[str]:
    """Each node's label, quoted by Graphviz or not."""
    return [quoted or bare for quoted, bare in re.findall(r'\[label=(?:"([^"]*)"|([^ \]"]+))', source)]


@pytest.mark.parametrize("chain", CHAINS)
def test_no_box_shows_a_key_or_a_token(graph_for, chain):
    graph, _ = graph_for(chain)
    labels = labels_of(graph.dot())
    assert labels == [node.label_lines for node in graph.nodes]
    for label in labels + [node.label for node in graph.nodes] + labels_of(graph.overview_dot()):
        assert not TOKEN.search(label) and "('" not in label and "_" not in label, label


def test_a_tiles_tasks_say_what_they_do_to_which_tile(graph_for):
    graph, _ = graph_for(("sobel:mode=x", "clip:lo=0,hi=1"))
    labels = {(node.name, node.tile): node.label for node in graph.nodes}
    assert labels["map_read_frame", (1, 2)] == "read tile (1, 2)"
    assert labels["grayscale", (0, 1)] == "grayscale tile (0, 1)"
    assert labels["sobel", (1, 0)] == "Sobel edges, chunk (1, 0)"
    assert labels["clip", (0, 2)] == "Clip, chunk (0, 2)"
    assert labels["overlap", None].startswith("add border to chunk (")
    # In the graph, the place goes on a line of its own: boxes half as wide, words twice as large.
    sobel = next(node for node in graph.nodes if node.name == "sobel" and node.tile == (1, 0))
    assert sobel.label_lines == "Sobel edges\nchunk (1, 0)"


def test_a_border_piece_names_the_chunk_it_is_cut_from(graph_for):
    graph, _ = graph_for(("sobel:mode=x",))
    pieces = [(node, node.label) for node in graph.nodes
              if node.name == "getitem" and node.stage == "sobel" and node.block is None]
    assert pieces
    for node, label in pieces:
        row, col = (int(float(index)) for index in node.key.strip("()").split(", ")[1:])
        assert label == f"edge of chunk ({row}, {col})"


def test_words_come_from_the_name_the_stage_and_the_place():
    assert task_words("('gaussian_filter-0a1b2c3d4e5f6a7b', 3, 4)", "gaussian_filter", "gaussian 2", (3, 4), (3, 4)) == (
        "Gaussian smoothing 2, chunk (3, 4)"
    )
    assert task_words("_otsu_from_histogram-0a1b2c3d4e5f", "otsu_from_histogram", "threshold", None, None) == "Otsu's level"
    assert task_words("('getitem-0a1b2c3d', 1, 0.9)", "getitem", "sobel", None, (1, 0)) == "edge of chunk (1, 0)"
    assert task_words("('mystery_step-0a1b2c3d', 0, 1)", "mystery_step", "other", (0, 1), None) == "mystery step chunk (0, 1)"
    assert overview_words("map_read_frame", "read") == "read tiles"
    assert overview_words("otsu_from_histogram", "threshold") == "Otsu's level"  # no place of its own
    assert overview_words("uniform_filter", "uniform") == "Mean filter"
    assert [stage_title(name) for name in ("read", "label", "uniform 2")] == ["read", "Labels", "Mean filter 2"]
    assert {stage_title(name) for name in STAGES} == {stage.title for stage in STAGES.values()}


def test_the_overview_runs_top_to_bottom_with_each_box_in_its_stages_class(graph_for):
    graph, pipeline = graph_for(("gaussian:sigma=1", "threshold", "label"))
    overview = layer_graph(pipeline.result.__dask_graph__(), stage_of_layer(pipeline))
    assert overview.graph_attr["rankdir"] == "TB"
    classes = set(re.findall(r'class="stage-([a-z0-9-]+)"', overview.source))
    assert classes == {"read", "grayscale", "stitch", "gaussian", "threshold", "label"}
    assert graph.overview_dot() == overview.source
