"""Building the chain in the sidebar, and a change that runs only the steps it touches."""


import pytest
from apptest import CLIP_RANGE, SOBEL_MODE, STEP_PAGE, assert_clean, chain_of, go, open_app, step_links

from core.pipeline.chain import Param, Stage
from core.pipeline.stage_table import STAGES

pytestmark = pytest.mark.usefixtures("fresh_server")


# -- building the chain in the sidebar -------------------------------------------------------


def test_a_chain_is_built_in_the_sidebar_and_each_widget_follows_its_step():
    at = open_app()
    at.selectbox(key="add_stage").set_value("gaussian")
    at.button(key="add_step").click().run()
    assert_clean(at, "app.py")
    assert chain_of(at) == "sobel:mode=x;clip:lo=0,hi=1;gaussian:sigma=1"
    at.slider(key="step3.sigma").set_value(2.0).run()  # the third step's
    assert chain_of(at) == "sobel:mode=x;clip:lo=0,hi=1;gaussian:sigma=2"
    at.radio(key=SOBEL_MODE).set_value("y").run()
    at.button(key="step3.up").click().run()
    at.button(key="step2.up").click().run()
    assert_clean(at, "app.py")
    assert chain_of(at) == "gaussian:sigma=2;sobel:mode=y;clip:lo=0,hi=1"
    # Moved twice, the Gaussian takes its own sigma to the first place, the Sobel step its
    # mode to the second; the third place's widget is the clip's now.
    assert at.slider(key="step1.sigma").value == 2.0 and at.radio(key="step2.mode").value == "y"
    assert at.slider(key="step3.lo_hi").value == (0.0, 1.0)
    assert all(widget.key not in ("step1.mode", "step3.sigma") for widget in [*at.radio, *at.slider])
    assert [label for label, _ in step_links(at)] == ["4 · Gaussian smoothing", "5 · Sobel edges", "6 · Clip"]
    assert [query for _, query in step_links(at)] == ["step=1", "step=2", "step=3"]
    at.button(key="step2.remove").click().run()
    assert_clean(at, "app.py")
    assert chain_of(at) == "gaussian:sigma=2;clip:lo=0,hi=1"
    assert not at.radio and at.slider(key=CLIP_RANGE).value == (0.0, 1.0)
    assert len(at.get("image")) == 3 + 2  # a thumbnail per stage
    go(at, STEP_PAGE, 2)
    assert_clean(at, STEP_PAGE, "5 · Clip")
    assert at.slider(key="step1.sigma").value == 2.0 and at.slider(key=CLIP_RANGE).value == (0.0, 1.0)
    go(at, STEP_PAGE, 1)
    assert_clean(at, STEP_PAGE, "4 · Gaussian smoothing")


def test_a_new_step_goes_where_the_visitor_picks_and_the_pick_lasts_for_that_chain():
    at = open_app()
    places = at.selectbox(key="add_at")
    assert places.options == ["first", "after 4 · Sobel edges", "at the end"] and places.value == 2  # the end
    places.set_value(0).run()
    assert at.selectbox(key="add_at").value == 0  # a rerun keeps the visitor's pick
    at.selectbox(key="add_stage").set_value("gaussian")
    at.button(key="add_step").click().run()
    assert_clean(at, "app.py")
    assert chain_of(at) == "gaussian:sigma=1;sobel:mode=x;clip:lo=0,hi=1"
    assert at.selectbox(key="add_at").value == 3  # a new chain: the end again
    at.selectbox(key="add_at").set_value(2)  # after the Sobel step
    at.selectbox(key="add_stage").set_value("median")
    at.button(key="add_step").click().run()
    assert chain_of(at) == "gaussian:sigma=1;sobel:mode=x;median:size=3;clip:lo=0,hi=1"


