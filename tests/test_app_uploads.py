"""Uploads: used on every page until cleared, refused with a reason when bad, never a path."""

import io

import numpy as np
import pytest
from apptest import PAGES, STEP_PAGE, assert_clean, go, open_app, png, upload
from helpers import BAD_FILES, png_header_claiming
from PIL import Image

pytestmark = pytest.mark.usefixtures("fresh_server")


def test_an_upload_replaces_the_sample_on_every_page_until_cleared(rng):
    pixels = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    at = upload(open_app(), "holiday.png", png(pixels))
    assert_clean(at, "app.py")
    assert "Using upload: holiday.png" in [t.value for t in at.text]
    shapes = ["(45, 60, 3)", "(45, 60)", "(90, 120)", "(90, 120)"]  # a tile, a gray tile, the image
    for page, shape in zip(PAGES[:4], shapes):
        go(at, page, 1 if page == STEP_PAGE else None)
        assert_clean(at, page)
        assert f"shape `{shape}`" in " ".join(m.value for m in at.markdown)
    go(at, "app.py")
    assert "holiday.png" in at.caption[0].value
    assert "sample" not in [box.key for box in at.selectbox] + list(at.query_params)  # one image: the upload
    at.button(key="forget_upload").click().run()
    assert "Astronaut" in at.caption[0].value and not at.selectbox(key="sample").disabled
    assert at.query_params["sample"] == "astronaut" and "upload" not in at.query_params


def test_an_upload_whose_callback_was_stopped_midway_is_kept_by_the_next_run(rng):
    # A click arriving while the upload's callback stores the file (a grid submitted at once)
    # stops the callback at its next use of session state; the next run sees no change in
    # the uploader, so no callback: the upload was lost (benchmarks/grid_race.py).
    pixels = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    at = upload(open_app(), "harbour.png", png(pixels))
    assert "Using upload: harbour.png" in [t.value for t in at.text]
    at.session_state["_upload"] = None  # as the stopped callback left it: nothing stored
    at.session_state["_upload_kept"] = ()
    at.run()
    assert_clean(at, "app.py")
    assert "Using upload: harbour.png" in [t.value for t in at.text]
    assert at.query_params["name"] == "harbour.png"
    at.button(key="forget_upload").click().run()  # the uploader still holds it: forgetting it is kept
    assert "Astronaut" in at.caption[0].value and "upload" not in at.query_params


def test_an_animated_upload_says_that_only_its_first_frame_is_used():
    frames = [Image.new("RGB", (60, 40), (value, 0, 0)) for value in (10, 120, 250)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    at = upload(open_app(), "spinner.gif", buffer.getvalue())
    assert_clean(at, "app.py")
    assert any("spinner.gif holds 3 frames" in note.value and "uses the first one" in note.value
               for note in at.sidebar.info)
    at = upload(at, "still.png", png(np.zeros((40, 60), np.uint8)))
    assert not [note.value for note in at.sidebar.info if "frames" in note.value]


BAD_UPLOADS = {name: data for name, (data, _) in BAD_FILES.items()}
BAD_UPLOADS["truncated png"] = png(np.random.default_rng(2).integers(0, 256, (50, 50, 3), np.uint8))[:3000]
BAD_UPLOADS["decompression bomb"] = png_header_claiming(30_000, 30_000)


@pytest.mark.parametrize("kind", BAD_UPLOADS)
def test_a_bad_upload_shows_an_error_and_the_next_good_one_works(kind, rng):
    at = upload(open_app("pages/2_Grayscale.py"), "bad.png", BAD_UPLOADS[kind])
    assert not at.exception
    assert at.error and "Could not read this image" in at.error[0].value
    at = upload(at, "good.png", png(rng.integers(0, 256, (40, 60), dtype=np.uint8)))
    assert_clean(at, "pages/2_Grayscale.py")


def test_a_grid_larger_than_the_upload_is_explained(rng):
    at = upload(open_app("pages/1_Tiles.py"), "tiny.png", png(rng.integers(0, 256, (8, 30), dtype=np.uint8)))
    at.number_input(key="rows").set_value(12)
    at.button(key="apply_grid").click().run()
    assert not at.exception
    assert at.error[0].value == (
        "Cannot split this image: a grid of 12 rows and 2 columns does not fit an image of 8 rows and "
        "30 columns of pixels: every tile needs at least one pixel, so use at most 8 rows and 30 columns."
    )
    at.number_input(key="rows").set_value(8)
    at.button(key="apply_grid").click().run()
    assert_clean(at, "pages/1_Tiles.py")


def test_the_uploaded_file_name_never_becomes_a_path(tmp_path, rng):
    name = "../../escape.png"
    at = upload(open_app(), name, png(rng.integers(0, 256, (20, 20), dtype=np.uint8)))
    assert_clean(at, "app.py")
    cache = tmp_path / "cache"
    everything = [p.name for p in tmp_path.rglob("*")]
    assert "escape.png" not in everything
    assert all(len(p.name) == 64 for p in (cache / "uploads").iterdir())


def tile_uploads(pixels: np.ndarray, grid: tuple[int, int]) -> list[tuple[str, bytes, str]]:
    """The picture cut into a grid of PNG files named by their place, as uploaded together."""
    rows, cols = (np.array_split(np.arange(n), parts) for n, parts in zip(pixels.shape[:2], grid))
    return [(f"tile_r{r:03d}_c{c:03d}.png", png(pixels[np.ix_(row, col)]), "image/png")
            for r, row in enumerate(rows) for c, col in enumerate(cols)]


def test_several_files_uploaded_at_once_are_the_tiles_of_one_image(rng):
    pixels = rng.integers(0, 256, (70, 90, 3), dtype=np.uint8)
    at = open_app("pages/1_Tiles.py")
    at.file_uploader(key="upload").set_value(tile_uploads(pixels, (2, 3))).run()
    assert_clean(at, "pages/1_Tiles.py")
    assert (at.number_input(key="rows").value, at.number_input(key="cols").value) == (2, 3)  # the tiles' grid
    table = at.dataframe[0].value
    assert list(table["file"]) == [f"tile_r{r:03d}_c{c:03d}.png" for r in range(2) for c in range(3)]  # their own
    assert "Using upload: 6 tiles" in " ".join(t.value for t in at.text)
    go(at, "pages/3_Stitched.py")  # the whole image, put together from them
    assert_clean(at, "pages/3_Stitched.py")
    assert "shape `(70, 90)`" in " ".join(m.value for m in at.markdown)
    at.number_input(key="rows").set_value(3)
    at.button(key="apply_grid").click().run()
    go(at, "pages/1_Tiles.py")  # another grid: cut again, as any image is
    assert len(at.dataframe[0].value) == 9 and at.dataframe[0].value["file"][0] == "tile_r000_c000.tif"


def test_tiles_that_do_not_make_one_image_are_refused_naming_the_file(rng):
    pixels = rng.integers(0, 256, (70, 90, 3), dtype=np.uint8)
    files = tile_uploads(pixels, (2, 2))
    at = open_app()
    at.file_uploader(key="upload").set_value(files[:3]).run()  # one missing
    assert not at.exception
    assert "tile (row 1, column 1) is missing" in " ".join(e.value for e in at.sidebar.error)
    at.file_uploader(key="upload").set_value([*files[:3], ("holiday.png", files[3][1], "image/png")]).run()
    assert "'holiday.png' is not named as a tile" in " ".join(e.value for e in at.sidebar.error)
