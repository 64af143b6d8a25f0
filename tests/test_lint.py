"""The code passes ruff with the rules in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    run = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert "No module named ruff" not in run.stderr, "ruff is missing: pip install -r requirements-dev.txt"
    assert run.returncode == 0, run.stdout + run.stderr