def test_a_new_step_can_be_moved_down_and_every_stage_has_a_widget():
    at = open_app(query={"chain": ""})
    assert_clean(at, "app.py")
    for stage in ["threshold", "median", "laplace"]:
        at.selectbox(key="add_stage").set_value(stage)
        at.button(key="add_step").click().run()
    assert chain_of(at) == "threshold:method=otsu;median:size=3;laplace"
    at.radio(key="step1.method").set_value("value").run()  # its value appears when it matters
    at.number_input(key="step1.value").set_value(0.3).run()
    at.button(key="step1.down").click().run()
    assert_clean(at, "app.py")
    assert chain_of(at) == "median:size=3;threshold:method=value,value=0.3;laplace"
    assert at.slider(key="step1.size").value == 3 and at.number_input(key="step2.value").value == 0.3
    at.radio(key="step2.method").set_value("otsu").run()
    assert chain_of(at) == "median:size=3;threshold:method=otsu;laplace"
    assert all(widget.key != "step2.value" for widget in at.number_input)
    at.radio(key="step2.method").set_value("value").run()  # the value it had comes back
    assert at.number_input(key="step2.value").value == 0.3


def test_a_stage_added_to_the_table_gets_its_widgets_and_its_page(monkeypatch):
    invert = Stage(
        "invert", "Inverted", "Each value v becomes top - v.", lambda image, top, kind: top - image,
        (Param("top", float, 1.0, "what values are taken from", low=0.0, high=2.0),
         Param("kind", str, "plain", "a choice", choices=("plain", "other"), labels={"plain": "Plain words"})),
        output_range=lambda input_range, *, top, kind: (top - input_range[1], top - input_range[0]),
    )
    monkeypatch.setitem(STAGES, "invert", invert)  # the table the sidebar and the pages read
    at = open_app(query={"chain": "gaussian:sigma=1"})
    at.selectbox(key="add_stage").set_value("invert")
    at.button(key="add_step").click().run()
    at.slider(key="step2.top").set_value(1.5).run()
    at.radio(key="step2.kind").set_value("other").run()
    assert_clean(at, "app.py")
    assert chain_of(at) == "gaussian:sigma=1;invert:top=1.5,kind=other"
    assert at.radio(key="step2.kind").options == ["Plain words", "other"]
    go(at, STEP_PAGE, 2)
    assert_clean(at, STEP_PAGE, "5 · Inverted")
    assert "Where the output's values lie" in [s.value for s in at.subheader]


def test_a_sobel_mode_change_keeps_the_clip_range_inside_the_new_range():
    at = open_app(STEP_PAGE, {"chain": "sobel:mode=x;clip:lo=-3,hi=-1"}, step=2)
    assert at.slider(key=CLIP_RANGE).value == (-3.0, -1.0)
    at.radio(key=SOBEL_MODE).set_value("magnitude").run()
    assert_clean(at, STEP_PAGE, "5 · Clip")
    lo, hi = at.slider(key=CLIP_RANGE).value
    assert 0 <= lo < hi <= 4.48


def test_the_empty_chain_shows_the_stitched_image_as_the_result():
    at = open_app(query={"chain": ""})
    assert_clean(at, "app.py")
    assert at.query_params["chain"] == "" and step_links(at) == []
    assert len(at.get("image")) == 3
    at = go(at, STEP_PAGE, 1)
    assert not at.exception
    assert "The chain has 0 steps" in at.error[0].value


def test_a_clip_change_does_not_rerun_the_sobel_filter_or_reread_tiles(counted_steps):
    at = open_app(STEP_PAGE, step=2)
    assert counted_steps == {"stitch": 1, "sobel": 1, "clip": 1}
    at.slider(key=CLIP_RANGE).set_value((0.2, 0.6)).run()
    assert_clean(at, STEP_PAGE, "5 · Clip")
    assert counted_steps == {"stitch": 1, "sobel": 1, "clip": 2}
    at.radio(key=SOBEL_MODE).set_value("y").run()
    assert counted_steps == {"stitch": 1, "sobel": 2, "clip": 3}  # a new mode filters again, from memory
    at.radio(key=SOBEL_MODE).set_value("x").run()
    at.slider(key=CLIP_RANGE).set_value((0.2, 0.6)).run()
    assert counted_steps == {"stitch": 1, "sobel": 2, "clip": 3}  # both seen before: nothing runs


