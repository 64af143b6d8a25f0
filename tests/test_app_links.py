"""What a link carries: bad parts ignored and said, old links, a label chain, Home's summary, shared uploads."""

import numpy as np
import pytest
import scipy.ndimage
from apptest import (
    CLIP_RANGE,
    LABEL_CHAIN,
    SOBEL_MODE,
    STEP_PAGE,
    assert_clean,
    chain_of,
    go,
    open_app,
    png,
    upload,
)
from skimage import data
from skimage.color import rgb2gray
from skimage.filters import threshold_otsu
from skimage.util import img_as_float32

pytestmark = pytest.mark.usefixtures("fresh_server")


# -- links ---------------------------------------------------------------------------------


def test_bad_link_values_are_said_at_the_top_and_the_address_stays_as_it_came():
    link = {"rows": "99", "sobel": "diagonal", "clip": "3,1", "sample": "nope"}
    at = open_app("app.py", link)
    assert not at.exception
    banner = at.main.warning[0].value  # above the page, not at the foot of the sidebar
    for part in ("rows=99", "sobel=diagonal", "clip=3,1", "sample=nope"):
        assert f"`{part}`" in banner
    assert "a grid has 1 to 16 rows; 2 instead" in banner
    assert "Shown: Astronaut (portrait, RGB), 2 x 2 tiles, and the chain Sobel edges (mode=x) → Clip (lo=0,hi=1)" in banner
    assert not at.sidebar.warning
    assert at.number_input(key="rows").value == 2 and at.radio(key=SOBEL_MODE).value == "x"
    assert dict(at.query_params) == link  # nothing of the link is lost
    at.run()  # a rerun changes nothing
    assert dict(at.query_params) == link and at.main.warning
    at.radio(key=SOBEL_MODE).set_value("y").run()  # the visitor changes something
    assert chain_of(at) == "sobel:mode=y;clip:lo=0,hi=1" and not at.main.warning


def test_a_bad_parameter_keeps_its_stage_and_an_unknown_stage_is_left_out():
    at = open_app("app.py", {"chain": "gaussian:sigma=abc;blur:radius=3;clip:lo=5,hi=1;uniform:size=0"})
    assert_clean(at, "app.py")
    banner = at.main.warning[0].value
    for part in ("`gaussian:sigma=abc` (Gaussian smoothing: sigma must be a number from 0 to 20; its default, 1, instead)",
                 "`blur:radius=3` (no stage by that name", "`clip:lo=5,hi=1` (Clip: needs lo < hi",
                 "`uniform:size=0` (Mean filter: size must be"):
        assert part in banner
    assert [link.proto.label for link in at.sidebar.get("page_link") if link.proto.page == "Stage"] == [
        "4 · Gaussian smoothing", "5 · Clip", "6 · Mean filter",
    ]
    assert chain_of(at) == "gaussian:sigma=abc;blur:radius=3;clip:lo=5,hi=1;uniform:size=0"  # as it came
    go(at, "pages/1_Tiles.py")  # another page: the address holds the chain shown
    assert chain_of(at) == "gaussian:sigma=1;clip:lo=0,hi=1;uniform:size=3" and not at.main.warning


def test_a_range_outside_its_slider_is_moved_inside_and_the_warning_says_so():
    at = open_app("app.py", {"chain": "sobel:mode=x;clip:lo=-10,hi=2"})
    assert_clean(at, "app.py")
    assert "`clip:lo=-10,hi=2` (Clip: outside [-4, 4]: clip:lo=-4,hi=2 instead)" in at.main.warning[0].value
    assert at.slider(key=CLIP_RANGE).value == (-4.0, 2.0)


def test_a_link_naming_no_upload_says_so_at_the_top_and_shows_the_sample():
    at = open_app("pages/2_Grayscale.py", {"upload": "deadbeef"})
    assert_clean(at, "pages/2_Grayscale.py")
    assert "`upload=deadbeef` (not an upload of this server" in at.main.warning[0].value
    assert at.selectbox(key="sample").value == "astronaut"


def test_an_old_link_opens_the_chain_it_meant():
    at = open_app(STEP_PAGE, {"sobel": "magnitude", "clip": "0,2"}, step=2)
    assert_clean(at, STEP_PAGE, "5 · Clip")
    assert at.radio(key=SOBEL_MODE).value == "magnitude" and at.slider(key=CLIP_RANGE).value == (0.0, 2.0)
    assert dict(at.query_params) == {
        "sample": "astronaut", "rows": "2", "cols": "2", "chain": "sobel:mode=magnitude;clip:lo=0,hi=2", "step": "2",
    }
    at = open_app("app.py", {"sobel": "y"})  # a part alone: the other takes its default
    assert chain_of(at) == "sobel:mode=y;clip:lo=0,hi=1"
    at = open_app("app.py", {"chain": "laplace", "sobel": "y"})  # the chain wins, and says so
    assert chain_of(at) == "laplace" and "`sobel=y` (chain= replaces it)" in at.warning[0].value


