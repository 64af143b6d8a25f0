"""The chain of steps in the sidebar: a box per step with its parameters and buttons to
move or remove it, and "Add a stage" below them.

Every widget is derived from the stage table (``core.pipeline.STAGES``), so a new stage
needs no change here: a parameter with choices becomes a radio (or a select box, past
``MAX_RADIO_CHOICES``) showing the choices' labels, a number with both bounds a slider,
any other number a number input, and a stage's ``lo`` and ``hi`` one range slider over
its input's range (``ui.services.settings.slider_grid``). A parameter with
``shown_when`` appears only when it matters.

The chain's home in session state is ``CHAIN``, a list of Steps. Its widgets are keyed by
position (``step1.sigma`` is the first step's sigma), as the address numbers the steps:
after a server restart, the open tab's next click names a widget that the new session,
built from the address alone, draws under the same key. Callbacks change ``CHAIN``; each
run sets the widgets from it, as ``ui.sidebar`` does for the other settings, so a step
moved or removed takes its values to the widgets of its new position.
"""

from __future__ import annotations

import re

import streamlit as st

from core.errors import PipelineError
from core.pipeline import GRAYSCALE_RANGE, STAGES, Stage, Step, chain_text, output_ranges

from .services.pages import step_title
from .services.settings import RANGE_PARAMS, fit_ranges, has_range, slider_grid

__all__ = [
    "ADD_AT",
    "ADD_BUTTON",
    "ADD_STAGE",
    "CHAIN",
    "chain_in_session",
    "draw_chain_editor",
    "range_key",
    "set_chain",
    "show",
    "shown_by_default",
    "widget_key",
]

CHAIN = "_chain"
PROBLEM = "_chain_problem"
SHOWN_AS = "_widget_identities"  # per key, what ``show`` last drew it with
RANGES_SHOWN = "_slider_ranges"  # per range slider's key, the input range it last spanned
ADD_STAGE = "add_stage"
ADD_AT = "add_at"  # where the new step goes: its position in the chain, from 0
ADD_BUTTON = "add_step"
MAX_RADIO_CHOICES = 4


def widget_key(index: int, name: str) -> str:
    """The key of a widget of the step at ``index`` (from 0): ``step1.sigma``, ``step1.up``."""
    return f"step{index + 1}.{name}"


def range_key(index: int) -> str:
    """The key of a step's range slider, for its ``lo`` and ``hi``."""
    return widget_key(index, "lo_hi")


def _is_step_key(key: str) -> bool:
    return re.fullmatch(r"step\d+\..+", key) is not None


def show(key: str, value, new_page: bool, identity: tuple = ()) -> None:
    """Make the widget ``key`` show ``value`` on this run, setting it only if it shows
    something else or is a new widget: a value set is sent to the browser again, over
    whatever the visitor has begun to type there.

    A widget is new on a new page, and when ``identity`` changes: the arguments besides
    its key that Streamlit makes its id of (a slider's bounds and step). Until the new one
    is drawn, the key still reads the old one's value.
    """
    state = st.session_state
    identities = state.setdefault(SHOWN_AS, {})
    if new_page or identities.get(key) != identity or key not in state or state[key] != value:
        state[key] = value
    identities[key] = identity


def shown_by_default(key: str, identity: tuple = ()) -> None:
    """The widget ``key`` is drawn with its value as a default on this run (a session's
    first): the next run's ``show`` need not set it again."""
    st.session_state.setdefault(SHOWN_AS, {})[key] = identity


def set_chain(chain: tuple[Step, ...]) -> None:
    """Start the session's chain afresh."""
    st.session_state[CHAIN] = list(chain)
    st.session_state[PROBLEM] = None


def chain_in_session() -> tuple[Step, ...]:
    return tuple(st.session_state[CHAIN])


def _store(steps: list[Step]) -> None:
    st.session_state[CHAIN] = list(fit_ranges(tuple(steps))[0])
    st.session_state[PROBLEM] = None


def _aimed_elsewhere(steps: list[Step], index: int, names=()) -> bool:
    """Whether an action finds no step for it at ``index``, or one without the parameters
    ``names``: a click queued behind one that removed or moved a step names a place in the
    chain the tab showed, which may be past the end now, or another stage's."""
    return not 0 <= index < len(steps) or not set(names) <= {p.name for p in STAGES[steps[index].stage].params}


def _change(index: int, changes: dict) -> None:
    steps = list(st.session_state[CHAIN])
    if _aimed_elsewhere(steps, index, changes):
        return
    try:
        steps[index] = steps[index].with_values(STAGES, **changes)
    except PipelineError as e:  # the widget goes back to the step's value on this run
        st.session_state[PROBLEM] = f"Not changed: {e}."
        return
    _store(steps)


