"""The task view's arguments (what tasks.js draws) and the Tasks page under AppTest."""

import json

import pytest
from apptest import assert_clean, go, open_app

import ui.services.runs
from core.observe.overview import task_count
from core.observe.replay import RecordedRun, TaskRun, record_run
from core.observe.task_graph import stage_slug, task_graph_of
from core.pipeline.build import build_pipeline
from core.pipeline.samples import load_sample
from core.pipeline.stage_table import parse_chain
from core.pipeline.tiling import partition
from ui.plots import stage_colour
from ui.services.pages import TASKS
from ui.task_view import task_view_args, thread_labels

TASKS_PAGE = TASKS.file
DEFAULT_CHAIN = parse_chain(["sobel:mode=x", "clip:lo=0,hi=1"])
#: Each test a new server with its own caches, as the app's tests.
pytestmark = pytest.mark.usefixtures("fresh_server")


@pytest.fixture
def pipeline_for(tmp_path):
    """``pipeline_for(rows, cols, chain)``: the astronaut sample's pipeline in that grid."""
    def make(rows, cols, chain=DEFAULT_CHAIN):
        return build_pipeline(partition(load_sample("astronaut"), rows, cols, tmp_path / f"{rows}x{cols}"), chain)

    return make


def view_args(at) -> list[dict]:
    return [
        args for args in (json.loads(element.proto.json_args) for element in at.get("component_instance"))
        if args.get("view") == "tasks"
    ]


def test_the_args_describe_every_task_in_the_graphs_order(pipeline_for):
    graph = task_graph_of(pipeline_for(3, 4, parse_chain(["gaussian:sigma=1", "sobel:mode=x", "gaussian:sigma=2"])))
    args = task_view_args(graph, picture=b"\x89PNG")
    stages = args["stages"]
    assert [stages[i][0] for i in args["nodes"]["stage"]] == [node.stage for node in graph.nodes]
    assert [name for name, _, _ in stages] == list(dict.fromkeys(node.stage for node in graph.nodes))
    assert {"gaussian", "gaussian 2"} <= {name for name, _, _ in stages}  # two steps of one kind, two stages
    for name, colour, css_class in stages:
        assert colour == stage_colour(name) and css_class == f"stage-{stage_slug(name)}"
        assert f'class="{css_class}"' in args["dot"]  # the class the overview and the tasks carry
    for field in ("region", "reads", "tile"):
        assert args["nodes"][field] == [list(getattr(n, field)) if getattr(n, field) else None for n in graph.nodes]
    assert args["dot"] == graph.dot() and args["overview"] == graph.overview_dot()
    assert args["image"]["shape"] == [512, 512]
    assert args["image"]["row_edges"] == list(graph.row_edges) and len(graph.row_edges) == 4
    assert args["image"]["picture"] == "data:image/png;base64,iVBORw=="
    assert args["run"] is None
    assert task_view_args(graph)["image"] is None  # no picture, no tile picture


def test_a_recorded_run_gives_every_task_its_thread_and_times(pipeline_for):
    pipeline = pipeline_for(4, 4)
    graph = task_graph_of(pipeline)
    run = record_run(pipeline)
    replay = task_view_args(graph, run=run)["run"]
    assert replay["wall"] == pytest.approx(run.wall, abs=1e-6)
    assert replay["where"] == "threads in the server"
    assert len(replay["task"]) == len(graph.nodes) and None not in replay["task"]  # the keys match
    by_key = {task.key: task for task in run.tasks}
    for node, (thread, start, stop) in zip(graph.nodes, replay["task"]):
        task = by_key[node.key]
        assert replay["threads"][thread] == thread_labels(run)[task.worker, task.thread]
        assert (start, stop) == pytest.approx((task.start, task.stop), abs=1e-6)


def test_a_task_missing_from_the_run_has_no_times(pipeline_for):
    graph = task_graph_of(pipeline_for(1, 1))
    first = graph.nodes[0]
    run = RecordedRun((TaskRun(first.key, "this process", 7, 0.0, 0.5),), 0.5, "threads")
    assert task_view_args(graph, run=run)["run"]["task"] == [[0, 0.0, 0.5]] + [None] * (len(graph.nodes) - 1)


