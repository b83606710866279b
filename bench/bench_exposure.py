"""Exposure per village × hazard class vs the chain of QGIS-native algorithms, side by side.

Setting: the demo county at RISKMAP_BENCH_KM km (default 100; 10 m cells, population at 100 m), the
100-year flood classes (risk_plugin.flood, 10 m, classes 0..4) as the hazard, every village, every
building. Both sides count people per village and class by cell centre on the 10 m hazard grid
(each 100 m population cell carries 1/100 of its people into each 10 m cell) and buildings per
village and class by centroid.

- ours: ``risk_plugin.exposure.run_exposure`` (validation, counting, the GeoPackage and XLSX written),
  the same call riskmap:exposure makes.
- QGIS: per class c, ``qgis:rastercalculator`` ("population@1" / 100 × ("hazard@1" = c) on the hazard
  grid, nearest-neighbour as the raster calculator reads) and ``native:zonalstatisticsfb`` (sum per
  village); for the buildings ``native:centroids``, ``native:rastersampling``, and per class
  ``native:extractbyattribute`` + ``native:countpointsinpolygon``.

Each side runs in its own Python process (QGIS offscreen for the native chain), so its peak memory
is its own; the hazard raster is made first and is not timed.

    RISKMAP_BENCH_KM=5 python -m bench.run --only exposure --out /tmp/bench.md
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_SPEEDUP = 3.0
CLASSES = range(5)

OURS = r"""
import json, sys, time
sys.path.insert(0, {repo!r})
from bench.memory import peak_mib
from risk_plugin.exposure import UnitSpec, run_exposure
import geopandas, rasterio, shapely, pyogrio, openpyxl  # imports are not timed (QGIS start-up is not either)
t0 = time.perf_counter()
r = run_exposure(hazard={hazard!r}, population={pop!r}, buildings={buildings!r}, units=[UnitSpec({villages!r})],
                 cell_rule="centre", building_rule="centroid", output_units={out_units!r}, output_table={out_table!r})
print(json.dumps({{"seconds": time.perf_counter() - t0, "subdivision": r["counts"].subdivision,
                  "numbers": {{k: v for k, v in r.items() if k.isupper()}},
                  "peak_mb": peak_mib()}}))
"""

QGIS = r"""
import json, os, sys, time
sys.path.append("/usr/share/qgis/python/plugins")
sys.path.insert(0, {bench_dir!r})   # bench/ only: the repo root would shadow QGIS's processing
from memory import peak_mib
from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback, QgsProject, QgsRasterLayer
app = QgsApplication([], False)
app.initQgis()
from processing.core.Processing import Processing
Processing.initialize()
import processing
ctx = QgsProcessingContext()
ctx.setProject(QgsProject.instance())
fb = QgsProcessingFeedback()
work = {work!r}
hz = QgsRasterLayer({hazard!r}, "hazard")
ext = hz.extent()
extent = f"{{ext.xMinimum()}},{{ext.xMaximum()}},{{ext.yMinimum()}},{{ext.yMaximum()}} [{{hz.crs().authid()}}]"
cell = hz.rasterUnitsPerPixelX()
k2 = ({pop_cell} / cell) ** 2
times = {{}}
t0 = time.perf_counter()
zones = {villages!r}
for c in {classes!r}:
    calc = os.path.join(work, f"native_pop_c{{c}}.tif")
    processing.run("qgis:rastercalculator", {{"EXPRESSION": f'("population@1" / {{k2}}) * ("hazard@1" = {{c}})',
                   "LAYERS": [{pop!r}, {hazard!r}], "CELLSIZE": cell, "EXTENT": extent, "CRS": hz.crs(),
                   "OUTPUT": calc}}, context=ctx, feedback=fb)
    out = os.path.join(work, f"native_zonal_c{{c}}.gpkg")
    processing.run("native:zonalstatisticsfb", {{"INPUT": zones, "INPUT_RASTER": calc, "RASTER_BAND": 1,
                   "COLUMN_PREFIX": f"c{{c}}_", "STATISTICS": [1], "OUTPUT": out}}, context=ctx, feedback=fb)
    zones = out
