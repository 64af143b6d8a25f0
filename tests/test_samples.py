"""The samples need no network; the large one is made the same every time and kept."""

import numpy as np
import pytest

from core.errors import PipelineError
from core.pipeline.samples import LARGE_SAMPLES, SAMPLES, load_sample, make_large_sample


@pytest.mark.parametrize("name", [name for name in SAMPLES if name not in LARGE_SAMPLES])
def test_every_bundled_sample_is_gray_or_rgb_uint8(name):
    pixels = load_sample(name)
    assert pixels.dtype == np.uint8 and (pixels.ndim == 2 or pixels.shape[2] == 3)


def test_the_large_sample_is_made_once_the_same_and_kept_in_the_cache(tmp_path):
    made = load_sample("astronaut_16mpix", tmp_path)
    assert made.shape == (4096, 4096, 3) and made.dtype == np.uint8
    kept = list((tmp_path / ".samples").iterdir())
    assert len(kept) == 1
    stamp = kept[0].stat().st_mtime_ns
    np.testing.assert_array_equal(load_sample("astronaut_16mpix", tmp_path), made)
    assert kept[0].stat().st_mtime_ns == stamp  # read back, not made again
    np.testing.assert_array_equal(make_large_sample(), made)  # the same bytes from scratch
    assert made.std() > 30  # a photo, not a blank: grain and edges to filter


def test_an_unknown_sample_is_refused_with_the_names_to_choose_from():
    with pytest.raises(PipelineError, match="unknown sample 'nope'; choose one of astronaut"):
        load_sample("nope")
