"""Every environment variable the dashboard reads is in ``ui.services.config``'s table, read
through it alone, and listed in the README's configuration table."""

import ast
import re
from pathlib import Path

import pytest

from ui.services import config

REPO = Path(__file__).resolve().parents[1]


def readme_table() -> dict[str, str]:
    """The README's configuration table: variable -> default, as written."""
    text = (REPO / "README.md").read_text()
    header = text.index("| Variable | Default | Meaning |")
    rows = {}
    for line in text[header:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        name, default, _ = (cell.strip() for cell in line.strip("|").split("|", 2))
        rows[name.strip("`")] = default.strip("`")
    return rows


def test_the_readme_lists_every_setting_with_its_default():
    expected = {s.name: s.default or "(unset)" for s in config.SETTINGS.values() if not s.for_tests}
    assert readme_table() == expected


def environment_reads(path: Path) -> list[str]:
    """Where a module reads the environment: ``os.environ`` or ``os.getenv``."""
    tree = ast.parse(path.read_text())
    return [
        f"{path.name}:{node.lineno}" for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
        and isinstance(node.value, ast.Name) and node.value.id == "os"
    ]


def test_only_the_config_module_reads_the_environment():
    modules = [*REPO.glob("ui/**/*.py"), *REPO.glob("pages/*.py"), REPO / "app.py", *REPO.glob("core/**/*.py")]
    reads = [read for path in modules if path.name != "config.py" for read in environment_reads(path)]
    assert reads == []
    assert environment_reads(REPO / "ui/services/config.py")  # the check sees a read


def test_a_setting_is_read_when_asked_for_and_unset_means_its_default(monkeypatch, tmp_path):
    monkeypatch.delenv("TILE_CACHE_MAX_BYTES", raising=False)
    assert config.get("TILE_CACHE_MAX_BYTES") == 4 * 2**30
    monkeypatch.setenv("TILE_CACHE_MAX_BYTES", "1000")
    assert config.get("TILE_CACHE_MAX_BYTES") == 1000
    monkeypatch.setenv("TILE_CACHE_DIR", str(tmp_path))
    assert config.get("TILE_CACHE_DIR") == tmp_path
    monkeypatch.setenv("TILE_CACHE_DIR", "")
    assert config.get("TILE_CACHE_DIR").name == "dask-tiles-cache"


def test_every_variable_named_in_the_code_is_in_the_table():
    named = set()
    for path in [*REPO.glob("ui/**/*.py"), *REPO.glob("pages/*.py"), REPO / "app.py"]:
        named |= set(re.findall(r"config\.get\(\"([A-Z_]+)\"\)", path.read_text()))
    assert named and named <= set(config.SETTINGS)


@pytest.mark.parametrize("name", [s.name for s in config.SETTINGS.values() if s.default])
def test_every_default_parses(name, monkeypatch):
    monkeypatch.delenv(name, raising=False)
    assert config.get(name) is not None
