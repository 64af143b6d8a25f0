"""The app's browser component: task graphs, replays and pixel zoom, drawn by the
vendored libraries in ``ui/components/dask_view`` (``python -m ui.components.fetch_vendor``).

One declared component serves every view, so the libraries are served once, by the app
itself, and the page works offline.
"""

from __future__ import annotations

from pathlib import Path

import streamlit.components.v1 as components

__all__ = ["COMPONENT_FOLDER", "dask_view"]

COMPONENT_FOLDER = Path(__file__).parent / "components" / "dask_view"

_component = components.declare_component("dask_view", path=str(COMPONENT_FOLDER))


def dask_view(view: str, *, key: str, **args):
    """Show ``view`` ("tasks" or "zoom") with ``args`` (JSON-serialisable) in the page.

    The view sets its own height; it sends nothing back.
    """
    return _component(view=view, key=key, default=None, **args)
