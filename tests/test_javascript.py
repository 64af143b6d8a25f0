"""The browser component's JavaScript under Node's own test runner: the modules without a
DOM (the words, the replay's states, the geometry, the graph's data, the pixel zoom's
numbers) and how the modules import one another (``ui/components/dask_view/tests``)."""

import shutil
import subprocess
from pathlib import Path

COMPONENT = Path(__file__).resolve().parents[1] / "ui" / "components" / "dask_view"


def test_the_components_javascript_passes_its_node_tests():
    node = shutil.which("node")
    assert node is not None, "node is not on the PATH: Node.js 20 or later runs the component's JavaScript tests"
    tests = sorted(str(path.relative_to(COMPONENT)) for path in (COMPONENT / "tests").glob("*.test.mjs"))
    assert tests, f"no *.test.mjs in {COMPONENT / 'tests'}"
    run = subprocess.run(
        [node, "--test", *tests], cwd=COMPONENT, capture_output=True, text=True, timeout=120,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"node --test failed ({run.returncode}):\n{output}"
    assert "# fail 0" in output, output
