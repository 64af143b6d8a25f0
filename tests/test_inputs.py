"""Images already in tiles (``core.pipeline.inputs`` and ``chunked``): tile files by glob or
by name, tiled and striped TIFFs, OME-Zarr; each against SciPy on the whole image, and each
bad tile set refused in one line that names the tile."""

import json
import os

import numpy as np
import pytest
import scipy.ndimage as ndi
import tifffile
from PIL import Image
from skimage import data
from skimage.color import rgb2gray
from skimage.util import img_as_float

from core.cli import main
from core.errors import PipelineError
from core.pipeline import build_pipeline, load_image, parse_chain, split_edges
from core.pipeline.chunked import ChunkedTiles
from core.pipeline.inputs import is_tiled_input, open_tiled_input, retiled

#: Within float32 rounding of SciPy's float64 (as tests/test_build.py).
ATOL = 2e-6
CHAIN = ["gaussian:sigma=1.5", "sobel:mode=magnitude"]


def scipy_result(image: np.ndarray) -> np.ndarray:
    gray = rgb2gray(image) if image.ndim == 3 else img_as_float(image)
    smooth = ndi.gaussian_filter(gray, 1.5)
    return np.hypot(ndi.sobel(smooth, axis=0), ndi.sobel(smooth, axis=-1))


def result_of(tiles) -> np.ndarray:
    return build_pipeline(tiles, parse_chain(CHAIN)).result.compute()


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return data.astronaut()[:203, :157]  # no grid here divides it evenly


def write_tiles(image, grid, folder, name, ext=".png", mode=None):
    """The image cut by ``numpy.array_split``'s edges into files named by ``name(r, c, k)``."""
    folder.mkdir(parents=True, exist_ok=True)
    rows, cols = (split_edges(n, parts) for n, parts in zip(image.shape[:2], grid))
    k = 0
    for r in range(grid[0]):
        for c in range(grid[1]):
            tile = Image.fromarray(image[rows[r]:rows[r + 1], cols[c]:cols[c + 1]])
            (tile.convert(mode) if mode else tile).save(folder / (name(r, c, k) + ext))
            k += 1
    return folder


def by_position(r, c, k):
    return f"tile_r{r:03d}_c{c:03d}"


# -- reading them ----------------------------------------------------------------------------


def test_the_tutorials_own_parts_are_read_by_glob(tmp_path, photo):
    # partion_image as the tutorial writes it: equal parts, the remainder dropped, numbered
    # row by row from 000.
    n_h, n_w = 2, 3
    h_s, w_s = photo.shape[0] // n_h, photo.shape[1] // n_w
    for k, (i, j) in enumerate((i, j) for i in range(n_h) for j in range(n_w)):
        Image.fromarray(photo[i * h_s:(i + 1) * h_s, j * w_s:(j + 1) * w_s]).save(tmp_path / f"save_part_{k:03d}.png")
    tiles = open_tiled_input(str(tmp_path / "save_part_*.png"), (2, 3), max_pixels=10**8)
    assert tiles.grid == (2, 3) and tiles.files is not None
    np.testing.assert_allclose(result_of(tiles), scipy_result(photo[:n_h * h_s, :n_w * w_s]), atol=ATOL)


@pytest.mark.parametrize("grid, ext", [((3, 2), ".png"), ((1, 4), ".tif"), ((4, 3), ".jpg")])
def test_a_folder_of_named_tiles_of_any_format_and_uneven_sizes(tmp_path, photo, grid, ext):
    folder = write_tiles(photo, grid, tmp_path / "tiles", by_position, ext)
    (folder / "manifest.json").write_text("{}")  # not a tile: left alone
    tiles = open_tiled_input(folder, None, max_pixels=10**8)
    assert tiles.grid == grid and tiles.image_shape == photo.shape
    whole = np.concatenate([np.concatenate([load_image(p) for p in row], axis=1) for row in tiles.paths], axis=0)
    np.testing.assert_allclose(result_of(tiles), scipy_result(whole), atol=ATOL)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "L", "I;16"])
def test_tiles_with_alpha_or_a_palette_are_read_as_the_whole_image_would_be(tmp_path, photo, mode):
    fade = np.linspace(0, 255, photo.shape[1], dtype=np.uint8)[None].repeat(photo.shape[0], 0)
    source = Image.fromarray(np.dstack([photo, fade])).convert(mode if mode not in ("I;16", "P") else "L")
    if mode == "P":  # a palette without transparency
        source = Image.fromarray(photo).convert("P")
    if mode == "I;16":
        source = Image.fromarray(np.asarray(source).astype(np.uint16) * 257)
    source.save(tmp_path / "whole.png")
    (tmp_path / "tiles").mkdir()
    rows, cols = split_edges(photo.shape[0], 2), split_edges(photo.shape[1], 3)
    for r in range(2):
        for c in range(3):  # cut from the image itself: a palette tile keeps the whole's palette
            source.crop((cols[c], rows[r], cols[c + 1], rows[r + 1])).save(tmp_path / "tiles" / f"{by_position(r, c, 0)}.png")
    tiles = open_tiled_input(tmp_path / "tiles", None, max_pixels=10**8)
    np.testing.assert_allclose(result_of(tiles), scipy_result(load_image(tmp_path / "whole.png")), atol=ATOL)


