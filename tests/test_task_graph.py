"""The task graph, one node per task, each placed on the pixels its output holds."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import dask.local
import numpy as np
import pytest
from dask._task_spec import convert_legacy_graph
from dask_image.ndfilters._gaussian import _get_border

from core.observe.overview import task_count
from core.observe.task_graph import TaskGraph, stage_slug, task_graph_of
from core.pipeline.build import build_pipeline
from core.pipeline.stage_table import parse_chain
from core.pipeline.tiling import partition

VIZ = Path(__file__).resolve().parents[1] / "ui/components/dask_view/vendor/viz-global.js"


@pytest.fixture
def pipeline_for(tmp_path, photo):
    def make(rows, cols, chain=("sobel:mode=x", "clip:lo=0,hi=1")):
        return build_pipeline(partition(photo, rows, cols, tmp_path / f"t{rows}x{cols}"), parse_chain(chain))
    return make


def expanded(region, by, shape):
    top, bottom, left, right = region
    return max(top - by[0], 0), min(bottom + by[0], shape[0]), max(left - by[1], 0), min(right + by[1], shape[1])


def filter_task(graph: TaskGraph, name: str, tile: tuple[int, int]):
    (node,) = [n for n in graph.nodes if n.name == name and n.tile == tile]
    return node


@pytest.mark.parametrize("grid", [(1, 1), (2, 3), (3, 3)])
@pytest.mark.parametrize("chain", [("sobel:mode=x", "clip:lo=0,hi=1"), ("gaussian:sigma=1", "threshold", "label")])
def test_one_node_per_task_in_an_order_that_runs(pipeline_for, grid, chain):
    pipeline = pipeline_for(*grid, chain)
    graph = task_graph_of(pipeline)
    assert len(graph.nodes) == task_count(pipeline.result)
    assert len({n.key for n in graph.nodes}) == len(graph.nodes)
    assert {str(k) for k in dict(pipeline.result.__dask_graph__())} == {n.key for n in graph.nodes}
    assert all(dependency < dependent for dependency, dependent in graph.edges)
    stitching = set() if grid == (1, 1) else {"stitch"}  # one tile is the stitched image as it is
    assert {n.stage for n in graph.nodes} == set(pipeline.stages()) - {"stitch"} | stitching


def test_a_filter_task_reads_one_pixel_more_on_each_inner_side(pipeline_for):
    graph = task_graph_of(pipeline_for(3, 3))
    shape = graph.image_shape
    centre, corner = filter_task(graph, "sobel", (1, 1)), filter_task(graph, "sobel", (0, 0))
    assert centre.region == (graph.row_edges[1], graph.row_edges[2], graph.col_edges[1], graph.col_edges[2])
    assert centre.reads == expanded(centre.region, (1, 1), shape)
    top, bottom, left, right = centre.reads
    assert top > 0 and left > 0 and bottom < shape[0] and right < shape[1]  # all four sides borrowed
    assert corner.region == (0, graph.row_edges[1], 0, graph.col_edges[1])
    assert corner.reads == (0, graph.row_edges[1] + 1, 0, graph.col_edges[1] + 1)  # only its two inner sides


def test_a_gaussian_borrows_dask_images_depth(pipeline_for):
    pipeline = pipeline_for(3, 3, ("gaussian:sigma=2",))
    graph = task_graph_of(pipeline)
    depth = _get_border(pipeline.stitched, 2.0, 4.0)
    assert depth == (8, 8)
    for tile in [(0, 0), (1, 1), (2, 1)]:
        node = filter_task(graph, "gaussian_filter", tile)
        assert node.reads == expanded(node.region, depth, graph.image_shape)


def test_every_stage_has_tasks_on_every_tile(pipeline_for):
    pipeline = pipeline_for(3, 3)
    graph = task_graph_of(pipeline)
    for r in range(3):
        for c in range(3):
            tile_region = (graph.row_edges[r], graph.row_edges[r + 1], graph.col_edges[c], graph.col_edges[c + 1])
            on_tile = [graph.nodes[i] for i in graph.tasks_of_tile(r, c)]
            assert {n.stage for n in on_tile} == set(pipeline.stages())
            for node in on_tile:
                if node.stage in ("read", "grayscale", "stitch") and node.region is not None:
                    assert node.region == tile_region


@pytest.mark.parametrize("chain", [("prewitt:mode=y", "clip:lo=0,hi=1"), ("median:size=5", "threshold", "label")])
def test_every_task_holds_the_pixels_of_its_region(pipeline_for, photo, chain):
    """Run every task and look at its output: it is the piece of the image named by its
    region (of the stage's input or output), or, for a filter, the piece it reads."""
    pipeline = pipeline_for(2, 3, chain)
    graph = task_graph_of(pipeline)
    specs = convert_legacy_graph(dict(pipeline.result.__dask_graph__()))
    keys = list(specs)
    outputs = dict(zip(map(str, keys), dask.local.get_sync(specs, keys)))
    stitched = pipeline.stitched.compute()
    stage_images = {"read": [photo], "grayscale": [stitched], "stitch": [stitched]}
    previous = stitched
    for name, (array,) in list(pipeline.stages().items())[3:]:
        stage_images[name] = [previous, previous.astype(np.float32), array.compute()]
        previous = stage_images[name][-1]
    placed = 0
    for node in graph.nodes:
        if node.region is None:
            continue
        top, bottom, left, right = node.region
        assert 0 <= top < bottom <= graph.image_shape[0] and 0 <= left < right <= graph.image_shape[1]
        if node.reads is not None:
            assert node.reads != node.region
            assert node.reads[0] <= top and bottom <= node.reads[1] and node.reads[2] <= left and right <= node.reads[3]
        output = np.asarray(outputs[node.key])
        output = output[0] if output.ndim == 4 else output  # a read frame: (1, h, w, 3)
        holds = node.region if output.shape[:2] == (bottom - top, right - left) else node.reads
        assert holds is not None, node
        rows, cols = slice(holds[0], holds[1]), slice(holds[2], holds[3])
        assert output.shape[:2] == (holds[1] - holds[0], holds[3] - holds[2])
        if node.reads is None or holds == node.region:
            assert any(np.allclose(output, image[rows, cols]) for image in stage_images[node.stage]), node
        placed += 1
    assert placed > len(graph.nodes) / 2


def test_tasks_of_merged_chunks_lie_on_several_tiles(pipeline_for, monkeypatch):
    import core.pipeline.chunks

    monkeypatch.setattr(core.pipeline.chunks, "MIN_FILTER_CHUNK", 30)  # 8 tiles of 8 rows: 2 per chunk
    graph = task_graph_of(pipeline_for(8, 4))
    filters = [n for n in graph.nodes if n.name == "sobel"]
    assert len(filters) == 4 * 4
    assert all(n.tile is None and n.region is not None for n in filters)
    assert all((n.region[1] - n.region[0]) > graph.row_edges[1] for n in filters)


def test_the_dot_source_has_one_node_per_task_named_by_index(pipeline_for):
    graph = task_graph_of(pipeline_for(2, 2, ("gaussian:sigma=1", "sobel:mode=y")))
    source = graph.dot()
    declared = re.findall(r'^\t(t\d+) \[label="[^"]+" id=(t\d+) tooltip="([^"]+)" class="stage-([a-z0-9-]+)"\]$', source, re.M)
    assert [name for name, *_ in declared] == [f"t{i}" for i in range(len(graph.nodes))]
    assert all(name == node_id for name, node_id, *_ in declared)
    assert [tooltip for _, _, tooltip, _ in declared] == [n.key for n in graph.nodes]
    assert {css for *_, css in declared} == {"read", "grayscale", "stitch", "gaussian", "sobel"}
    assert len(re.findall(r"^\tt\d+ -> t\d+$", source, re.M)) == len(graph.edges)
    assert "tasks" in graph.overview_dot()  # the collapsed view counts them


def test_stage_slugs_are_class_names():
    assert stage_slug("gaussian 2") == "gaussian-2"
    assert stage_slug("read") == "read"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the vendored viz.js")
def test_viz_js_lays_out_the_dot_with_an_svg_group_per_task(pipeline_for, tmp_path):
    graph = task_graph_of(pipeline_for(2, 2))
    (tmp_path / "graph.dot").write_text(graph.dot())
    script = (
        f"const Viz = require({json.dumps(str(VIZ))});"
        "Viz.instance().then(viz => {"
        f"  const r = viz.render(require('fs').readFileSync({json.dumps(str(tmp_path / 'graph.dot'))}, 'utf8'), {{format: 'svg'}});"
        "  console.log(JSON.stringify({status: r.status, ids: (r.output.match(/<g id=\"t\\d+\" class=\"node stage(-|&#45;)/g) || []).length}));"
        "});"
    )
    result = json.loads(subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=60).stdout)
    assert result == {"status": "success", "ids": len(graph.nodes)}


