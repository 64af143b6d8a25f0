"""Taking the chain home, as a new user would: build smooth -> threshold -> label in the
sidebar, download the notebook from Home, run it in a Jupyter kernel outside the repository,
and find the regions the app found."""

import csv
import os
from collections import Counter

import nbformat
import numpy as np
from browser import needs_chromium, wait_until_done
from browser_app import HOME, add_stage, after_change, button, download, widget
from nbclient import NotebookClient

pytestmark = needs_chromium

LABELS = "6 · Labels"


def test_the_downloaded_notebook_finds_the_regions_the_app_found(server, page, tmp_path):
    page.goto(f"{server.url}/?sample=coins&rows=3&cols=3")
    wait_until_done(page, HOME)
    chain = ["sobel:mode=x", "clip:lo=0,hi=1"]
    for _ in range(2):
        button(page, "step1.remove").click()
        chain = after_change(page, HOME, chain)
    for title in ("Gaussian smoothing", "Threshold", "Labels"):
        add_stage(page, title)
        chain = after_change(page, HOME, chain)
    sigma = widget(page, "step1.sigma").locator('input[type="range"]')
    sigma.focus()
    sigma.press("ArrowRight")  # 1.0 -> 1.1: a chain of the user's own
    chain = after_change(page, HOME, chain)
    assert chain == ["gaussian:sigma=1.1", "threshold:method=otsu", "label:connectivity=1"]

    assert download(page, "Download as a notebook (pipeline.ipynb)", tmp_path / "pipeline.ipynb") == "pipeline.ipynb"
    assert download(page, "Download as a script (pipeline.py)", tmp_path / "pipeline.py") == "pipeline.py"
    page.locator('[data-testid="stSidebar"] a', has_text=LABELS).first.click()
    wait_until_done(page, LABELS)
    page.locator('[data-testid="stDataFrame"]').wait_for()
    assert "label = dask_image.ndmeasure.label(threshold," in page.locator('[data-testid="stCode"]').inner_text()
    download(page, "Download the region table (CSV)", tmp_path / "regions.csv")
    with open(tmp_path / "regions.csv", newline="") as file:
        areas = Counter(int(row["area"]) for row in csv.DictReader(file))

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    notebook = nbformat.read(tmp_path / "pipeline.ipynb", as_version=4)
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    NotebookClient(notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(elsewhere)}}).execute(
        env=env
    )
    labels = np.load(elsewhere / "result.npy")
    assert len(areas) > 3 and Counter(np.bincount(labels.ravel())[1:].tolist()) == areas  # the same regions
    assert (tmp_path / "pipeline.py").read_text().count("# %%") == len(notebook.cells)
