"""The settings <-> address functions (``ui.services.settings``), without Streamlit."""

import pytest

from core.pipeline import DEFAULT_CHAIN, STAGES, parse_chain
from ui.services.settings import (
    DEFAULTS,
    MAX_GRID,
    Settings,
    fit_ranges,
    has_range,
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


@pytest.mark.parametrize("query, note", [
    ({"rows": "0"}, "rows=0"),
    ({"cols": str(MAX_GRID + 1)}, f"cols={MAX_GRID + 1}"),
    ({"rows": "two"}, "rows=two"),
    ({"sample": "nope"}, "sample=nope"),
    ({"upload": "../etc/passwd"}, "upload=…"),
])
def test_a_bad_value_is_left_out_and_noted(query, note):
    values, ignored = parse_query(query)
    assert values == {} and ignored == [note]


def test_a_bad_step_is_left_out_and_the_others_kept():
    values, ignored = parse_query({"chain": "gaussian:sigma=2;blur;median:size=0;laplace"})
    assert [step.stage for step in values["chain"]] == ["gaussian", "laplace"]
    assert [note.split(" ")[0] for note in ignored] == ["blur", "median:size=0"]


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