def test_threads_are_numbered_in_the_order_they_started_per_worker():
    run = RecordedRun(
        (
            TaskRun("a", "tcp://10.0.0.2:1", 140001, 0.0, 0.1),
            TaskRun("b", "tcp://10.0.0.1:1", 140009, 0.0, 0.1),
            TaskRun("c", "tcp://10.0.0.1:1", 140003, 0.05, 0.2),
            TaskRun("d", "tcp://10.0.0.2:1", 140001, 0.1, 0.2),
        ),
        0.2, "tcp://10.0.0.9:8786",
    )
    assert thread_labels(run) == {
        ("tcp://10.0.0.1:1", 140009): "worker 1 · thread 1",
        ("tcp://10.0.0.1:1", 140003): "worker 1 · thread 2",
        ("tcp://10.0.0.2:1", 140001): "worker 2 · thread 1",
    }
    one_worker = RecordedRun(run.tasks[1:3], 0.2, "threads")
    assert list(thread_labels(one_worker).values()) == ["thread 1", "thread 2"]


def test_the_whole_16_by_16_pipeline_travels_in_a_few_hundred_bytes_a_task(pipeline_for):
    pipeline = pipeline_for(16, 16)
    graph = task_graph_of(pipeline)
    size = len(json.dumps(task_view_args(graph, run=record_run(pipeline))))
    assert len(graph.nodes) == task_count(pipeline.result) > 1500
    assert size < 400 * len(graph.nodes), size


# -- the app ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rows, cols", [(1, 1), (2, 3), (8, 8), (16, 16)])
def test_the_tasks_page_draws_every_task_and_a_run_of_them_all(rows, cols):
    at = open_app(TASKS_PAGE, {"rows": str(rows), "cols": str(cols)})
    assert_clean(at, TASKS_PAGE)
    [args] = view_args(at)
    tasks = len(args["nodes"]["stage"])
    assert args["dot"].count(" [label=") == tasks and args["mode"] == "tasks"
    assert len(args["image"]["row_edges"]) == rows + 1 and len(args["image"]["col_edges"]) == cols + 1
    assert args["image"]["picture"].startswith("data:image/png;base64,")
    assert None not in args["run"]["task"] and args["run"]["wall"] > 0
    assert at.metric[0].value == f"{tasks:,}"


def test_the_run_is_recorded_once_for_every_visitor(monkeypatch):
    recorded = []

    def counted(*args, **kwargs):
        recorded.append(args)
        return record_run(*args, **kwargs)

    monkeypatch.setattr(ui.services.runs, "record_run", counted)
    first = view_args(open_app(TASKS_PAGE))[0]["run"]
    second = view_args(open_app(TASKS_PAGE))[0]["run"]  # a new session
    assert len(recorded) == 1 and first == second
    open_app(TASKS_PAGE, {"rows": "3"})
    assert len(recorded) == 2  # another grid, another run


def test_each_stage_page_draws_its_own_tasks_at_16_by_16():
    at = open_app("pages/3_Stitched.py", {"rows": "16", "cols": "16"})
    [args] = view_args(at)
    stages = {args["stages"][i][0] for i in args["nodes"]["stage"]}
    assert stages == {"read", "grayscale", "stitch"}  # up to this page's stage, every task
    assert len(args["nodes"]["stage"]) == 1536 and args["mode"] == "tasks"
    assert args["run"] is None and args["image"] is None


def test_on_a_cluster_the_tasks_page_replays_every_task(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "local")
    at = open_app("pages/5_Cluster.py", {"rows": "2", "cols": "2"})  # waits for the cluster to be up
    go(at, TASKS_PAGE)
    assert_clean(at, TASKS_PAGE)
    [args] = view_args(at)
    assert args["run"]["where"] == "the Dask cluster's workers"
    assert None not in args["run"]["task"]
