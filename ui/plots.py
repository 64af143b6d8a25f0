"""Matplotlib figures for the pages."""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

import numpy as np

from core.pipeline import STAGES
from ui.services.scaling import GridScaling, WorkerScaling

if TYPE_CHECKING:  # runs imports this module for its histograms
    from matplotlib.figure import Figure

    from ui.services.sweeps import Prediction

__all__ = [
    "STAGE_COLOURS",
    "WORKER_COLOURS",
    "ValueHistogram",
    "count_label",
    "figure_png",
    "grid_figure",
    "prediction_panel",
    "speedup_figure",
    "stage_colour",
]

#: The clip range or threshold drawn on a histogram: the theme's primary colour.
MARK_COLOUR = "#d35400"
#: Streamlit's markdown colour names, for a legend, with the colours they are drawn in.
WORKER_COLOURS = [
    ("blue", (28, 131, 225)),
    ("orange", (255, 140, 0)),
    ("green", (33, 195, 84)),
    ("violet", (128, 61, 245)),
    ("red", (255, 75, 75)),
    ("gray", (128, 132, 149)),
]


def _matplotlib():
    """matplotlib's ``Figure``, Agg canvas, ``NullLocator`` and ``FuncFormatter``, imported
    at the first drawing: 0.2 s that a fresh server's first page, which draws no figure,
    need not wait for."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullLocator

    return Figure, FigureCanvasAgg, NullLocator, FuncFormatter


def count_label(count: float, _position=None) -> str:
    """A decade of a log axis in plain words: 1, 10, 100, 1k, 10k, 100k, 1M, 10M."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if count >= size:
            return f"{count / size:g}{suffix}"
    return f"{count:g}"


class ValueHistogram:
    """The distribution of a stage's values over the full image (log scale), with a range
    (a clip's) or a level (a threshold's) drawn on top.

    The histogram is drawn once; each change of the marks only redraws them over a saved
    background (matplotlib's blitting), a small fraction of drawing a new figure, which
    keeps moving a slider fluid (``benchmarks/dashboard.py``, the clip changes). One instance may serve several sessions, so drawing
    is serialised by a lock.
    """

    def __init__(self, counts: np.ndarray, bin_edges: np.ndarray, label: str):
        Figure, FigureCanvasAgg, NullLocator, FuncFormatter = _matplotlib()
        # Fixed margins and plain tick labels: a log axis's minor ticks, its labels set as
        # TeX (10^5, parsed afresh for each figure) and the constrained layout measuring
        # them were three quarters of drawing a new histogram (120 ms of 160 at each new
        # Sobel mode); the decades are enough.
        self._figure = Figure(figsize=(7, 2.6), dpi=100)
        self._figure.subplots_adjust(left=0.11, right=0.98, bottom=0.19, top=0.96)
        axes = self._figure.add_subplot()
        axes.stairs(np.maximum(counts, 0.5), bin_edges, fill=True, color="#4c72b0")
        axes.set_yscale("log")
        axes.yaxis.set_minor_locator(NullLocator())
        axes.yaxis.set_major_formatter(FuncFormatter(count_label))
        axes.set_xlim(bin_edges[0], bin_edges[-1])
        axes.set_ylim(bottom=0.5)
        axes.set_xlabel(label)
        axes.set_ylabel("pixels (log scale)")
        self._axes = axes
        self._band = axes.axvspan(0, 1, color=MARK_COLOUR, alpha=0.2, animated=True)
        self._edges = [axes.axvline(0, color=MARK_COLOUR, linewidth=1.5, animated=True) for _ in range(2)]
        self._text = axes.text(
            0.99, 0.93, "", transform=axes.transAxes, ha="right", va="top", color=MARK_COLOUR,
            animated=True,
        )
        self._canvas = FigureCanvasAgg(self._figure)
        self._canvas.draw()
        self._background = self._canvas.copy_from_bbox(self._figure.bbox)
        self._lock = threading.Lock()

    def render(self, *, band: tuple[float, float] | None = None, level: float | None = None, text: str = "") -> np.ndarray:
        """RGBA pixels of the histogram with ``band`` shaded between two lines, or one line
        at ``level``, or neither; ``text`` in the top right corner."""
        with self._lock:
            self._canvas.restore_region(self._background)
            marks = [self._text]
            if band is not None:
                lo, hi = band
                self._band.set_x(lo)
                self._band.set_width(hi - lo)
                for line, bound in zip(self._edges, band):
                    line.set_xdata([bound, bound])
                marks += [self._band, *self._edges]
            elif level is not None:
                self._edges[0].set_xdata([level, level])
                marks.append(self._edges[0])
            self._text.set_text(text)
            for artist in marks:
                self._axes.draw_artist(artist)
            return np.array(self._canvas.buffer_rgba())


