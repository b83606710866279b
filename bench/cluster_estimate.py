"""A simulated larger cluster (issue 14): every Dask task of the four jobs measured on a demo county
(compute seconds, bytes in, bytes out), then the province case's plan counted from the planning rules
and its wall time on N workers estimated from those measurements. Nothing province-sized is run.

    python -m bench.cluster_estimate --work /tmp/i14-bench --km 100 --json /tmp/m100.json   # measure + estimate
    python -m bench.cluster_estimate --work /tmp/i14-bench --km 300 --json /tmp/m300.json
    python -m bench.cluster_estimate --work /tmp/i14-bench --from-json /tmp/m100.json --from-json /tmp/m300.json

How: a LocalCluster of ``--workers`` processes is started here, its scheduler in this process with a
plugin that records, at each task's processing → memory transition, the worker's compute time
(``startstops``), the result's size (``nbytes``) and its dependencies' sizes (the scattered piece, and
the job's shared objects, told apart because a shared object is a dependency of many tasks). Each job
then runs as ``python -m risk_plugin <job> … --engine dask --scheduler <address> --stats`` (bench_scaling's
arguments), so the driver is its own process; its ``kernel_seconds`` give the distributed share, the
rest of the job's time is the driver's serial part.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench.bench_scaling import REPO, county, job_args

JOBS = ("susceptibility", "exposure", "fourcolor", "shelters")


def _recorder():
    from distributed.diagnostics.plugin import SchedulerPlugin

    class Recorder(SchedulerPlugin):
        """Per task: prefix, compute s, out bytes, deps (key, bytes)."""
        name = "riskmap-task-recorder"

        def __init__(self):
            self.rows = []
            self.scheduler = None

        def start(self, scheduler):
            self.scheduler = scheduler

        transition = _transition
    return Recorder()


def _transition(self, key, start, finish, *args, **kwargs):
    if start != "processing" or finish != "memory":
        return
    ts = self.scheduler.tasks.get(key)
    if ts is None:
        return
    compute = transfer = 0.0
    for ss in kwargs.get("startstops") or ():
        dt = ss["stop"] - ss["start"]
        if ss["action"] == "compute":
            compute += dt
        elif ss["action"] == "transfer":
            transfer += dt
    self.rows.append({"prefix": ts.prefix.name, "compute": compute, "transfer": transfer,
                      "out": max(ts.nbytes, 0),
                      "deps": [(str(d.key), max(d.nbytes, 0)) for d in ts.dependencies]})


def summarise(rows):
    """{prefix: tasks, compute s total/mean, piece bytes mean, shared bytes (once), out bytes mean}."""
    uses = defaultdict(int)
    for r in rows:
        for k, _ in r["deps"]:
            uses[k] += 1
    out = {}
    for prefix in sorted({r["prefix"] for r in rows}):
        rs = [r for r in rows if r["prefix"] == prefix]
        piece = [sum(b for k, b in r["deps"] if uses[k] == 1) for r in rs]
        shared = {k: b for r in rs for k, b in r["deps"] if uses[k] > 1}
        n = len(rs)
        comp = sorted(r["compute"] for r in rs)
        out[prefix] = {"tasks": n, "compute_s": sum(comp), "mean_s": sum(comp) / n,
                       "p90_s": comp[min(n - 1, int(0.9 * n))],
                       "piece_bytes": sum(piece) / n, "out_bytes": sum(r["out"] for r in rs) / n,
                       "shared_bytes": sum(shared.values())}
    return out


def measure(work, km, workers):
    from distributed import LocalCluster
    cell = 10.0 if km <= 100 else 30.0
    scratch = Path(work) / "cluster_estimate" / f"{km:g}km"
    scratch.mkdir(parents=True, exist_ok=True)
    d, hazard, _, _, _ = county(work, km, cell, scratch)
    result = {"km": km, "cell": cell, "workers": workers, "jobs": {}}
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           local_directory=str(scratch / "dask"))
    try:
        for job in JOBS:
            rec = _recorder()
            rec.scheduler = cluster.scheduler
            cluster.scheduler.add_plugin(rec, name=f"{rec.name}-{job}")
            out = scratch / job
            out.mkdir(exist_ok=True)
            stats_path = out / "stats.json"
            cmd = [sys.executable, "-m", "risk_plugin", job, *map(str, job_args(job, d, hazard, out, km, "dask")),
                   "--engine", "dask", "--scheduler", cluster.scheduler_address, "--workers", str(workers),
                   "--stats", str(stats_path)]
            load = os.getloadavg()
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            cluster.scheduler.remove_plugin(name=f"{rec.name}-{job}")
            stats = json.loads(stats_path.read_text())
            kernel_s = sum(stats.get("kernel_seconds", {}).values())
            result["jobs"][job] = {"seconds": stats["seconds"], "wall": wall, "kernel_seconds": stats["kernel_seconds"],
                                   "driver_serial_s": stats["seconds"] - kernel_s, "tasks": stats["tasks"],
                                   "load_before": load, "load_after": os.getloadavg(),
                                   "prefixes": summarise(rec.rows)}
            print(job, json.dumps(result["jobs"][job]["prefixes"], indent=None), file=sys.stderr)
    finally:
        cluster.close()
    return result


# ------------------------------------------------------------------------------------- the province
# Sichuan: 486,000 km²; its bounding box (97.3–108.5° E, 26.0–34.3° N) ≈ 1,080 × 925 km = 1.0 M km²:
# the rasters cover the box (blocks outside the province are still read and skipped).
ASSUMPTIONS = {
    "area_km2": 486_000,
    "bbox_km": (1080, 925),           # width, height of the rasters
    "bbox_km2": 1080 * 925,
    "buildings": 30_000_000,          # "tens of millions": 30 M, ~50 k per tile
    "dem_cell_m": 30.0,               # a 30 m DEM, blocks of 1024² cells
    "pop_cell_m": 100.0,              # a 100 m population raster, hazard at the county's cell (same k)
    "townships": round(486_000 / 900 * 10),     # the demo county's density: ~10 per 900 km² → 5,400
    "bandwidth_bit_s": 1e9,           # 1 Gbit/s at the driver: every piece leaves it, every result returns
}

# what each task prefix's count scales with; the driver's serial part of each job scales with ``DRIVER``
SCALES_WITH = {"factor_block": "dem_cells", "population_block": "pop_cells", "check_tile": "buildings",
               "count_tile": "buildings", "sweep_nulls": "buildings", "classes_partition": "buildings",
               "units_partition": "buildings", "pairs_": "townships",
               "allocate": "townships"}
TILE_FEATURES = 50_000  # counting.FEATURES_PER_PARTITION: buildings per tile
BLOCK = 1024            # susceptibility BLOCK_SIZE; the quantile pass adds a fixed set of 256² windows
WINDOW_SHARE = (256 / BLOCK) ** 2
DRIVER = {"susceptibility": "dem_cells", "exposure": "buildings", "fourcolor": "buildings", "shelters": "buildings"}


def county_units(work, km, cell):
    """The measured county's units: DEM and population cells, buildings, townships."""
    import pyogrio
    import rasterio
    d = Path(work) / f"county_{km:g}km_{cell:g}m"
    with rasterio.open(d / "dem.tif") as s:
        dem = s.width * s.height
        blocks = math.ceil(s.width / BLOCK) * math.ceil(s.height / BLOCK)
    with rasterio.open(d / "population.tif") as s:
        pop = s.width * s.height
    return {"dem_cells": dem, "dem_blocks": blocks, "pop_cells": pop,
            "buildings": pyogrio.read_info(str(d / "buildings.gpkg"))["features"],
            "townships": pyogrio.read_info(str(d / "townships.gpkg"))["features"]}