def test_a_change_to_one_step_runs_only_the_steps_after_it(counted_steps):
    at = open_app("app.py", {"chain": "gaussian:sigma=1;sobel:mode=x;clip:lo=0,hi=1"})
    assert counted_steps == {"stitch": 1, "gaussian": 1, "sobel": 1, "clip": 1}
    at.radio(key="step2.mode").set_value("magnitude").run()
    assert_clean(at, "app.py")
    assert counted_steps == {"stitch": 1, "gaussian": 1, "sobel": 2, "clip": 2}
    go(at, STEP_PAGE, 1)  # the Gaussian's page needs only the Gaussian: from the cache
    assert counted_steps == {"stitch": 1, "gaussian": 1, "sobel": 2, "clip": 2}


def test_a_clip_is_run_without_counting_its_values_until_a_page_shows_them(monkeypatch):
    import ui.services.runs as runs

    counted = []
    real = runs.output_histogram
    monkeypatch.setattr(runs, "output_histogram", lambda *args, **kwargs: counted.append(1) or real(*args, **kwargs))
    at = open_app(STEP_PAGE, {"chain": "sobel:mode=x;clip:lo=-1,hi=1;clip:lo=-0.5,hi=0.5"}, step=2)
    assert_clean(at, STEP_PAGE, "5 · Clip")  # its page shows the Sobel's histogram, counted with it
    assert counted == []
    at = go(at, STEP_PAGE, 3)  # the second clip cuts the first's values: counted now, once
    assert_clean(at, STEP_PAGE, "6 · Clip")
    assert "Where the input's values lie" in [s.value for s in at.subheader] and counted == [1]
    go(at, STEP_PAGE, 3)
    assert counted == [1]


def test_a_step_before_the_shown_one_counts_its_values_only_when_its_page_shows_them(monkeypatch):
    import ui.services.runs as runs

    counted = []
    real = runs.output_histogram
    monkeypatch.setattr(runs, "output_histogram", lambda *args, **kwargs: counted.append(1) or real(*args, **kwargs))
    at = open_app(STEP_PAGE, {"chain": "gaussian:sigma=1;sobel:mode=x;clip:lo=0,hi=1"}, step=3)
    assert_clean(at, STEP_PAGE, "6 · Clip")
    assert counted == []  # the clip's page draws the Sobel's values, counted with the Sobel
    at = go(at, STEP_PAGE, 1)
    assert_clean(at, STEP_PAGE, "4 · Gaussian smoothing")
    assert "Where the output's values lie" in [s.value for s in at.subheader] and counted == [1]
    go(at, STEP_PAGE, 1)
    assert counted == [1]


def test_a_clips_page_says_its_time_is_the_preview_alone():
    at = open_app(STEP_PAGE, step=2)
    assert_clean(at, STEP_PAGE, "5 · Clip")
    assert any(c.value.startswith("Wall time: the preview alone. Clip acts on each pixel alone") for c in at.caption)
    at = go(at, STEP_PAGE, 1)
    assert not any(c.value.startswith("Wall time: the preview alone") for c in at.caption)


def test_the_step_page_says_when_tiles_are_merged_for_the_filter():
    at = open_app(STEP_PAGE, {"rows": "16", "cols": "16"}, step=1)  # 32-px tiles of a 512-px sample
    assert_clean(at, STEP_PAGE)
    assert any("runs on 4 x 4 chunks rather than the 16 x 16 tiles" in c.value for c in at.caption)
    at = open_app(STEP_PAGE, {"rows": "2", "cols": "2"}, step=1)
    assert not any("chunks rather than" in c.value for c in at.caption)


def test_a_range_slider_whose_span_follows_the_step_before_says_so():
    at = open_app(STEP_PAGE, step=2)
    before = at.slider(key=CLIP_RANGE)
    assert not [c.value for c in at.sidebar.caption if "The slider now spans" in c.value]
    at.radio(key=SOBEL_MODE).set_value("magnitude").run()
    assert_clean(at, STEP_PAGE, "5 · Clip")
    after = at.slider(key=CLIP_RANGE)
    assert (after.min, after.max) != (before.min, before.max) and after.min == 0
    notes = [c.value for c in at.sidebar.caption if "The slider now spans" in c.value]
    assert notes == [f"The slider now spans [0, {after.max:g}] (it spanned [{before.min:g}, {before.max:g}]): "
                     "the values of the step before this one."]
    at.slider(key=CLIP_RANGE).set_value((0.1, 0.9)).run()  # said once: the next run has no news
    assert not [c.value for c in at.sidebar.caption if "The slider now spans" in c.value]
