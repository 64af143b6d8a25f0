import numpy as np
import pytest
from skimage import data


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real RGB photo, cropped to a size that most grids do not divide."""
    return data.astronaut()[100:167, 150:203]  # 67 x 53


@pytest.fixture
def rng():
    return np.random.default_rng(0)
