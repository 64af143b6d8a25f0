"""The settings a view is made of, and the address that holds them, as plain functions:
``parse_query`` reads a query string into settings (and says what it ignored),
``query_of`` writes settings back, so that a copied link reproduces the view.

A part of a link that cannot be used is noted as ``part (why, and what instead)``, naming
stages as the sidebar does ("Mean filter", not ``uniform``): a grid or sample out of range
takes the default, a parameter its stage's default (the stage is kept), an unknown stage
is left out. The address holds one image: an upload, or a sample.

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
from core.pipeline import DEFAULT_CHAIN, GRAYSCALE_RANGE, STAGES, Stage, Step, chain_text
from core.pipeline.samples import DEFAULT_SAMPLE, SAMPLES

from .uploads import Upload

__all__ = [
    "CHAIN_SEPARATOR",
    "DEFAULTS",
    "MAX_GRID",
    "RANGE_PARAMS",
    "Settings",
    "described",
    "fit_ranges",
    "has_range",
    "link_report",
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
            ignored.append(
                f"upload={params['upload'][:16]}{'…' if len(params['upload']) > 16 else ''} (not an upload of this "
                "server: a link names one by 64 hexadecimal characters; the sample instead)"
            )
    if "sample" in params:
        if params["sample"] in SAMPLES:
            values["sample"] = params["sample"]
        else:
            ignored.append(
                f"sample={params['sample']} (no such sample; the samples are {', '.join(SAMPLES.values())}; "
                f"{SAMPLES[DEFAULTS['sample']]} instead)"
            )
    for key, axis in (("rows", "rows"), ("cols", "columns")):
        if key in params:
            try:
                number = int(params[key])
            except ValueError:
                number = 0
            if 1 <= number <= MAX_GRID:
                values[key] = number
            else:
                ignored.append(f"{key}={params[key]} (a grid has 1 to {MAX_GRID} {axis}; {DEFAULTS[key]} instead)")
    if "chain" in params:
        steps = _chain_from_text(params["chain"], ignored)
        ignored += [f"{key}={params[key]} (chain= replaces it)" for key in LEGACY_KEYS if key in params]
    elif any(key in params for key in LEGACY_KEYS):
        steps = _legacy_chain(params, ignored)
    else:
        return values, ignored
    values["chain"], moved = fit_ranges(tuple(steps))
    # Each note begins with its step's text: the stage's name, then ":".
    return values, ignored + [note.replace(" (", f" ({STAGES[note.split(':', 1)[0]].title}: ", 1) for note in moved]


def _allowed(param) -> str:
    """What a parameter takes, in words: ``one of x, y, magnitude``, ``a number from 0 to 20``."""
    if param.choices:
        return f"one of {', '.join(param.choices)}"
    kind = "a whole number" if param.type is int else "a number"
    if param.low is not None and param.high is not None:
        return f"{kind} from {param.low:g} to {param.high:g}"
    if param.low is not None:
        return f"{kind} of at least {param.low:g}"
    return kind


def _lenient_step(part: str, ignored: list[str]) -> Step | None:
    """The step ``part`` writes, each parameter that cannot be used at its default (noted);
    None, noted, for a stage that does not exist."""
    name, _, rest = part.partition(":")
    name = name.strip()
    if name not in STAGES:
        titles = ", ".join(stage.title for stage in STAGES.values())
        ignored.append(f"{part} (no stage by that name; the stages are {titles}; left out)")
        return None
    stage = STAGES[name]
    given = {}
    for pair in filter(None, (piece.strip() for piece in rest.split(","))):
        key, equals, value = (text.strip() for text in pair.partition("="))
        names = [p.name for p in stage.params]
        if not equals or key not in names:
            takes = f"takes {', '.join(names)}, written {name}:name=value" if names else "takes no parameters"
            ignored.append(f"{part} ({stage.title} {takes}; the rest left out)")
            continue
        param = stage.param(key)
        try:
            given[key] = param.convert(value, name)
        except PipelineError:
            ignored.append(
                f"{part} ({stage.title}: {key} must be {_allowed(param)}; its default, {param.text(param.default)}, instead)"
            )
    try:
        return stage.step(**given)
    except PipelineError as e:  # values fine alone, not together (clip's lo < hi)
        step = stage.step()
        ignored.append(f"{part} ({stage.title}: {str(e).removeprefix(f'{name} ')}; {step.text(STAGES)} instead)")
        return step


def _chain_from_text(text: str, ignored: list[str]) -> list[Step]:
    """The steps of ``chain=``; an empty value is an empty chain."""
    steps = (_lenient_step(part, ignored) for part in filter(None, (part.strip() for part in text.split(CHAIN_SEPARATOR))))
    return [step for step in steps if step is not None]


def _legacy_chain(params: Mapping[str, str], ignored: list[str]) -> list[Step]:
    """The chain an old link meant: Sobel in its mode (x unless given), then clip."""
    sobel, clip = DEFAULT_CHAIN
    if "sobel" in params:
        try:
            sobel = STAGES["sobel"].step(mode=params["sobel"])
        except PipelineError:
            mode = STAGES["sobel"].param("mode")
            ignored.append(f"sobel={params['sobel']} ({STAGES['sobel'].title}: mode must be {_allowed(mode)}; x instead)")
    if "clip" in params:
        try:
            lo, hi = params["clip"].split(",")
            clip = STAGES["clip"].step(lo=lo, hi=hi)
        except (ValueError, PipelineError):
            ignored.append(f"clip={params['clip']} ({STAGES['clip'].title}: written LO,HI with LO < HI; 0,1 instead)")
    return [sobel, clip]


def described(settings: Settings) -> str:
    """The settings in words, stages as the sidebar names them: ``Astronaut (portrait, RGB),
    2 x 2 tiles, and the chain Sobel edges (mode=x) → Clip (lo=0,hi=1)``."""
    image = f"your upload, {settings.upload.label}" if settings.upload else SAMPLES[settings.sample]
    steps = [
        f"{STAGES[step.stage].title} ({text.partition(':')[2]})" if ":" in text else STAGES[step.stage].title
        for step, text in zip(settings.chain, chain_text(settings.chain))
    ]
    chain = f"the chain {' → '.join(steps)}" if steps else "no chain of stages"
    return f"{image}, {settings.rows} x {settings.cols} tiles, and {chain}"


def link_report(notes: list[str], settings: Settings) -> str:
    """Markdown for the top of the page a link opened: each part of it that could not be
    used, why and what instead (``part (why)``), and the ``settings`` shown."""
    lines = []
    for note in notes:
        part, _, why = note.partition(" (")
        # The part as the link wrote it, as code: a link's text never becomes the page's markup.
        lines.append(f"- `{part.replace('`', '')}`" + (f" ({why}" if why else ""))
    return (
        "**This link asks for things this app cannot show**, so it shows what it can:\n"
        + "\n".join(lines)
        + f"\n\nShown: {described(settings)}. The address stays as it came until you change a setting."
    )


def query_of(settings: Settings) -> dict[str, str]:
    """The query string that reproduces ``settings``: one image, the upload or the sample."""
    if settings.upload is None:
        query = {"sample": settings.sample}
    else:
        query = {"upload": settings.upload.digest}
        if settings.upload.file_name:
            query["name"] = settings.upload.file_name
    query.update(rows=str(settings.rows), cols=str(settings.cols), chain=CHAIN_SEPARATOR.join(chain_text(settings.chain)))
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