def _changed_param(index: int, name: str) -> None:
    _change(index, {name: st.session_state[widget_key(index, name)]})


def _changed_range(index: int) -> None:
    _change(index, dict(zip(RANGE_PARAMS, st.session_state[range_key(index)])))


def _move(index: int, offset: int) -> None:
    steps = list(st.session_state[CHAIN])
    # The buttons at the ends are disabled, but a click can be queued behind another.
    if not _aimed_elsewhere(steps, index) and 0 <= index + offset < len(steps):
        steps.insert(index + offset, steps.pop(index))
        _store(steps)


def _remove(index: int) -> None:
    steps = list(st.session_state[CHAIN])
    if not _aimed_elsewhere(steps, index):
        del steps[index]
        _store(steps)


def _add() -> None:
    state = st.session_state
    steps = list(state[CHAIN])
    # A position past the end (a click queued behind a removal) is the end.
    at = min(state.get(ADD_AT, len(steps)), len(steps))
    steps.insert(at, STAGES[state[ADD_STAGE]].step())
    _store(steps)


class _Drawing:
    """How this run draws the widgets: from the chain (``show``), or, on a session's first
    run (``fresh``), with the chain's values as defaults, collecting the browser's actions
    to apply once every widget is drawn."""

    def __init__(self, fresh: bool, new_page: bool):
        self.fresh, self.new_page = fresh, new_page
        self.changes: list = []
        self.clicks: list = []
        self.keys: set[str] = set()

    @property
    def actions(self) -> list:
        # Values first: they name positions in the chain as drawn, which a click's move or
        # removal would change under them.
        return [*self.changes, *self.clicks]

    def value(self, key: str, value, default_name: str, default, identity: tuple) -> dict:
        """The widget's extra arguments: none once it is set to ``value``, else its default
        (``identity``: see ``show``)."""
        self.keys.add(key)
        if self.fresh:
            shown_by_default(key, identity)
            return {default_name: default}
        show(key, value, self.new_page, identity)
        return {}

    def changed(self, shown, value, action, *args) -> None:
        if self.fresh and shown != value:
            self.changes.append((action, args))

    def clicked(self, clicked: bool, action, *args) -> None:
        if self.fresh and clicked:
            self.clicks.append((action, args))

    def forget_the_rest(self) -> None:
        """Drop what the session holds for the step widgets this run did not draw: their
        keys now belong to whatever step comes to that position, a new widget to Streamlit
        that must be given its value."""
        state = st.session_state
        identities = state.setdefault(SHOWN_AS, {})
        for key in [key for key in identities if _is_step_key(key) and key not in self.keys]:
            del identities[key]
            state.pop(key, None)


def _place_words(chain: tuple[Step, ...], at: int) -> str:
    """Where a new step at position ``at`` goes, named by the step it follows."""
    if at == len(chain):
        return "at the end" if chain else "first"
    return "first" if at == 0 else f"after {step_title(chain[at - 1], at - 1)}"


def _draw_param(drawing: _Drawing, index: int, stage: Stage, name: str, value) -> None:
    param = stage.param(name)
    key = widget_key(index, name)
    common = dict(key=key, on_change=_changed_param, args=(index, name), help=param.help)
    label = name.capitalize()
    # Another stage's widget may have had this key (the step before a move): it is set anew.
    identity = (stage.name,)
    if param.choices:
        widget = st.radio if len(param.choices) <= MAX_RADIO_CHOICES else st.selectbox
        choices = list(param.choices)
        shown = widget(
            label, choices, format_func=lambda choice: param.labels.get(choice, choice), **common,
            **drawing.value(key, value, "index", choices.index(value) if value in choices else 0, identity),
        )
    elif param.low is not None and param.high is not None:
        if param.type is int:
            low, high, increment = int(param.low), int(param.high), 1
        else:
            low, high, increment = slider_grid((param.low, param.high))
        shown = st.slider(
            label, min_value=low, max_value=high, step=increment, **common,
            **drawing.value(key, value, "value", value, (*identity, low, high, increment)),
        )
    else:
        step = 1 if param.type is int else 0.01
        shown = st.number_input(
            label, min_value=param.low, max_value=param.high, step=step, **common,
            **drawing.value(key, value, "value", value, identity),
        )
    drawing.changed(shown, value, _change, index, {name: shown})


def _draw_range(drawing: _Drawing, index: int, stage: Stage, values: dict, input_range: tuple[float, float]) -> None:
    key = range_key(index)
    value = tuple(values[name] for name in RANGE_PARAMS)
    low, high, increment = slider_grid(input_range)
    lo, hi = (stage.param(name) for name in RANGE_PARAMS)
    shown = st.slider(
        f"{stage.title} range", min_value=low, max_value=high, step=increment, key=key,
        on_change=_changed_range, args=(index,), help=f"lo: {lo.help}; hi: {hi.help}.",
        **drawing.value(key, value, "value", value, (stage.name, low, high, increment)),
    )
    drawing.changed(tuple(shown), value, _change, index, dict(zip(RANGE_PARAMS, shown)))
    _say_if_range_moved(key, (low, high), index)


