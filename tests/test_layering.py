"""The core package stays free of Streamlit, so scripts and workers can use it alone."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_core_never_imports_streamlit():
    modules = [p.stem for p in (REPO / "core").glob("*.py") if p.stem not in ("__main__",)]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('core.' + name if name != '__init__' else 'core')\n"
        "print('streamlit' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"
