import numpy as np
import tifffile

import core.bench

from core.bench import main, make_photo, measure, measure_median, table


def test_make_photo_has_the_asked_size(tmp_path):
    path = make_photo(1, tmp_path)
    pixels = tifffile.imread(path)
    assert pixels.shape == (1024, 1024, 3) and pixels.dtype == np.uint8
    assert pixels.std() > 10  # a photo, not a blank


def test_the_benchmark_prints_a_table_and_saves_a_plot(tmp_path, capsys):
    plot = tmp_path / "plot.png"
    status = main(["--sizes", "1", "--repeat", "1", "--pipelines", "project-threads", "tutorial", "scipy",
                   "--workdir", str(tmp_path), "--plot", str(plot)])
    assert status == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.strip().startswith("1  ")]
    assert [row.split()[1] for row in rows] == ["project-threads", "tutorial", "scipy"]
    assert all("failed" not in row for row in rows)
    assert plot.stat().st_size > 10_000


def test_the_table_states_the_ratios_of_the_goals():
    results = {
        64: {
            "project-threads": {"total": 3.0, "work": 2.0, "peak_mb": 400},
            "project-local": {"total": 6.0, "work": 2.5, "peak_mb": 700},
            "tutorial": {"total": 12.0, "work": 10.0, "peak_mb": 2000},
            "tutorial-compute": {"total": 4.5, "work": 3.0, "peak_mb": 2000},
            "opencv": {"total": 1.5, "work": 1.0, "peak_mb": 900},
        },
        1024: {
            "project-threads": {"total": 30.0, "work": 29.0, "peak_mb": 3000},
            "tutorial": {"skipped": "the whole image would not fit in memory"},
            "opencv": None,
        },
    }
    rows = {tuple(line.split()[:2]): line for line in table(results).splitlines()[1:]}
    # whole runs, and work times in brackets
    assert rows["64", "project-threads"].split()[-6:] == ["2.00x", "(2.00x)", "4.00x", "(5.00x)", "1.50x", "(1.50x)"]
    assert rows["64", "project-local"].split()[-8:] == [
        "4.00x", "(2.50x)", "2.00x", "(4.00x)", "0.75x", "(1.20x)", "2.00x", "(1.25x)"
    ]
    assert rows["64", "opencv"].split()[-2:] == ["1.00x", "(1.00x)"]
    assert rows["1024", "project-threads"].split()[-1] == "3000"  # no ratio without a base
    assert "skipped" in rows["1024", "tutorial"]
    assert "not installed" in rows["1024", "opencv"]


def test_the_tutorial_is_timed_with_its_pictures_and_without(tmp_path):
    image = make_photo(1, tmp_path)
    notebook, compute = (measure(name, image, timeout=300) for name in ("tutorial", "tutorial-compute"))
    assert {"plot part 1", "plot stitched", "sobel + clip, plotted"} <= set(notebook["stages"])
    assert not any("plot" in stage for stage in compute["stages"])
    assert "rgb2gray (eager)" in notebook["stages"] and "rgb2gray (eager)" in compute["stages"]


def test_a_run_is_timed_whole_and_its_work_apart(tmp_path):
    image = make_photo(1, tmp_path)
    result = measure("scipy", image, timeout=120)
    assert 0 < result["work"] < result["total"]
    assert set(result["stages"]) >= {"load", "grayscale", "sobel", "clip", "write npy", "write png"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [image.name]  # its outputs are gone


def test_the_median_run_is_kept_and_a_failure_is_reported(monkeypatch, tmp_path):
    totals = iter([3.0, 1.0, 2.0])
    monkeypatch.setattr(core.bench, "measure", lambda *args: {"total": next(totals), "work": 0.5})
    assert measure_median("scipy", tmp_path, 60, 3)["total"] == 2.0
    outcomes = iter([{"total": 1.0}, {"error": "out of memory"}])
    monkeypatch.setattr(core.bench, "measure", lambda *args: next(outcomes))
    assert measure_median("scipy", tmp_path, 60, 2) == {"error": "out of memory"}