def _say_if_range_moved(key: str, span: tuple[float, float], index: int) -> None:
    """A note under a range slider whose span has just changed with the step before it
    (Sobel's magnitude has no negative values): its handles leapt, and the visitor did not
    move them."""
    spans = st.session_state.setdefault(RANGES_SHOWN, {})
    before = spans.get(key)
    spans[key] = span
    if before is not None and tuple(before) != tuple(span) and index > 0:
        st.caption(
            f"The slider now spans [{span[0]:g}, {span[1]:g}] (it spanned [{before[0]:g}, {before[1]:g}]): "
            "the values of the step before this one."
        )


def _draw_step(drawing: _Drawing, index: int, step: Step, input_range: tuple[float, float], last: bool) -> None:
    stage, values = STAGES[step.stage], step.values
    with st.container(border=True):
        st.markdown(f"**{step_title(step, index)}**")
        for param in stage.shown(values):
            if has_range(stage) and param.name in RANGE_PARAMS:
                if param.name == RANGE_PARAMS[0]:
                    _draw_range(drawing, index, stage, values, input_range)
            else:
                _draw_param(drawing, index, stage, param.name, values[param.name])
        # Icons alone: the sidebar leaves a third of its width to each button.
        up, down, remove = st.columns(3)
        moved_up = up.button(
            "", icon=":material/arrow_upward:", key=widget_key(index, "up"), on_click=_move,
            args=(index, -1), disabled=index == 0, help="Move this step up: it runs before the one above",
            width="stretch",
        )
        moved_down = down.button(
            "", icon=":material/arrow_downward:", key=widget_key(index, "down"), on_click=_move,
            args=(index, 1), disabled=last, help="Move this step down: it runs after the one below",
            width="stretch",
        )
        removed = remove.button(
            "", icon=":material/delete:", key=widget_key(index, "remove"), on_click=_remove,
            args=(index,), help="Remove this step from the chain", width="stretch",
        )
    drawing.clicked(moved_up, _move, index, -1)
    drawing.clicked(moved_down, _move, index, 1)
    drawing.clicked(removed, _remove, index)


def draw_chain_editor(fresh: bool = False, new_page: bool = False) -> bool:
    """The chain's steps, each with its widgets, and the controls to add one.

    ``fresh``: the session's first run, whose widgets take the chain's values as defaults;
    whatever the browser sent with it that differs is applied, and True returned (the
    caller reruns, to draw the chain it made). ``new_page``: the widgets are new to
    Streamlit on this page, and all take the chain's values.
    """
    state = st.session_state
    drawing = _Drawing(fresh, new_page)
    chain = chain_in_session()
    st.subheader("Chain of stages")
    st.caption(
        "Each stage runs on the output of the one above it, starting from the stitched grayscale image. "
        "Steps are numbered as their pages: 1 to 3 are the tiles, grayscale and stitched image."
    )
    input_ranges = [GRAYSCALE_RANGE, *output_ranges(chain)[:-1]]
    for index, (step, input_range) in enumerate(zip(chain, input_ranges)):
        _draw_step(drawing, index, step, input_range, last=index == len(chain) - 1)
    drawing.forget_the_rest()
    if not chain:
        st.caption("No stages: the stitched grayscale image is the result.")
    if state.get(PROBLEM):
        st.warning(state[PROBLEM])
    st.selectbox(
        "Add a stage", list(STAGES), format_func=lambda name: STAGES[name].title, key=ADD_STAGE,
        help="Added where you choose below; Up and Down move it later.",
    )
    place, add = st.columns([3, 2], vertical_alignment="bottom")
    # Each chain has its own places: the end, unless the visitor picked another for this chain.
    positions, identity = list(range(len(chain) + 1)), tuple(chain_text(chain))
    picked = state.get(ADD_AT) if state.get(SHOWN_AS, {}).get(ADD_AT) == identity else None
    at = picked if picked in positions else len(chain)
    place.selectbox(
        "Where", positions, format_func=lambda position: _place_words(chain, position), key=ADD_AT,
        **drawing.value(ADD_AT, at, "index", at, identity),
    )
    added = add.button("Add", icon=":material/add:", key=ADD_BUTTON, on_click=_add, width="stretch")
    drawing.clicked(added, _add)
    actions = drawing.actions
    for action, args in actions:
        action(*args)
    return bool(actions)
