"""Taking the chain home: Home offers it as a notebook and a script, and each step's page
shows the line of code the notebook runs for it."""

import numpy as np
import pytest
from apptest import HOME_PAGE, LABEL_CHAIN, STEP_PAGE, assert_clean, open_app

from core.pipeline import load_image, sample_file
from ui.services.uploads import current_image

pytestmark = pytest.mark.usefixtures("fresh_server")


def test_home_offers_the_chain_as_a_notebook_and_a_script():
    at = open_app(HOME_PAGE, {"chain": LABEL_CHAIN})
    assert_clean(at, HOME_PAGE)
    buttons = {button.proto.label for button in at.get("download_button")}
    assert {"Download as a notebook (pipeline.ipynb)", "Download as a script (pipeline.py)"} <= buttons


def test_the_notebook_names_the_file_the_sample_is_decoded_from():
    assert current_image("coins", None).file() == sample_file("coins")
    # The large sample is made, not bundled: its file is written once, the same pixels.
    large = current_image("astronaut_16mpix", None)
    np.testing.assert_array_equal(load_image(large.file()), large.pixels)


@pytest.mark.parametrize("step, line", [
    (1, "gaussian = dask_image.ndfilters.gaussian_filter(stitched, sigma=2.0, truncate=4.0)"),
    (2, "threshold = (gaussian > skimage.filters.threshold_otsu(gaussian.compute())).astype(numpy.uint8)"),
    (3, "label = dask_image.ndmeasure.label(threshold, scipy.ndimage.generate_binary_structure(2, 2))[0]"),
])
def test_each_steps_page_shows_its_line_of_code(step, line):
    at = open_app(STEP_PAGE, {"chain": LABEL_CHAIN}, step=step)
    assert not at.exception and not at.error
    assert line in [code.value for code in at.code]
