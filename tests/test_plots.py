import numpy as np

from ui.plots import FALLBACK_COLOURS, STAGE_COLOURS, ValueHistogram, count_label, speedup_figure, stage_colour
from ui.services.scaling import ScalingPoint, WorkerScaling


def test_each_step_is_coloured_by_its_stage_and_any_stage_gets_a_colour():
    assert stage_colour("sobel") == STAGE_COLOURS["sobel"] and stage_colour("read") == STAGE_COLOURS["read"]
    assert stage_colour("gaussian 2") == stage_colour("gaussian") in FALLBACK_COLOURS
    assert stage_colour("median") != stage_colour("gaussian")
    assert stage_colour("not-a-stage") in FALLBACK_COLOURS


def test_the_task_time_bars_show_the_stages_the_points_timed_in_order():
    seconds = {"read": 0.1, "grayscale": 0.1, "stitch": 0.0, "gaussian": 0.2, "label": 0.3, "other": 0.01}
    scaling = WorkerScaling(tuple(ScalingPoint(k, 1.0 / k, seconds, 10, 0.0, 8) for k in (1, 2)))
    stage_axes = speedup_figure(scaling).axes[2]
    legend = [text.get_text() for text in stage_axes.get_legend().get_texts()]
    assert legend == ["other (the checksum's sum)", "label", "gaussian", "stitch", "grayscale", "read"]  # reversed


def test_the_prediction_is_drawn_below_with_the_measured_points_and_its_two_bounds():
    import numpy as np

    from core.observe import WorkSpan
    from ui.services.sweeps import Prediction

    spread = WorkSpan((0.1, 0.2, 0.3), ((0, 1), (0, 2)), (0.0, 0.1, 0.1), 0.4, 2)  # a fork: span 0.4
    prediction = Prediction(spread, {"threads": 0.0}, {"threads": spread.predictions(0.0)})
    scaling = WorkerScaling(tuple(ScalingPoint(k, 0.6 / k, {"read": 0.1}, 3, 0.0, 2) for k in (1, 2)))
    figure = speedup_figure(scaling, prediction)
    assert len(figure.axes) == 4 and len(speedup_figure(scaling).axes) == 3
    lines = {line.get_label(): line for line in figure.axes[3].get_lines()}
    np.testing.assert_allclose(lines["predicted, threads"].get_ydata()[:3], [600, 400, 400])
    np.testing.assert_allclose(lines["measured, threads"].get_ydata(), [600, 300])
    np.testing.assert_allclose(lines["span: no k runs faster"].get_ydata(), [400, 400])
    np.testing.assert_allclose(lines["work / k"].get_ydata()[:2], [600, 300])


def test_a_histograms_decades_read_as_plain_numbers():
    assert [count_label(10**k) for k in range(8)] == ["1", "10", "100", "1k", "10k", "100k", "1M", "10M"]


def test_a_histogram_shades_its_band_and_nothing_else():
    counts = np.full(200, 1000)
    drawing = ValueHistogram(counts, np.linspace(0.0, 1.0, 201), "value")
    plain, banded = drawing.render(), drawing.render(band=(0.25, 0.5))
    assert plain.shape == banded.shape == (260, 700, 4)
    changed = np.flatnonzero((plain != banded).any(axis=(0, 2)))
    # Where 0.25 and 0.5 fall on the drawing, in pixels from its left edge.
    left, right = (drawing._axes.transData.transform([(x, 1.0)])[0][0] for x in (0.25, 0.5))
    assert abs(changed.min() - left) <= 3 and abs(changed.max() - right) <= 3  # the lines are 2 px wide
    assert (drawing.render() == plain).all()  # the marks leave nothing behind
