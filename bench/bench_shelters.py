"""Shelter coverage along the road network vs QGIS's native:serviceareafromlayer, side by side.

Three networks, each at 500 m and 2 km:
- the demo county at RISKMAP_BENCH_KM km (default 100): every building as demand, every candidate site
  as a shelter, on its roads as generated (a vertex every 30 m, as digitised roads carry);
- the same on the same roads thinned to their bends (shapely.simplify by 1 cm: one vertex per ~480 m,
  the routing grid's; QGIS's time grows with the nodes, so this is where it is quickest);
- Jakarta, real OSM roads (UTM 48S), OSM schools as shelters, the population raster as demand (the
  setting of tests/test_shelters.py).

Both sides get the same network and the same points already on it (shelters and demand snapped to the
nearest road by riskmap, as QGIS does not count the snap distance), and the same distance. Each side
runs in its own Python process, so that its peak memory (VmHWM, imports included: QGIS is heavier) is
its own.

- ours: read roads, build the graph, snap, all shelter–demand pairs within the distance
  (risk_plugin.network, the code riskmap:sheltercoverage runs); the full riskmap engine run
  (validation, snapping the raw layers, allocation, outputs written) is timed separately.
- QGIS: native:serviceareafromlayer (in-process QGIS, offscreen) writing its service-area lines, then
  native:extractwithindistance for the demand points on those lines (the QGIS way to the covered
  demand). QGIS 3.22 returns an empty service area for a start point lying exactly on the free end
  of a dead-end line; the covered demand is compared on the start points QGIS answered.

    RISKMAP_BENCH_KM=5 python -m bench.run --only shelters --out /tmp/bench.md
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DISTANCES = (500.0, 2000.0)
THIN_TOLERANCE_M = 0.01
JAKARTA_UTM = "EPSG:32748"
TARGET_SPEEDUP = 20.0
TARGET_COVERED_DIFF = 0.01

OURS = r"""
import json, sys, time
sys.path.insert(0, {repo!r})
from bench.memory import peak_mib
import geopandas as gpd, numpy as np
from risk_plugin.network import RoadNetwork
t0 = time.perf_counter()
roads = gpd.read_file({roads!r}, engine="pyogrio", use_arrow=True)
starts = gpd.read_file({starts!r}, engine="pyogrio", use_arrow=True)
demand = gpd.read_file({demand!r}, engine="pyogrio", use_arrow=True)
t_read = time.perf_counter() - t0
t0 = time.perf_counter()
net = RoadNetwork.from_lines(roads.geometry.values)
s = net.snap(starts.geometry.values, 1.0)
d = net.snap(demand.geometry.values, 1.0)
s_, t_, _ = net.pairs_within(s, d, np.full(len(starts), {dist}))
covered = np.zeros(len(demand), bool)
covered[t_] = True
t_calc = time.perf_counter() - t0
same = np.zeros(len(demand), bool)                       # from the starts QGIS answered (not timed)
same[t_[~np.isin(starts["sid"].to_numpy()[s_], {exclude!r})]] = True
people = demand["people"].to_numpy()
print(json.dumps({{"seconds": t_read + t_calc, "read_seconds": t_read, "pairs": int(len(s_)),
                  "covered_people": float(people[covered].sum()), "covered_people_same": float(people[same].sum()),
                  "peak_mb": peak_mib()}}))
"""

FULL = r"""
import json, sys, time
sys.path.insert(0, {repo!r})
from bench.memory import peak_mib
t0 = time.perf_counter()
from risk_plugin.shelter_run import shelter_coverage
r = shelter_coverage({shelters!r}, {demand!r}, roads={roads!r}, class_field=None,
                     service_distance={{"emergency": {dist}}}, output_shelters={out_sh!r}, output_demand={out_dem!r})
print(json.dumps({{"seconds": time.perf_counter() - t0, "within": r["population_within_reach"],
                  "served": r["population_served"], "total": r["population_total"], "peak_mb": peak_mib()}}))
"""

QGIS = r"""
import json, os, sys, time
sys.path.append("/usr/share/qgis/python/plugins")
sys.path.insert(0, {bench_dir!r})   # bench/ only: the repo root would shadow QGIS's processing
from memory import peak_mib
from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback, QgsProject
app = QgsApplication([], False)
app.initQgis()
from processing.core.Processing import Processing
Processing.initialize()
import processing
ctx = QgsProcessingContext()
ctx.setProject(QgsProject.instance())
t0 = time.perf_counter()
processing.run("native:serviceareafromlayer", {{"INPUT": {roads!r}, "START_POINTS": {starts!r}, "STRATEGY": 0,
               "TRAVEL_COST2": {dist}, "DEFAULT_DIRECTION": 2, "TOLERANCE": 0, "INCLUDE_BOUNDS": False,
               "OUTPUT_LINES": {lines!r}}}, context=ctx, feedback=QgsProcessingFeedback())
