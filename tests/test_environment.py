"""``core.runtime.environment``: what a cluster's nodes need, and one line for each fault."""

import ast
import sys
from importlib.metadata import packages_distributions, version
from pathlib import Path

import pytest

from core.errors import PipelineError
from core.runtime.environment import EQUAL, NEEDED, check_environment, environment_faults

REPO = Path(__file__).resolve().parents[1]
#: Imported by core only where the work runs in this process, never in a task on a node,
#: and never when a node imports core: libvips decodes a stream on threads here, nbformat
#: writes the notebook here.
CLIENT_ONLY = {"pyvips", "nbformat"}


def imported_packages() -> set[str]:
    """The third-party distributions whose modules core imports, anywhere in its code."""
    modules = set()
    for path in (REPO / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:
                modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - {"core"} - CLIENT_ONLY
    owners = packages_distributions()
    return {owners[module][0].lower() for module in third_party}


def test_the_nodes_need_every_package_core_imports():
    assert imported_packages() <= {name.lower() for name in NEEDED}


def test_every_needed_package_is_installed_here():
    assert all(version(package) for package in NEEDED)


def versions(**nodes) -> dict:
    """An answer of ``Client.get_versions`` with this machine's packages, as changed by
    ``nodes``: ``scheduler={...}`` and ``workers={address: {...}}``."""
    mine = {"python": "3.11.7.final.0", **{package: version(package) for package in NEEDED}}
    changed = lambda change: {"packages": {**mine, **change}}  # noqa: E731
    return {
        "client": {"packages": mine},
        "scheduler": changed(nodes.get("scheduler", {})),
        "workers": {address: changed(change) for address, change in nodes.get("workers", {}).items()},
    }


def test_one_sentence_per_fault_naming_the_node_package_and_versions():
    assert environment_faults(versions(workers={"tcp://a:1": {}, "tcp://b:2": {}})) == []
    faults = environment_faults(versions(
        scheduler={"numpy": "2.0.0"},
        workers={"tcp://a:1": {"dask-image": None}, "tcp://b:2": {"python": "3.12.1.final.0", "zarr": None}},
    ))
    assert faults == [
        f"the scheduler has numpy 2.0.0, this machine {version('numpy')}",
        f"worker tcp://a:1 lacks dask-image (this machine has {version('dask-image')})",
        f"worker tcp://b:2 lacks zarr (this machine has {version('zarr')})",
        "worker tcp://b:2 has python 3.12, this machine 3.11",
    ]


def test_a_patch_release_of_python_is_no_fault():
    assert environment_faults(versions(workers={"tcp://a:1": {"python": "3.11.9.final.0"}})) == []


@pytest.mark.parametrize("package", EQUAL[1:])
def test_another_version_of_what_pickles_the_graph_is_a_fault(package):
    assert environment_faults(versions(workers={"tcp://a:1": {package: "0.1"}})) == [
        f"worker tcp://a:1 has {package} 0.1, this machine {version(package)}"
    ]


class Answers:
    def __init__(self, answer):
        self.answer, self.asked = answer, []

    def get_versions(self, packages):
        self.asked.append(packages)
        return self.answer


def test_the_first_fault_is_one_line_that_counts_the_others():
    client = Answers(versions(workers={"tcp://a:1": {"scipy": None, "pims": None}}))
    with pytest.raises(PipelineError) as raised:
        check_environment(client)
    assert client.asked == [list(NEEDED)]
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(
        f"the cluster cannot run the pipeline: worker tcp://a:1 lacks scipy (this machine has {version('scipy')}) "
        "(and 1 more)"
    )
    check_environment(Answers(versions(workers={"tcp://a:1": {}})))  # all well: nothing raised
