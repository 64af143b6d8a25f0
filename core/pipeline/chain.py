"""What a stage of the user's chain is: its parameters, how it is written, how it is checked.

A ``Stage`` is declared once (``core.pipeline.stage_table.STAGES``) with its name, its
function on dask arrays and its parameters. A ``Step`` is one use of a stage in a chain, with every
parameter's value; ``str(step)`` is how the command line, the shared links and the cache
keys write it: ``gaussian:sigma=2``. Nothing here knows any particular stage.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import dask.array as da
import numpy as np

from ..errors import PipelineError

__all__ = ["Param", "ResultKind", "Stage", "Step", "parse_step", "step_labels"]

ValueRange = tuple[float, float]


class ResultKind(StrEnum):
    """What a stage's output holds, which decides how it is stored, drawn and shrunk.

    A ``StrEnum``: each member equals its name as text (``ResultKind.MASK == "mask"``),
    which is how cache keys, links and JSON write it.
    """

    VALUES = "values"  #: numbers, stored as float32; drawn black..white over a range
    MASK = "mask"  #: 0 or 1, stored as uint8; drawn black and white
    LABELS = "labels"  #: region numbers, 0 the background, in their own integer type

    @property
    def dtype(self) -> np.dtype | None:
        """The type a result of this kind is stored as; None: the type it has."""
        return {ResultKind.VALUES: np.dtype(np.float32), ResultKind.MASK: np.dtype(np.uint8)}.get(self)

    @property
    def categorical(self) -> bool:
        """Whether the numbers name categories (a mask, regions), which a mean of two would
        turn into a category neither is: such results shrink by keeping pixels, not averaging."""
        return self is not ResultKind.VALUES

    def stored(self, result):
        """``result`` (NumPy or dask) as this kind stores it."""
        return result if self.dtype is None else result.astype(self.dtype)


@dataclass(frozen=True)
class Param:
    """One parameter of a stage: its type, default, bounds or choices, and a line of help.

    ``low`` and ``high`` are inclusive. ``shown_when`` names another parameter and the
    value it must have for this one to matter (threshold's ``value`` only with
    ``method=value``); a parameter that does not matter is left out of a step's text.
    """

    name: str
    type: type  # float, int or str
    default: object
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)  # words for each choice
    shown_when: tuple[str, str] | None = None

    def convert(self, value, stage: str):
        """``value`` (text from a command line or a link, or a widget's number) as this
        parameter's type, checked; raises ``PipelineError`` saying what was expected."""
        where = f"{stage}:{self.name}"
        if self.type is str:
            value = str(value)
            if value not in self.choices:
                raise PipelineError(f"{where} must be one of {', '.join(self.choices)}, got {value!r}")
            return value
        try:
            number = self.type(value) if self.type is float else _as_int(value)
        except (TypeError, ValueError):
            kind = "a number" if self.type is float else "a whole number"
            raise PipelineError(f"{where} must be {kind}, got {value!r}") from None
        if not math.isfinite(number):
            raise PipelineError(f"{where} must be a finite number, got {value!r}")
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise PipelineError(f"{where} must lie in [{self.low:g}, {self.high:g}], got {number:g}")
        return number

    def text(self, value) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)


def _as_int(value) -> int:
    number = float(value)
    if not number.is_integer():
        raise ValueError(value)
    return int(number)


