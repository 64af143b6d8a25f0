"""A dashboard server of its own, for a benchmark or a browser test: ``streamlit run app.py``
on 127.0.0.1, started once it answers its health check, and stopped."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["free_port", "start", "stop"]

#: How long a server may take to answer its health check.
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(folder: Path, port: int, env: dict, options=(), output=subprocess.DEVNULL) -> subprocess.Popen:
    """``streamlit run app.py`` in ``folder`` on 127.0.0.1:``port``, with ``env`` and extra
    command-line ``options``, its output (stdout and stderr) to ``output``. Returns once it
    answers; raises ``RuntimeError`` (and stops it) if it does not in ``START_SECONDS``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", *options],
        cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"streamlit did not start in {START_SECONDS} s")


def stop(process: subprocess.Popen, seconds: float = 20) -> None:
    """Ask the server to stop; kill it if it has not within ``seconds`` (one stuck closing
    its cluster, say)."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
