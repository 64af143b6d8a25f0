"""The load benchmark's baseline: Home's sidebar and as many pictures of the same size,
with no pipeline (no tiles, no Dask). ``benchmarks/load.py`` copies the app into a temporary
folder and adds this file there as ``pages/9_Baseline.py``: the product never ships it.

What a visitor waits for on this page is Streamlit, the browser and decoding the upload;
what Home takes beyond it is the pipeline's share.
"""

import streamlit as st

from ui.page import ICON
from ui.services.pages import APP_TITLE
from ui.services.previews import to_display
from ui.services.uploads import current_image
from ui.sidebar import sidebar
from ui.views import show_image

THUMBNAIL = 480  # as Home's
PER_ROW = 4
PICTURES = 5  # Home's with the default chain: tiles, grayscale, stitched, Sobel, clip

settings = sidebar("pages/9_Baseline.py")
st.set_page_config(page_title=f"Baseline · {APP_TITLE}", page_icon=ICON, layout="wide")
image = current_image(settings.sample, settings.upload)
st.title(APP_TITLE)
st.caption(f"Now showing: {image.label}, {settings.rows} x {settings.cols} tiles (baseline: no pipeline).")
picture = to_display(image.pixels)
for first in range(0, PICTURES, PER_ROW):
    for column in st.columns(PER_ROW)[: PICTURES - first]:
        with column:
            show_image(picture, max_side=THUMBNAIL)
