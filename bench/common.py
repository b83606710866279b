"""Shared benchmark helpers: one cached demo county per size, timing (peak memory: bench/memory.py).

    from bench.common import county, timed
    paths = county(workdir, size_km=100)      # generated once, reused by every bench module
"""
import json
import os
import time
from pathlib import Path

from risk_plugin import demo

# A 100 × 100 km county keeps the demo's density: ~10 townships per 900 km².
def bench_size_km(default=100.0):
    return float(os.environ.get("RISKMAP_BENCH_KM", default))


def county(workdir, size_km=None, cell_size=10.0, dem_only=False, seed=2025):
    """The demo county at ``size_km`` (default $RISKMAP_BENCH_KM or 100), generated once and cached."""
    size_km = bench_size_km() if size_km is None else float(size_km)
    towns = max(1, int(round(10 * size_km * size_km / 900.0)))
    folder = Path(workdir).resolve() / f"county_{size_km:g}km_{cell_size:g}m{'_dem' if dem_only else ''}"
    marker = folder / "paths.json"
    if marker.exists():
        return json.loads(marker.read_text())      # absolute paths: the benches run subprocesses elsewhere
    t0 = time.time()
    paths = demo.generate(folder, size_km=size_km, cell_size=cell_size, townships=towns, seed=seed, dem_only=dem_only)
    paths["generate_seconds"] = round(time.time() - t0, 1)
    marker.write_text(json.dumps(paths))
    return paths


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0
