"""Matplotlib figures for the pages."""

from __future__ import annotations

import threading

import matplotlib

matplotlib.use("Agg")  # no display on a server

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["ClipHistogram", "WORKER_COLOURS"]

CLIP_COLOUR = "#d35400"
#: Streamlit's markdown colour names, for a legend, with the colours they are drawn in.
WORKER_COLOURS = [
    ("blue", (28, 131, 225)),
    ("orange", (255, 140, 0)),
    ("green", (33, 195, 84)),
    ("violet", (128, 61, 245)),
    ("red", (255, 75, 75)),
    ("gray", (128, 132, 149)),
]


class ClipHistogram:
    """The distribution of Sobel values (log scale), with the clip range drawn on top.

    The histogram is drawn once; each clip change only redraws the shaded range and its
    edges over a saved background (matplotlib's blitting): about 4 ms, against about
    100 ms for a new figure, which keeps moving the slider fluid. One instance may serve
    several sessions, so drawing is serialised by a lock.
    """

    def __init__(self, counts: np.ndarray, bin_edges: np.ndarray):
        self._figure = Figure(figsize=(7, 2.6), dpi=100, layout="constrained")
        axes = self._figure.add_subplot()
        axes.stairs(np.maximum(counts, 0.5), bin_edges, fill=True, color="#4c72b0")
        axes.set_yscale("log")
        axes.set_xlim(bin_edges[0], bin_edges[-1])
        axes.set_ylim(bottom=0.5)
        axes.set_xlabel("Sobel value")
        axes.set_ylabel("pixels (log scale)")
        self._axes = axes
        self._band = axes.axvspan(0, 1, color=CLIP_COLOUR, alpha=0.2, animated=True)
        self._edges = [axes.axvline(0, color=CLIP_COLOUR, linewidth=1.5, animated=True) for _ in range(2)]
        self._label = axes.text(
            0.99, 0.93, "", transform=axes.transAxes, ha="right", va="top", color=CLIP_COLOUR,
            animated=True,
        )
        self._canvas = FigureCanvasAgg(self._figure)
        self._canvas.draw()
        self._background = self._canvas.copy_from_bbox(self._figure.bbox)
        self._lock = threading.Lock()

    def render(self, lo: float, hi: float) -> np.ndarray:
        """RGBA pixels of the histogram with ``[lo, hi]`` marked."""
        with self._lock:
            self._canvas.restore_region(self._background)
            self._band.set_x(lo)
            self._band.set_width(hi - lo)
            for line, bound in zip(self._edges, (lo, hi)):
                line.set_xdata([bound, bound])
            self._label.set_text(f"clip range [{lo:g}, {hi:g}]")
            for artist in (self._band, *self._edges, self._label):
                self._axes.draw_artist(artist)
            return np.array(self._canvas.buffer_rgba())
