"""The settings <-> address functions (``ui.services.settings``), without Streamlit."""

import pytest

from core.pipeline import DEFAULT_CHAIN, STAGES, parse_chain
from ui.services.settings import (
    DEFAULTS,
    MAX_GRID,
    Settings,
    described,
    fit_ranges,
    has_range,
    link_report,
    parse_query,
    query_of,
    slider_grid,
)
from ui.services.uploads import Upload

DIGEST = "ab" * 32


def settings(**changes) -> Settings:
    values = {**DEFAULTS, "chain": DEFAULT_CHAIN, "upload": None, **changes}
    return Settings(values["sample"], values["rows"], values["cols"], values["chain"], values["upload"])


@pytest.mark.parametrize("view", [
    settings(),
    settings(sample="coins", rows=3, cols=16, chain=parse_chain(["gaussian:sigma=2", "threshold", "label"])),
    settings(chain=()),
    settings(upload=Upload(DIGEST, "holiday photo.png"), chain=parse_chain(["clip:lo=0.25,hi=0.5"])),
    settings(upload=Upload(DIGEST, None)),
])
def test_an_address_written_from_settings_reads_back_as_the_same_settings(view):
    values, ignored = parse_query(query_of(view))
    assert ignored == []
    assert settings(**values) == view


def test_the_address_of_the_defaults_names_every_setting():
    assert query_of(settings()) == {"sample": "astronaut", "rows": "2", "cols": "2", "chain": "sobel:mode=x;clip:lo=0,hi=1"}


def test_an_empty_chain_is_a_chain_and_a_missing_one_is_the_default():
    assert parse_query({"chain": ""}) == ({"chain": ()}, [])
    assert parse_query({}) == ({}, [])


@pytest.mark.parametrize("query, part, allowed", [
    ({"rows": "0"}, "rows=0", f"a grid has 1 to {MAX_GRID} rows; 2 instead"),
    ({"cols": str(MAX_GRID + 1)}, f"cols={MAX_GRID + 1}", f"a grid has 1 to {MAX_GRID} columns; 2 instead"),
    ({"rows": "two"}, "rows=two", f"a grid has 1 to {MAX_GRID} rows; 2 instead"),
    ({"sample": "nope"}, "sample=nope", "Astronaut, 16 MPix (4096 x 4096, made on first use); Astronaut (portrait, RGB) instead"),
    ({"upload": "../etc/passwd"}, "upload=../etc/passwd", "64 hexadecimal characters; the sample instead"),
])
def test_a_bad_value_is_left_out_and_noted_with_what_is_allowed_and_used_instead(query, part, allowed):
    values, ignored = parse_query(query)
    assert values == {} and [note.split(" (")[0] for note in ignored] == [part]
    assert ignored[0].endswith(f"{allowed})")


def test_an_unknown_stage_is_left_out_and_a_bad_parameter_takes_its_default_keeping_its_stage():
    values, ignored = parse_query({"chain": "gaussian:sigma=abc;blur;median:size=0;laplace;clip:lo=5,hi=1;uniform:size=3,k=2"})
    assert [step.text(STAGES) for step in values["chain"]] == [
        "gaussian:sigma=1", "median:size=3", "laplace", "clip:lo=0,hi=1", "uniform:size=3",
    ]
    assert [note.split(" (")[0] for note in ignored] == [
        "gaussian:sigma=abc", "blur", "median:size=0", "clip:lo=5,hi=1", "uniform:size=3,k=2",
    ]
    # Stages are named as the sidebar names them, with what they allow and what is used.
    assert ignored[0].endswith("(Gaussian smoothing: sigma must be a number from 0 to 20; its default, 1, instead)")
    assert "the stages are Gaussian smoothing, Median filter, Mean filter," in ignored[1]
    assert ignored[2].endswith("(Median filter: size must be a whole number from 1 to 25; its default, 3, instead)")
    assert ignored[3].endswith("(Clip: needs lo < hi, got lo=5 and hi=1; clip:lo=0,hi=1 instead)")
    assert ignored[4].endswith("(Mean filter takes size, written uniform:name=value; the rest left out)")


