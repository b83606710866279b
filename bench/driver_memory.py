"""Issue 14: the driver's peak memory on Dask, before and after the workers read the buildings.

Runs exposure and four-colour risk (the commands of bench_scaling) on the cached demo county of
``km``: one process, then Dask with 1 and 2 workers from a *base* checkout (e.g. a worktree of the
commit before) and from this checkout. Records each run's time, driver peak (VmHWM), worker peaks,
tasks, the load average before and after, and whether the numbers equal the one-process run exactly.

    python -m bench.driver_memory 100 /path/to/base-checkout [--jobs exposure,fourcolor] [--work DIR]
    python -m bench.driver_memory 300 /path/to/base --only-new        # skip the base runs
    python -m bench.driver_memory 600 . --only-new --county DIR --hazard DIR/flood_hazard.tif.vrt   # bench.tile_county

Prints one JSON line per run and a Markdown table at the end (section "Driver memory on Dask").
"""
import argparse
import json
import os
import sys
from pathlib import Path

from bench import bench_scaling as S

REPO = Path(__file__).resolve().parent.parent


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("km", type=float)
    ap.add_argument("base")
    ap.add_argument("--jobs", default="exposure,fourcolor")
    ap.add_argument("--work", default="bench/work")
    ap.add_argument("--only-new", action="store_true")
    ap.add_argument("--no-local", action="store_true")
    ap.add_argument("--worker-counts", default="1,2")
    ap.add_argument("--county", help="a county folder made elsewhere (bench.tile_county), with its paths.json")
    ap.add_argument("--hazard", help="with --county: its flood hazard class raster")
    a = ap.parse_args(argv)
    km, cell = a.km, (10.0 if a.km <= 100 else 30.0)
    work = Path(a.work).resolve() / "driver_memory" / f"{km:g}km"
    work.mkdir(parents=True, exist_ok=True)
    if a.county:
        d, hazard = Path(a.county).resolve(), Path(a.hazard).resolve()
    else:
        d, hazard, t_gen, _, _ = S.county(Path(a.work).resolve(), km, cell, work)
    print("county", S.county_counts(d), flush=True)
    repos = {"base": a.base, "new": str(REPO)}
    runs = ([] if a.no_local else [("new", "local", None)]) + \
        [(r, "dask", w) for r in (("new",) if a.only_new else ("base", "new")) for w in map(int, a.worker_counts.split(","))]
    rows = []
    for job in a.jobs.split(","):
        for repo, engine, workers in runs:
            out = work / f"{job}_{repo}_{engine}{workers or ''}"
            out.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, "-m", "risk_plugin", job, *map(str, S.job_args(job, d, hazard, out, km, engine)),
                   "--engine", engine, "--stats", str(out / "stats.json")] + (["--workers", str(workers)] if workers else [])
            load0 = os.getloadavg()
            wall, _, _ = S.measure(cmd, cwd=repos[repo])
            st = json.loads((out / "stats.json").read_text())
            row = dict(km=km, job=job, repo=repo, engine=engine, workers=workers, seconds=round(st["seconds"], 2),
                       wall=round(wall, 1), driver_peak=st["driver_memory"]["peak_mib"],
                       workers_peak=[m["peak_mib"] for m in (st.get("worker_memory") or {}).values()],
                       tasks=st.get("tasks"), numbers=st["numbers"], load=[round(x, 2) for x in load0],
                       load_after=[round(x, 2) for x in os.getloadavg()])
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    (work / "rows.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    print(table(rows))


def table(rows):
    local = {r["job"]: r["numbers"] for r in rows if r["engine"] == "local"}
    lines = ["| size | job | code | engine | workers | time s | driver peak MiB | worker peaks MiB | tasks | load 1 min before/after | same |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        same = "" if r["engine"] == "local" or r["job"] not in local else ("yes" if local[r["job"]] == r["numbers"] else "**no**")
        lines.append(f"| {r['km']:g} km | {r['job']} | {r['repo']} | {r['engine']} | {r['workers'] or '–'} | "
                     f"{r['seconds']:.1f} ({r['wall']:.0f}) | {r['driver_peak']:.0f} | "
                     f"{' / '.join(f'{p:.0f}' for p in r['workers_peak']) or '–'} | {sum((r['tasks'] or {}).values()) or '–'} | "
                     f"{r['load'][0]:.2f} / {r['load_after'][0]:.2f} | {same} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