#: A colour per stage of the Speed-up page's bars: the fixed stages, then each stage of the
#: table, by name; a stage without one of its own takes the next of ``FALLBACK_COLOURS``.
STAGE_COLOURS = {
    "read": "#4c72b0",
    "grayscale": "#8c8c8c",
    "stitch": "#55a868",
    "sobel": "#c44e52",
    "clip": MARK_COLOUR,
    "other": "#b8b8b8",
}
FALLBACK_COLOURS = ["#8172b2", "#937860", "#da8bc3", "#ccb974", "#64b5cd", "#2f4b7c", "#a05195"]
STAGE_LABELS = {"other": "other (the checksum's sum)"}
IDEAL_COLOUR = "#2ca02c"


def stage_colour(name: str) -> str:
    """The colour of a timed stage: ``read``, ``grayscale``, ``stitch``, ``other``, or a
    step's label (``step_labels``: ``gaussian`` or ``gaussian 2``), coloured by its stage."""
    stage = name.split(" ")[0]
    if stage in STAGE_COLOURS:
        return STAGE_COLOURS[stage]
    others = [s for s in STAGES if s not in STAGE_COLOURS]
    return FALLBACK_COLOURS[others.index(stage) % len(FALLBACK_COLOURS)] if stage in others else FALLBACK_COLOURS[0]


def _milliseconds(seconds) -> list[float]:
    return [1000 * s for s in seconds]


def _timed_stages(points) -> list[str]:
    """Every stage timed in any of the points, in the order the pipeline runs them."""
    return list(dict.fromkeys(stage for point in points for stage in point.stage_seconds))