@pytest.mark.parametrize("layout", ["tiles", "strips", "bigtiff", "one-strip-per-row-gray16"])
@pytest.mark.parametrize("grid", [None, (3, 2)])
def test_a_tiff_in_tiles_or_strips_is_read_region_by_region(tmp_path, photo, layout, grid):
    image = photo
    options = {"tiles": dict(tile=(64, 48), compression="zlib"), "strips": dict(rowsperstrip=17),
               "bigtiff": dict(tile=(32, 32), bigtiff=True), "one-strip-per-row-gray16": dict(rowsperstrip=1)}[layout]
    if layout.endswith("gray16"):
        image = (rgb2gray(photo) * 65535).astype(np.uint16)
    tifffile.imwrite(tmp_path / "slide.tif", image, photometric="rgb" if image.ndim == 3 else "minisblack", **options)
    assert is_tiled_input(tmp_path / "slide.tif")
    tiles = open_tiled_input(tmp_path / "slide.tif", grid, max_pixels=10**8)
    assert isinstance(tiles, ChunkedTiles) and tiles.image_shape == image.shape
    if grid:
        assert tiles.grid == grid
    np.testing.assert_allclose(result_of(tiles), scipy_result(image), atol=ATOL)


def test_a_tiff_of_one_strip_is_one_image_file(tmp_path, photo):
    tifffile.imwrite(tmp_path / "plain.tif", photo, photometric="rgb")
    assert not is_tiled_input(tmp_path / "plain.tif")


