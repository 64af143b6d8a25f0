import graphviz
import pytest

from core.observe.overview import layer_graph, task_count
from core.pipeline.build import build_pipeline
from core.pipeline.stage_table import parse_chain
from core.pipeline.tiling import partition


def node_lines(digraph: graphviz.Digraph) -> list[str]:
    return [line for line in digraph.body if "label=" in line]


@pytest.fixture
def pipeline_for(tmp_path, photo):
    def make(rows, cols, mode="x"):
        chain = parse_chain([f"sobel:mode={mode}", "clip:lo=0,hi=1"])
        return build_pipeline(partition(photo, rows, cols, tmp_path / f"t{rows}x{cols}"), chain)
    return make


@pytest.mark.parametrize("grid", [(4, 4), (16, 16)])
def test_the_overview_draws_one_box_per_kind_of_layer_with_its_task_count(pipeline_for, grid):
    pipeline = pipeline_for(*grid, mode="magnitude")
    total = task_count(pipeline.result)
    nodes = node_lines(layer_graph(pipeline.result.__dask_graph__()))
    assert len(nodes) <= 15
    counts = [int(line.split("\n")[1].split(" task")[0].replace(",", "")) for line in nodes]
    assert sum(counts) == total
    labels = " ".join(nodes)
    assert f"{grid[0] * grid[1]} tasks in {grid[0] * grid[1]} layers" in labels  # one read per tile
    for step in ("map_read_frame", "grayscale", "overlap", "sobel", "hypot", "clip"):
        assert step in labels


def test_a_list_of_arrays_is_one_graph(pipeline_for):
    pipeline = pipeline_for(2, 3)
    tiles = [tile for row in pipeline.tile_arrays for tile in row]
    assert task_count(tiles) == sum(task_count(t) for t in tiles)


def test_tasks_held_by_several_layers_count_once(tmp_path, photo):
    # Delayed calls (Otsu's histograms, the labels) hold copies of the tasks before them.
    chain = parse_chain(["gaussian:sigma=1", "threshold", "label"])
    result = build_pipeline(partition(photo, 3, 3, tmp_path / "tiles"), chain).result
    unique = len(dict(result.__dask_graph__()))
    assert task_count(result) == unique
    layers = [int(line.split("\n")[1].split(" task")[0].replace(",", "")) for line in node_lines(layer_graph(result.__dask_graph__()))]
    assert sum(layers) == unique and min(layers) > 0  # each task in its own layer's box