def speedup_figure(scaling: WorkerScaling, prediction: Prediction | None = None) -> Figure:
    """Wall time and speed-up against worker threads, each with the ideal line, and the
    task time of each stage per worker count, stacked; with a ``prediction``, below them
    the predicted time on 1 to 64 workers (``prediction_panel``)."""
    rows = [["wall", "speedup", "stages"]] + ([["prediction"] * 3] if prediction is not None else [])
    Figure, *_ = _matplotlib()
    figure = Figure(figsize=(12, 3.6 * len(rows)), dpi=100, layout="constrained")
    panels = figure.subplot_mosaic(rows)
    wall_axes, speedup_axes, stage_axes = panels["wall"], panels["speedup"], panels["stages"]
    if prediction is not None:
        prediction_panel(panels["prediction"], prediction, scaling)
    workers = scaling.workers

    wall_axes.plot(workers, _milliseconds(scaling.walls), "o-", label="measured")
    wall_axes.plot(
        workers, _milliseconds(scaling.ideal_walls), "--", color=IDEAL_COLOUR, label="ideal: 1 worker's time / k"
    )
    wall_axes.set_xlabel("worker threads k")
    wall_axes.set_ylabel("wall time (ms)")
    wall_axes.set_ylim(bottom=0)
    wall_axes.set_title("Wall time")
    wall_axes.legend()

    speedup_axes.plot(workers, scaling.speedups, "o-", label="measured")
    speedup_axes.plot(workers, workers, "--", color=IDEAL_COLOUR, label="ideal: k")
    if scaling.serial_fraction is not None:
        dense = np.linspace(1, max(workers), 50)
        speedup_axes.plot(
            dense, [scaling.amdahl_speedup(k) for k in dense], ":", color="black",
            label=f"Amdahl, serial fraction {scaling.serial_fraction:.0%}",
        )
    speedup_axes.set_xlabel("worker threads k")
    speedup_axes.set_ylabel("speed-up (× one worker)")
    speedup_axes.set_ylim(bottom=0)
    speedup_axes.set_title("Speed-up")
    speedup_axes.legend()

    bottoms = np.zeros(len(workers))
    for stage in _timed_stages(scaling.points):
        seconds = np.array(_milliseconds(p.stage_seconds.get(stage, 0.0) for p in scaling.points))
        stage_axes.bar(
            [str(k) for k in workers], seconds, bottom=bottoms, color=stage_colour(stage),
            edgecolor="white", linewidth=0.5, label=STAGE_LABELS.get(stage, stage),
        )
        bottoms += seconds
    stage_axes.set_xlabel("worker threads k")
    stage_axes.set_ylabel("task time, summed over threads (ms)")
    stage_axes.set_title("Where the task time goes")
    # Outside the axes: inside, it would hide the top of the tallest bar.
    stage_axes.legend(fontsize="small", reverse=True, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    for axes in (wall_axes, speedup_axes):
        axes.set_xticks(workers)
        axes.grid(alpha=0.3)
    return figure


def grid_figure(grids: GridScaling) -> Figure:
    """Wall time against grid size, with the number of tasks each grid makes."""
    Figure, *_ = _matplotlib()
    figure = Figure(figsize=(7.5, 3.6), dpi=100, layout="constrained")
    wall_axes = figure.subplots()
    labels = [f"{p.rows} x {p.cols}" for p in grids.points]
    task_axes = wall_axes.twinx()
    task_axes.bar(labels, [p.tasks for p in grids.points], color="#dddddd", label="tasks")
    task_axes.set_ylabel("tasks in the graph")
    wall_axes.plot(labels, _milliseconds(p.wall for p in grids.points), "o-", color="#4c72b0", label="wall time")
    wall_axes.set_ylabel("wall time (ms)")
    wall_axes.set_ylim(bottom=0)
    wall_axes.set_xlabel("grid of tiles")
    threads = f"{grids.workers} worker thread{'s' if grids.workers > 1 else ''}"
    wall_axes.set_title(f"Time against grid size, on {threads}")
    wall_axes.set_zorder(task_axes.get_zorder() + 1)  # the line over the bars
    wall_axes.patch.set_visible(False)
    handles = [*wall_axes.get_legend_handles_labels()[0], *task_axes.get_legend_handles_labels()[0]]
    wall_axes.legend(handles=handles, loc="upper left")
    wall_axes.grid(alpha=0.3)
    return figure


def prediction_panel(axes, prediction: Prediction, measured: WorkerScaling) -> None:
    """The predicted wall time on 1 to 64 workers (threads, and the cluster where there is
    one) beside the measured points, between the two bounds: work / k and the span."""
    spread = prediction.spread
    counts = np.arange(1, len(prediction.walls["threads"]) + 1)
    axes.plot(counts, _milliseconds(prediction.walls["threads"]), "-", color="#4c72b0", label="predicted, threads")
    if "cluster" in prediction.walls:
        axes.plot(counts, _milliseconds(prediction.walls["cluster"]), "--", color="#8172b2", label="predicted, cluster")
    axes.plot(measured.workers, _milliseconds(measured.walls), "o", color=MARK_COLOUR, label="measured, threads")
    axes.plot(counts, _milliseconds(spread.work / counts), ":", color=IDEAL_COLOUR, label="work / k")
    axes.axhline(1000 * spread.span, color="black", linewidth=1, label="span: no k runs faster")
    axes.set_xscale("log", base=2)
    axes.set_xticks([1, 2, 4, 8, 16, 32, 64], ["1", "2", "4", "8", "16", "32", "64"])
    axes.set_yscale("log")
    axes.set_xlabel("workers k")
    axes.set_ylabel("wall time (ms, log scale)")
    axes.set_title("What more workers would buy")
    axes.grid(alpha=0.3, which="both")
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))


def figure_png(figure: Figure) -> bytes:
    """The figure as PNG (sharp lines and text, unlike JPEG)."""
    _, FigureCanvasAgg, *_ = _matplotlib()
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
