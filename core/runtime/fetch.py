"""Results computed on a cluster and written here, block by block, for workers that cannot
write this machine's disk.

Where the workers share the disk they store each block themselves (``dask.array.store``);
where each has its own, the blocks come back here as futures and each is written into its
target as soon as it is computed, then released, so that this process holds about one
block at a time, never the whole result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import accumulate, product

import dask.array as da

from ..errors import PipelineError

__all__ = ["block_slices", "compute_and_store_here"]


def block_slices(chunks: tuple[tuple[int, ...], ...]) -> dict[tuple[int, ...], tuple[slice, ...]]:
    """Each block's index and the slices of the array it holds."""
    edges = [list(accumulate(sizes, initial=0)) for sizes in chunks]
    return {
        index: tuple(slice(axis[i], axis[i + 1]) for axis, i in zip(edges, index))
        for index in product(*(range(len(sizes)) for sizes in chunks))
    }


def compute_and_store_here(
    client,
    collections: Sequence,
    stores: Sequence[tuple[da.Array, object]],
    *,
    timeout: float | None = None,
    on_futures: Callable[[list], None] | None = None,
) -> list:
    """Compute ``collections`` and every block of the arrays of ``stores`` on ``client``'s
    cluster in one pass, and write each block into its target here (``target[slices] =
    block``) as it is computed; return the collections' values.

    ``on_futures(futures)`` is given every future of the pass as it starts (a progress
    bar). The first task error is raised here, the rest of the pass cancelled.

    Raises
    ------
    PipelineError
        If the pass does not finish within ``timeout`` seconds.
    """
    from distributed import as_completed

    # By key: one block may go to several targets (the .npy and the zarr's first level),
    # and futures of one key are one to ``as_completed``.
    blocks, places = {}, {}
    for array, target in stores:
        delayed = array.to_delayed(optimize_graph=False)  # the blocks under their own keys
        for index, slices in block_slices(array.chunks).items():
            blocks.setdefault(delayed[index].key, delayed[index])
            places.setdefault(delayed[index].key, []).append((target, slices))
    futures = client.compute([*collections, *blocks.values()], optimize_graph=False)
    if on_futures is not None:
        on_futures(futures)
    values = futures[: len(collections)]
    try:
        for future in as_completed(futures, loop=client.loop, timeout=timeout):
            if future.status == "error":
                raise future.exception()
            if future.key not in places:
                continue  # a collection's value, gathered at the end
            block = future.result()
            for target, slices in places.pop(future.key):
                target[slices] = block
            # Released now rather than when the list of futures goes: the workers may drop
            # the block once nothing else of the pass needs it.
            future.release()
    except TimeoutError:
        client.cancel(futures)
        raise PipelineError(f"the cluster did not finish within {timeout:g} s") from None
    except BaseException:
        client.cancel(futures)
        raise
    return client.gather(values)
