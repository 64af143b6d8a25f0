"""The pages on a local cluster and on a team's (workers with disks of their own): where Dask runs,
which worker read or holds which tile, and falling back to threads."""

import threading

import pytest
from apptest import CLIP_RANGE, STEP_PAGE, assert_clean, go, open_app
from dask.system import CPU_COUNT

import ui.services.cluster
import ui.services.runs

pytestmark = pytest.mark.usefixtures("fresh_server")


def test_the_cluster_page_shows_workers_and_which_tiles_they_read(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "local")
    at = open_app("pages/5_Cluster.py", {"rows": "3", "cols": "4"})
    assert_clean(at, "pages/5_Cluster.py")
    workers, tiles = (frame.value for frame in at.dataframe)
    assert len(workers) == CPU_COUNT and set(workers["threads"]) == {1}
    assert tiles.shape == (3, 4)
    assert set(tiles.to_numpy().ravel()) <= set(workers["worker"]) == {f"worker {i + 1}" for i in range(len(workers))}
    legend = [m.value for m in at.markdown if "■" in m.value]  # beside the framed tile picture
    assert legend and all(f"■ {name}" in legend[0] for name in workers["worker"])
    assert "Dask runs on: a local Dask cluster" in " ".join(c.value for c in at.sidebar.caption)
    links = [button.proto for button in at.get("link_button")]
    assert links and links[0].url.startswith("http://127.0.0.1:") and links[0].url.endswith("/status")
    # The task stream is the Tasks page's replay, which a browser elsewhere can show too.
    assert ("Tasks", "") in [(link.proto.page, link.proto.query_string) for link in at.main.get("page_link")]
    go(at, STEP_PAGE, 2)  # the other pages run on the cluster too
    assert_clean(at, STEP_PAGE, "5 · Clip")


def test_tiles_too_small_for_the_cluster_are_read_on_threads_and_the_page_says_why(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "local")
    at = open_app("pages/5_Cluster.py", {"rows": "16", "cols": "16"})  # 32 x 32 tiles
    assert_clean(at, "pages/5_Cluster.py")
    assert "Dask runs on: threads in the server, for tiles this small" in " ".join(c.value for c in at.sidebar.caption)
    assert any("(32 x 32 pixels) were read on threads" in info.value for info in at.info)
    assert not [m.value for m in at.markdown if "■" in m.value]  # no worker tints: no worker read them


@pytest.fixture
def cluster_starting(monkeypatch):
    """The local cluster configured, and still starting until the event returned is set."""
    starting = threading.Event()
    real_connect = ui.services.cluster.connect

    def slow_connect(choice, **kwargs):
        if choice == "local":
            starting.wait(60)
        return real_connect(choice, **kwargs)

    monkeypatch.setattr(ui.services.cluster, "connect", slow_connect)
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "local")
    yield starting
    starting.set()


def test_pages_run_on_threads_while_the_cluster_starts_and_on_it_once_it_is_up(cluster_starting):
    starting = cluster_starting
    try:
        at = open_app("app.py", {"rows": "3", "cols": "4"})
        assert_clean(at, "app.py")  # its pictures did not wait for the cluster
        assert "threads in the server while the cluster starts" in " ".join(c.value for c in at.sidebar.caption)
    finally:
        starting.set()
    at = open_app("pages/5_Cluster.py", {"rows": "3", "cols": "4"})  # waits for the cluster
    assert_clean(at, "pages/5_Cluster.py")
    legend = [m.value for m in at.markdown if "■" in m.value]
    assert legend and "■ worker 1" in legend[0]  # the tiles were read again, on the workers


def test_a_cluster_coming_up_reruns_nothing_run_on_threads_while_it_started(cluster_starting, counted_steps):
    starting = cluster_starting
    at = open_app("app.py", {"rows": "3", "cols": "4"})
    assert counted_steps == {"stitch": 1, "sobel": 1, "clip": 1}
    starting.set()
    assert ui.services.cluster.runner(wait=True).client is not None
    pictures = [image.proto.imgs[0].url for image in at.get("imgs")]
    at.run()  # the same page again, the cluster up
    assert_clean(at, "app.py")
    assert counted_steps == {"stitch": 1, "sobel": 1, "clip": 1}
    assert [image.proto.imgs[0].url for image in at.get("imgs")] == pictures
    assert "threads in the server (run while the cluster started, and kept)" in " ".join(c.value for c in at.sidebar.caption)
    at.slider(key=CLIP_RANGE).set_value((0.2, 0.6)).run()  # a change runs where its input is
    assert_clean(at, "app.py")
    assert counted_steps == {"stitch": 1, "sobel": 1, "clip": 2}
    go(at, "pages/5_Cluster.py")  # shows who read which tile: reads them on the cluster, on demand
    assert counted_steps == {"stitch": 2, "sobel": 1, "clip": 2}
    go(at, "app.py")  # and the pages go on reusing what they had
    assert_clean(at, "app.py")
    assert counted_steps == {"stitch": 2, "sobel": 1, "clip": 2}


def test_an_unreachable_cluster_falls_back_to_threads_and_says_so_once_per_page(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SCHEDULER", "tcp://127.0.0.1:9")
    for page in ("pages/5_Cluster.py", "app.py"):  # Home runs every stage, each asking for the runner
        at = open_app(page)
        assert not at.exception
        warnings = [w.value for w in at.sidebar.warning]
        assert len(warnings) == 1 and "cannot reach the Dask scheduler" in warnings[0], warnings
        assert "threads in the server" in " ".join(c.value for c in at.sidebar.caption)


def test_workers_with_disks_of_their_own_hold_the_tiles_and_the_page_says_which(private_cluster, monkeypatch):
    monkeypatch.setenv("DASHBOARD_SCHEDULER", private_cluster.address)
    monkeypatch.setenv("TILE_CACHE_DIR", str(private_cluster.client_folder / "app-cache"))  # no worker sees it
    at = open_app("pages/5_Cluster.py", {"rows": "3", "cols": "4"})
    assert_clean(at, "pages/5_Cluster.py")
    assert "Dask runs on: a Dask cluster at tcp://127.0.0.1:" in " ".join(c.value for c in at.sidebar.caption)
    assert any("cannot read this server's tile folder" in info.value for info in at.info)
    assert [h.value for h in at.main.subheader] == ["Which worker holds which tile"]
    workers, tiles = (frame.value for frame in at.dataframe)
    assert tiles.shape == (3, 4) and set(tiles.to_numpy().ravel()) <= set(workers["worker"])
    go(at, STEP_PAGE, 2)  # the steps run on the workers too, from the tiles they hold
    assert_clean(at, STEP_PAGE, "5 · Clip")