times["population"] = time.perf_counter() - t0
t0 = time.perf_counter()
cent = processing.run("native:centroids", {{"INPUT": {buildings!r}, "ALL_PARTS": False, "OUTPUT": "TEMPORARY_OUTPUT"}},
                      context=ctx, feedback=fb)["OUTPUT"]
sampled = processing.run("native:rastersampling", {{"INPUT": cent, "RASTERCOPY": {hazard!r}, "COLUMN_PREFIX": "hz",
                         "OUTPUT": "TEMPORARY_OUTPUT"}}, context=ctx, feedback=fb)["OUTPUT"]
polys = {villages!r}
for c in {classes!r}:
    sel = processing.run("native:extractbyattribute", {{"INPUT": sampled, "FIELD": "hz1", "OPERATOR": 0, "VALUE": str(c),
                         "OUTPUT": "TEMPORARY_OUTPUT"}}, context=ctx, feedback=fb)["OUTPUT"]
    out = os.path.join(work, f"native_count_c{{c}}.gpkg")
    processing.run("native:countpointsinpolygon", {{"POLYGONS": polys, "POINTS": sel, "FIELD": f"b{{c}}",
                   "OUTPUT": out}}, context=ctx, feedback=fb)
    polys = out
times["buildings"] = time.perf_counter() - t0
print(json.dumps({{"seconds": sum(times.values()), "times": times, "zonal": zones, "counts": polys,
                  "peak_mb": peak_mib()}}))