@dataclass(frozen=True)
class Stage:
    """One kind of stage, as every part of the product needs to know it.

    ``apply(image, **values)`` builds the stage lazily on the previous stage's dask array.
    ``output_range(input_range, **values)`` bounds its output for an input in
    ``input_range`` (the grayscale image lies in [0, 1]): the pictures map it to
    black..white, and the clip slider offers it. ``check(values)`` raises
    ``PipelineError`` for combinations no single parameter can refuse (clip's lo >= hi).
    ``resolve(values, given)`` fills parameters implied by the ones given
    (``threshold:value=0.5`` means ``method=value``). ``code`` is the call the exported
    notebook makes (``code_line``): a template, or a function of the values giving one.
    ``pointwise``: each output pixel depends on the same input pixel alone, so every n-th
    pixel of the output is the stage applied to every n-th pixel of its input.
    """

    name: str
    title: str  # "Gaussian smoothing"
    about: str  # what it does, for its page
    apply: Callable[..., da.Array]
    params: tuple[Param, ...] = ()
    kind: ResultKind = ResultKind.VALUES
    output_range: Callable[..., ValueRange] = lambda input_range, **values: input_range
    check: Callable[[dict], None] | None = None
    resolve: Callable[[dict, set[str]], dict] | None = None
    code: str | Callable[..., str] | None = None
    pointwise: bool = False

    def __post_init__(self):
        object.__setattr__(self, "kind", ResultKind(self.kind))  # "mask" is ResultKind.MASK

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)

    def step(self, **given) -> Step:
        """A step of this stage: ``given`` values (text or numbers) checked, the others at
        their defaults."""
        names = {p.name for p in self.params}
        unknown = sorted(set(given) - names)
        if unknown:
            takes = f"takes {', '.join(sorted(names))}" if names else "takes no parameters"
            raise PipelineError(f"{self.name} {takes}, not {', '.join(unknown)}")
        values = {p.name: p.convert(given[p.name], self.name) if p.name in given else p.default for p in self.params}
        if self.resolve is not None:
            values = self.resolve(values, set(given))
        if self.check is not None:
            self.check(values)
        return Step(self.name, tuple(values.items()))

    def code_line(self, image: str, values: Mapping, *, float_input: bool = True) -> str | None:
        """The plain dask / dask-image / scikit-image call this stage is, on the variable
        ``image``; None for a stage declared without one.

        In the template, ``{image}`` is the input as it is and ``{float_image}`` the input
        as float32 (a filter of a uint8 mask would keep its type and wrap around), which is
        ``image`` itself when ``float_input``; each parameter's name is its value as Python
        writes it.
        """
        if self.code is None:
            return None
        template = self.code(**values) if callable(self.code) else self.code
        float_image = image if float_input else f"{image}.astype(numpy.float32)"
        return template.format(image=image, float_image=float_image, **{k: repr(v) for k, v in values.items()})

    def shown(self, values: Mapping) -> list[Param]:
        """The parameters that matter for these values."""
        return [p for p in self.params if p.shown_when is None or values[p.shown_when[0]] == p.shown_when[1]]


@dataclass(frozen=True)
class Step:
    """One stage of a chain with all its parameter values; hashable, so it keys caches."""

    stage: str
    items: tuple[tuple[str, object], ...] = ()

    @property
    def values(self) -> dict:
        return dict(self.items)

    def text(self, stages: Mapping[str, Stage]) -> str:
        """``name:k=v,k2=v2``, the form ``parse_step`` reads back, without the parameters
        that do not matter for these values."""
        stage, values = stages[self.stage], self.values
        shown = ",".join(f"{p.name}={p.text(values[p.name])}" for p in stage.shown(values))
        return f"{self.stage}:{shown}" if shown else self.stage

    def with_values(self, stages: Mapping[str, Stage], **changes) -> Step:
        """This step with ``changes`` (text or numbers) converted and checked, and every other
        value kept, including those that do not matter now: a dashboard that switches
        threshold's method to Otsu and back finds its value again. Raises ``PipelineError``."""
        stage = stages[self.stage]
        values = {**self.values, **{name: stage.param(name).convert(value, stage.name) for name, value in changes.items()}}
        if stage.check is not None:
            stage.check(values)
        return Step(self.stage, tuple(values.items()))


def parse_step(text: str, stages: Mapping[str, Stage]) -> Step:
    """A ``Step`` from ``name`` or ``name:k=v,k2=v2``; raises ``PipelineError`` in one line."""
    name, _, rest = text.strip().partition(":")
    if name not in stages:
        raise PipelineError(f"unknown stage {name!r} in {text!r}; stages: {', '.join(stages)}")
    given = {}
    for pair in filter(None, (part.strip() for part in rest.split(","))):
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise PipelineError(f"{text!r}: parameters are written {name}:name=value,name=value")
        if key.strip() in given:
            raise PipelineError(f"{text!r}: {key.strip()} is given twice")
        given[key.strip()] = value.strip()
    return stages[name].step(**given)


def step_labels(chain: tuple[Step, ...]) -> list[str]:
    """A name per step, unique in the chain: ``gaussian``, then ``gaussian 2`` for a second
    Gaussian. Stage timings and the pages' titles use it."""
    seen: dict[str, int] = {}
    labels = []
    for step in chain:
        seen[step.stage] = seen.get(step.stage, 0) + 1
        labels.append(step.stage if seen[step.stage] == 1 else f"{step.stage} {seen[step.stage]}")
    return labels
