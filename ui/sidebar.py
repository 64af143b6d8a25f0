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

A link with parts that cannot be used is said at the top of the page (``link_report``),
and its address is left as it came, so that nothing of it is lost, until the visitor
changes a setting or the page (``LINK``).

A grid typed but not yet applied stays in the browser's form, which the server does not
see: a style sheet shows the form's note "not applied yet" while a field's value differs
from the grid applied (``grid_style``). Once submitted, the fields reach the server; if a
message arriving at the same moment (an upload's) stopped the form's callback, Streamlit
does not run it again, and the sidebar applies the grid the fields hold
(``_submitted_unapplied``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import streamlit as st

from core.errors import PipelineError
from core.pipeline import DEFAULT_CHAIN, SAMPLES

from .chain_editor import chain_in_session, draw_chain_editor, set_chain, show, shown_by_default
from .navigation import draw_navigation
from .services.pages import STEP_PARAM
from .services.settings import DEFAULTS, MAX_GRID, Settings, link_report, parse_query, query_of
from .services.uploads import Upload, save_tiles, save_upload

__all__ = ["grid_style", "sidebar"]

#: The link the session opened with, while its address stays as it came: its notes, and
#: the page and settings it opened.
LINK = "_link"
#: The uploader's files (``_uploaded_ids``) whose upload callback ran to its end.
UPLOAD_KEPT = "_upload_kept"
#: The grid the form's fields showed when a run last drew them.
GRID_SHOWN = "_grid_shown"


def _copy_sample() -> None:
    st.session_state["_sample"] = st.session_state["sample"]


def _apply_grid() -> None:
    # One value, from the one message that submitted the form: both numbers or neither.
    st.session_state["_grid"] = (int(st.session_state["rows"]), int(st.session_state["cols"]))


def _submitted_unapplied(new_page: bool) -> bool:
    """Whether the grid's fields arrived holding a grid the browser was not shown and that
    is not applied: only a submission sends them so (a browser keeps a form's fields until
    then), and its callback was stopped before it ran by a message arriving at once (an
    upload's), which Streamlit does not run again (benchmarks/grid_race.py)."""
    state = st.session_state
    fields, shown = (state.get("rows"), state.get("cols")), state.get(GRID_SHOWN)
    return not new_page and shown is not None and None not in fields and fields not in (shown, state["_grid"])


def _uploaded_ids() -> tuple[str, ...]:
    """The files the uploader holds, by Streamlit's id for each; not those an earlier server
    had (after a restart the tab still lists them, but their bytes are gone)."""
    files = st.session_state.get("upload") or []
    return tuple(file.file_id for file in files if isinstance(file, io.BytesIO))  # UploadedFile is one


def _keep_upload() -> None:
    """Store an upload under its digest; the widget's own value is gone after a page switch.
    Several files at once are the tiles of one image: their grid becomes the grid.

    Marked done (``UPLOAD_KEPT``) only at its end: a click arriving meanwhile (a grid
    submitted at once) stops the callback midway, and the next run, which sees no change
    in the uploader, finishes it (``sidebar``) rather than losing the upload.
    """
    state = st.session_state
    files = state["upload"] or []
    state["_upload_error"] = None
    if not files:
        state["_upload"] = None
    else:
        try:
            if len(files) == 1:
                digest, name = save_upload(files[0].getvalue()), files[0].name
            else:
                digest, state["_grid"] = save_tiles([(file.name, file.getvalue()) for file in files])
                name = f"{len(files)} tiles ({files[0].name}, …)"
            state["_upload"] = Upload(digest=digest, file_name=name)
        except (OSError, PipelineError) as e:
            state["_upload"] = None
            state["_upload_error"] = f"Could not store the upload: {e}"
    state[UPLOAD_KEPT] = _uploaded_ids()


def _forget_upload() -> None:
    st.session_state["_upload"] = None


def _initialise_once(page: str, page_params: Mapping[str, str] | None) -> bool:
    """Whether this is the session's first run: its settings just read from the address,
    and what it had that could not be used noted under ``LINK``."""
    state = st.session_state
    if "_initialised" in state:
        return False
    values, ignored = parse_query(st.query_params)
    values = {**DEFAULTS, "chain": DEFAULT_CHAIN, "upload": None, **values}
    state["_upload"] = values["upload"]
    set_chain(values["chain"])
    state["_sample"] = values["sample"]
    state["_grid"] = (values["rows"], values["cols"])
    if ignored:
        # The settings the link gives: any other (an action this run carries, too) is a change.
        shown = Settings(values["sample"], values["rows"], values["cols"], values["chain"], values["upload"])
        state[LINK] = {"notes": ignored, "page": (page, dict(page_params or {})), "settings": shown}
    state["_initialised"] = True
    return True


def _current_step(page_params: Mapping[str, str] | None) -> int | None:
    return int(page_params[STEP_PARAM]) if page_params and STEP_PARAM in page_params else None


def sidebar(page: str, page_params: Mapping[str, str] | None = None) -> Settings:
    """Draw the shared sidebar and return the settings it holds. ``page`` names the page's
    script: each page's widgets are new to Streamlit, even under the same key.
    ``page_params`` are query parameters of the page itself (the step page's ``step``),
    kept in the address."""
    fresh = _initialise_once(page, page_params)
    state = st.session_state
    uploaded = _uploaded_ids()
    if uploaded and uploaded != state.get(UPLOAD_KEPT):
        _keep_upload()  # its callback was stopped midway by the next click
    new_page, state["_page"] = state.get("_page") != page, page
    if not fresh and _submitted_unapplied(new_page):
        _apply_grid()
    rows, cols = state["_grid"]
    for key, value in {"sample": state["_sample"], "rows": rows, "cols": cols}.items():
        # A grid typed but not applied is kept in the browser's form until submitted; only
        # a widget that shows another value than the shadow's is set (a new page, or a
        # grid the server set: tiles uploaded together).
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
        if upload is None:  # the picture is one or the other: an upload, or a sample
            sample = st.selectbox(
                "Sample image", samples, format_func=SAMPLES.get, key="sample", on_change=_copy_sample,
                help="Images bundled with scikit-image; no network needed.",
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
            st.caption(
                f"A file uploaded above replaces it; the button below brings back the sample, "
                f"{SAMPLES[state['_sample']]}."
            )
            forget = st.button("Use the sample instead", on_click=_forget_upload, key="forget_upload")
            if fresh and forget:
                _forget_upload()
        # Rows and columns change together: each alone would split the image into a
        # grid nobody asked for (3 x 2 on the way from 2 x 2 to 3 x 3).
        with st.container(key="grid_box"):
            st.html(grid_style(rows, cols))
            with st.form("grid", border=False, enter_to_submit=True):
                left, right = st.columns(2)
                typed_rows = left.number_input(
                    "Rows", min_value=1, max_value=MAX_GRID, step=1, key="rows", **defaults(value=rows)
                )
                typed_cols = right.number_input(
                    "Columns", min_value=1, max_value=MAX_GRID, step=1, key="cols", **defaults(value=cols)
                )
                submitted = st.form_submit_button("Split into this grid", key="apply_grid", on_click=_apply_grid)
            state[GRID_SHOWN] = (int(typed_rows), int(typed_cols))
            with st.container(key="grid_pending"):
                st.caption(f"Not applied yet: the pages show {rows} x {cols} tiles until you press **Split into this grid**.")
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
        if state.get("_upload_error"):
            st.error(state["_upload_error"])

    rows, cols = state["_grid"]
    settings = Settings(
        sample=state["_sample"], rows=rows, cols=cols, chain=chain_in_session(), upload=state.get("_upload"),
    )
    link = _link_as_it_came(page, page_params, settings)
    if link is None:
        st.query_params.from_dict({**query_of(settings), **(page_params or {})})
    else:
        st.warning(link_report(link["notes"], settings), icon=":material/link_off:")
    if chain_changed:  # the browser's action on a first run: draw the navigation for the new chain
        st.rerun()
    return settings


def _link_as_it_came(page: str, page_params: Mapping[str, str] | None, settings: Settings) -> dict | None:
    """The link the session opened with, if it had parts that could not be used and the
    visitor has changed nothing since (neither page nor setting): its address stays."""
    state = st.session_state
    link = state.get(LINK)
    if link is None:
        return None
    if link["page"] != (page, dict(page_params or {})) or link["settings"] != settings:
        del state[LINK]
        return None
    return link


def grid_style(rows: int, cols: int) -> str:
    """CSS that shows the grid form's note, and marks its button, while a field holds
    another value than the grid applied (``rows`` x ``cols``). The browser keeps a number
    field's ``value`` attribute to what it shows once the field is left (or Enter
    pressed); ``tests/test_browser_chain.py`` fails if that stops working."""
    typed = ", ".join(
        f".st-key-grid_box:has(.st-key-{key} input:not([value='{value}']))" for key, value in (("rows", rows), ("cols", cols))
    )
    pending = ", ".join(f"{selector} .st-key-grid_pending" for selector in typed.split(", "))
    button = ", ".join(f"{selector} .st-key-apply_grid button" for selector in typed.split(", "))
    return (
        f"<style>.st-key-grid_pending {{display: none;}} {pending} {{display: block;}} "
        f"{button} {{border-color: #ff4b4b; color: #ff4b4b;}}</style>"
    )
