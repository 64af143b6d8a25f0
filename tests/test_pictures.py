import dask.array as da
import numpy as np

from core.outputs.pictures import LABEL_PALETTE, label_colours, to_picture


def test_values_map_their_range_to_black_and_white():
    values = np.array([[-4.0, 0.0, 4.0, 9.0]], np.float32)
    np.testing.assert_array_equal(to_picture(values, "values", (-4.0, 4.0)), [[0, 128, 255, 255]])


def test_masks_are_black_and_white():
    np.testing.assert_array_equal(to_picture(np.array([[0, 1, 1]], np.uint8), "mask", (0, 1)), [[0, 255, 255]])


def test_a_label_has_one_colour_whichever_chunk_draws_it():
    labels = np.zeros((40, 40), np.int32)
    labels[5:35, 5:35] = 7
    labels[0, 0] = 3
    drawn = to_picture(da.from_array(labels, chunks=13), "labels", (0, 1)).compute()
    assert drawn.shape == (40, 40, 3) and drawn.dtype == np.uint8
    np.testing.assert_array_equal(drawn, label_colours(labels))
    assert (drawn[5:35, 5:35] == LABEL_PALETTE[6]).all()
    assert (drawn[labels == 0] == 0).all() and not (drawn[0, 0] == drawn[10, 10]).all()


def test_lazy_and_eager_pictures_agree(rng):
    values = rng.normal(size=(30, 20)).astype(np.float32)
    lazy = to_picture(da.from_array(values, chunks=7), "values", (-1.0, 2.0)).compute()
    np.testing.assert_array_equal(lazy, to_picture(values, "values", (-1.0, 2.0)))
