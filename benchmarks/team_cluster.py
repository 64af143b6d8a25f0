"""A Dask cluster as a team starts one: ``dask scheduler`` and ``dask worker`` processes
started from a scratch folder with no ``PYTHONPATH``, so that none of them can import the
project, and with ``private``, each worker in a mount namespace of its own with private
tmpfs over its local directory and over the client's folder, as on separate machines.

Used by the tests (``tests/private_cluster.py``) and ``benchmarks/private_disks.py``.
Mounting needs root (CI runs as root); ``CAN_MOUNT`` says whether this machine allows it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from benchmarks.streamlit_server import free_port

CAN_MOUNT = os.geteuid() == 0 and shutil.which("unshare") is not None
#: The environment of every node: this one without PYTHONPATH.
NODE_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


class Cluster:
    """A scheduler and workers as separate processes; ``client_folder`` is where this
    process writes, which no private worker can see."""

    def __init__(self, scratch: Path, client_folder: Path):
        self.scratch, self.client_folder = scratch, client_folder
        self.log = (scratch / "cluster.log").open("w")
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.workers: list[subprocess.Popen] = []
        self.scheduler = self._start(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", self.address.rsplit(":", 1)[1], "--dashboard-address", "127.0.0.1:0"]
        )

    def _start(self, command: list[str]) -> subprocess.Popen:
        return subprocess.Popen(command, cwd=self.scratch, env=NODE_ENV, stdout=self.log, stderr=subprocess.STDOUT)

    def add_worker(self, *, python: str = sys.executable, private: bool = True, nanny: bool = False) -> subprocess.Popen:
        """Start a worker: with ``private``, in its own mount namespace where its local
        directory and the client's folder are empty tmpfs of its own."""
        local = self.scratch / f"worker-{len(self.workers)}"
        local.mkdir()
        worker = [python, "-m", "distributed.cli.dask_worker", self.address, "--nthreads", "1",
                  "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0", "--local-directory", str(local),
                  *([] if nanny else ["--no-nanny"])]
        if private:
            mounts = f"mount -t tmpfs tmpfs {local} && mount -t tmpfs tmpfs {self.client_folder}"
            worker = ["unshare", "--mount", "--propagation", "private", "sh", "-c", f'{mounts} && exec "$@"', "sh", *worker]
        self.workers.append(self._start(worker))
        return self.workers[-1]

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:  # a worker still trying to reach its scheduler
                kill_tree(process)
        self.log.close()


def kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL a process and every process it started (a nanny and its worker), children
    first so that none is left to restart another."""
    try:
        tree = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        tree = []
    for member in reversed(tree):
        member.send_signal(signal.SIGKILL)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=20)
    psutil.wait_procs(tree, timeout=20)
