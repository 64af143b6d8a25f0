"""The exported notebook and script: run by a real Jupyter kernel outside the repository, they
give the command line's result, for the default chain, for smooth -> threshold -> label, and
for every stage of the table."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from helpers import assert_same_partition
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell
from PIL import Image
from skimage import data

from core.cli import main
from core.outputs import write
from core.outputs.notebook import notebook_text, pipeline_cells, script_text, step_code, step_variables
from core.pipeline import STAGES, ResultKind, build_pipeline, load_image, parse_chain, partition, sample_file

#: Filters within this of the command line's values, as the issue asks.
ATOL = 1e-5
#: The first cell the tests add: the project is not importable where the notebook runs.
NO_PROJECT = 'import importlib.util\nassert importlib.util.find_spec("core") is None, "the project is on the path"'


def execute(notebook: Path, folder: Path, after: str = "") -> nbformat.NotebookNode:
    """Run ``notebook`` in a fresh kernel whose working folder is ``folder``, without
    PYTHONPATH, the project's code checked absent first and ``after`` run last."""
    cells = nbformat.read(notebook, as_version=4)
    cells.cells = [new_code_cell(NO_PROJECT), *cells.cells, *([new_code_cell(after)] if after else [])]
    folder.mkdir(parents=True, exist_ok=True)
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    NotebookClient(cells, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(folder)}}).execute(
        env=env
    )
    return cells


def assert_equal_results(got: np.ndarray, expected: np.ndarray, kind: ResultKind, what: str = "") -> None:
    assert got.shape == expected.shape, what
    if kind is ResultKind.LABELS:
        assert_same_partition(got, expected)
    elif kind is ResultKind.MASK:
        np.testing.assert_array_equal(got, expected, err_msg=what)
    else:
        np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL, err_msg=what)


@pytest.fixture
def photo_file(tmp_path, photo) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    return path


@pytest.fixture
def coins_file(tmp_path) -> Path:
    """Gray coins that a 3 x 4 grid cuts through."""
    path = tmp_path / "coins.png"
    Image.fromarray(data.coins()[180:260, 120:260]).save(path)
    return path


def test_the_default_chains_notebook_gives_the_command_lines_result(tmp_path, photo_file):
    out = tmp_path / "out"
    assert main([str(photo_file), "--grid", "3x2", "--out", str(out), "--no-progress"]) == 0
    assert {"pipeline.ipynb", "pipeline.py"} <= set(os.listdir(out))
    elsewhere = tmp_path / "elsewhere"
    notebook = execute(out / "pipeline.ipynb", elsewhere)
    result = np.load(elsewhere / "result.npy")
    assert result.dtype == np.float32
    assert_equal_results(result, np.load(out / "result.npy"), ResultKind.VALUES)
    assert sorted(p.name for p in (elsewhere / "tiles").iterdir()) == sorted(p.name for p in (out / "tiles").glob("*.tif"))
    if shutil.which("dot"):
        assert {"graph-stitched.svg", "graph-sobel.svg", "graph-clip.svg"} <= set(os.listdir(elsewhere))
        assert any("image/svg+xml" in output.get("data", {}) for cell in notebook.cells for output in cell.get("outputs", []))


def test_smooth_threshold_label_gives_the_command_lines_regions(tmp_path, coins_file):
    out = tmp_path / "out"
    chain = ["--stage", "gaussian:sigma=2", "--stage", "threshold:method=otsu", "--stage", "label:connectivity=2"]
    assert main([str(coins_file), *chain, "--grid", "3x4", "--out", str(out), "--no-progress"]) == 0
    elsewhere = tmp_path / "elsewhere"
    execute(out / "pipeline.ipynb", elsewhere)
    labels, expected = np.load(elsewhere / "result.npy"), np.load(out / "result.npy")
    assert expected.max() > 3  # several regions, some across tile borders (tests/test_cli.py)
    assert_equal_results(labels, expected, ResultKind.LABELS)


#: Every stage of the table at its defaults, in the table's order, then the other branches of
#: their code lines: a stage added to the table is run here without touching this file.
CHAINS = {
    "every stage": [name for name in STAGES],
    "other modes": ["sobel:mode=magnitude", "prewitt:mode=y", "threshold:value=0.3", "label:connectivity=2",
                    "sobel:mode=y", "prewitt:mode=magnitude", "clip:lo=-0.5,hi=2"],
}


@pytest.mark.parametrize("name", list(CHAINS))
def test_every_step_of_the_notebook_equals_the_pipelines(tmp_path, photo_file, name):
    """Each step's variable in the kernel equals the pipeline's array for it, and the result
    the file ``write`` stores: one kernel for a whole chain."""
    pipeline = build_pipeline(partition(load_image(photo_file), 3, 2, tmp_path / "tiles"), parse_chain(CHAINS[name]))
    out = tmp_path / "out"
    out.mkdir()
    assert "pipeline.ipynb" in write(pipeline, out, source=photo_file)
    variables = step_variables(pipeline.chain)
    elsewhere = tmp_path / "elsewhere"
    execute(out / "pipeline.ipynb", elsewhere, f'numpy.savez("steps.npz", {", ".join(f"{v}={v}.compute()" for v in variables)})')
    steps = np.load(elsewhere / "steps.npz")
    for step, variable, array in zip(pipeline.chain, variables, pipeline.steps):
        assert_equal_results(steps[variable], array.compute(), STAGES[step.stage].kind, variable)
    kind = STAGES[pipeline.chain[-1].stage].kind
    assert_equal_results(np.load(elsewhere / "result.npy"), np.load(out / "result.npy"), kind)


