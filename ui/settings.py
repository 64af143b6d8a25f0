"""The sidebar every page shares, and the settings it returns.

Each setting lives in three places, so that it survives whatever a visitor does:
- the widget's key (``rows``): what the widget shows on this run;
- a shadow key (``_rows``): Streamlit drops a widget's key when a page runs without that
  widget, and a page switch in the classic multipage mode starts without them all;
- the URL query string: a copied link reproduces the view, even as the first request to a
  freshly started server, and the query string is rewritten after every page switch.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from collections.abc import Mapping

import streamlit as st

from core import SOBEL_MODES, PipelineError, sobel_range
from core.samples import DEFAULT_SAMPLE, SAMPLES

from .state import save_upload

__all__ = ["DEFAULTS", "SOBEL_LABELS", "Settings", "Upload", "parse_query", "sidebar"]

MAX_GRID = 16
DEFAULTS = {"sample": DEFAULT_SAMPLE, "rows": 2, "cols": 2, "clip": (0.0, 1.0), "sobel": "x"}
SOBEL_LABELS = {
    "x": "x: change along each row (the tutorial's)",
    "y": "y: change along each column",
    "magnitude": "magnitude: both combined",
}
CLIP_STEP = 0.01
#: The navigation, drawn by the sidebar so the home page reads "Home", not "app".
PAGES = [
    ("app.py", "Home", ":material/home:"),
    ("pages/1_Tiles.py", "1 · Tiles", ":material/grid_view:"),
    ("pages/2_Grayscale.py", "2 · Grayscale", ":material/contrast:"),
    ("pages/3_Stitched.py", "3 · Stitched", ":material/view_quilt:"),
    ("pages/4_Edges.py", "4 · Edges", ":material/border_style:"),
    ("pages/5_Cluster.py", "Cluster", ":material/hub:"),
    ("pages/6_Speedup.py", "Speed-up", ":material/speed:"),
]


@dataclass(frozen=True)
class Upload:
    digest: str  # SHA-256 of the file; its bytes are stored under this name
    name: str  # shown to the user, never used in a path


@dataclass(frozen=True)
class Settings:
    sample: str
    rows: int
    cols: int
    clip: tuple[float, float]
    sobel: str
    upload: Upload | None

    @property
    def grid(self) -> tuple[int, int]:
        return self.rows, self.cols


def parse_query(params: Mapping[str, str]) -> tuple[dict, list[str]]:
    """Valid settings from a query string, and a note for each value that was ignored.

    ``upload`` is the SHA-256 of a file uploaded to this server: knowing it is what lets a
    teammate open the same picture, as unguessable as a private link.
    """
    values, ignored = {}, []
    if "upload" in params:
        if re.fullmatch(r"[0-9a-f]{64}", params["upload"]):
            values["upload"] = Upload(digest=params["upload"], name="a shared upload")
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
    if "sobel" in params:
        if params["sobel"] in SOBEL_MODES:
            values["sobel"] = params["sobel"]
        else:
            ignored.append(f"sobel={params['sobel']}")
    if "clip" in params:
        clip = _parse_clip(params["clip"], values.get("sobel", DEFAULTS["sobel"]))
        if clip:
            values["clip"] = clip
        else:
            ignored.append(f"clip={params['clip']}")
    return values, ignored


def _parse_clip(text: str, mode: str) -> tuple[float, float] | None:
    try:
        lo, hi = (float(part) for part in text.split(","))
    except ValueError:
        return None
    low, high = _clip_bounds(mode)
    if not (math.isfinite(lo) and math.isfinite(hi) and low <= lo < hi <= high):
        return None
    return lo, hi


def _to_query(values: dict, upload: Upload | None) -> dict[str, str]:
    query = {key: str(value) for key, value in values.items()}
    query["clip"] = ",".join(f"{bound:g}" for bound in values["clip"])
    if upload is not None:
        query["upload"] = upload.digest
    return query


def _clip_bounds(mode: str) -> tuple[float, float]:
    low, high = sobel_range(mode)
    return low, math.floor(high / CLIP_STEP) * CLIP_STEP  # the slider's top lies on its grid


def _fit_clip_to_mode() -> None:
    """After a Sobel mode change, keep the clip range inside the new mode's range."""
    state = st.session_state
    state["_sobel"] = state["sobel"]
    low, high = _clip_bounds(state["sobel"])
    lo, hi = (min(max(bound, low), high) for bound in state["_clip"])
    state["_clip"] = (lo, hi) if lo < hi else DEFAULTS["clip"]


