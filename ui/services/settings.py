"""The settings a view is made of, and the address that holds them, as plain functions:
``parse_query`` reads a query string into settings (and says what it ignored),
``query_of`` writes settings back, so that a copied link reproduces the view.

``chain=gaussian:sigma=2;sobel:mode=x`` writes each step as ``Step.text`` does; links from
before the chain (``sobel=MODE&clip=LO,HI``) open the chain they meant. A range (a clip's
``lo`` and ``hi``) is kept inside the slider that shows it (``fit_ranges``). Nothing here
uses Streamlit: ``tests/test_settings.py`` checks it alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import PipelineError
from core.pipeline import DEFAULT_CHAIN, GRAYSCALE_RANGE, STAGES, Stage, Step, chain_text, parse_step
from core.pipeline.samples import DEFAULT_SAMPLE, SAMPLES

from .uploads import Upload

__all__ = [
    "CHAIN_SEPARATOR",
    "DEFAULTS",
    "MAX_GRID",
    "RANGE_PARAMS",
    "Settings",
    "fit_ranges",
    "has_range",
    "parse_query",
    "query_of",
    "slider_grid",
]

MAX_GRID = 16
DEFAULTS = {"sample": DEFAULT_SAMPLE, "rows": 2, "cols": 2}
#: Between the steps of ``chain=`` in a link: ``,`` and ``=`` are taken by ``Step.text``.
CHAIN_SEPARATOR = ";"
#: What links said before the chain: ``sobel=MODE&clip=LO,HI``, Sobel then clip.
LEGACY_KEYS = ("sobel", "clip")
#: Longest upload name kept from a link: it is only shown, never used as a path.
MAX_NAME = 200
#: The parameters a stage's range slider shows together.
RANGE_PARAMS = ("lo", "hi")
#: Slider positions across a parameter's range, about: the step is a power of ten.
SLIDER_POSITIONS = 100


@dataclass(frozen=True)
class Settings:
    sample: str
    rows: int
    cols: int
    chain: tuple[Step, ...]
    upload: Upload | None

    @property
    def grid(self) -> tuple[int, int]:
        return self.rows, self.cols


def parse_query(params: Mapping[str, str]) -> tuple[dict, list[str]]:
    """Valid settings from a query string, and a note for each part that was ignored.

    ``upload`` is the SHA-256 of a file uploaded to this server: knowing it is what lets a
    teammate open the same picture, as unguessable as a private link; ``name`` is the
    file's name as uploaded, so that the sidebar still names it after a server restart.
    """
    values, ignored = {}, []
    if "upload" in params:
        if re.fullmatch(r"[0-9a-f]{64}", params["upload"]):
            name = params.get("name", "").strip()[:MAX_NAME] or None
            values["upload"] = Upload(digest=params["upload"], file_name=name)
        else:
            ignored.append("upload=…")
    if "sample" in params:
        if params["sample"] in SAMPLES:
            values["sample"] = params["sample"]
        else:
            ignored.append(f"sample={params['sample']}")
    for key in ("rows", "cols"):
        if key in params:
            try:
                number = int(params[key])
            except ValueError:
                number = 0
            if 1 <= number <= MAX_GRID:
                values[key] = number
            else:
                ignored.append(f"{key}={params[key]}")
    if "chain" in params:
        steps = _chain_from_text(params["chain"], ignored)
        ignored += [f"{key}={params[key]} (chain= replaces it)" for key in LEGACY_KEYS if key in params]
    elif any(key in params for key in LEGACY_KEYS):
        steps = _legacy_chain(params, ignored)
    else:
        return values, ignored
    values["chain"], moved = fit_ranges(tuple(steps))
    return values, ignored + moved


def _chain_from_text(text: str, ignored: list[str]) -> list[Step]:
    """The steps of ``chain=``; an empty value is an empty chain, a bad part is left out."""
    steps = []
    for part in filter(None, (part.strip() for part in text.split(CHAIN_SEPARATOR))):
        try:
            steps.append(parse_step(part, STAGES))
        except PipelineError as e:
            ignored.append(f"{part} ({e})")
    return steps


def _legacy_chain(params: Mapping[str, str], ignored: list[str]) -> list[Step]:
    """The chain an old link meant: Sobel in its mode (x unless given), then clip."""
    sobel, clip = DEFAULT_CHAIN
    if "sobel" in params:
        try:
            sobel = STAGES["sobel"].step(mode=params["sobel"])
        except PipelineError:
            ignored.append(f"sobel={params['sobel']}")
    if "clip" in params:
        try:
            lo, hi = params["clip"].split(",")
            clip = STAGES["clip"].step(lo=lo, hi=hi)
        except (ValueError, PipelineError):
            ignored.append(f"clip={params['clip']}")
    return [sobel, clip]


def query_of(settings: Settings) -> dict[str, str]:
    """The query string that reproduces ``settings``."""
    query = {"sample": settings.sample, "rows": str(settings.rows), "cols": str(settings.cols)}
    query["chain"] = CHAIN_SEPARATOR.join(chain_text(settings.chain))
    if settings.upload is not None:
        query["upload"] = settings.upload.digest
        if settings.upload.file_name:
            query["name"] = settings.upload.file_name
    return query


def has_range(stage: Stage) -> bool:
    """Whether the stage has a ``lo`` and a ``hi``, shown as one range slider."""
    numbers = {p.name for p in stage.params if p.type is float}
    return set(RANGE_PARAMS) <= numbers


def slider_grid(value_range: tuple[float, float]) -> tuple[float, float, float]:
    """(low, high, increment) of a slider over ``value_range``: a power of ten for an
    increment, about ``SLIDER_POSITIONS`` positions, and both ends on its grid, inside the
    range (Sobel's magnitude reaches sqrt(20), which the slider offers as 4.47)."""
    lo, hi = value_range
    increment = 10.0 ** math.floor(math.log10((hi - lo) / SLIDER_POSITIONS))
    digits = max(0, -math.floor(math.log10(increment)))
    low = round(math.ceil(lo / increment - 1e-9) * increment, digits)
    high = round(math.floor(hi / increment + 1e-9) * increment, digits)
    return low, high, increment


def fit_ranges(chain: tuple[Step, ...]) -> tuple[tuple[Step, ...], list[str]]:
    """The chain with each range (``lo``, ``hi``) moved inside its slider, over the range of
    the step's input, and a note for each range that moved.

    A range that no longer overlaps the slider takes the stage's defaults, or the whole
    slider if those do not fit either: after Sobel's mode changes from x to magnitude, a
    clip of [-3, -1] becomes [0, 1].
    """
    fitted, notes = [], []
    input_range = GRAYSCALE_RANGE
    for step in chain:
        stage = STAGES[step.stage]
        if has_range(stage):
            low, high, _ = slider_grid(input_range)
            lo, hi = (step.values[name] for name in RANGE_PARAMS)
            new_lo, new_hi = (min(max(bound, low), high) for bound in (lo, hi))
            if not new_lo < new_hi:
                defaults = tuple(stage.param(name).default for name in RANGE_PARAMS)
                new_lo, new_hi = defaults if low <= defaults[0] < defaults[1] <= high else (low, high)
            if (new_lo, new_hi) != (lo, hi):
                before = step.text(STAGES)
                step = step.with_values(STAGES, lo=new_lo, hi=new_hi)
                notes.append(f"{before} (outside [{low:g}, {high:g}]: {step.text(STAGES)} instead)")
        fitted.append(step)
        input_range = stage.output_range(input_range, **step.values)
    return tuple(fitted), notes