def test_the_graph_of_some_stages_only(pipeline_for):
    pipeline = pipeline_for(2, 3)
    tiles = [tile for row in pipeline.tile_arrays for tile in row]
    stitched = task_graph_of(pipeline, pipeline.stitched)
    assert len(stitched.nodes) == task_count(pipeline.stitched) < task_count(pipeline.result)
    assert {n.stage for n in stitched.nodes} == {"read", "grayscale", "stitch"}
    reads = task_graph_of(pipeline, tiles)
    assert len(reads.nodes) == task_count(tiles) and {n.stage for n in reads.nodes} == {"read"}
    assert {n.tile for n in reads.nodes} == {(r, c) for r in range(2) for c in range(3)}


def test_dasks_chunk_reductions_are_known_by_name_with_or_without_nan():
    from core.observe.placement import _reduces

    def chunk_function(name):
        def function():
            return None

        function.__module__, function.__name__ = "dask.array.chunk", name
        return function

    # "any" and "argmax" once lost their leading letters to lstrip("nan").
    assert all(_reduces(chunk_function(name)) for name in ("any", "all", "argmax", "argmin", "nanmax", "sum"))
    assert not _reduces(chunk_function("getitem"))


def test_dasks_private_convert_legacy_graph_still_reads_a_legacy_graph():
    # core.observe uses dask._task_spec.convert_legacy_graph, which dask does not make
    # public: this fails first if a dask release changes it.
    from dask.task_spec import DataNode, Task

    specs = convert_legacy_graph({"a": 1, "b": (sum, ["a", 2]), "c": (len, "b")})
    assert isinstance(specs["a"], DataNode) and isinstance(specs["b"], Task)
    assert specs["b"].dependencies == {"a"} and specs["c"].dependencies == {"b"}
