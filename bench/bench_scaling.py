"""Scaling past one process: the demo county at 100 × 100 km (10 m DEM) and 300 × 300 km (30 m DEM),
each job in one process and on a Dask LocalCluster of 1 and 2 worker processes.

For every size: the demo county from ``bench.common.county`` (shared with the other benches, ~10
townships per 900 km²) with the generator's time and peak memory, then susceptibility, exposure, four-color risk
and shelter coverage through the command line (``python -m risk_plugin <job> … --engine …
--stats``), each in its own process so its memory is its own. Recorded per run: the job's time
(without starting the cluster), the driver's peak memory, every worker's peak memory (VmHWM read
inside the worker process by ``client.run``), the tasks, and whether the numeric outputs equal the
one-process run's. Speed-up = time with 1 worker / time with 2 workers.

    RISKMAP_BENCH_SCALE_KM=5 python -m bench.run --only scaling --out /tmp/bench.md   # a trial run
    RISKMAP_BENCH_SCALE_KM=100 RISKMAP_BENCH_CELL_M=20 …                               # other sizes

The one-process susceptibility already uses a thread per core (the engine's own pool), so its
'local' row is the baseline to beat, not a single thread.
"""
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = "100,300"
CONFIGS = (("local", None), ("dask", 1), ("dask", 2))
JOBS = ("susceptibility", "exposure", "fourcolor", "shelters")


def sizes():
    """[(km, DEM cell m)]: RISKMAP_BENCH_SCALE_KM (comma list), cell 10 m up to 100 km, else 30 m,
    or RISKMAP_BENCH_CELL_M for all."""
    out = []
    for part in os.environ.get("RISKMAP_BENCH_SCALE_KM", DEFAULT_SIZES).split(","):
        if part.strip():
            km = float(part)
            cell = float(os.environ.get("RISKMAP_BENCH_CELL_M") or (10.0 if km <= 100 else 30.0))
            out.append((km, cell))
    return out


def measure(cmd, cwd=REPO):
    """Run ``cmd``; (seconds, peak RSS MiB of the process itself, stdout). Peak from psutil, polled."""
    import psutil
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.Error:
            pass
        time.sleep(0.2)
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{err[-3000:]}")
    return seconds, peak / 2 ** 20, out


def job_args(job, d, hazard, out, km, engine="local"):
    """Command-line arguments of one job on the county in ``d`` (its layers as listed in its paths.json:
    a 2 × 2 repeated county has VRTs); outputs in ``out``. On Dask the four-colour layer is the province
    output, ``fourcolor.vrt`` over the workers' parts (risk_plugin.vector_parts); in one process a GeoPackage."""
    listed = json.loads((Path(d) / "paths.json").read_text()) if (Path(d) / "paths.json").exists() else {}

    def f(name, ext):
        return listed.get(name) or Path(d) / f"{name}.{ext}"
    if job == "susceptibility":
        return ["--dem", f("dem", "tif"), "--inventory", f("landslide_inventory", "gpkg"), "--presence-field", "landslide",
                "--output-index", out / "susc_index.tif", "--output-zones", out / "susc_zones.tif"]
    if job == "exposure":
        return ["--hazard", hazard, "--population", f("population", "tif"),
                "--buildings", f("buildings", "gpkg"), "--facilities", f("facilities", "gpkg"),
                "--units", f("townships", "gpkg"), "--units", f("villages", "gpkg"), "--output-table", out / "exposure.csv"]
    if job == "fourcolor":
        cell = 100 if km <= 150 else 200 if km <= 300 else 300   # the grid stays under the engine's 5 M pieces
        return ["--hazard", hazard, "--population", f("population", "tif"),
                "--buildings", f("buildings", "gpkg"), "--facilities", f("facilities", "gpkg"),
                "--townships", f("townships", "gpkg"), "--cell-size", cell,
                "--output", out / ("fourcolor.vrt" if engine == "dask" else "fourcolor.gpkg"),
                "--output-table", out / "fourcolor.csv"]
    return ["--shelters", f("shelters", "gpkg"), "--demand", f("buildings", "gpkg"), "--roads", f("roads", "gpkg"),
            "--hazard", hazard, "--units", f("villages", "gpkg"), "--townships", f("townships", "gpkg"),
            "--output-demand", out / "shelter_demand.gpkg"]


def same_numbers(a, b, rel=1e-9):
    """Equal keys and values (integers exactly, floats to ``rel``: shelter sums may differ in the last bits)."""
    if set(a) != set(b):
        return False
    return all(a[k] == b[k] or (isinstance(a[k], float) and math.isclose(a[k], b[k], rel_tol=rel)) for k in a)


