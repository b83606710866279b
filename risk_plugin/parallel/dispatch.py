"""Run kernels on a dask.distributed Client: shared inputs scattered once, one task per piece,
results back in the order of the pieces. Dask schedules; nothing here decides where a task runs.

>>> d = Dispatcher(client)
>>> shared = d.share(big_object)                         # broadcast to every worker once
>>> results = d.map("population", kernel, pieces, shared, progress=progress)

Worker-side state (open rasters, a rebuilt hazard source) is cached per job with :func:`worker_cached`,
so a worker opens each input once per job however many pieces it runs.
"""
import threading
import uuid
from collections import Counter

from ..progress import ensure


class Dispatcher:
    """Submits kernels to ``client`` and counts the tasks per kernel (``tasks``)."""

    def __init__(self, client):
        self.client = client
        self.token = uuid.uuid4().hex        # one job: worker caches are keyed by it
        self.tasks = Counter()

    @property
    def n_workers(self):
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def share(self, obj):
        """A Future of ``obj`` held by every worker (pass it to :meth:`map` / :meth:`submit`)."""
        return self.client.scatter(obj, broadcast=True, hash=False)

    def submit(self, kernel, fn, *args, **kwargs):
        self.tasks[kernel] += 1
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def map(self, kernel, fn, pieces, *args, progress=None, **kwargs):
        """[fn(piece, *args, **kwargs) for piece in pieces], computed on the cluster, in order.

        Checks ``progress`` for cancel between results; on cancel or error the remaining tasks are
        cancelled and the exception is raised here."""
        from distributed import as_completed
        progress = ensure(progress)
        pieces = list(pieces)
        if not pieces:
            return []
        futures = [self.submit(kernel, fn, p, *args, **kwargs) for p in pieces]
        where = {f.key: i for i, f in enumerate(futures)}
        out = [None] * len(futures)
        try:
            for done, (fut, result) in enumerate(as_completed(futures, with_results=True), 1):
                out[where[fut.key]] = result
                fut.release()
                progress.set(100.0 * done / len(futures))
        except BaseException:                 # Cancelled, a failed task, Ctrl-C
            self.client.cancel(futures)
            raise
        return out


_local = threading.local()


def worker_cached(token, key, make):
    """``make()`` once per (job token, key) in this worker thread; a new token drops (and closes) the
    previous job's objects."""
    cache = getattr(_local, "cache", None)
    if cache is None or cache.get("__token__") != token:
        if cache:
            for k, v in cache.items():
                if k != "__token__" and hasattr(v, "close"):
                    try:
                        v.close()
                    except Exception:  # noqa: BLE001 - closing a stale dataset must not fail a job
                        pass
        cache = _local.cache = {"__token__": token}
    if key not in cache:
        cache[key] = make()
    return cache[key]
