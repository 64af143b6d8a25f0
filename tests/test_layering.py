"""The layers point one way: pages -> ui -> core, and inside core runtime <- pipeline <-
observe <- outputs <- the command line. ``core`` never imports Streamlit, so scripts and
workers can use it alone."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: What each package of core may import from core, besides ``core.errors``.
CORE_LAYERS = {
    "runtime": set(),
    "pipeline": {"runtime"},
    "observe": {"pipeline", "runtime"},
    "outputs": {"observe", "pipeline", "runtime"},
}


def core_modules() -> list[str]:
    return sorted(
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in (REPO / "core").rglob("*.py")
        if path.name != "__main__.py"
    )


def imported_core_packages(path: Path) -> set[str]:
    """The packages of core a module imports (``core.pipeline.chain`` -> ``pipeline``)."""
    package = ".".join(path.relative_to(REPO).parent.parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names = [".".join([*base, node.module or ""]).rstrip(".")]
            else:
                names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name.split(".")[1] for name in names if name.startswith("core.") and name.count(".") >= 1}
    return found - {"errors"}


def test_core_never_imports_streamlit():
    code = (
        "import importlib, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print('streamlit' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"


@pytest.mark.parametrize("package, allowed", CORE_LAYERS.items())
def test_each_package_of_core_imports_only_the_layers_below_it(package, allowed):
    for path in (REPO / "core" / package).glob("*.py"):
        assert imported_core_packages(path) - {package} <= allowed, path.name


def test_the_layer_check_sees_relative_and_absolute_imports(tmp_path):
    module = REPO / "core" / "outputs" / "formats.py"  # imports observe and pipeline, relatively
    assert {"observe", "pipeline"} <= imported_core_packages(module)


#: Streamlit's public API as this project uses it; anything else under ``streamlit.`` is
#: internal and may change without notice in a release.
PUBLIC_STREAMLIT = {"streamlit", "streamlit.components.v1", "streamlit.testing.v1"}


def streamlit_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("streamlit"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("streamlit")}
    return names


def app_modules() -> list[Path]:
    return [*REPO.glob("ui/**/*.py"), *REPO.glob("pages/*.py"), REPO / "app.py", *REPO.glob("benchmarks/*.py")]


def test_the_app_uses_only_streamlits_public_api():
    private = {f"{path.name}: {name}" for path in app_modules() for name in streamlit_imports(path) - PUBLIC_STREAMLIT}
    assert private == set()
    underscored = [
        f"{path.name}: {match}" for path in app_modules()
        for match in re.findall(r"\bst\.\w*\._\w+|streamlit\.\w+\._\w+", path.read_text())
    ]
    assert underscored == []


def test_the_check_sees_a_private_import(tmp_path):
    module = tmp_path / "private.py"
    module.write_text("from streamlit.runtime.scriptrunner import get_script_run_ctx\n")
    assert streamlit_imports(module) - PUBLIC_STREAMLIT == {"streamlit.runtime.scriptrunner"}


#: What services may use of Streamlit: its process-wide cache for shared objects.
SERVICE_STREAMLIT = {"cache_resource"}


def test_services_draw_nothing():
    for path in (REPO / "ui" / "services").glob("*.py"):
        used = set(re.findall(r"\bst\.(\w+)", path.read_text()))
        assert used <= SERVICE_STREAMLIT, path.name
