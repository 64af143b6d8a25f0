"""Matplotlib figures for the pages."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display on a server

import numpy as np
from matplotlib.figure import Figure

__all__ = ["histogram_figure"]


def histogram_figure(counts: np.ndarray, bin_edges: np.ndarray, lo: float, hi: float) -> Figure:
    """The distribution of Sobel values (log scale) with the clip range shaded."""
    figure = Figure(figsize=(7, 2.6), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.stairs(np.maximum(counts, 0.5), bin_edges, fill=True, color="#4c72b0")
    axes.set_yscale("log")
    axes.axvspan(lo, hi, color="#f5b041", alpha=0.25, label=f"clip range [{lo:g}, {hi:g}]")
    for bound in (lo, hi):
        axes.axvline(bound, color="#d35400", linewidth=1.5)
    axes.set_xlim(bin_edges[0], bin_edges[-1])
    axes.set_ylim(bottom=0.5)
    axes.set_xlabel("Sobel value")
    axes.set_ylabel("pixels")
    axes.legend(loc="upper right", frameon=False)
    return figure