def test_a_step_beyond_the_chain_is_explained_with_the_way_back():
    at = open_app(STEP_PAGE, step=5)
    assert not at.exception
    assert "The chain has 2 steps, so there is no step 5 to show" in at.error[0].value
    assert at.query_params["step"] == "5"
    assert [(link.proto.label, link.proto.query_string) for link in at.main.get("page_link")] == [
        ("Back to the last step: 5 · Clip", "step=2"), ("Back to Home", ""),
    ]


# -- the step pages --------------------------------------------------------------------------


def astronaut_regions() -> np.ndarray:
    """SciPy and scikit-image on the whole astronaut: the regions the label page must find."""
    gray = rgb2gray(img_as_float32(data.astronaut()))  # float32, as the tiles are converted
    smooth = scipy.ndimage.gaussian_filter(gray, 2)
    mask = smooth > threshold_otsu(smooth)
    labels, count = scipy.ndimage.label(mask, scipy.ndimage.generate_binary_structure(2, 2))
    return labels, count


def test_a_label_link_shows_a_region_for_every_region_scipy_finds():
    at = open_app(STEP_PAGE, {"chain": LABEL_CHAIN}, step=3)
    assert_clean(at, STEP_PAGE, "6 · Labels")
    assert chain_of(at) == LABEL_CHAIN
    labels, count = astronaut_regions()
    table = at.dataframe[0].value
    assert len(table) == count > 1
    assert {m.label: m.value for m in at.metric}["Regions found"] == f"{count:,}"
    assert sorted(table["area"]) == sorted(np.bincount(labels.ravel())[1:])
    assert {"Download the result (PNG, full resolution)", "Download the region table (CSV)"} <= {
        button.proto.label for button in at.get("download_button")
    }
    at = go(at, STEP_PAGE, 2)  # the threshold's page draws Otsu's level on its input's histogram
    assert_clean(at, STEP_PAGE, "5 · Threshold")
    assert "Where the input's values lie" in [s.value for s in at.subheader]


def test_home_shows_a_thumbnail_per_stage_and_the_command_line_for_the_chain():
    at = open_app("app.py", {"chain": LABEL_CHAIN, "rows": "3", "cols": "2"})
    assert_clean(at, "app.py")
    assert len(at.get("image")) == 3 + 3
    _, count = astronaut_regions()
    assert any(f"{count:,} regions" in c.value for c in at.caption)
    assert at.code[0].value == (
        "python -m core astronaut.png --grid 3x2 --stage gaussian:sigma=2 --stage threshold:method=otsu "
        "--stage label:connectivity=2"
    )
    links = [(link.proto.label, link.proto.query_string) for link in at.main.get("page_link")]
    assert links[3:] == [
        ("4 · Gaussian smoothing", "step=1"), ("5 · Threshold", "step=2"), ("6 · Labels", "step=3"),
        ("Tasks: every task of this pipeline, and a run replayed task by task", ""), ("Next: 1 · Tiles", ""),
    ]


def test_a_link_with_an_upload_opens_the_same_picture_elsewhere(rng):
    pixels = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)
    at = upload(open_app(), "private.png", png(pixels))
    digest = at.query_params["upload"]
    assert len(digest) == 64
    link = dict(at.query_params)
    teammate = open_app("pages/3_Stitched.py", link)  # a new session, as from a copied link
    assert_clean(teammate, "pages/3_Stitched.py")
    assert "shape `(30, 50)`" in " ".join(m.value for m in teammate.markdown)
    # The address names the file too: the sidebar says which, after a server restart as well.
    assert link["name"] == "private.png" and "Using upload: private.png" in [t.value for t in teammate.text]
    assert "sample" not in link and "sample" not in [box.key for box in teammate.selectbox]  # one image
    # Their upload box is empty: the sidebar says how to replace or leave the upload.
    assert "A file uploaded above replaces it" in " ".join(c.value for c in teammate.sidebar.caption)
    del link["name"]  # a link from before names no file
    assert "Using upload: a shared upload" in [t.value for t in open_app("pages/1_Tiles.py", link).text]


def test_a_link_to_an_upload_no_longer_on_the_server_is_explained():
    at = open_app("pages/1_Tiles.py", {"upload": "0" * 64})
    assert not at.exception
    assert "no longer on the server" in at.error[0].value
    at.button(key="forget_upload").click().run()
    assert_clean(at, "pages/1_Tiles.py")
    assert "upload" not in at.query_params