def run_job(job, d, hazard, work, km, engine, workers):
    tag = engine if engine == "local" else f"dask{workers}"
    out = work / f"{job}_{tag}"
    out.mkdir(parents=True, exist_ok=True)
    stats_path = out / "stats.json"
    cmd = [sys.executable, "-m", "risk_plugin", job, *map(str, job_args(job, d, hazard, out, km, engine)), "--engine", engine,
           "--stats", str(stats_path)]
    if workers:
        cmd += ["--workers", str(workers)]
    if job == "shelters" and engine == "local":
        i = cmd.index("--townships")
        del cmd[i:i + 2]
    wall, _, _ = measure(cmd)
    stats = json.loads(stats_path.read_text())
    stats["wall_seconds"] = wall
    return stats


def county(workdir, km, cell, work):
    """The shared demo county (bench.common.county: ~10 townships per 900 km², cached for every bench),
    generated in its own process when not there yet; then the flood hazard classes for the exposure jobs.
    Returns (paths folder, generator seconds, generator peak MiB or None when cached, hazard seconds)."""
    before = set(Path(workdir).glob("county_*/paths.json"))
    code = ("import json; from bench.common import county; "
            f"print(json.dumps(county({str(workdir)!r}, size_km={km!r}, cell_size={cell!r})))")
    t, peak, out = measure([sys.executable, "-c", code])
    paths = json.loads(out.strip().splitlines()[-1])
    cached = Path(paths["dir"]) / "paths.json" in before
    d = Path(paths["dir"])
    hazard = work / "flood_hazard.tif"
    code = ("from risk_plugin.flood import flood_hazard; "
            f"flood_hazard({str(hazard)!r}, depth={paths['flood_depth_100']!r})")
    t_h, _, _ = measure([sys.executable, "-c", code])
    return d, hazard, paths.get("generate_seconds", t), None if cached else peak, t_h


def county_counts(d):
    import pyogrio
    import rasterio
    n = {k: pyogrio.read_info(str(d / f"{k}.gpkg"))["features"] for k in ("townships", "villages", "buildings", "shelters")}
    dem = d / "dem.tif" if (d / "dem.tif").exists() else d / "dem.tif.vrt"
    with rasterio.open(dem) as src:
        cells = src.width * src.height
    return (f"DEM {cells:,} cells, {n['townships']} townships, {n['villages']} villages, {n['buildings']:,} buildings, "
            f"{n['shelters']} shelters")


def fmt_workers(stats):
    mem = stats.get("worker_memory") or {}
    return " / ".join(f"{m['peak_mib']:.0f}" for m in mem.values()) or "–"


def run(workdir):
    work = Path(workdir) / "scaling"
    work.mkdir(parents=True, exist_ok=True)
    lines = ["## Scaling on Dask (issue 7)", "",
             "Each job through `python -m risk_plugin <job> … --engine local|dask [--workers N] --stats`, in its own "
             "process; Dask on a LocalCluster of worker processes with one thread each. *time*: the job without "
             "starting the cluster (wall time of the whole command in brackets); *driver*: peak memory (VmHWM) of the "
             "command's process; *workers*: peak memory of each worker process (VmHWM, read inside the worker); "
             "*same*: numeric outputs equal to the one-process run. The one-process susceptibility already runs "
             "a thread per core.", ""]
    for km, cell in sizes():
        here = work / f"{km:g}km_{cell:g}m"
        here.mkdir(parents=True, exist_ok=True)
        d, hazard, t_gen, peak_gen, t_hz = county(workdir, km, cell, here)
        counts = county_counts(d)
        peak = f"peak {peak_gen:.0f} MiB" if peak_gen else "peak not measured here (cached by an earlier bench)"
        lines += [f"### {km:g} × {km:g} km, DEM {cell:g} m", "",
                  f"Demo county (`bench.common.county`, {counts}): generated in {t_gen:.0f} s, {peak}. "
                  f"Flood hazard classes for the exposure jobs: {t_hz:.0f} s.", "",
                  "| job | engine | workers | time s | driver peak MiB | worker peaks MiB | tasks | speed-up 1→2 | same |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for job in JOBS:
            rows = {}
            for engine, workers in CONFIGS:
                rows[(engine, workers)] = run_job(job, d, hazard, here, km, engine, workers)
            base = rows[("local", None)]
            t1, t2 = rows[("dask", 1)]["seconds"], rows[("dask", 2)]["seconds"]
            for (engine, workers), st in rows.items():
                speed = f"{t1 / t2:.2f}" if workers == 2 else ""
                same = "yes" if same_numbers(base["numbers"], st["numbers"]) else "**no**"
                lines.append(f"| {job} | {engine} | {workers or '–'} | {st['seconds']:.1f} ({st['wall_seconds']:.0f}) | "
                             f"{st['driver_memory']['peak_mib']:.0f} | {fmt_workers(st)} | "
                             f"{sum(st['tasks'].values()) or '–'} | {speed} | {same if engine == 'dask' else ''} |")
        lines.append("")
    return "\n".join(lines)
