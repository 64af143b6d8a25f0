import argparse
import json

import numpy as np
import pytest
import tifffile

import benchmarks.bench
from benchmarks.bench import _cores_option, main, make_photo, measure, measure_median, usable_cores
from benchmarks.bench_report import SWEEP_STAGES, speedups, sweep_table, table


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
    monkeypatch.setattr(benchmarks.bench, "measure", lambda *args: {"total": next(totals), "work": 0.5})
    assert measure_median("scipy", tmp_path, 60, 3)["total"] == 2.0
    outcomes = iter([{"total": 1.0}, {"error": "out of memory"}])
    monkeypatch.setattr(benchmarks.bench, "measure", lambda *args: next(outcomes))
    assert measure_median("scipy", tmp_path, 60, 2) == {"error": "out of memory"}


def test_the_cores_default_to_one_and_all_usable_and_more_are_refused(tmp_path, capsys):
    usable = usable_cores()
    parser = argparse.ArgumentParser()
    assert _cores_option(parser, None) == _cores_option(parser, []) == sorted({1, usable})
    assert _cores_option(parser, [usable, 1, 1]) == sorted({1, usable})
    with pytest.raises(SystemExit):
        main(["--cores", "1", str(usable + 1), "--workdir", str(tmp_path)])
    assert f"--cores takes 1 to {usable} (the usable cores here), got [{usable + 1}]" in capsys.readouterr().err


def sweep_run(total: float, work: float, **walls: float) -> dict:
    return {"total": total, "work": work, "peak_mb": 300, "stage_wall": walls}


def test_a_speed_up_is_the_seconds_on_one_core_over_those_on_k():
    by_cores = {
        1: sweep_run(10.0, 8.0, load=1.0, sobel=4.0, stitch=0.0, clip=0.5),
        2: sweep_run(6.0, 4.0, load=1.0, sobel=2.5, stitch=0.1),
        4: {"error": "killed"},
    }
    ups = speedups(by_cores)
    assert ups[2] == {"run": 10 / 6, "work": 2.0, "load": 1.0, "sobel": 4 / 2.5}  # no clip, no stitch: no ratio
    assert ups[1]["sobel"] == 1.0 and 4 not in ups
    assert speedups({2: by_cores[2]}) == {}  # nothing to compare with without 1 core


def test_the_sweep_table_gives_seconds_and_speed_ups_per_stage():
    results = {64: {"project-threads": {
        1: sweep_run(9.0, 6.0, **{"load": 0.4, "read": 1.0, "sobel": 3.0, "compute and write": 4.0}),
        2: sweep_run(6.0, 3.0, **{"load": 0.4, "read": 0.8, "sobel": 1.5, "compute and write": 2.5}),
        4: {"error": "out of memory"},
    }}}
    header, one, two, ratios, failed = sweep_table(results).splitlines()
    columns = header.split()
    assert columns[:5] == ["MPix", "pipeline", "cores", "run", "work"] and columns[-1] == "compute"
    assert one.split()[:6] == ["64", "project-threads", "1", "9.00", "6.00", "0.40"]
    values = dict(zip(columns[3:], two.split()[3:]))
    assert values["sobel"] == "1.50" and values["partit."] == "0.00"
    assert ratios.startswith(" " * 10) and "speed-up vs 1 core" in ratios
    assert ratios.split()[-6:] == ["1.50x", "2.00x", "1.00x", "1.25x", "2.00x", "1.60x"]
    assert failed.split()[:4] == ["64", "project-threads", "4", "failed:"] and "out of memory" in failed


def test_a_tiny_sweep_pins_each_run_and_times_every_stage(tmp_path, capsys):
    cores = sorted({1, min(2, usable_cores())})
    plot = tmp_path / "speedup.png"
    status = main(["--sizes", "1", "--cores", *map(str, cores), "--repeat", "1", "--pipelines", "project-threads",
                   "--workdir", str(tmp_path), "--plot", str(plot)])
    assert status == 0
    runs = json.loads((tmp_path / "cores.json").read_text())["1"]["project-threads"]
    assert [runs[str(k)]["cores"] for k in cores] == cores  # each child saw only its cores
    for k in cores:
        walls = runs[str(k)]["stage_wall"]
        assert set(walls) == set(SWEEP_STAGES), k
        assert all(seconds > 0 for seconds in walls.values()), walls
        # a stage's wall time is at most the compute's, and its tasks' seconds add up to at least it
        assert walls["sobel"] <= walls["compute and write"] and walls["sobel"] <= runs[str(k)]["stages"]["sobel (task s)"] + 1e-6
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("1  project-threads")]
    assert [int(row[2]) for row in rows] == cores
    if len(cores) == 2:
        ratio = next(line for line in out.splitlines() if "speed-up vs 1 core" in line).split()[4:]
        one, two = runs["1"], runs["2"]
        assert ratio[0] == f"{one['total'] / two['total']:.2f}x"
        assert ratio[1] == f"{one['work'] / two['work']:.2f}x"
        assert ratio[2 + SWEEP_STAGES.index("sobel")] == f"{one['stage_wall']['sobel'] / two['stage_wall']['sobel']:.2f}x"
    assert plot.stat().st_size > 10_000
