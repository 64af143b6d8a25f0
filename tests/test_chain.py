"""How a chain is written, read back and checked."""

import re

import pytest

from core.errors import PipelineError
from core.pipeline.chain import Param, Stage, Step, step_labels
from core.pipeline.stage_table import DEFAULT_CHAIN, STAGES, chain_text, parse_chain


def test_the_default_chain_is_the_tutorials():
    assert chain_text(DEFAULT_CHAIN) == ["sobel:mode=x", "clip:lo=0,hi=1"]


@pytest.mark.parametrize("text", [
    "gaussian:sigma=2", "median:size=5", "sobel:mode=magnitude", "prewitt:mode=y", "laplace",
    "clip:lo=-0.5,hi=2.25", "threshold:method=otsu", "threshold:method=value,value=0.3", "label:connectivity=2",
])
def test_a_step_reads_back_from_its_text(text):
    (step,) = parse_chain([text])
    assert chain_text((step,)) == [text]
    assert parse_chain(chain_text((step,))) == (step,)


def test_missing_parameters_take_their_defaults_and_spaces_are_ignored():
    (step,) = parse_chain([" gaussian "])
    assert step == STAGES["gaussian"].step(sigma=STAGES["gaussian"].param("sigma").default)
    assert parse_chain(["clip: lo = 0.1 , hi = 0.9"]) == parse_chain(["clip:lo=0.1,hi=0.9"])


def test_a_threshold_value_alone_means_method_value():
    (step,) = parse_chain(["threshold:value=0.3"])
    assert step.values == {"method": "value", "value": 0.3}
    (otsu,) = parse_chain(["threshold"])
    assert otsu.values["method"] == "otsu"
    assert chain_text((otsu,)) == ["threshold:method=otsu"]  # the unused value is left out


def test_steps_are_values_that_key_caches():
    assert parse_chain(["gaussian:sigma=2"]) == parse_chain(["gaussian:sigma=2.0"])
    assert hash(parse_chain(["gaussian:sigma=2"])) == hash(parse_chain(["gaussian:sigma=2.0"]))
    assert parse_chain(["gaussian:sigma=2"]) != parse_chain(["gaussian:sigma=3"])


def test_whole_numbers_refuse_fractions_but_accept_their_float_spelling():
    assert parse_chain(["median:size=5.0"])[0].values == {"size": 5}
    with pytest.raises(PipelineError, match=re.escape("median:size must be a whole number, got '2.5'")):
        parse_chain(["median:size=2.5"])


@pytest.mark.parametrize("text, message", [
    ("blur", "unknown stage 'blur'"),
    ("gaussian:sig=2", "gaussian takes sigma, not sig"),
    ("laplace:size=3", "laplace takes no parameters"),
    ("clip:lo", "parameters are written clip:name=value"),
    ("clip:lo=0,lo=1,hi=2", "lo is given twice"),
    ("gaussian:sigma=abc", "gaussian:sigma must be a number"),
    ("gaussian:sigma=inf", "finite"),
])
def test_mistakes_are_one_readable_line(text, message):
    with pytest.raises(PipelineError, match=message) as caught:
        parse_chain([text])
    assert "\n" not in str(caught.value)


def test_labels_are_unique_in_a_chain():
    chain = parse_chain(["gaussian:sigma=1", "sobel", "gaussian:sigma=2", "clip", "gaussian"])
    assert step_labels(chain) == ["gaussian", "sobel", "gaussian 2", "clip", "gaussian 3"]


def test_a_stage_declared_anywhere_works_like_the_tables():
    # What adding a stage takes: its declaration; parsing and writing come with it.
    square = Stage("square", "Square", "each value squared", lambda image, *, power: image**power,
                   (Param("power", int, 2, "the exponent", low=1, high=4),))
    table = {"square": square}
    from core.pipeline.chain import parse_step

    step = parse_step("square:power=3", table)
    assert step == Step("square", (("power", 3),)) and step.text(table) == "square:power=3"
    with pytest.raises(PipelineError, match=r"square:power must lie in \[1, 4\], got 5"):
        parse_step("square:power=5", table)
