"""Run an engine job in one process ('local') or on Dask ('dask').

>>> with dask_engine(workers=2) as d:                           # LocalCluster; or scheduler="tcp://…"
...     res = run("exposure", d, hazard="zoning.tif", population="pop.tif", units=["villages.gpkg"])
>>> res = run("exposure", None, hazard=…)                       # the local engine, same call

Jobs and the engine entry point each one calls with the keyword arguments given:

=============== ===================================================== ===================================
job             entry point                                           what runs on the workers
=============== ===================================================== ===================================
susceptibility  risk_plugin.susceptibility.landslide_susceptibility   terrain factors per DEM block (halo)
exposure        risk_plugin.exposure.run_exposure                     people per raster block; buildings
                                                                      and facilities read, checked and
                                                                      counted per tile (parallel/layers)
fourcolor       risk_plugin.fourcolor.run_fourcolor                   grid: strips of grid rows built,
                                                                      counted, graded and written
                                                                      (parallel/grid_strips); units:
                                                                      the same counting kernels
shelters        risk_plugin.shelter_run.shelter_coverage              demand layer read and checked per
                                                                      tile (parallel/demand); demand
                                                                      snapping and walking pairs per
                                                                      township + buffer; allocation
                                                                      per batch of reach components;
                                                                      the per-demand output built and
                                                                      written per tile (demand_out)
=============== ===================================================== ===================================

The result is the entry point's own result, bit-identical to the local run except where a module
docstring says otherwise (shelters: per-unit sums may differ in the last bits; the pairs do not).
"""
import contextlib
import dataclasses
import time

from ..errors import RiskMapError
from .cluster import connect, driver_memory, worker_memory
from .dispatch import Dispatcher
from .seams import swapped

JOBS = ("susceptibility", "exposure", "fourcolor", "shelters")
# GDAL's block cache in the driver process on Dask. GDAL's default, 5 % of RAM (1.2 GB on 24 GiB), fills up
# while the driver reads and writes county-size rasters: the driver's peak grew with the DEM (susceptibility,
# 100 M → 400 M cells: 1,006 → 1,764 MiB). The driver reads and writes block by block, so a small cache
# costs nothing; workers keep GDAL's default.
DRIVER_GDAL_CACHE_MB = 256
ENGINES = ("local", "dask")


@contextlib.contextmanager
def dask_engine(scheduler=None, workers=None, threads_per_worker=1, processes=True, client=None):
    """Yield a :class:`Dispatcher` on ``client``, on the cluster at ``scheduler``, or on a new
    LocalCluster of ``workers`` processes."""
    import rasterio
    with rasterio.Env(GDAL_CACHEMAX=DRIVER_GDAL_CACHE_MB * 2 ** 20):    # bytes: rasterio sets GDAL's cache
        if client is not None:
            yield Dispatcher(client)
            return
        with connect(scheduler, workers, threads_per_worker, processes) as c:
            yield Dispatcher(c)


def run(job, dispatcher=None, **kwargs):
    """Run ``job`` (one of JOBS) with the entry point's keyword arguments; on Dask when a
    ``dispatcher`` is given."""
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}; one of {JOBS}")
    return globals()[f"_{job}"](dispatcher, **kwargs)


# --------------------------------------------------------------------------------------------- jobs
def counting_kernels(dispatcher):
    """The exposure counting kernels swapped for their Dask versions (exposure and four-color)."""
    from .. import exposure, zonal
    from . import counting as C
    from . import layers as L
    return swapped((exposure, "population_by_unit", zonal.population_by_unit, C.make_population_by_unit(dispatcher)),
                   (exposure, "feature_classes", C._feature_classes, C.make_feature_classes(dispatcher)),
                   (exposure, "assign_units", C._assign_units, C.make_assign_units(dispatcher)),
                   (exposure, "load_used_fields", L._load_used_fields, L.make_load_used_fields(dispatcher)),
                   (exposure, "count_buildings", L._count_buildings,
                    L.make_counter(dispatcher, "buildings", L._count_buildings)),
                   (exposure, "count_facilities", L._count_facilities,
                    L.make_counter(dispatcher, "facilities", L._count_facilities)))


def _exposure(dispatcher, **kwargs):
    from ..exposure import run_exposure
    if dispatcher is None:
        return run_exposure(**kwargs)
    with counting_kernels(dispatcher):
        return run_exposure(**kwargs)


def _fourcolor(dispatcher, **kwargs):
    from .. import fourcolor
    if dispatcher is None:
        return fourcolor.run_fourcolor(**kwargs)
    from .grid_strips import make_split_grid
    with counting_kernels(dispatcher), swapped((fourcolor, "split_grid", fourcolor.split_grid,
                                                make_split_grid(dispatcher))):
        return fourcolor.run_fourcolor(**kwargs)


def _susceptibility(dispatcher, **kwargs):
    from ..susceptibility import grid, landslide_susceptibility
    if dispatcher is None:
        return landslide_susceptibility(**kwargs)
    from .terrain_blocks import make_job_class
    settings = kwargs.get("settings")
    names = {f.name for f in dataclasses.fields(grid.Settings)}
    if "workers" in names and "workers" not in kwargs and not (settings and settings.workers):
        # the engine keeps 2 × workers blocks in flight from its thread pool: enough to feed the cluster
        kwargs["workers"] = max(2, dispatcher.n_workers)
    base = grid._Job
    with swapped((grid, "_Job", base, make_job_class(base, dispatcher))):
        return landslide_susceptibility(**kwargs)


