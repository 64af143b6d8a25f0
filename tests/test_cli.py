import csv
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage as ndi
from helpers import assert_same_partition, png_header_claiming
from PIL import Image
from skimage.filters import threshold_otsu

from core.cli import build_parser, main, run
from core.observe.overview import task_count
from core.pipeline.build import build_pipeline
from core.pipeline.chain import Param, Stage
from core.pipeline.stage_table import STAGES, parse_chain
from core.pipeline.streamed import open_stream
from core.pipeline.tiling import split_edges

REPO = Path(__file__).resolve().parents[1]
#: What a run of a chain that does not end in labels writes, without --zarr.
PLAIN_OUTPUTS = ["graph-overview.dot", "graph.dot", "pipeline.ipynb", "pipeline.py", "result.npy", "result.png", "tiles"]
#: Within float32 rounding of SciPy's float64, as in test_build.
ATOL = 1e-4


@pytest.fixture
def photo_file(tmp_path, photo) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    return path


def run_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_the_issues_chain_equals_scipy_on_the_whole_image(tmp_path, photo, photo_file, grayscale):
    out = tmp_path / "out"
    done = run_command(
        str(photo_file), "--stage", "gaussian:sigma=2", "--stage", "sobel:mode=magnitude", "--stage", "clip:lo=0,hi=1",
        "--grid", "3x5", "--out", str(out),
    )
    assert done.returncode == 0, done.stderr
    smooth = ndi.gaussian_filter(grayscale(photo), 2)
    expected = np.clip(np.hypot(ndi.sobel(smooth, axis=0), ndi.sobel(smooth, axis=1)), 0, 1)
    result = np.load(out / "result.npy")
    assert result.dtype == np.float32 and result.shape == photo.shape[:2]
    np.testing.assert_allclose(result, expected, rtol=0, atol=ATOL)
    assert 0 < expected.max() < 1  # not all clipped away
    picture = np.asarray(Image.open(out / "result.png"))
    np.testing.assert_array_equal(picture, np.rint(result * 255))  # [lo, hi] is black..white
    assert sorted(os.listdir(out)) == PLAIN_OUTPUTS
    lines = done.stdout.splitlines()
    assert lines[0] == "chain: gaussian:sigma=2 -> sobel:mode=magnitude -> clip:lo=0,hi=1"
    steps = [line.split()[0] for line in lines if line.startswith("  ")]
    assert steps == ["read", "grayscale", "stitch", "gaussian", "sobel", "clip", "write"]


def test_a_chain_ending_in_a_threshold_writes_a_mask_of_0_and_1(tmp_path, photo, photo_file, grayscale):
    out = tmp_path / "out"
    assert main([str(photo_file), "--stage", "threshold:method=otsu", "--grid", "2x3", "--out", str(out)]) == 0
    gray = grayscale(photo)
    level = threshold_otsu(gray)
    assert np.abs(gray - level).min() > ATOL  # no pixel so close that float32 could tip it
    mask = np.load(out / "result.npy")
    assert mask.dtype == np.uint8
    np.testing.assert_array_equal(mask, gray > level)
    assert set(np.unique(mask)) == {0, 1}
    np.testing.assert_array_equal(np.asarray(Image.open(out / "result.png")), mask * 255)
    assert not (out / "regions.csv").exists()


@pytest.fixture
def coins_file(tmp_path) -> Path:
    """Coins that a 1 x 2 grid cuts through: regions that cross a tile border."""
    from skimage import data

    path = tmp_path / "coins.png"
    Image.fromarray(data.coins()[180:260, 120:260]).save(path)
    return path


