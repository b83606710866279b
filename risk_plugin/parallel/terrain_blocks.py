"""Landslide susceptibility on Dask: the terrain factors of every DEM block computed on the workers.

:func:`risk_plugin.susceptibility.landslide_susceptibility` runs unchanged on the driver (inputs,
samples, model fit, zone breaks, index and report). What it asks of the grid, block by block, is
``job.continuous_block(blk)``: read the block of the DEM with its halo and compute slope, aspect,
curvatures, relief, TWI and distances. :func:`make_job_class` gives a job whose
``continuous_block`` is a Dask task instead: the job's state (block layout, flow-routing grid, line
distances, settings) is scattered to every worker once, each worker rebuilds the job once and opens
the DEM itself (by path: on a real cluster every worker must see it), and computes the blocks it is
given with the same code. The driver's block loop keeps several blocks in flight (its thread pool),
so the workers stay busy; class codes, sample picks and writing stay on the driver.

What does not spread: flow routing (``terrain.hydro_grid``) is global and runs once on the driver on
a grid of at most HYDRO_MAX_CELLS; the final pass (class codes → index, table look-ups) stays on the
driver, next to its temporary file.

Results are bit-identical to one process: the factor arrays come from the same function on the
same inputs, and the engine draws every random number from the seed and the block position.
"""
import pickle
import threading

from .dispatch import worker_cached

_SKIP = ("_dask",)   # attributes of the driver's job that stay on the driver


def _picklable(value):
    try:
        import cloudpickle
        cloudpickle.dumps(value)
        return True
    except Exception:  # noqa: BLE001 - open datasets, locks, thread-locals: the worker makes its own
        return False


def _state(job):
    """The job's picklable attributes (what the engine set on it: blocks, hydro grid, line distances…),
    without its per-process handles (``RUNTIME_ATTRS``): a worker's rebuilt job makes its own, and an
    empty list shipped here would be the very object the worker appends its open datasets to, which
    Dask then fails to send to the next worker that needs the state (the task waits forever)."""
    skip = set(getattr(type(job), "RUNTIME_ATTRS", ()))
    return {k: v for k, v in job.__dict__.items() if not k.startswith(_SKIP) and k not in skip and _picklable(v)}


def _rebuild(base, args, kwargs, state):
    job = base(*args, **kwargs)          # the worker's own file handles
    job.__dict__.update(state)
    return job


def _factor_block(blk, token, shipped):
    base, args, kwargs, state = shipped
    base = getattr(base, "_dask_base", base)
    job = worker_cached(token, "susceptibility-job", lambda: _rebuild(base, args, kwargs, state))
    return job.continuous_block(blk)


def make_job_class(base, dispatcher):
    """A subclass of the susceptibility engine's job class whose ``continuous_block`` runs on Dask."""

    class DaskJob(base):
        _dask_base = base

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for value in (*args, *kwargs.values()):
                pickle.dumps(value)       # the worker rebuilds the job from these (paths, settings, seed)
            self._dask_args = (args, kwargs)
            self._dask_shipped = None
            self._dask_lock = threading.Lock()

        def continuous_block(self, blk):
            with self._dask_lock:          # the engine calls this from its block threads
                if self._dask_shipped is None:
                    # first block: the engine has set up the factor sources; ship the state once
                    self._dask_shipped = dispatcher.share((base, *self._dask_args, _state(self)))
            return dispatcher.submit("terrain_blocks", _factor_block, blk, dispatcher.token,
                                     self._dask_shipped).result()

        def close(self):
            self._dask_shipped = None
            super().close()

    DaskJob.__name__ = DaskJob.__qualname__ = f"Dask{base.__name__}"
    return DaskJob