def province_units(a=ASSUMPTIONS):
    w, h = (k * 1000 / a["dem_cell_m"] for k in a["bbox_km"])
    return {"dem_blocks": math.ceil(w / BLOCK) * math.ceil(h / BLOCK), "dem_cells": a["bbox_km2"] * 1e6 / a["dem_cell_m"] ** 2, "pop_cells": a["bbox_km2"] * 1e6 / a["pop_cell_m"] ** 2,
            "buildings": a["buildings"], "townships": a["townships"]}


def driver_serial(measured, j):
    """The job's seconds minus its distributed share: the Dispatcher's map time per kernel, or, for
    tasks submitted one by one (susceptibility: no map time), Σ task seconds / workers (perfect packing)."""
    if sum(j["kernel_seconds"].values()):
        return j["driver_serial_s"]
    return j["seconds"] - sum(p["compute_s"] for p in j["prefixes"].values()) / measured["workers"]


def estimate(measured, units, workers=(8, 32), a=ASSUMPTIONS, smaller=None):
    """Per job: province tasks per prefix, Σ compute s, bytes through the driver, and the wall time
    on each N = driver serial (scaled) + Σ compute / N + bytes / bandwidth (+ shared objects × N).

    The driver's serial part scales linearly with its unit (``DRIVER``), or, given ``smaller`` =
    (measurements, units) of a smaller county, as unit^α with α fitted through the two counties."""
    prov = province_units(a)
    ratio = {k: prov[k] / units[k] for k in prov}
    alpha = {}
    if smaller:
        m0, u0 = smaller
        for job, j in measured["jobs"].items():
            key = DRIVER[job]
            s1, s0 = driver_serial(measured, j), driver_serial(m0, m0["jobs"][job])
            if units[key] > u0[key] and s1 > 0 and s0 > 0:
                alpha[job] = max(0.0, math.log(s1 / s0) / math.log(units[key] / u0[key]))
    bw = a["bandwidth_bit_s"] / 8
    out = {}
    for job, j in measured["jobs"].items():
        rows, compute, moved, shared = [], 0.0, 0.0, 0.0
        for prefix, p in j["prefixes"].items():
            key = next((v for k, v in SCALES_WITH.items() if prefix.startswith(k)), "buildings")
            n = p["tasks"] * ratio[key]
            if prefix in ("check_tile", "count_tile"):
                n = math.ceil(prov["buildings"] / TILE_FEATURES)      # the plan's rule (layers.TilePlan.plan)
            if prefix == "factor_block":
                # tasks = blocks + break windows (a fixed number, 1/16 of a block each: time and bytes ∝ cells)
                windows = p["tasks"] - units["dem_blocks"]
                per_block = units["dem_blocks"] + windows * WINDOW_SHARE
                n = prov["dem_blocks"] + windows
                scale = (prov["dem_blocks"] + windows * WINDOW_SHARE) / per_block
                compute += p["compute_s"] * scale
                moved += p["tasks"] * (p["piece_bytes"] + p["out_bytes"]) * scale
            else:
                compute += n * p["mean_s"]
                moved += n * (p["piece_bytes"] + p["out_bytes"])
            shared += p["shared_bytes"]
            rows.append((prefix, p["tasks"], n, p["mean_s"], p["piece_bytes"] + p["out_bytes"], key))
        j["driver_serial_s"] = driver_serial(measured, j)
        serial = j["driver_serial_s"] * ratio[DRIVER[job]] ** alpha.get(job, 1.0)
        walls = {w: serial + compute / w + (moved + shared * w) / bw for w in workers}
        out[job] = {"rows": rows, "serial_s": serial, "compute_s": compute, "moved_bytes": moved,
                    "transfer_s": (moved) / bw, "walls": walls,
                    "amdahl": {w: serial / walls[w] for w in workers}, "alpha": alpha.get(job, 1.0)}
    return out, ratio


