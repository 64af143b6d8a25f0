import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core import build_pipeline, partition
from core.cli import build_parser, main, run
from core.timing import STAGE_NAMES
from helpers import png_header_claiming

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def photo_file(tmp_path, photo) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    return path


def test_writes_tiles_edges_png_and_graph(tmp_path, photo, photo_file, capsys):
    out = tmp_path / "out"
    status = main([str(photo_file), "--grid", "3x5", "--sobel", "magnitude", "--clip", "0", "2", "--out", str(out)])
    assert status == 0
    assert sorted(p.name for p in (out / "tiles").glob("*.tif"))[-1] == "tile_r002_c004.tif"
    expected = build_pipeline(partition(photo, 3, 5, tmp_path / "ref"), mode="magnitude", lo=0, hi=2).clipped
    edges = np.load(out / "edges.npy")
    assert edges.dtype == np.float32 and edges.shape == photo.shape[:2]
    np.testing.assert_array_equal(edges, expected.compute())
    assert np.asarray(Image.open(out / "edges.png")).shape == photo.shape[:2]
    assert (out / "graph.dot").read_text().startswith("digraph")
    report = capsys.readouterr().out
    for stage in ("partition", "read", "grayscale", "stitch", "sobel", "clip", "total", "peak memory of this process"):
        assert stage in report


def test_the_report_attributes_tasks_to_every_stage(tmp_path, photo_file):
    args = build_parser().parse_args([str(photo_file), "--grid", "3x5", "--out", str(tmp_path / "out")])
    report = run(args)
    assert report.stage_tasks["grayscale"] == 15  # one per tile: tasks were not fused away
    assert report.stage_tasks["read"] >= 15
    for stage in STAGE_NAMES:
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


def test_defaults_are_2x2_clip_0_1_sobel_x(tmp_path, photo_file, capsys):
    assert main([str(photo_file), "--out", str(tmp_path / "out")]) == 0
    assert "grid 2x2, sobel x, clip [0, 1]" in capsys.readouterr().out
    assert len(list((tmp_path / "out" / "tiles").glob("*.tif"))) == 4


def test_zarr_on_request_holds_the_result(tmp_path, photo_file, capsys):
    import zarr

    out = tmp_path / "out"
    assert main([str(photo_file), "--grid", "3x2", "--out", str(out), "--zarr"]) == 0
    assert "edges.ome.zarr" in capsys.readouterr().out
    group = zarr.open_group(out / "edges.ome.zarr", mode="r")
    datasets = group.attrs["ome"]["multiscales"][0]["datasets"]
    np.testing.assert_array_equal(group[datasets[0]["path"]][:], np.load(out / "edges.npy"))
    assert len(datasets) == 1  # a 67 x 53 picture needs no coarser level
    assert main([str(photo_file), "--out", str(tmp_path / "plain")]) == 0
    assert not (tmp_path / "plain" / "edges.ome.zarr").exists()  # only when asked


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--grid", "--clip", "--sobel", "--out", "--zarr", "--max-pixels", "magnitude", "default: 2x2"):
        assert option in text
    assert "magnitude in [0, 4.47]" in " ".join(text.split())  # sqrt(4² + 2²), the largest reached


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
    "lo equal to hi": (lambda t, f: [str(f), "--clip", "1", "1"], "LO < HI"),
    "lo above hi": (lambda t, f: [str(f), "--clip", "2", "1"], "LO < HI"),
    "unknown sobel mode": (lambda t, f: [str(f), "--sobel", "z"], "invalid choice"),
}


@pytest.mark.parametrize("case", BAD_RUNS)
def test_bad_input_gives_one_line_and_writes_nothing(tmp_path, photo_file, case):
    make_args, message = BAD_RUNS[case]
    out = tmp_path / "out"
    args = [*make_args(tmp_path, photo_file), "--out", str(out)]
    run = subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert message in lines[0]
    assert "Traceback" not in run.stderr
    assert not out.exists()


def test_raising_the_pixel_limit_lets_a_large_image_through(tmp_path, photo_file):
    args = [str(photo_file), "--max-pixels", str(67 * 53), "--out", str(tmp_path / "out")]
    assert main(args) == 0


def test_rerun_replaces_outputs_atomically(tmp_path, photo, photo_file):
    out = tmp_path / "out"
    assert main([str(photo_file), "--out", str(out), "--clip", "0", "1"]) == 0
    assert main([str(photo_file), "--out", str(out), "--clip", "-1", "1", "--grid", "3x3"]) == 0
    assert sorted(os.listdir(out)) == ["edges.npy", "edges.png", "graph.dot", "tiles"]
    assert len(list((out / "tiles").glob("*.tif"))) == 9
    assert np.load(out / "edges.npy").min() < 0


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
    # pims) 0.24 s.
    code = (
        "import sys\n"
        "from core.cli import main\n"
        f"assert main([{str(photo_file)!r}, '--out', {str(tmp_path / 'out')!r}]) == 0\n"
        "print('distributed' in sys.modules, 'matplotlib' in sys.modules, file=sys.stderr)\n"
        "import matplotlib.pyplot\n"  # still importable afterwards
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip().splitlines()[-1] == "False False"
