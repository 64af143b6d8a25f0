"""The CPU an idle dashboard server uses with nobody connected, per scheduler.

For each scheduler it starts ``streamlit run app.py`` on a free port, lets one visitor open
Home in headless Chromium (which starts the local cluster) and leave, then reads the server
process's CPU time (every thread, the cluster's included) over two windows: ``--window``
seconds just after the visit, while the local cluster is still up, and ``--repeat``
windows of ``--seconds`` each once it has been idle for longer than ``--cluster-idle``
(``$DASHBOARD_CLUSTER_IDLE_SECONDS``, 300 s on a real server, shortened here) and closed,
with their median: the machine's other work moves a single window. Each figure is the
percentage of one core.

    python -m benchmarks.idle                      # local cluster and threads
    python -m benchmarks.idle --scheduler local --seconds 30 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks import streamlit_server

REPO = Path(__file__).resolve().parents[1]


def _start_server(scheduler: str, cache: Path, cluster_idle: float) -> tuple[subprocess.Popen, str]:
    port = streamlit_server.free_port()
    env = {**os.environ, "DASHBOARD_SCHEDULER": scheduler, "TILE_CACHE_DIR": str(cache),
           "DASHBOARD_CLUSTER_IDLE_SECONDS": str(cluster_idle)}
    return streamlit_server.start(REPO, port, env), f"http://127.0.0.1:{port}"


def _visit(url: str) -> None:
    """One visitor opens Home, waits for it to finish drawing, and closes the tab."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.set_default_timeout(120_000)
        page.goto(url)
        page.get_by_role("heading", name="Dask, tile by tile").first.wait_for()
        page.wait_for_function(
            """() => document.querySelector('[data-testid="stApp"]')
                   ?.getAttribute('data-test-script-state') === 'notRunning'"""
        )
        browser.close()


def _cpu_percent(process: psutil.Process, seconds: float) -> float:
    """Percent of one core ``process`` used over the next ``seconds``."""
    def used() -> float:
        times = process.cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    before, start = used(), time.monotonic()
    time.sleep(seconds)
    return 100 * (used() - before) / (time.monotonic() - start)


def idle_cpu(scheduler: str, *, window: float, seconds: float, cluster_idle: float,
             repeat: int = 1) -> tuple[float, list[float]]:
    """Percent of a core just after a visit, and over ``repeat`` windows once the cluster had
    time to close."""
    with tempfile.TemporaryDirectory() as cache:
        server, url = _start_server(scheduler, Path(cache), cluster_idle)
        try:
            _visit(url)
            left = time.monotonic()
            process = psutil.Process(server.pid)
            time.sleep(3)  # the tab's websocket closing
            just_after = _cpu_percent(process, window)
            # The idle check runs every quarter of the idle time: give it two more.
            time.sleep(max(0.0, cluster_idle * 1.5 - (time.monotonic() - left)))
            return just_after, [_cpu_percent(process, seconds) for _ in range(repeat)]
        finally:
            streamlit_server.stop(server, seconds=30)  # a server may be slow closing its cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scheduler", action="append", choices=["local", "threads"],
                        help="repeatable; both unless given")
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured just after the visit")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds measured once the cluster closed")
    parser.add_argument("--repeat", type=int, default=3, help="windows of --seconds measured once the cluster closed")
    parser.add_argument("--cluster-idle", type=float, default=30.0,
                        help="the server's DASHBOARD_CLUSTER_IDLE_SECONDS for this run")
    args = parser.parse_args()
    print(f"percent of one core, nobody connected; cluster closed after {args.cluster_idle:g} s idle")
    for scheduler in args.scheduler or ["local", "threads"]:
        just_after, closed = idle_cpu(scheduler, window=args.window, seconds=args.seconds,
                                      cluster_idle=args.cluster_idle, repeat=args.repeat)
        windows = " ".join(f"{percent:.2f}" for percent in closed)
        print(f"{scheduler:8s} just after the visit ({args.window:g} s): {just_after:5.2f} %   "
              f"after the idle time ({args.seconds:g} s each): median {statistics.median(closed):5.2f} %"
              f" of {windows}", flush=True)


if __name__ == "__main__":
    main()