def _copy_to_shadow(key: str) -> None:
    st.session_state[f"_{key}"] = st.session_state[key]


def _apply_grid() -> None:
    _copy_to_shadow("rows")
    _copy_to_shadow("cols")


def _keep_upload() -> None:
    """Store an upload under its digest; the widget's own value is gone after a page switch."""
    state = st.session_state
    file = state["upload"]
    state["_upload_error"] = None
    if file is None:
        state["_upload"] = None
        return
    try:
        digest = save_upload(file.getvalue())
    except (OSError, PipelineError) as e:
        state["_upload"] = None
        state["_upload_error"] = f"Could not store the upload: {e}"
        return
    state["_upload"] = Upload(digest=digest, name=file.name)


def _forget_upload() -> None:
    st.session_state["_upload"] = None


def _initialise_once() -> list[str]:
    state = st.session_state
    if "_initialised" in state:
        return []
    values, ignored = parse_query(st.query_params)
    state["_upload"] = values.pop("upload", None)
    for key, value in {**DEFAULTS, **values}.items():
        state[f"_{key}"] = value
    state["_initialised"] = True
    return ignored


def sidebar() -> Settings:
    """Draw the shared sidebar and return the settings it holds."""
    ignored = _initialise_once()
    state = st.session_state
    for key in DEFAULTS:  # a grid typed but not applied is dropped by any rerun
        state[key] = state[f"_{key}"]

    with st.sidebar:
        for page, label, icon in PAGES:
            st.page_link(page, label=label, icon=icon)
        st.divider()
        st.header("Settings")
        upload = state.get("_upload")
        st.selectbox(
            "Sample image", list(SAMPLES), format_func=SAMPLES.get, key="sample",
            on_change=_copy_to_shadow, args=("sample",), disabled=upload is not None,
            help="Images bundled with scikit-image; no network needed. While an upload is in "
            "use, its button below brings the sample back.",
        )
        st.file_uploader(
            "…or upload your own", key="upload", on_change=_keep_upload,
            help="PNG, JPEG, TIFF, GIF, BMP or WebP. It replaces the sample until you clear it.",
        )
        if upload is not None:
            st.text(f"Using upload: {upload.name}")
            st.button("Use the sample instead", on_click=_forget_upload, key="forget_upload")
        # Rows and columns change together: each alone would split the image into a
        # grid nobody asked for (3 x 2 on the way from 2 x 2 to 3 x 3).
        with st.form("grid", border=False, enter_to_submit=True):
            left, right = st.columns(2)
            left.number_input("Rows", min_value=1, max_value=MAX_GRID, step=1, key="rows")
            right.number_input("Columns", min_value=1, max_value=MAX_GRID, step=1, key="cols")
            st.form_submit_button("Split into this grid", key="apply_grid", on_click=_apply_grid)
        st.radio(
            "Sobel filter", list(SOBEL_MODES), format_func=SOBEL_LABELS.get, key="sobel",
            on_change=_fit_clip_to_mode,
        )
        low, high = _clip_bounds(state["sobel"])
        st.slider(
            "Clip range", min_value=low, max_value=high, step=CLIP_STEP, key="clip",
            on_change=_copy_to_shadow, args=("clip",),
            help="Sobel values outside this range are set to its ends; "
            "the edge image maps the range to black..white.",
        )
        st.caption(
            "The address bar holds these settings, and the upload if there is one: copy it "
            "to share this view with someone who can reach this server."
        )
        if ignored:
            st.warning(f"Ignored from the link: {', '.join(ignored)}")
        if state.get("_upload_error"):
            st.error(state["_upload_error"])

    values = {key: state[key] for key in DEFAULTS}
    st.query_params.from_dict(_to_query(values, upload))
    return Settings(
        sample=values["sample"], rows=int(values["rows"]), cols=int(values["cols"]),
        clip=tuple(float(b) for b in values["clip"]), sobel=values["sobel"], upload=upload,
    )
