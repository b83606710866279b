"""Large jobs past one process: the engine's kernels on Dask (dask.distributed), split by raster
block (with a halo where a kernel needs neighbours) and by township or spatial partition (with a
buffer where a kernel reaches across borders).

>>> from risk_plugin.parallel import dask_engine, run
>>> with dask_engine(workers=2) as d:                         # LocalCluster, or scheduler="tcp://host:8786"
...     res = run("fourcolor", d, hazard="zoning.tif", population="pop.tif", townships="towns.gpkg")

    python -m risk_plugin fourcolor … --engine dask [--scheduler tcp://host:8786] [--workers 2]

Modules: cluster (Client / LocalCluster, worker memory), dispatch (tasks on the client, worker-side
caches), counting (exposure and four-color kernels), layers (buildings and facilities read by the
workers tile by tile: the driver plans from metadata), grid_strips (the four-colour grid built, counted,
graded and written by the workers in strips of grid rows), terrain_blocks (susceptibility factors per DEM
block), reach (shelter reach by township + buffer), seams (where the kernels plug into the engine),
runs (the jobs). dask and distributed are imported only when the Dask engine is used; QGIS never is.
How to run on a cluster, and what scales how: docs/scaling.md.
"""
from .runs import ENGINES, JOBS, dask_engine, numbers, run, run_measured

__all__ = ["ENGINES", "JOBS", "dask_engine", "numbers", "run", "run_measured"]