def test_the_script_runs_outside_the_repository_and_gives_the_same_result(tmp_path, photo_file):
    pipeline = build_pipeline(partition(load_image(photo_file), 2, 2, tmp_path / "tiles"),
                              parse_chain(["uniform:size=5", "laplace"]))
    script = tmp_path / "pipeline.py"
    script.write_text(script_text(pipeline_cells(pipeline, photo_file)))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    done = subprocess.run([sys.executable, str(script)], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert_equal_results(np.load(elsewhere / "result.npy"), pipeline.result.compute(), ResultKind.VALUES)


def test_the_code_imports_nothing_of_the_project_and_names_the_image_by_its_full_path(tmp_path, photo_file, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pipeline = build_pipeline(partition(load_image(photo_file), 2, 2, tmp_path / "tiles"), parse_chain(["gaussian"]))
    cells = pipeline_cells(pipeline, Path("photo.png"))
    code = "\n".join(cell.text for cell in cells if cell.kind == "code")
    assert "core" not in {line.split()[1].split(".")[0] for line in code.splitlines() if line.startswith(("import", "from"))}
    assert f'IMAGE = "{photo_file}"' in code
    assert [cell.kind for cell in cells].count("markdown") >= 4 + len(pipeline.chain)  # a note before each step
    nbformat.validate(nbformat.reads(notebook_text(cells), as_version=4))


def test_each_steps_code_line_is_its_stage_entrys_call_on_the_step_before():
    pipeline = build_pipeline_lazy(["gaussian:sigma=2", "threshold", "gaussian:sigma=1", "label"])
    assert [step_code(pipeline, i) for i in range(4)] == [
        "gaussian = dask_image.ndfilters.gaussian_filter(stitched, sigma=2.0, truncate=4.0)",
        "threshold = (gaussian > skimage.filters.threshold_otsu(gaussian.compute())).astype(numpy.uint8)",
        # a uint8 mask is made float32 first, as the pipeline's filters make it
        "gaussian_2 = dask_image.ndfilters.gaussian_filter(threshold.astype(numpy.float32), sigma=1.0, truncate=4.0)",
        "label = dask_image.ndmeasure.label(gaussian_2, scipy.ndimage.generate_binary_structure(2, 1))[0]",
    ]


def build_pipeline_lazy(chain):
    """A pipeline on tiles that are never read: its code lines need only its arrays' types."""
    import dask.array as da

    from core.pipeline import Pipeline

    stitched = da.zeros((40, 30), dtype=np.float32, chunks=20)
    return Pipeline([[stitched]], [[stitched]], stitched, (), ()).with_chain(parse_chain(chain))


@pytest.mark.parametrize("sample", ["astronaut", "logo", "camera", "rocket"])
def test_a_samples_file_decodes_to_the_sample(sample):
    from core.pipeline import load_sample

    np.testing.assert_array_equal(load_image(sample_file(sample)), load_sample(sample))


def _rotated_jpeg(path, pixels):
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned a quarter clockwise
    Image.fromarray(pixels).save(path, exif=exif, quality=95)


#: Files of each kind load_image tells apart, by how they are written.
KINDS = {
    "rgb.png": lambda p, px: Image.fromarray(px).save(p),
    "gray.png": lambda p, px: Image.fromarray(px[..., 0]).save(p),
    "gray16.png": lambda p, px: Image.fromarray(px[..., 0].astype(np.uint16) * 257).save(p),
    "rgba.png": lambda p, px: Image.fromarray(np.dstack([px, px[..., 1]])).save(p),
    "gray-alpha.png": lambda p, px: Image.fromarray(np.dstack([px[..., 0], px[..., 2]])).save(p),
    "palette.png": lambda p, px: Image.fromarray(px).convert("P", palette=Image.Palette.ADAPTIVE).save(p),
    "gray-palette.png": lambda p, px: Image.fromarray(px[..., 0]).convert("P").save(p),
    "bilevel.png": lambda p, px: Image.fromarray(px[..., 0] > 128).save(p),
    "rotated.jpg": lambda p, px: _rotated_jpeg(p, px),
    "rgb.tif": lambda p, px: __import__("tifffile").imwrite(p, px, photometric="rgb"),
    "rgba16.tif": lambda p, px: __import__("tifffile").imwrite(
        p, np.dstack([px, px[..., :1]]).astype(np.uint16) * 257, photometric="rgb", extrasamples=["unassalpha"]),
}


@pytest.mark.parametrize("name", list(KINDS))
def test_the_notebooks_loading_code_decodes_as_the_pipeline_does(tmp_path, photo, name):
    import PIL.ImageOps
    import tifffile

    from core.pipeline.loading import loading_code

    path = tmp_path / name
    KINDS[name](path, photo)
    scope = {"IMAGE": str(path), "numpy": np, "PIL": sys.modules["PIL"], "tifffile": tifffile}
    assert PIL.ImageOps  # PIL.ImageOps and PIL.Image are attributes of PIL once imported
    exec(loading_code(path), scope)
    expected = load_image(path)
    assert scope["image"].dtype == expected.dtype
    np.testing.assert_array_equal(scope["image"], expected)