def _h(s):
    return f"{s / 3600:.1f} h" if s >= 5400 else f"{s / 60:.0f} min" if s >= 90 else f"{s:.0f} s"


def _b(n):
    for unit, f in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= f:
            return f"{n / f:.1f} {unit}"
    return f"{n:.0f} B"


def markdown(measured, units, a=ASSUMPTIONS, smaller=None):
    est, ratio = estimate(measured, units, a=a, smaller=smaller)
    km, w = measured["km"], measured["workers"]
    lines = [f"### Measured on the {km:g} km county ({units['buildings']:,} buildings, {units['townships']} townships, "
             f"DEM {units['dem_cells']:,} cells), Dask {w} workers", "",
             f"Load: {measured['uptime']}. Per job: load average (1 min) before → after.", "",
             "| job | task | tasks | mean s/task | p90 s | in B/task | out B/task | job s | driver serial s | load |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for job, j in measured["jobs"].items():
        for prefix, p in j["prefixes"].items():
            lines.append(f"| {job} | {prefix} | {p['tasks']} | {p['mean_s']:.3f} | {p['p90_s']:.2f} | "
                         f"{_b(p['piece_bytes'])} | {_b(p['out_bytes'])} | {j['seconds']:.1f} | "
                         f"{j['driver_serial_s']:.1f} | {j['load_before'][0]:.1f} → {j['load_after'][0]:.1f} |")
    lines += ["", f"### The province from it (× {', '.join(f'{k} {v:,.1f}' for k, v in ratio.items())})", "",
              "| job | tasks (province) | Σ task s | through driver | driver serial | wall 8 workers | wall 32 workers "
              "| driver share at 32 | driver ∝ unit^α |", "|---|---|---|---|---|---|---|---|---|"]
    for job, e in est.items():
        tasks = " + ".join(f"{n:,.0f} {prefix}" for prefix, _, n, _, _, _ in e["rows"])
        lines.append(f"| {job} | {tasks} | {_h(e['compute_s'])} | {_b(e['moved_bytes'])} ({_h(e['transfer_s'])}) | "
                     f"{_h(e['serial_s'])} | {_h(e['walls'][8])} | {_h(e['walls'][32])} | {e['amdahl'][32]:.0%} | {DRIVER[job]}^{e['alpha']:.2f} |")
    return "\n".join(lines) + "\n", est


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default="/tmp/i14-bench")
    p.add_argument("--km", type=float, default=100)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", help="write the measurements here")
    p.add_argument("--from-json", action="append", help="estimate from these measurements, do not measure; "
                   "twice (smaller county first): the driver's growth fitted through both")
    p.add_argument("--out", help="write the markdown tables here (default: print)")
    a = p.parse_args(argv)
    smaller = None
    if a.from_json:
        res = json.loads(Path(a.from_json[-1]).read_text())
        if len(a.from_json) > 1:
            m0 = json.loads(Path(a.from_json[0]).read_text())
            smaller = (m0, county_units(a.work, m0["km"], 10.0 if m0["km"] <= 100 else 30.0))
    else:
        res = measure(a.work, a.km, a.workers)
        res["uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        if a.json:
            Path(a.json).write_text(json.dumps(res, indent=1, default=str))
    cell = 10.0 if res["km"] <= 100 else 30.0
    text, _ = markdown(res, county_units(a.work, res["km"], cell), smaller=smaller)
    if a.out:
        Path(a.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