def test_the_address_holds_one_image_an_upload_replacing_the_sample():
    query = query_of(settings(sample="coins", upload=Upload(DIGEST, "street.png")))
    assert "sample" not in query and query["upload"] == DIGEST and query["name"] == "street.png"
    assert list(query_of(settings(sample="coins")))[:1] == ["sample"]


def test_a_link_report_says_what_was_not_used_and_what_is_shown():
    values, ignored = parse_query({"rows": "0", "chain": "uniform:size=0;label;cl`ip:[x](http://elsewhere)"})
    report = link_report(ignored, settings(**values))
    assert report.startswith("**This link asks for things this app cannot show**")
    assert "- `rows=0` (a grid has 1 to 16 rows; 2 instead)" in report
    assert "- `clip:[x](http://elsewhere)` (no stage by that name" in report  # as code, never a link
    assert report.endswith(
        "Shown: Astronaut (portrait, RGB), 2 x 2 tiles, and the chain Mean filter (size=3) → Labels "
        "(connectivity=1). The address stays as it came until you change a setting."
    )
    upload = settings(upload=Upload(DIGEST, "street.png"), chain=())
    assert described(upload) == "your upload, street.png, 2 x 2 tiles, and no chain of stages"


def test_links_from_before_the_chain_open_sobel_then_clip():
    values, ignored = parse_query({"sobel": "magnitude", "clip": "0,2"})
    assert [step.text(STAGES) for step in values["chain"]] == ["sobel:mode=magnitude", "clip:lo=0,hi=2"]
    values, ignored = parse_query({"chain": "laplace", "sobel": "y"})
    assert [step.stage for step in values["chain"]] == ["laplace"] and ignored == ["sobel=y (chain= replaces it)"]


def test_an_upload_name_from_a_link_is_kept_short_and_never_required():
    values, _ = parse_query({"upload": DIGEST, "name": "x" * 500})
    assert values["upload"].file_name == "x" * 200
    assert parse_query({"upload": DIGEST})[0]["upload"] == Upload(DIGEST, None)


@pytest.mark.parametrize("value_range, grid", [
    ((0.0, 1.0), (0.0, 1.0, 0.01)),
    ((-4.0, 4.0), (-4.0, 4.0, 0.01)),  # the largest power of ten giving at least 100
    ((0.0, 20 ** 0.5), (0.0, 4.47, 0.01)),  # Sobel's magnitude: both ends on the grid, inside
    ((0.0, 1000.0), (0.0, 1000.0, 10.0)),
])
def test_a_slider_steps_by_a_power_of_ten_giving_at_least_a_hundred_positions(value_range, grid):
    low, high, increment = slider_grid(value_range)
    assert (low, high) == pytest.approx(grid[:2]) and increment == pytest.approx(grid[2])
    assert value_range[0] <= low < high <= value_range[1]


def test_a_range_is_moved_inside_the_slider_over_its_input():
    chain, notes = fit_ranges(parse_chain(["sobel:mode=x", "clip:lo=-10,hi=2"]))
    assert chain[1].values == {"lo": -4.0, "hi": 2.0}
    assert notes == ["clip:lo=-10,hi=2 (outside [-4, 4]: clip:lo=-4,hi=2 instead)"]
    # A magnitude is never negative: a range below zero takes the clip's defaults.
    chain, _ = fit_ranges(parse_chain(["sobel:mode=magnitude", "clip:lo=-3,hi=-1"]))
    assert chain[1].values == {"lo": 0.0, "hi": 1.0}
    unchanged = parse_chain(["gaussian:sigma=2", "clip:lo=0.2,hi=0.6"])
    assert fit_ranges(unchanged) == (unchanged, [])


def test_only_stages_with_lo_and_hi_get_a_range_slider():
    assert [name for name, stage in STAGES.items() if has_range(stage)] == ["clip"]