def _shelters(dispatcher, townships=None, buffer_m=None, tile_m=None, **kwargs):
    """``townships``: polygons to partition the demand by (Dask only; default: square tiles)."""
    from .. import shelter_run
    from .. import shelters as S
    from ..shelter_run import shelter_coverage
    if dispatcher is None:
        return shelter_coverage(**kwargs)
    from .demand import in_chunks, make_load_demand
    from .demand_out import LazyFrames, make_demand_output
    from .reach import TILE_M, make_reach
    load, state = shelter_run.load_demand, {}
    demand = (shelter_run, "load_demand", load, make_load_demand(dispatcher, load, state))
    try:
        work = kwargs.get("working_crs_") or _shelter_working_crs(kwargs)
        parts = _partition_polygons(townships, work) if townships else None
    except RiskMapError:
        with swapped(demand):
            return shelter_coverage(**kwargs)     # the engine reports every input problem at once
    kwargs["working_crs_"] = work             # partitions and points in one CRS, by construction
    state["work"] = work                      # the workers give the demand's coordinates in it
    reach = make_reach(dispatcher, parts, buffer_m, tile_m or TILE_M, demand_xy=lambda: state.get("xy"))
    join = shelter_run._units_join

    def units_join(units, pts):               # from the coordinates, a chunk of points at a time
        xy = state.get("xy")
        if units is None or xy is None or len(xy[0]) != len(pts):
            return join(units, pts)
        return in_chunks(lambda p: join(units, p), *xy)

    def allocate(s, t, d, people, cap, rule=S.D.ALLOCATION):
        return S.allocate_by_component(s, t, d, people, cap, rule,
                                       mapper=lambda fn, pieces: dispatcher.map("allocate", fn, pieces))
    frame, write = make_demand_output(dispatcher, state, shelter_run.demand_frame, shelter_run.write_demand)
    with swapped((S, "reach", None, reach), (S, "allocate", None, allocate), demand,
                 (shelter_run, "demand_frame", shelter_run.demand_frame, frame),
                 (shelter_run, "write_demand", shelter_run.write_demand, write),
                 (shelter_run, "_units_join", join, units_join)):
        result = shelter_coverage(**kwargs)
    result["frames"] = LazyFrames(result["frames"])     # the demand frame, built by the workers when read
    return result


def _shelter_working_crs(kw):
    """The working CRS shelter_coverage picks (from the validated shelters layer)."""
    from ..crs import working_crs
    from ..inputs import VectorInput, load_vectors
    spec = VectorInput("shelters", kw["shelters"], "shelters",
                       {"shelter_class": kw.get("class_field"), "effective_area": kw.get("area_field"),
                        "capacity": kw.get("capacity_field")}, label="SHELTERS", repair=kw.get("repair", False))
    sh = load_vectors([spec])["shelters"]
    return working_crs(sh.crs, sh.total_bounds, None)


def _partition_polygons(source, work):
    from ..crs import to_working
    from ..inputs import VectorInput, load_vectors
    gdf = load_vectors([VectorInput("townships", source, "admin_units", label="TOWNSHIPS")])["townships"]
    return to_working(gdf, work).geometry.values


# --------------------------------------------------------------------------------------------- numbers
def numbers(job, result):
    """The numeric outputs of a job's result, as a flat dict (for the CLI, stats and the benchmark)."""
    if job == "susceptibility":
        return {"AUC_SUCCESS": float(result.auc_success), "AUC_PREDICTION": float(result.auc_prediction),
                "N_PRESENCE": int(result.n_presence), "N_ABSENCE": int(result.n_absence)}
    if job == "shelters":
        keys = ("population_total", "population_within_reach", "population_served", "population_unserved",
                "shelters", "demand_units")
        return {k.upper(): result[k] for k in keys if k in result}
    return {k: v for k, v in result.items() if k.isupper() and isinstance(v, (int, float))}


def run_measured(job, engine="local", scheduler=None, workers=None, threads_per_worker=1, processes=True, **kwargs):
    """(result, stats): ``run`` with wall time, tasks per kernel and memory. Stats: job, engine,
    workers, seconds (the job, without starting the cluster), tasks, driver (peak/current MiB) and
    per-worker memory measured inside each worker process after the job."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; one of {ENGINES}")
    stats = {"job": job, "engine": engine}
    if engine == "local":
        t0 = time.perf_counter()
        result = run(job, None, **kwargs)
        stats.update(seconds=time.perf_counter() - t0, workers=0, tasks={}, worker_memory={})
    else:
        with dask_engine(scheduler, workers, threads_per_worker, processes) as d:
            stats["workers"] = d.n_workers
            t0 = time.perf_counter()
            result = run(job, d, **kwargs)
            stats["seconds"] = time.perf_counter() - t0
            stats["tasks"] = dict(d.tasks)
            stats["kernel_seconds"] = {k: round(v, 3) for k, v in d.seconds.items()}
            stats["worker_memory"] = worker_memory(d.client)
    stats["driver_memory"] = driver_memory()
    stats["numbers"] = numbers(job, result)
    return result, stats