def write_ome_zarr(path, image, *, version="0.5", chunks=(64, 64), axes=("c", "y", "x")):
    """An OME-Zarr as another writer would lay it out: channels first."""
    import zarr

    stored = np.moveaxis(image, -1, 0) if image.ndim == 3 else image[None]
    for index, axis in enumerate(axes):  # one plane of each other axis, where it stands
        if axis not in ("c", "y", "x"):
            stored = np.expand_dims(stored, index)
    zarr_format = 3 if version == "0.5" else 2
    group = zarr.open_group(path, mode="w", zarr_format=zarr_format)
    group.create_array("0", data=stored, chunks=(*stored.shape[:-2], *chunks))
    multiscales = [{"version": version, "axes": [{"name": a, "type": "channel" if a == "c" else "space" if a in "yxz" else "time"}
                                                 for a in axes],
                    "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0] * len(axes)}]}]}]
    group.attrs.update({"ome": {"version": "0.5", "multiscales": multiscales}} if version == "0.5" else {"multiscales": multiscales})


@pytest.mark.parametrize("version, axes", [("0.5", ("c", "y", "x")), ("0.4", ("t", "c", "z", "y", "x"))])
@pytest.mark.parametrize("grid", [None, (2, 5)])
def test_an_ome_zarr_is_read_chunk_by_chunk_from_its_full_resolution(tmp_path, photo, version, axes, grid):
    write_ome_zarr(tmp_path / "image.ome.zarr", photo, version=version, axes=axes)
    tiles = open_tiled_input(tmp_path / "image.ome.zarr", grid, max_pixels=10**8)
    assert tiles.kind == "OME-Zarr" and tiles.image_shape == photo.shape
    np.testing.assert_allclose(result_of(tiles), scipy_result(photo), atol=ATOL)


def test_tile_files_cut_into_another_grid_are_written_again_in_parallel(tmp_path, photo):
    tiles = open_tiled_input(write_tiles(photo, (2, 2), tmp_path / "in", by_position), None, max_pixels=10**8)
    again = retiled(tiles, (3, 5), tmp_path / "out")
    assert again.grid == (3, 5) and again.files is None
    np.testing.assert_array_equal(
        np.concatenate([np.concatenate([tifffile.imread(p) for p in row], axis=1) for row in again.paths]), photo
    )
    np.testing.assert_allclose(result_of(again), scipy_result(photo), atol=ATOL)


def test_the_command_line_reads_tiles_in_place_and_writes_the_same_result(tmp_path, photo):
    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert main([str(tmp_path / "photo.png"), "--grid", "3x2", *(f"--stage={s}" for s in CHAIN),
                 "--out", str(tmp_path / "one")]) == 0
    for source, grid in [(tmp_path / "one" / "tiles", []), (tmp_path / "one" / "tiles", ["--grid", "4x4"])]:
        out = tmp_path / f"tiled{len(grid)}"
        assert main([str(source), *grid, *(f"--stage={s}" for s in CHAIN), "--out", str(out)]) == 0
        # The same grid gives the same floats; another grid, within float32 rounding.
        np.testing.assert_allclose(np.load(out / "result.npy"), np.load(tmp_path / "one" / "result.npy"),
                                   atol=0 if not grid else ATOL, rtol=0)
        assert (out / "tiles").exists() == bool(grid)  # in place, unless re-tiled


# -- refusing bad tile sets ------------------------------------------------------------------


def bad_sets(tmp_path, photo):
    """(source, grid, words the one line must hold) for each way a tile set can be wrong."""
    good = write_tiles(photo, (2, 2), tmp_path / "good", by_position)
    cases = {}
    missing = write_tiles(photo, (2, 2), tmp_path / "missing", by_position)
    (missing / "tile_r001_c000.png").unlink()
    cases["missing"] = (missing, None, ["tile (row 1, column 0) is missing", "tile_r001_c000"])
    cases["extra"] = (str(good / "tile_*.png"), (1, 3), ["4 files match", "1 x 3 grid needs 3"])
    misfit = write_tiles(photo, (2, 2), tmp_path / "misfit", by_position)
    Image.fromarray(photo[:50, :50]).save(misfit / "tile_r001_c001.png")
    cases["misfit"] = (misfit, None, ["tile_r001_c001.png is 50 x 50 pixels", "do not fit together"])
    mixed = write_tiles(photo, (2, 2), tmp_path / "mixed", by_position)
    Image.open(mixed / "tile_r000_c001.png").convert("L").save(mixed / "tile_r000_c001.png")
    cases["mixed modes"] = (mixed, None, ["tile_r000_c001.png is gray uint8", "colour", "same colour mode"])
    cmyk = write_tiles(photo, (1, 2), tmp_path / "cmyk", by_position, ".jpg", mode="CMYK")
    cases["cmyk"] = (cmyk, None, ["tile_r000_c000.jpg is a CMYK image"])
    broken = write_tiles(photo, (1, 2), tmp_path / "broken", by_position)
    (broken / "tile_r000_c001.png").write_bytes(b"not an image")
    cases["unreadable"] = (broken, None, ["cannot read the tile tile_r000_c001.png"])
    twice = write_tiles(photo, (1, 2), tmp_path / "twice", by_position)
    Image.fromarray(photo[:10, :10]).save(twice / "tile_r000_c001.tif")
    cases["twice"] = (twice, None, ["two files for tile (row 0, column 1)"])
    (tmp_path / "empty").mkdir()
    cases["empty"] = (tmp_path / "empty", None, ["no tile files in"])
    cases["no grid"] = (str(good / "tile_*.png"), None, ["give their grid"])
    write_ome_zarr(tmp_path / "stack.ome.zarr", photo, version="0.4", axes=("z", "c", "y", "x"))
    _duplicate_plane(tmp_path / "stack.ome.zarr")
    cases["z stack"] = (tmp_path / "stack.ome.zarr", None, ["holds 2 z planes", "one 2-D image"])
    (tmp_path / "no-ome.zarr").mkdir()
    (tmp_path / "no-ome.zarr" / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group"}))
    cases["not ome"] = (tmp_path / "no-ome.zarr", None, ["holds no OME-Zarr image"])
    return cases


def _duplicate_plane(store):
    import zarr

    group = zarr.open_group(store, mode="a")
    planes = group["0"][:]
    del group["0"]
    group.create_array("0", data=np.concatenate([planes, planes]), chunks=(1, *planes.shape[1:]))


CASES = ["missing", "extra", "misfit", "mixed modes", "cmyk", "unreadable", "twice", "empty", "no grid", "z stack",
         "not ome"]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_tile_set_is_refused_in_one_line_naming_the_tile_and_nothing_is_written(tmp_path, photo, case, capsys):
    source, grid, words = bad_sets(tmp_path, photo)[case]
    out = tmp_path / "out"
    code = main([os.fspath(source), *(["--grid", f"{grid[0]}x{grid[1]}"] if grid else []), "--out", str(out)])
    error = capsys.readouterr().err
    assert code == 1 and error.count("\n") == 1 and error.startswith("python -m core: error: "), error
    assert all(word in error for word in words), error
    assert not out.exists()


def test_an_image_in_tiles_larger_than_the_limit_is_refused_before_any_read(tmp_path, photo):
    write_tiles(photo, (2, 2), tmp_path / "tiles", by_position)
    with pytest.raises(PipelineError, match="more than the limit of 1,000"):
        open_tiled_input(tmp_path / "tiles", None, max_pixels=1000)