def test_a_chain_ending_in_labels_writes_scipys_regions_and_their_table(tmp_path, coins_file, grayscale):
    out = tmp_path / "out"
    chain = ["--stage", "gaussian:sigma=2", "--stage", "threshold:method=otsu", "--stage", "label:connectivity=2"]
    assert main([str(coins_file), *chain, "--grid", "3x4", "--out", str(out), "--no-progress"]) == 0
    smooth = ndi.gaussian_filter(grayscale(np.asarray(Image.open(coins_file))), 2)
    level = threshold_otsu(smooth)
    assert np.abs(smooth - level).min() > ATOL  # no pixel so close that float32 could tip it
    expected, count = ndi.label(smooth > level, ndi.generate_binary_structure(2, 2))
    labels = np.load(out / "result.npy")
    assert np.issubdtype(labels.dtype, np.integer) and labels.shape == expected.shape
    border = split_edges(expected.shape[1], 2)[1]
    left, right = expected[:, border - 1], expected[:, border]
    assert count > 3 and set(left[left > 0]) & set(right[right > 0])  # regions across the tile border
    assert_same_partition(labels, expected)

    with open(out / "regions.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert {"label", "area"} <= set(rows[0])
    assert Counter(int(row["area"]) for row in rows) == Counter(np.bincount(expected.ravel())[1:].tolist())
    areas = np.bincount(labels.ravel())
    assert {int(row["label"]): int(row["area"]) for row in rows} == {
        label: int(areas[label]) for label in np.unique(labels[labels > 0])
    }
    picture = Image.open(out / "result.png")
    assert picture.mode == "RGB" and picture.size == (labels.shape[1], labels.shape[0])
    colours = np.asarray(picture)
    assert not colours[labels == 0].any() and colours[labels > 0].any(axis=1).all()  # background black
    for label in np.unique(labels[labels > 0]):
        assert len(np.unique(colours[labels == label], axis=0)) == 1  # one colour per region


def test_without_stages_sobel_and_clip_build_the_default_chain(tmp_path, photo, photo_file, reference, capsys):
    out = tmp_path / "out"
    status = main([str(photo_file), "--grid", "3x5", "--sobel", "magnitude", "--clip", "0", "2", "--out", str(out)])
    assert status == 0
    assert sorted(p.name for p in (out / "tiles").glob("*.tif"))[-1] == "tile_r002_c004.tif"
    result = np.load(out / "result.npy")
    assert result.dtype == np.float32 and result.shape == photo.shape[:2]
    np.testing.assert_allclose(result, reference(photo, "magnitude", 0, 2), rtol=0, atol=ATOL)
    np.testing.assert_array_equal(np.asarray(Image.open(out / "result.png")), np.rint(result / 2 * 255))
    # The run streamed the PNG (core/pipeline/streamed.py): its graph, one node per task.
    same_tiles = open_stream(photo_file, (3, 5), tmp_path / "same tiles", max_pixels=10**8)
    tasks = task_count(build_pipeline(same_tiles, parse_chain(["sobel:mode=magnitude", "clip:lo=0,hi=2"])).result)
    graph = (out / "graph.dot").read_text()
    assert graph.startswith("digraph") and len(re.findall(r"^\tt\d+ \[", graph, re.M)) == tasks  # one node per task
    overview = (out / "graph-overview.dot").read_text()
    assert sum(int(n.replace(",", "")) for n in re.findall(r"\n([\d,]+) tasks?", overview)) == tasks
    report = capsys.readouterr().out
    assert report.splitlines()[0] == "chain: sobel:mode=magnitude -> clip:lo=0,hi=2"
    for stage in ("partition", "read", "grayscale", "stitch", "sobel", "clip", "write results", "total",
                  "peak memory of this process"):
        assert stage in report


def test_the_report_attributes_tasks_to_every_stage(tmp_path, photo_file):
    args = build_parser().parse_args(
        [str(photo_file), "--grid", "3x5", "--stage", "gaussian", "--stage", "gaussian:sigma=2", "--stage", "laplace",
         "--out", str(tmp_path / "out")]
    )
    report = run(args)
    assert report.stages == ("read", "grayscale", "stitch", "gaussian", "gaussian 2", "laplace")
    assert report.stage_tasks["grayscale"] == 15  # one per tile: tasks were not fused away
    assert report.stage_tasks["read"] >= 15
    for stage in report.stages:
        assert report.stage_tasks[stage] > 0 and report.stage_seconds[stage] > 0, stage
        assert 0 < report.stage_wall[stage] <= report.wall["compute and write"], stage
    assert report.stage_tasks["other"] > 0  # storing, and compressing the PNG


def test_progress_goes_to_stderr_step_by_step_and_only_when_asked(tmp_path, photo_file, capsys):
    assert main([str(photo_file), "--out", str(tmp_path / "a"), "--progress"]) == 0
    shown = capsys.readouterr()
    assert "computing the blocks, storing them and compressing the PNG:" in shown.err
    assert "100% Completed" in shown.err.split("compressing the PNG:")[1]
    assert "%" not in shown.out  # the report alone on stdout
    assert main([str(photo_file), "--out", str(tmp_path / "b"), "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_defaults_are_2x2_clip_0_1_sobel_x(tmp_path, photo, photo_file, reference, capsys):
    assert main([str(photo_file), "--out", str(tmp_path / "out")]) == 0
    first, second = capsys.readouterr().out.splitlines()[:2]
    assert first == "chain: sobel:mode=x -> clip:lo=0,hi=1" and second.endswith("grid 2x2")
    assert len(list((tmp_path / "out" / "tiles").glob("*.tif"))) == 4
    np.testing.assert_allclose(np.load(tmp_path / "out" / "result.npy"), reference(photo, "x", 0, 1), rtol=0, atol=ATOL)


def test_sobel_alone_keeps_the_default_clip_and_clip_alone_the_default_sobel(tmp_path, photo, photo_file, reference):
    assert main([str(photo_file), "--sobel", "y", "--out", str(tmp_path / "a")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "a" / "result.npy"), reference(photo, "y", 0, 1), rtol=0, atol=ATOL)
    assert main([str(photo_file), "--clip", "-1", "0.5", "--out", str(tmp_path / "b")]) == 0
    clipped = reference(photo, "x", -1, 0.5)
    np.testing.assert_allclose(np.load(tmp_path / "b" / "result.npy"), clipped, rtol=0, atol=ATOL)


LABELS = ["--stage", "threshold:value=0.4", "--stage", "label"]


@pytest.mark.parametrize("stages, dtype_kind", [([], "f"), (LABELS, "i")])
def test_zarr_on_request_holds_the_result(tmp_path, photo_file, capsys, stages, dtype_kind):
    import zarr

    out = tmp_path / "out"
    assert main([str(photo_file), *stages, "--grid", "3x2", "--out", str(out), "--zarr"]) == 0
    assert "result.ome.zarr" in capsys.readouterr().out
    group = zarr.open_group(out / "result.ome.zarr", mode="r")
    datasets = group.attrs["ome"]["multiscales"][0]["datasets"]
    level_0 = group[datasets[0]["path"]][:]
    assert level_0.dtype.kind == dtype_kind  # labels stay whole numbers
    np.testing.assert_array_equal(level_0, np.load(out / "result.npy"))
    assert len(datasets) == 1  # a 67 x 53 picture needs no coarser level
    assert main([str(photo_file), "--out", str(tmp_path / "plain")]) == 0
    assert not (tmp_path / "plain" / "result.ome.zarr").exists()  # only when asked


def help_text(capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # as one line, whatever the wrapping


def test_help_explains_every_option(capsys):
    text = help_text(capsys)
    for option in ("--grid", "--stage", "--clip", "--sobel", "--out", "--zarr", "--max-pixels", "default: 2x2"):
        assert option in text
    assert "magnitude in [0, 4.47]" in text  # sqrt(4² + 2²), the largest reached
    assert "--stage gaussian:sigma=2 --stage sobel:mode=magnitude --stage clip:lo=0,hi=1" in text
    # --sobel in the stage table's words: x is the change along each row
    sobel_help = text.split("options:")[1].split("--sobel")[1].split("--clip")[0]
    for words in STAGES["sobel"].param("mode").labels.values():
        assert words in sobel_help


def test_help_lists_every_stage_of_the_table_with_its_parameters(capsys, monkeypatch):
    monkeypatch.setitem(STAGES, "sharpen", Stage(
        "sharpen", "Unsharp mask", "for this test", lambda image, amount: image,
        (Param("amount", float, 1.5, "how much of the detail to add back", low=0.0, high=9.0),),
    ))
    text = help_text(capsys)
    stage_list = text.split("stages (--stage")[1]
    assert "sharpen Unsharp mask" in stage_list
    assert "amount= how much of the detail to add back (a number in [0, 9], default 1.5)" in stage_list
    for stage in STAGES.values():
        assert f"{stage.name} {stage.title}" in stage_list
        for param in stage.params:
            assert f"{param.name}= {param.help} (" in stage_list
            assert f"default {param.text(param.default)})" in stage_list


def bad_file(tmp_path, name, data) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def bomb_png(tmp_path) -> str:
    return bad_file(tmp_path, "bomb.png", png_header_claiming(40_000, 40_000))


BAD_RUNS = {
    "empty file": (lambda t, f: [bad_file(t, "empty.png", b"")], "empty"),
    "text file": (lambda t, f: [bad_file(t, "notes.txt", b"hello\n")], "not an image"),
    "html file": (lambda t, f: [bad_file(t, "page.png", b"<html><body>x</body></html>")], "not an image"),
    "pdf file": (lambda t, f: [bad_file(t, "doc.pdf", b"%PDF-1.7\n%%EOF")], "not an image"),
    "zip file": (lambda t, f: [bad_file(t, "a.zip", b"PK\x05\x06" + bytes(18))], "not an image"),
    "random bytes": (lambda t, f: [bad_file(t, "noise.jpg", os.urandom(2048))], "not an image"),
    "truncated png": (lambda t, f: [bad_file(t, "cut.png", f.read_bytes()[:300])], "truncated"),
    "missing file": (lambda t, f: [str(t / "missing.png")], "cannot open"),
    "decompression bomb": (lambda t, f: [bomb_png(t)], "limit"),
    "pixel limit flag": (lambda t, f: [str(f), "--max-pixels", "100"], "limit of 100"),
    "zero grid": (lambda t, f: [str(f), "--grid", "0x3"], "at least 1 row"),
    "grid larger than image": (lambda t, f: [str(f), "--grid", "2x500"], "does not fit"),
    "malformed grid": (lambda t, f: [str(f), "--grid", "three"], "ROWSxCOLS"),
    "lo equal to hi": (lambda t, f: [str(f), "--clip", "1", "1"], "lo < hi"),
    "lo above hi": (lambda t, f: [str(f), "--clip", "2", "1"], "lo < hi"),
    "unknown sobel mode": (lambda t, f: [str(f), "--sobel", "z"], "invalid choice"),
    "gaussian wider than the image": (lambda t, f: [str(f), "--stage", "gaussian:sigma=20"], "sigma at most 13.25"),
}


@pytest.mark.parametrize("case", BAD_RUNS)
def test_bad_input_gives_one_line_and_writes_nothing(tmp_path, photo_file, case):
    make_args, message = BAD_RUNS[case]
    out = tmp_path / "out"
    run = run_command(*make_args(tmp_path, photo_file), "--out", str(out))
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert message in lines[0]
    assert "Traceback" not in run.stderr
    assert not out.exists()


BAD_STAGES = {
    "foo": "unknown stage 'foo'",
    "gaussian:sigma=-1": "gaussian:sigma must lie in [0, 20], got -1",
    "sobel:mode=z": "sobel:mode must be one of x, y, magnitude, got 'z'",
    "clip:lo=1,hi=0": "clip needs lo < hi",
    "median:size=0": "median:size must lie in [1, 25], got 0",
}


@pytest.mark.parametrize("stage", BAD_STAGES)
def test_a_bad_stage_is_one_line_and_exit_1(tmp_path, photo_file, stage):
    out = tmp_path / "out"
    run = run_command(str(photo_file), "--stage", "gaussian", "--stage", stage, "--out", str(out))
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("python -m core: error: ")
    assert BAD_STAGES[stage] in run.stderr
    assert run.stdout == "" and not out.exists()


@pytest.mark.parametrize("option", [["--sobel", "x"], ["--clip", "0", "1"]])
def test_stages_together_with_sobel_or_clip_are_refused(tmp_path, photo_file, option):
    out = tmp_path / "out"
    run = run_command(str(photo_file), "--stage", "sobel", *option, "--out", str(out))
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "with --stage, write them as stages" in run.stderr
    assert not out.exists()


def test_raising_the_pixel_limit_lets_a_large_image_through(tmp_path, photo_file):
    args = [str(photo_file), "--max-pixels", str(67 * 53), "--out", str(tmp_path / "out")]
    assert main(args) == 0


def test_rerun_replaces_outputs_atomically(tmp_path, photo, photo_file):
    out = tmp_path / "out"
    assert main([str(photo_file), "--out", str(out), "--clip", "0", "1"]) == 0
    assert main([str(photo_file), "--out", str(out), "--clip", "-1", "1", "--grid", "3x3"]) == 0
    assert sorted(os.listdir(out)) == PLAIN_OUTPUTS
    assert len(list((out / "tiles").glob("*.tif"))) == 9
    assert np.load(out / "result.npy").min() < 0


def test_a_rerun_leaves_no_regions_or_zarr_of_an_earlier_result(tmp_path, photo_file):
    out = tmp_path / "out"
    assert main([str(photo_file), "--out", str(out), *LABELS, "--zarr"]) == 0
    assert {"regions.csv", "result.ome.zarr"} <= set(os.listdir(out))
    assert main([str(photo_file), "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == PLAIN_OUTPUTS


def test_an_unwritable_output_folder_is_one_line(tmp_path, photo_file):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should go")
    run = subprocess.run(
        [sys.executable, "-m", "core", str(photo_file), "--out", str(blocker / "out")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "cannot create the output folder" in run.stderr


def test_a_run_on_threads_imports_neither_distributed_nor_matplotlib(tmp_path, photo_file):
    # Start-up a run on threads does not need: distributed 0.2 s, matplotlib (through
    # pims) 0.24 s, and pandas (for the region table alone) 0.26 s.
    code = (
        "import sys\n"
        "from core.cli import main\n"
        f"assert main([{str(photo_file)!r}, '--out', {str(tmp_path / 'out')!r}]) == 0\n"
        "print('distributed' in sys.modules, 'matplotlib' in sys.modules, 'pandas' in sys.modules, file=sys.stderr)\n"
        "import matplotlib.pyplot\n"  # still importable afterwards
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip().splitlines()[-1] == "False False False"


def test_a_reader_that_has_gone_gets_no_traceback(tmp_path, photo_file):
    # As `python -m core ... | head -1` once head has its line and has left.
    repo = Path(__file__).resolve().parents[1]
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "core", str(photo_file), "--out", str(tmp_path / "out")],
            cwd=repo, stdout=write_end, stderr=subprocess.PIPE, timeout=120,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
    assert (tmp_path / "out" / "result.npy").exists()


def test_an_animation_says_its_first_frame_is_used(tmp_path, photo):
    frames = [Image.fromarray(photo), Image.fromarray(255 - photo)]
    path = tmp_path / "blink.gif"
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:])
    run = run_command(str(path), "--grid", "2x2", "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert "holds 2 frames" in run.stderr and "uses the first one" in run.stderr
    still = tmp_path / "still.gif"
    frames[0].save(still, format="GIF")
    assert "frames" not in run_command(str(still), "--out", str(tmp_path / "out2")).stderr
