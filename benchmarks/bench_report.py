"""The benchmark's tables and plots, from the results ``benchmarks.bench`` measures."""

from __future__ import annotations

from pathlib import Path

from .baselines import BASELINES

__all__ = ["LABELS", "PIPELINES", "SWEEP_STAGES", "plot", "plot_speedup", "speedups", "sweep_table", "table"]

PIPELINES = ("project-threads", "project-local", *BASELINES)
LABELS = {
    "project-threads": "this project, threads",
    "project-local": "this project, local cluster",
    "tutorial": "the tutorial, with its plots",
    "tutorial-compute": "the tutorial, computations only",
    "scipy": "SciPy, whole image",
    "opencv": "OpenCV, whole image",
}

#: The columns of the cores sweep, in the order the command line runs them: its own wall
#: times (load, partition, compute and write) and the wall time of each stage's tasks.
SWEEP_STAGES = ("load", "partition", "read", "grayscale", "stitch", "sobel", "clip", "write results",
                "compute and write")


def _ratio(result: dict | None, base: dict | None) -> str:
    """``result`` against ``base``: whole runs, and work times in brackets."""
    if not (result and base and "total" in result and "total" in base):
        return ""
    return f"{result['total'] / base['total']:.2f}x ({result['work'] / base['work']:.2f}x)"


def table(results: dict[int, dict[str, dict | None]]) -> str:
    """One row per size and pipeline, with the ratios the goals are stated in: of whole
    runs (start-up and imports included), and of work times in brackets."""
    lines = [
        f"{'MPix':>6}  {'pipeline':<17}{'run s':>7}{'work s':>8}{'ns/px':>7}{'peak MB':>9}"
        f"{'vs OpenCV':>17}{'tutorial / this':>17}{'(compute) / this':>18}{'vs threads':>17}"
    ]
    for mpix, row in results.items():
        pixels = mpix * 2**20
        for pipeline, result in row.items():
            if result is None:
                lines.append(f"{mpix:>6}  {pipeline:<17}  (not installed)")
                continue
            if "skipped" in result:
                lines.append(f"{mpix:>6}  {pipeline:<17}  (skipped: {result['skipped']})")
                continue
            if "error" in result:
                lines.append(f"{mpix:>6}  {pipeline:<17}  failed: {result['error'][:60]}")
                continue
            project = pipeline.startswith("project")
            versus_cv = _ratio(result, row.get("opencv"))
            speedup = _ratio(row.get("tutorial"), result) if project else ""
            compute_speedup = _ratio(row.get("tutorial-compute"), result) if project else ""
            versus_threads = _ratio(result, row.get("project-threads")) if pipeline == "project-local" else ""
            lines.append(
                f"{mpix:>6}  {pipeline:<17}{result['total']:>7.2f}{result['work']:>8.2f}"
                f"{result['work'] / pixels * 1e9:>7.1f}{result['peak_mb']:>9.0f}"
                f"{versus_cv:>17}{speedup:>17}{compute_speedup:>18}{versus_threads:>17}"
            )
    return "\n".join(lines)


def plot(results: dict[int, dict[str, dict | None]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    for pipeline in PIPELINES:
        points = [
            (mpix, row[pipeline]["total"]) for mpix, row in results.items()
            if row.get(pipeline) and "total" in row[pipeline]
        ]
        if points:
            axes.plot(*zip(*points), marker="o", label=LABELS[pipeline])
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xlabel("image size (megapixels)")
    axes.set_ylabel("whole run, seconds (median of the runs)")
    axes.set_title("Sobel x of a photo, clipped, on this machine")
    axes.legend()
    figure.savefig(path, dpi=120)


def speedups(by_cores: dict[int, dict]) -> dict[int, dict[str, float]]:
    """Per number of cores, each stage's speed-up against one core: seconds on 1 / seconds
    on k, for the whole run (``run``), the work (``work``) and every stage's wall time.

    A stage missing or of zero seconds on either side has no speed-up.
    """
    base = by_cores.get(1)
    if not _measured(base):
        return {}
    result = {}
    for cores, run in by_cores.items():
        if not _measured(run):
            continue
        pairs = {"run": (base["total"], run["total"]), "work": (base["work"], run["work"])}
        pairs.update({stage: (base["stage_wall"].get(stage, 0.0), run["stage_wall"].get(stage, 0.0))
                      for stage in SWEEP_STAGES})
        result[cores] = {name: one / k for name, (one, k) in pairs.items() if one > 0 and k > 0}
    return result


def _measured(run: dict | None) -> bool:
    return bool(run) and "total" in run and "stage_wall" in run


_SWEEP_COLUMNS = ("run", "work", *SWEEP_STAGES)
_SWEEP_HEADINGS = {"compute and write": "compute", "write results": "write", "partition": "partit."}


def sweep_table(results: dict[int, dict[str, dict[int, dict | None]]]) -> str:
    """Per size, pipeline and number of cores: wall seconds of the whole run, the work and
    every stage, and on the line below each speed-up against one core."""
    width = 10
    lines = [f"{'MPix':>6}  {'pipeline':<17}{'cores':>6}"
             + "".join(f"{_SWEEP_HEADINGS.get(c, c):>{width}}" for c in _SWEEP_COLUMNS)]
    for mpix, row in results.items():
        for pipeline, by_cores in row.items():
            ups = speedups(by_cores)
            for cores, run in by_cores.items():
                head = f"{mpix:>6}  {pipeline:<17}{cores:>6}"
                if not _measured(run):
                    lines.append(f"{head}  failed: {(run or {}).get('error', 'no result')[:60]}")
                    continue
                seconds = {"run": run["total"], "work": run["work"], **run["stage_wall"]}
                lines.append(head + "".join(f"{seconds.get(c, 0.0):>{width}.2f}" for c in _SWEEP_COLUMNS))
                if cores != 1 and cores in ups:
                    lines.append(f"{'speed-up vs 1 core':>29}"
                                 + "".join(f"{_times(ups[cores].get(c)):>{width}}" for c in _SWEEP_COLUMNS))
    return "\n".join(lines)


def _times(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.2f}x"


def plot_speedup(results: dict[int, dict[str, dict[int, dict | None]]], path: Path) -> None:
    """Speed-up against cores of the whole run, the work and each compute stage, one panel
    per pipeline of the largest size, with the ideal (k times faster on k cores)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    mpix = max(results)
    pipelines = list(results[mpix])
    figure = Figure(figsize=(5.5 * len(pipelines), 4.5), layout="constrained")
    for index, pipeline in enumerate(pipelines):
        axes = figure.add_subplot(1, len(pipelines), index + 1)
        ups = speedups(results[mpix][pipeline])
        cores = sorted(ups)
        axes.plot(cores, cores, linestyle="--", color="grey", label="ideal")
        for name in ("run", "work", "read", "grayscale", "sobel", "clip", "write results"):
            points = [(k, ups[k][name]) for k in cores if name in ups[k]]
            if points:
                axes.plot(*zip(*points), marker="o", label={"run": "whole run", "work": "work"}.get(name, name))
        axes.set_xlabel("cores")
        axes.set_ylabel("speed-up against 1 core")
        axes.set_xticks(cores)
        axes.set_title(f"{LABELS[pipeline]}, {mpix} MPix")
        axes.legend(fontsize="small")
    figure.savefig(path, dpi=120)
