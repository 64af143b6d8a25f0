import numpy as np
import tifffile

from core.bench import main, make_photo, table


def test_make_photo_has_the_asked_size(tmp_path):
    path = make_photo(1, tmp_path)
    pixels = tifffile.imread(path)
    assert pixels.shape == (1024, 1024, 3) and pixels.dtype == np.uint8
    assert pixels.std() > 10  # a photo, not a blank


def test_the_benchmark_prints_a_table_and_saves_a_plot(tmp_path, capsys):
    plot = tmp_path / "plot.png"
    status = main(["--sizes", "1", "--pipelines", "project-threads", "tutorial", "scipy",
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
            "project-threads": {"total": 2.0, "peak_mb": 400},
            "project-local": {"total": 2.5, "peak_mb": 700},
            "tutorial": {"total": 10.0, "peak_mb": 2000},
            "opencv": {"total": 1.0, "peak_mb": 900},
        },
        1024: {"tutorial": {"skipped": "the whole image would not fit in memory"}, "opencv": None},
    }
    rows = {tuple(line.split()[:2]): line.split() for line in table(results).splitlines()[1:]}
    assert rows["64", "project-threads"][-2:] == ["2.00x", "5.00x"]  # vs OpenCV, tutorial / this
    assert rows["64", "project-local"][-3:] == ["2.50x", "4.00x", "1.25x"]  # ... and vs threads
    assert rows["64", "opencv"][-1] == "1.00x"
    assert "skipped" in " ".join(rows["1024", "tutorial"])
    assert "not installed" in " ".join(rows["1024", "opencv"])
