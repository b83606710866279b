"""Run kernels on a dask.distributed Client: shared inputs scattered once, one task per piece,
results back in the order of the pieces. Dask schedules; nothing here decides where a task runs.

>>> d = Dispatcher(client)
>>> shared = d.share(big_object)                         # broadcast to every worker once
>>> results = d.map("population", kernel, pieces, shared, progress=progress)

Worker-side state (open rasters, a rebuilt hazard source) is cached per job with :func:`worker_cached`,
so a worker opens each input once per job however many pieces it runs.
"""
import contextlib
import threading
import time
import uuid
from collections import Counter

import numpy as np
import shapely

from ..progress import ensure

DRAIN_S = 600.0      # map_stream(drain=True): the longest wait for the tasks in flight after an error


class Dispatcher:
    """Submits kernels to ``client``; counts the tasks per kernel (``tasks``) and the wall time the
    driver spends in :meth:`map` per kernel (``seconds``: the distributed share of a job)."""

    def __init__(self, client):
        self.client = client
        self.token = uuid.uuid4().hex        # one job: worker caches are keyed by it
        self.tasks = Counter()
        self.seconds = Counter()

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
        t0 = time.perf_counter()
        # pieces go straight to the workers (spread over them), not through the scheduler's task graph
        held = self.client.scatter(pieces, hash=False)
        futures = [self.submit(kernel, fn, p, *args, **kwargs) for p in held]
        where = {f.key: i for i, f in enumerate(futures)}
        out = [None] * len(futures)
        try:
            for done, (fut, result) in enumerate(as_completed(futures, with_results=True), 1):
                i = where[fut.key]
                out[i] = result
                fut.release()
                held[i].release()
                progress.set(100.0 * done / len(futures))
        except BaseException:                 # Cancelled, a failed task, Ctrl-C
            self.client.cancel(futures + held)
            raise
        finally:
            self.seconds[kernel] += time.perf_counter() - t0
        return out


    def map_stream(self, kernel, fn, pieces, total, in_flight, progress=None, on_result=None, drain=False,
                   keep=True, args=()):
        """:meth:`map` over an iterator of pieces made one by one (``total`` of them, for progress):
        at most ``in_flight`` pieces exist at once, on the driver or on the cluster, so the driver
        never holds them all. ``fn(piece, *args)``; results in the order of the pieces;
        ``on_result(i, result)`` is called as each arrives (in any order; an exception there cancels
        the rest). ``drain``: on error or cancel, the tasks already submitted (at most ``in_flight``)
        finish before this returns, so nothing they write appears afterwards (the rest is never
        submitted). ``keep=False``: the results are only given to ``on_result`` (the list returned
        holds None), so the driver holds none of them."""
        from distributed import as_completed
        progress = ensure(progress)
        it = iter(pieces)
        out, where, held = [], {}, {}
        ac = as_completed(loop=self.client.loop, with_results=True)
        t0 = time.perf_counter()

        def submit_next():
            piece = next(it, None)
            if piece is None:
                return
            h = self.client.scatter([piece], hash=False)[0]     # a list: one future for the whole piece
            f = self.submit(kernel, fn, h, *args)
            where[f.key], held[f.key] = len(out), h
            out.append(None)
            ac.add(f)
        try:
            for _ in range(max(1, int(in_flight))):
                submit_next()
            done = 0
            for fut, result in ac:
                out[where[fut.key]] = result if keep else None
                fut.release()
                held.pop(fut.key).release()
                if on_result is not None:
                    on_result(where[fut.key], result)
                done += 1
                progress.set(100.0 * done / max(total, 1))
                submit_next()
        except BaseException:                 # Cancelled, a failed task, Ctrl-C
            if drain:
                from distributed import wait
                with contextlib.suppress(Exception):
                    wait(list(ac.futures), timeout=DRAIN_S)
            self.client.cancel(list(ac.futures) + list(held.values()))
            raise
        finally:
            self.seconds[kernel] += time.perf_counter() - t0
        return out


class Geometries:
    """A shapely geometry array that travels as WKB: pickling geometries one by one costs ~20 µs each,
    WKB in bulk ~3 µs. The receiving side reads ``.array`` (also when nothing was pickled, as with
    an in-process cluster)."""

    def __init__(self, array):
        self.array = np.asarray(array, dtype=object)

    def __len__(self):
        return len(self.array)

    def __reduce__(self):
        return _geometries_from_wkb, (shapely.to_wkb(self.array),)


def _geometries_from_wkb(wkb):
    return Geometries(shapely.from_wkb(wkb))


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