"""


def _python(code, cwd):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-P", "-c", code], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"bench subprocess failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(ours_units, native_zonal, native_counts):
    """Max differences per village × class between the two sides (people and buildings)."""
    import geopandas as gpd
    import numpy as np
    ours = gpd.read_file(ours_units, engine="pyogrio")
    zon = gpd.read_file(native_zonal, engine="pyogrio")
    cnt = gpd.read_file(native_counts, engine="pyogrio")
    people_o = np.column_stack([ours[f"pop_c{c}"].to_numpy(float) for c in CLASSES])
    people_n = np.column_stack([zon[f"c{c}_sum"].fillna(0).to_numpy(float) for c in CLASSES])
    bld_o = np.column_stack([ours[f"bld_c{c}"].to_numpy(float) for c in CLASSES])
    bld_n = np.column_stack([cnt[f"b{c}"].fillna(0).to_numpy(float) for c in CLASSES])
    return {"villages": len(ours), "people_total_ours": float(people_o.sum()), "people_total_native": float(people_n.sum()),
            "people_max_abs_diff": float(np.abs(people_o - people_n).max()),
            "people_exposed_ours": float(people_o[:, 1:].sum()), "people_exposed_native": float(people_n[:, 1:].sum()),
            "buildings_total_ours": int(bld_o.sum()), "buildings_total_native": int(bld_n.sum()),
            "buildings_cells_differing": int((bld_o != bld_n).sum()),
            "buildings_exposed_ours": int(bld_o[:, 1:].sum()), "buildings_exposed_native": int(bld_n[:, 1:].sum())}


def run(workdir):
    sys.path.insert(0, str(REPO))
    from bench.common import bench_size_km, county
    km = bench_size_km()
    work = Path(workdir) / f"exposure_{km:g}km"
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    paths = county(workdir, size_km=km, cell_size=10.0)
    t_county = time.perf_counter() - t0
    from risk_plugin.flood import flood_hazard
    hazard = str(work / "hazard.tif")
    if not Path(hazard).exists():
        flood_hazard(hazard, depth=paths["flood_depth_100"])
    import rasterio
    with rasterio.open(hazard) as h, rasterio.open(paths["population"]) as p:
        hshape, pcell, hcell = (h.width, h.height), abs(p.transform.a), abs(h.transform.a)
    import pyogrio
    n_bld = pyogrio.read_info(paths["buildings"])["features"]
    n_vil = pyogrio.read_info(paths["villages"])["features"]
    fmt = dict(repo=str(REPO), bench_dir=str(REPO / "bench"), hazard=hazard, pop=paths["population"], buildings=paths["buildings"],
               villages=paths["villages"], work=str(work), classes=list(CLASSES), pop_cell=pcell,
               out_units=str(work / "ours_units.gpkg"), out_table=str(work / "ours.xlsx"))
    ours = _python(OURS.format(**fmt), REPO)
    native = _python(QGIS.format(**fmt), REPO)
    cmp = compare(fmt["out_units"], native["zonal"], native["counts"])
    speedup = native["seconds"] / ours["seconds"]
    same_people = abs(cmp["people_total_ours"] - cmp["people_total_native"]) <= 1e-6 * max(cmp["people_total_native"], 1) \
        and cmp["people_max_abs_diff"] <= 0.5
    same_bld = cmp["buildings_cells_differing"] == 0
    lines = [
        f"## Exposure per village × hazard class vs the QGIS-native chain (demo county {km:g} × {km:g} km)", "",
        f"Hazard: 100-year flood classes 0..4 at {hcell:g} m ({hshape[0]} × {hshape[1]} = {hshape[0] * hshape[1]:,} cells); "
        f"population at {pcell:g} m; {n_vil} villages; {n_bld:,} buildings. County generated or reused in {t_county:.0f} s "
        "(not timed). Both sides: people by cell centre on the hazard grid, buildings by centroid.", "",
        "| | seconds | peak MiB |", "|---|---:|---:|",
        f"| ours (`risk_plugin.exposure.run_exposure`, outputs written; population cells split {ours['subdivision']}×{ours['subdivision']}) "
        f"| {ours['seconds']:.1f} | {ours['peak_mb']:.0f} |",
        f"| QGIS: 5 × (`qgis:rastercalculator` + `native:zonalstatisticsfb`) | {native['times']['population']:.1f} | |",
        f"| QGIS: `native:centroids` + `native:rastersampling` + 5 × (`native:extractbyattribute` + "
        f"`native:countpointsinpolygon`) | {native['times']['buildings']:.1f} | |",
        f"| QGIS total | {native['seconds']:.1f} | {native['peak_mb']:.0f} |", "",
        f"**Speed-up: {speedup:.1f}×** (target ≥ {TARGET_SPEEDUP:g}×: {'met' if speedup >= TARGET_SPEEDUP else 'NOT met'}).", "",
        "Same numbers:", "",
        f"- people in villages: ours {cmp['people_total_ours']:,.1f}, QGIS {cmp['people_total_native']:,.1f}; exposed "
        f"(class ≥ 1) ours {cmp['people_exposed_ours']:,.1f}, QGIS {cmp['people_exposed_native']:,.1f}; largest "
        f"difference in one village × class cell: {cmp['people_max_abs_diff']:.3g} people ({'same' if same_people else 'DIFFERENT'}).",
        f"- buildings: ours {cmp['buildings_total_ours']:,} ({cmp['buildings_exposed_ours']:,} exposed), QGIS "
        f"{cmp['buildings_total_native']:,} ({cmp['buildings_exposed_native']:,} exposed); village × class cells that "
        f"differ: {cmp['buildings_cells_differing']} ({'same' if same_bld else 'DIFFERENT'}).", "",
        f"Command: `RISKMAP_BENCH_KM={km:g} python -m bench.run --only exposure`.",
    ]
    (work / "result.json").write_text(json.dumps({"ours": ours, "native": native, "compare": cmp, "speedup": speedup},
                                                 ensure_ascii=False, indent=1))
    return "\n".join(lines)
