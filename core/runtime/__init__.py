"""Where and how the work runs: threads or a ``distributed`` cluster, stopping work nobody
waits for, the bounded disk cache, and files written whole or not at all.

Nothing here knows about images: the other packages of ``core`` build on it.
"""

from .atomic import atomic_folder, atomic_path
from .cancel import cancel, persist_and_wait
from .cluster import LOCAL, THREADS, Runner, configured_scheduler, connect
from .disk_cache import prune, store_bytes, touch

__all__ = [
    "LOCAL",
    "THREADS",
    "Runner",
    "atomic_folder",
    "atomic_path",
    "cancel",
    "configured_scheduler",
    "connect",
    "persist_and_wait",
    "prune",
    "store_bytes",
    "touch",
]