t_area = time.perf_counter() - t0
# the covered demand, the QGIS way: points within 5 cm of the service-area lines
processing.run("native:extractwithindistance", {{"INPUT": {demand!r}, "REFERENCE": {lines!r}, "DISTANCE": 0.05,
               "OUTPUT": {covered!r}}}, context=ctx, feedback=QgsProcessingFeedback())
seconds = time.perf_counter() - t0
peak = peak_mib()
import geopandas as gpd
cov = gpd.read_file({covered!r}, engine="pyogrio")
ln = gpd.read_file({lines!r}, engine="pyogrio")
print(json.dumps({{"seconds": seconds, "area_seconds": t_area, "covered_people": float(cov["people"].sum()),
                  "empty_sids": [int(v) for v in ln.loc[ln.geometry.is_empty | ln.geometry.isna(), "sid"]],
                  "peak_mb": peak}}))
"""


def _python(code, cwd):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-P", "-c", code], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"bench subprocess failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def settings(workdir, work):
    """[(name, folder, roads, shelters as a layer for the engine, raw demand, demand points with 'people')]."""
    import geopandas as gpd
    import shapely
    sys.path.insert(0, str(REPO))
    from bench.common import bench_size_km, county
    from risk_plugin.definitions import shelters as D
    from risk_plugin.shelter_run import load_demand
    km = bench_size_km()
    paths = county(workdir, size_km=km, cell_size=10.0)
    out = []
    d = work / "generated"
    d.mkdir(parents=True, exist_ok=True)
    cand = gpd.read_file(paths["shelter_candidates"], engine="pyogrio")
    cand["类别"] = "紧急"                                     # every candidate as an emergency shelter
    cand.to_file(d / "shelters.gpkg", engine="pyogrio")
    bld = gpd.read_file(paths["buildings"], engine="pyogrio")
    pts = gpd.GeoDataFrame({"people": bld["居住人数"].fillna(0).to_numpy(float)},
                           geometry=shapely.point_on_surface(bld.geometry.values), crs=bld.crs)
    gen = dict(shelters=str(d / "shelters.gpkg"), demand=paths["buildings"], points=pts)
    out.append((f"demo county {km:g} × {km:g} km, roads as generated", d, paths["roads"], gen))
    d = work / "thinned"
    d.mkdir(parents=True, exist_ok=True)
    roads = gpd.read_file(paths["roads"], engine="pyogrio")
    roads.geometry = shapely.simplify(roads.geometry.values, THIN_TOLERANCE_M)
    roads.to_file(d / "roads.gpkg", engine="pyogrio")
    out.append((f"demo county {km:g} × {km:g} km, the same roads thinned to their bends", d,
                str(d / "roads.gpkg"), gen))
    d = work / "jakarta"
    d.mkdir(parents=True, exist_ok=True)
    jk = REPO.parent / "shared" / "data" / "jakarta"
    if jk.exists():
        gpd.read_file(jk / "roads.gpkg", engine="pyogrio").to_crs(JAKARTA_UTM).to_file(d / "roads.gpkg", engine="pyogrio")
        b = gpd.read_file(jk / "osm_buildings_use.gpkg", engine="pyogrio").to_crs(JAKARTA_UTM)
        e = b[b["use"] == "education"].copy()
        e["有效面积"] = e.area * D.JAKARTA_EDUCATION_AREA_RATIO
        e["类别"] = "紧急"
        e["名称"] = [n if isinstance(n, str) and n.strip() else f"school {i}" for i, n in zip(e.index, e["name"])]
        e[["名称", "类别", "有效面积", "geometry"]].to_file(d / "shelters.gpkg", engine="pyogrio")
        dem, _ = load_demand(str(jk / "population.tif"))
        out.append(("Jakarta, real OSM roads, OSM schools, population raster", d, str(d / "roads.gpkg"),
                    dict(shelters=str(d / "shelters.gpkg"), demand=str(jk / "population.tif"),
                         points=dem.to_crs(JAKARTA_UTM)[["people", "geometry"]])))
    return out


def prepare(folder, roads_path, s):
    """Shelters and demand snapped onto the roads (what both sides start from), and the sizes."""
    import geopandas as gpd
    import shapely
    from risk_plugin.definitions import shelters as D
    from risk_plugin.network import RoadNetwork
    roads = gpd.read_file(roads_path, engine="pyogrio")
    net = RoadNetwork.from_lines(roads.geometry.values)
    sh = gpd.read_file(s["shelters"], engine="pyogrio").to_crs(roads.crs)
    pts = s["points"].to_crs(roads.crs)
    a = net.snap(sh.geometry.values, D.MAX_SNAP)
    b = net.snap(pts.geometry.values, D.MAX_SNAP)
    starts = gpd.GeoDataFrame({"sid": range(int(a.ok.sum()))}, geometry=shapely.points(a.x[a.ok], a.y[a.ok]),
                              crs=roads.crs)
    demand = gpd.GeoDataFrame({"people": pts["people"].to_numpy()[b.ok]}, geometry=shapely.points(b.x[b.ok], b.y[b.ok]),
                              crs=roads.crs)
    out = {"starts": str(folder / "starts.gpkg"), "demand": str(folder / "demand_on_roads.gpkg")}
    starts.to_file(out["starts"], engine="pyogrio")
    demand.to_file(out["demand"], engine="pyogrio")
    out.update(n_roads=len(roads), km=float(roads.length.sum() / 1000), n_nodes=net.n_nodes,
               n_segments=net.n_segments, n_shelters=len(sh), n_starts=len(starts), n_points=len(pts),
               n_demand=len(demand), people=float(pts["people"].sum()))
    return out


def measure(folder, roads, s, prep, dist):
    for old in folder.glob(f"qgis_*_{dist:g}.gpkg"):
        old.unlink()
    qgis = _python(QGIS.format(bench_dir=str(REPO / "bench"), roads=roads, starts=prep["starts"],
                               demand=prep["demand"], dist=dist, lines=str(folder / f"qgis_lines_{dist:g}.gpkg"),
                               covered=str(folder / f"qgis_covered_{dist:g}.gpkg")), cwd=str(folder))
    ours = _python(OURS.format(repo=str(REPO), roads=roads, starts=prep["starts"], demand=prep["demand"], dist=dist,
                               exclude=qgis["empty_sids"]), cwd=str(folder))
    full = _python(FULL.format(repo=str(REPO), shelters=s["shelters"], demand=s["demand"], roads=roads, dist=dist,
                               out_sh=str(folder / f"sh_{dist:g}.gpkg"), out_dem=str(folder / f"dem_{dist:g}.gpkg")),
                   cwd=str(folder))
    diff = (ours["covered_people_same"] - qgis["covered_people"]) / max(qgis["covered_people"], 1.0)
    return ours, full, qgis, diff


def run(workdir):
    work = Path(workdir) / "shelters"
    work.mkdir(parents=True, exist_ok=True)
    lines = ["## Shelter coverage vs `native:serviceareafromlayer`", ""]
    for name, folder, roads, s in settings(workdir, work):
        prep = prepare(folder, roads, s)
        lines += [f"### {name}", "",
                  f"Network: {prep['n_roads']:,} road lines, {prep['km']:,.0f} km → {prep['n_nodes']:,} nodes "
                  f"({1000 * prep['km'] / prep['n_nodes']:.0f} m of road per node), {prep['n_segments']:,} segments. "
                  f"Shelters: {prep['n_starts']:,} of {prep['n_shelters']:,} on the network. Demand: {prep['n_demand']:,} "
                  f"of {prep['n_points']:,} points within 300 m of a road, {prep['people']:,.0f} people.", "",
                  "| distance | ours: read + graph + snap + pairs (s) | QGIS: service area + extract (s) | speed-up "
                  "| covered people ours / QGIS | diff | QGIS empty service areas | peak MiB ours / QGIS "
                  "| full riskmap engine run (s, peak MiB) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for dist in DISTANCES:
            ours, full, qgis, diff = measure(folder, roads, s, prep, dist)
            speed = qgis["seconds"] / max(ours["seconds"], 1e-9)
            lines.append(
                f"| {dist:g} m | {ours['seconds']:.2f} | {qgis['seconds']:.2f} ({qgis['area_seconds']:.2f} + "
                f"{qgis['seconds'] - qgis['area_seconds']:.2f}) | {speed:.1f}× {'✔' if speed >= TARGET_SPEEDUP else '✘'} "
                f"| {ours['covered_people_same']:,.0f} / {qgis['covered_people']:,.0f} | {100 * diff:+.3f} % "
                f"{'✔' if abs(diff) <= TARGET_COVERED_DIFF else '✘'} | {len(qgis['empty_sids'])} "
                f"| {ours['peak_mb']:.0f} / {qgis['peak_mb']:.0f} | {full['seconds']:.1f} s, {full['peak_mb']:.0f} |")
        lines.append("")
    lines += [f"Targets (issue 5, on the demo county): ≥ {TARGET_SPEEDUP:g}× faster, covered demand within "
              f"{100 * TARGET_COVERED_DIFF:g} %. Both timings include reading the layers. Covered people are compared "
              "on the start points QGIS answered: QGIS 3.22 returns an empty service area for a start lying exactly "
              "on the free end of a dead-end line (candidate sites at the end of a village lane); ours reaches "
              "from there. The remaining difference: QGIS's covered points are those within 5 cm of its "
              "service-area lines, which also catches points on a road that crosses a reached road without a "
              "shared vertex (a bridge, an underpass), not reachable along the network. QGIS builds one "
              "shortest-path tree over the whole graph per start point, so its time grows with the number of "
              "nodes; ours runs Dijkstra tile by tile on the sub-graph within reach, with the distance as limit. "
              "The full engine run includes reading, validation, snapping the raw layers (snap distance counted), "
              "allocation and writing the outputs."]
    return "\n".join(lines)
