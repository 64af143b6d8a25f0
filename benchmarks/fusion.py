"""One step of the chain with and without its chunk tasks fused (``core.runtime.fusion``).

    python -m benchmarks.fusion [--repeat 7]

A 16.8-MPix grayscale image in 4 x 4 chunks, persisted where the step runs, as the
dashboard keeps the step before; ``run_step`` as the dashboard calls it (its preview and,
for values, its histogram), on the local cluster and on threads. Fused and unfused runs
take turns; each run's step has its own keys, so none reuses a result.
"""

from __future__ import annotations

import argparse
import statistics
import time
from unittest import mock

import dask.array as da
import numpy as np

from core.pipeline import parse_chain
from core.runtime import THREADS, connect
from ui.services import previews

SIDE, CHUNK, STRIDE = 4096, 1024, 3
#: Each step as the dashboard runs it; the sigma and the clip's end vary with the attempt.
STEPS = {"Sobel y": "sobel:mode=y", "Sobel magnitude": "sobel:mode=magnitude",
         "Gaussian": "gaussian:sigma={sigma}", "clip": "clip:lo=0,hi={hi}"}


def step_seconds(image, text: str, scheduler, fused: bool) -> float:
    (step,) = parse_chain([text])
    with mock.patch.object(previews, "shares_memory", lambda scheduler: fused):
        started = time.perf_counter()
        previews.run_step(image, step, (0.0, 1.0), STRIDE, scheduler=scheduler)
        return time.perf_counter() - started


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    runner = connect("local", dashboard=False)
    image = da.random.RandomState(0).random_sample((SIDE, SIDE), chunks=CHUNK).astype(np.float32)
    where = {"cluster": (runner.client.persist(image), runner.client), "threads": (image.persist(), THREADS)}
    print(f"{SIDE} x {SIDE} float32 in {SIDE // CHUNK} x {SIDE // CHUNK} chunks; median of {args.repeat} (ms)")
    for label, template in STEPS.items():
        times: dict = {}
        for attempt in range(args.repeat):
            for place, (persisted, scheduler) in where.items():
                for fused in (False, True):
                    unseen = attempt / 100 + fused / 1000  # keys of their own: nothing reused
                    text = template.format(sigma=1 + unseen, hi=0.5 + unseen)
                    seconds = step_seconds(persisted, text, scheduler, fused)
                    times.setdefault((place, fused), []).append(seconds * 1000)
        row = "  ".join(
            f"{place} {'fused' if fused else 'unfused'} {statistics.median(ms):4.0f}" for (place, fused), ms in times.items()
        )
        print(f"  {label:<16} {row}")
    runner.close()
