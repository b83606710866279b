"""Where the Dask kernels plug into the engine, for the length of one run.

The engine's entry points (run_exposure, run_fourcolor, landslide_susceptibility, shelter_coverage)
call their heavy kernels through module attributes: ``exposure.population_by_unit``,
``exposure.feature_classes``, ``exposure.assign_units``, ``exposure.load_used_fields``,
``exposure.count_buildings``, ``exposure.count_facilities``, ``fourcolor.split_grid``, ``grid._Job``,
``shelters.reach``, ``shelters.allocate``, ``shelter_run.load_demand``, ``shelter_run.demand_frame`` and
``shelter_run.write_demand``.
:func:`swapped` puts result-identical Dask versions there and restores the originals afterwards,
so validation, tables and outputs stay the engine's own code, with one source of truth.

A swap checks that the attribute is still the function the Dask version replaces; when an engine
module is reorganised, the Dask path stops with a message naming the seam instead of silently
running in one process (tests/test_dask.py also counts the tasks each kernel ran).

One run at a time per process (a lock): the swap is process-wide. The natural successor is an
``executor=`` argument on the engine entry points; until then this is the one place that knows.
"""
import contextlib
import threading

_LOCK = threading.RLock()


class SeamError(RuntimeError):
    pass


@contextlib.contextmanager
def swapped(*swaps):
    """``swaps``: (module, attribute name, expected original, replacement). The originals come back
    on exit, also on error or cancel."""
    with _LOCK:
        saved = []
        try:
            for module, name, expected, replacement in swaps:
                current = getattr(module, name, None)
                if current is None or (expected is not None and current is not expected):
                    raise SeamError(f"{module.__name__}.{name} is not the kernel the Dask path replaces "
                                    f"(found {current!r}): update risk_plugin/parallel for this engine change")
                saved.append((module, name, current))
                setattr(module, name, replacement)
            yield
        finally:
            for module, name, original in reversed(saved):
                setattr(module, name, original)
