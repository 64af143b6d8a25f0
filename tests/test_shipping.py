"""``core.runtime.shipping``: the package as a zip named by its content, and plugins that a
process without the project can unpickle and that replace an older version's modules."""

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from io import BytesIO
from pathlib import Path

from distributed.protocol.pickle import dumps

from core.runtime.shipping import PACKAGE, ShippedCodeOnScheduler, ShippedCodeOnWorkers, code_zip, package_files

REPO = Path(__file__).resolve().parents[1]


def copy_of_core(folder: Path) -> Path:
    shutil.copytree(REPO / PACKAGE, folder / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    return folder / PACKAGE


def test_the_zip_holds_every_module_and_is_named_by_their_content(tmp_path):
    code = code_zip()
    names = zipfile.ZipFile(BytesIO(code.data)).namelist()
    assert {"core/__init__.py", "core/runtime/shipping.py", "core/pipeline/build.py"} <= set(names)
    assert all(name.endswith(".py") and "__pycache__" not in name for name in names)
    copy = copy_of_core(tmp_path)
    assert code_zip(copy).data == code.data  # the same files make the same zip, wherever they are
    (copy / "pipeline" / "build.py").write_text((copy / "pipeline" / "build.py").read_text() + "\n# changed\n")
    assert code_zip(copy).version != code.version
    assert set(package_files(copy)) == set(names)


def test_a_process_without_the_project_unpickles_the_plugins_and_imports_each_new_version(tmp_path):
    # distributed pickles the plugins by value because their module is registered with
    # cloudpickle; if it stopped, this process, which cannot import core, could not load them.
    first = code_zip()
    changed = copy_of_core(tmp_path / "changed")
    with (changed / "pipeline" / "build.py").open("a") as build:
        build.write('\nSHIPPED_MARK = "second"\n')
    second = code_zip(changed)
    (tmp_path / "first.pickle").write_bytes(dumps(ShippedCodeOnWorkers(first)))
    (tmp_path / "second.pickle").write_bytes(dumps(ShippedCodeOnScheduler(second)))
    script = textwrap.dedent("""
        import asyncio, importlib.util, pickle, sys, types
        assert importlib.util.find_spec("core") is None, "the project is importable here"
        node = types.SimpleNamespace(local_directory=sys.argv[1], plugins={})
        pickle.loads(open("first.pickle", "rb").read()).setup(node)
        import core.pipeline.build
        print(core.pipeline.build.__file__, getattr(core.pipeline.build, "SHIPPED_MARK", None))
        asyncio.run(pickle.loads(open("second.pickle", "rb").read()).start(node))
        import core.pipeline.build
        print(core.pipeline.build.__file__, getattr(core.pipeline.build, "SHIPPED_MARK", None))
        print(sum("/core-" in entry for entry in sys.path))
    """)
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    node = tmp_path / "node"
    run = subprocess.run([sys.executable, "-c", script, str(node)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    before, after, zips = run.stdout.split("\n")[:3]
    assert before == f"{node}/shipped-code/core-{first.version}.zip/core/pipeline/build.py None"
    assert after == f"{node}/shipped-code/core-{second.version}.zip/core/pipeline/build.py second"
    assert zips == "1"  # the older version's zip is off the path
