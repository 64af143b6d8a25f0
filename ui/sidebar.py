"""The sidebar every page shares, and the settings it returns.

Each setting lives in three places, so that it survives whatever a visitor does:
- the widget's key (``rows``; for the chain's first step, ``step1.sigma``, see
  ``ui.chain_editor``): what the widget shows on this run;
- a shadow key (``_sample``; the grid as one value, ``_grid``; for the chain, ``_chain``):
  Streamlit drops a widget's key when a page runs without that widget, and a page switch
  in the classic multipage mode starts without them all;
- the URL query string (``ui.services.settings``: ``chain=gaussian:sigma=2;sobel:mode=x``):
  a copied link reproduces the view, even as the first request to a freshly started
  server, and the query string is rewritten after every page switch.

A widget is given its shadow's value (``show``) only when it shows something else, or is
new on this page: a value set through session state is sent to the browser again, and
arriving during a run it overwrote what the visitor was typing into the grid's form,
which then submitted a grid half typed, half reset (3 x 3 became 2 x 3).

A session's first run starts from the address, and may carry the visitor's action with
it: after the server restarts, the open tab's next click reaches a session with no state
and no callbacks registered. That run draws each widget with the address's value as its
default, so that the browser's value wins, and applies whatever differs (``fresh``).
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from core.errors import PipelineError
from core.pipeline import DEFAULT_CHAIN, SAMPLES

from .chain_editor import chain_in_session, draw_chain_editor, set_chain, show, shown_by_default
from .navigation import draw_navigation
from .services.pages import STEP_PARAM
from .services.settings import DEFAULTS, MAX_GRID, Settings, parse_query, query_of
from .services.uploads import Upload, save_tiles, save_upload

__all__ = ["sidebar"]

def _copy_sample() -> None:
    st.session_state["_sample"] = st.session_state["sample"]


def _apply_grid() -> None:
    # One value, from the one message that submitted the form: both numbers or neither.
    st.session_state["_grid"] = (int(st.session_state["rows"]), int(st.session_state["cols"]))


def _keep_upload() -> None:
    """Store an upload under its digest; the widget's own value is gone after a page switch.
    Several files at once are the tiles of one image: their grid becomes the grid."""
    state = st.session_state
    files = state["upload"] or []
    state["_upload_error"] = None
    if not files:
        state["_upload"] = None
        return
    try:
        if len(files) == 1:
            digest, name = save_upload(files[0].getvalue()), files[0].name
        else:
            digest, state["_grid"] = save_tiles([(file.name, file.getvalue()) for file in files])
            name = f"{len(files)} tiles ({files[0].name}, …)"
    except (OSError, PipelineError) as e:
        state["_upload"] = None
        state["_upload_error"] = f"Could not store the upload: {e}"
        return
    state["_upload"] = Upload(digest=digest, file_name=name)


def _forget_upload() -> None:
    st.session_state["_upload"] = None


def _initialise_once() -> tuple[list[str], bool]:
    """The notes on what the address had that was ignored, and whether this is the
    session's first run (its settings just read from the address)."""
    state = st.session_state
    if "_initialised" in state:
        return [], False
    values, ignored = parse_query(st.query_params)
    state["_upload"] = values.pop("upload", None)
    set_chain(values.pop("chain", DEFAULT_CHAIN))
    values = {**DEFAULTS, **values}
    state["_sample"] = values["sample"]
    state["_grid"] = (values["rows"], values["cols"])
    state["_initialised"] = True
    return ignored, True


def _current_step(page_params: Mapping[str, str] | None) -> int | None:
    return int(page_params[STEP_PARAM]) if page_params and STEP_PARAM in page_params else None


def sidebar(page: str, page_params: Mapping[str, str] | None = None) -> Settings:
    """Draw the shared sidebar and return the settings it holds. ``page`` names the page's
    script: each page's widgets are new to Streamlit, even under the same key.
    ``page_params`` are query parameters of the page itself (the step page's ``step``),
    kept in the address."""
    ignored, fresh = _initialise_once()
    state = st.session_state
    new_page, state["_page"] = state.get("_page") != page, page
    rows, cols = state["_grid"]
    for key, value in {"sample": state["_sample"], "rows": rows, "cols": cols}.items():
        # A grid typed but not applied is kept in the browser's form until submitted; only
        # a widget that shows another value than the shadow's is set (a run where the
        # browser sent the form's fields without submitting them, or a new page).
        if fresh:
            shown_by_default(key)
        else:
            show(key, value, new_page)
    # On the first run the address's values are the widgets' defaults: a value the browser
    # sent with this run wins, and is applied below.
    defaults = (lambda **values: values) if fresh else (lambda **values: {})

    with st.sidebar:
        draw_navigation(chain_in_session(), _current_step(page_params))
        st.divider()
        st.header("Settings")
        upload = state.get("_upload")
        samples = list(SAMPLES)
        sample = st.selectbox(
            "Sample image", samples, format_func=SAMPLES.get, key="sample",
            on_change=_copy_sample, disabled=upload is not None,
            help="Images bundled with scikit-image; no network needed. While an upload is in "
            "use, its button below brings the sample back.",
            **defaults(index=samples.index(state["_sample"])),
        )
        st.file_uploader(
            "…or upload your own", key="upload", on_change=_keep_upload, accept_multiple_files=True,
            help="PNG, JPEG, TIFF, GIF, BMP or WebP. It replaces the sample until you clear it. Several "
            "files at once are the tiles of one image, named by their row and column from 0: "
            "tile_r000_c000.png, tile_r000_c001.png, ...",
        )
        if upload is not None:
            st.text(f"Using upload: {upload.label}")
            # The box above is empty in a session that did not upload it: opened from a
            # link, or after a server restart.
            st.caption("A file uploaded above replaces it; the button below brings the sample back.")
            forget = st.button("Use the sample instead", on_click=_forget_upload, key="forget_upload")
            if fresh and forget:
                _forget_upload()
        # Rows and columns change together: each alone would split the image into a
        # grid nobody asked for (3 x 2 on the way from 2 x 2 to 3 x 3).
        with st.form("grid", border=False, enter_to_submit=True):
            left, right = st.columns(2)
            typed_rows = left.number_input(
                "Rows", min_value=1, max_value=MAX_GRID, step=1, key="rows", **defaults(value=rows)
            )
            typed_cols = right.number_input(
                "Columns", min_value=1, max_value=MAX_GRID, step=1, key="cols", **defaults(value=cols)
            )
            submitted = st.form_submit_button("Split into this grid", key="apply_grid", on_click=_apply_grid)
        if fresh:
            if submitted:
                state["_grid"] = (int(typed_rows), int(typed_cols))
            if upload is None:
                state["_sample"] = sample
        chain_changed = draw_chain_editor(fresh, new_page)
        st.caption(
            "The address bar holds these settings, and the upload if there is one: copy it "
            "to share this view with someone who can reach this server."
        )
        if ignored:
            st.warning(f"Ignored from the link: {', '.join(ignored)}")
        if state.get("_upload_error"):
            st.error(state["_upload_error"])

    rows, cols = state["_grid"]
    settings = Settings(
        sample=state["_sample"], rows=rows, cols=cols, chain=chain_in_session(), upload=state.get("_upload"),
    )
    st.query_params.from_dict({**query_of(settings), **(page_params or {})})
    if chain_changed:  # the browser's action on a first run: draw the navigation for the new chain
        st.rerun()
    return settings
