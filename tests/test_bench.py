import numpy as np
import tifffile

from core.bench import main, make_photo


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
