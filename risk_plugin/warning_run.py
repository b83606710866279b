"""Warning coverage on files: who hears a siren or loudspeaker (with terrain, when a DEM is given), per
village and township against the 95 % target, and which geohazard points are monitored.

>>> r = warning_coverage("warning_devices.gpkg", "buildings.gpkg", units="villages.gpkg", dem="dem.tif",
...                      geohazard_points="geohazard_points.gpkg", monitoring="monitoring_devices.gpkg",
...                      output_units="out/warning_villages.gpkg")
>>> r["covered_share"], r["villages_below_target"], r["monitored_share"]
"""
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import paramtext
from . import threat as T
from . import warning as W
from .crs import to_working, working_crs
from .definitions import warning as D
from .errors import Problem, ValidationError, input_error, parameter_error
from .inputs import RasterInput, VectorInput, check_rasters, load_vectors
from .io import write_table, write_vector
from .progress import ensure
from .shelter_run import _names_text, _units_join, load_demand

OUTSIDE = "(不在任何单元内 / outside every unit)"


def height_table(overrides=None):
    table = dict(D.DEFAULT_HEIGHT_M)
    if isinstance(overrides, str):
        overrides = {k: v[0] for k, v in paramtext.mapping(overrides, "HEIGHTS", allowed=table, count=1).items()}
    for k, v in (overrides or {}).items():
        if k not in table or not float(v) >= 0:
            raise parameter_error("HEIGHTS", f"高度设置有误: {k}={v}", f"bad height: {k}={v}",
                                  "例如 siren=15; loudspeaker=8", "e.g. siren=15; loudspeaker=8")
        table[k] = float(v)
    return table


def coverage_table(units_w, unit_idx, people, covered, target):
    """Per village, township and total: people, covered, share, below target."""
    n_u = len(units_w) if units_w is not None else 0
    key = np.where(unit_idx >= 0, unit_idx, n_u)
    ppl = np.bincount(key, weights=people, minlength=n_u + 1)
    cov = np.bincount(key, weights=np.where(covered, people, 0.0), minlength=n_u + 1)
    names = (list(units_w["name"].astype(str)) if n_u else []) + [OUTSIDE]
    parent = ((list(units_w["parent"].astype(object).where(units_w["parent"].notna(), None))
               if n_u and "parent" in units_w else [None] * n_u) + [None])
    df = pd.DataFrame({"level": "village", "name": names, "township": parent, "people": ppl, "covered": cov})
    if ppl[n_u] == 0:
        df = df.iloc[:n_u]
    rows = [df]
    if n_u and "parent" in units_w and units_w["parent"].notna().any():
        town = df.iloc[:n_u][df["township"].iloc[:n_u].notna()].groupby("township", sort=True)[["people", "covered"]].sum()
        town = town.reset_index().rename(columns={"township": "name"})
        town.insert(0, "level", "township")
        town.insert(2, "township", None)
        rows.append(town)
    rows.append(pd.DataFrame({"level": ["total"], "name": ["合计 / total"], "township": [None],
                              "people": [float(ppl.sum())], "covered": [float(cov.sum())]}))
    out = pd.concat(rows, ignore_index=True)
    share = np.where(out["people"] > 0, out["covered"] / out["people"].where(out["people"] > 0, 1), np.nan)
    out["uncovered"] = (out["people"] - out["covered"]).round(1)
    out["people"] = out["people"].round(1)
    out["covered"] = out["covered"].round(1)
    out["covered_pct"] = np.round(100 * share, 2)
    out["below_target"] = ((out["people"] > 0) & ~(share >= target - 1e-12)).astype(int)
    return out


def warning_coverage(devices, demand, *, units=None, demand_field=None, type_field=None, unit_field=None,
                     parent_field=None, radii=None, radius_field=None, heights=None, dem=None,
                     terrain_loss_db=D.TERRAIN_LOSS_DB, receiver_height=D.RECEIVER_HEIGHT_M, target=D.TARGET_SHARE,
                     geohazard_points=None, monitoring=None, threat_radii=None, threat_radius_field=None,
                     min_devices=D.MIN_DEVICES, coverage_cell=D.COVERAGE_CELL, output_demand=None, output_units=None,
                     output_table=None, output_coverage=None, output_points=None, repair=False, working_crs_=None,
                     output_crs=None, progress=None):
    """Warning coverage and geohazard monitoring. Returns a dict of figures, output paths and frames."""
    progress = ensure(progress)
    if output_units and not units:
        raise parameter_error("OUTPUT_UNITS", "需要先提供统计单元图层 UNITS", "OUTPUT_UNITS needs a UNITS layer",
                              "选择村图层", "choose a village layer")
    table = W.radius_table(radii)
    htable = height_table(heights)
    if not 0 < float(target) <= 1:
        raise parameter_error("TARGET", "目标覆盖率应在 0–1 之间", "target share must be within 0–1", "例如 0.95", "e.g. 0.95")
    if not float(terrain_loss_db) >= 0 or not float(receiver_height) >= 0 or not float(coverage_cell) > 0:
        raise parameter_error("TERRAIN_LOSS_DB / RECEIVER_HEIGHT / COVERAGE_CELL", "地形衰减、听者高度不能为负, 网格应大于 0",
                              "terrain loss and ear height must be >= 0, the coverage cell > 0", "改正数值",
                              "correct the values")
    if int(min_devices) < 1:
        raise parameter_error("MIN_DEVICES", "至少 1 台设备", "at least 1 device", "填写正整数", "enter a positive integer")
    specs = [VectorInput("devices", devices, "warning_devices", {"device_type": type_field}, label="DEVICES",
                         repair=repair)]
    if units:
        specs.append(VectorInput("units", units, "admin_units", {"name": unit_field, "parent": parent_field},
                                 label="UNITS", repair=repair))
    if geohazard_points:
        specs.append(VectorInput("points", geohazard_points, "geohazard_points", label="GEOHAZARD_POINTS",
                                 repair=repair))
    if monitoring:
        specs.append(VectorInput("monitoring", monitoring, "monitoring_devices", label="MONITORING", repair=repair))
    problems = []
    try:
        layers = load_vectors(specs)
    except ValidationError as exc:
        problems += exc.problems
        layers = None
    try:
        dem_gdf, dem_kind = load_demand(demand, demand_field, repair=repair)
    except ValidationError as exc:
        problems += exc.problems
    if dem:
        try:
            check_rasters([RasterInput("dem", dem, "dem", label="DEM", metric=True)])
        except ValidationError as exc:
            problems += exc.problems
    if monitoring and not geohazard_points:
        problems.append(Problem("MONITORING", "监测设备需要与隐患点图层一起使用", "monitoring devices need the geohazard "
                                "points layer", "同时选择 GEOHAZARD_POINTS", "choose GEOHAZARD_POINTS as well"))
    if layers is not None and radius_field and radius_field not in layers["devices"].columns:
        problems.append(Problem("DEVICES", f"没有半径字段 {radius_field}", f"radius field {radius_field} does not exist",
                                "选择以米记的有效半径字段", "choose the audible-radius field (m)", field=radius_field))
    if problems:
        raise ValidationError(problems)
    progress.set(5)
    dev = layers["devices"]
    out_crs = output_crs or dev.crs
    work = working_crs(dev.crs, dev.total_bounds, working_crs_)
    dev_w = to_working(dev, work)
    dem_w = to_working(dem_gdf, work)
    units_w = to_working(layers["units"], work) if units else None
    people = dem_w["people"].to_numpy(float)
    kind = dev_w["device_type"].to_numpy(object)
    radius = np.array([table[k] for k in kind], float)        # a dict lookup per device
    if "radius" in dev_w:
        given = dev_w["radius"].to_numpy(float)
        radius = np.where(given > 0, given, radius)
    if radius_field:
        given = pd.to_numeric(dev_w[radius_field], errors="coerce").to_numpy(float)
        radius = np.where(given > 0, given, radius)
    height = np.array([htable[k] for k in kind], float)
    if "height" in dev_w:
        given = dev_w["height"].to_numpy(float)
        height = np.where(np.isfinite(given), given, height)
    dgeom = _as_points(dev_w.geometry.values)
    tgeom = np.asarray(dem_w.geometry.values, dtype=object)
    names = dev_w["name"].fillna("").astype(str).to_numpy(object) if "name" in dev_w else np.full(len(dev_w), "", object)

    # ---- who hears what
    s, t, dist = W.pairs_within(dgeom, radius, tgeom)
    heard = np.ones(len(s), bool)
    factor = W.shrink(terrain_loss_db)
    if dem and len(s):
        need = dist > radius[s] * factor          # nearer than the shrunk radius: heard over any ridge
        idx = np.flatnonzero(need)
        bx, by, ax, ay = _in_dem_crs(dem, tgeom[t[idx]], dgeom[s[idx]], work)
        blocked = W.line_of_sight_blocked(dem, ax, ay, height[s[idx]], bx, by, np.full(len(idx), float(receiver_height)),
                                          progress=progress.sub(10, 60))
        heard[idx[blocked]] = False
    progress.set(60)
    n_t = len(dem_w)
    covered_flat = np.zeros(n_t, bool)
    covered_flat[t] = True
    covered = np.zeros(n_t, bool)
    covered[t[heard]] = True
    n_heard = np.bincount(t[heard], minlength=n_t)
    nearest = np.full(n_t, -1, np.int64)
    nearest_m = np.full(n_t, np.nan)
    if heard.any():
        hs, ht, hd = s[heard], t[heard], dist[heard]
        o = np.lexsort((hd, ht))
        first = np.r_[True, ht[o][1:] != ht[o][:-1]]
        nearest[ht[o][first]] = hs[o][first]
        nearest_m[ht[o][first]] = hd[o][first]

    # ---- units
    unit_idx = _units_join(units_w, tgeom)
    unit_names = np.full(n_t, None, dtype=object)
    unit_parent = np.full(n_t, None, dtype=object)
    if units_w is not None:
        has = unit_idx >= 0
        unit_names[has] = units_w["name"].to_numpy(object)[unit_idx[has]]
        if "parent" in units_w:
            unit_parent[has] = units_w["parent"].to_numpy(object)[unit_idx[has]]
    tab = coverage_table(units_w, unit_idx, people, covered, float(target))
    total = float(people.sum())
    pop_cov = float(people[covered].sum())
    vill = tab[(tab["level"] == "village") & (tab["name"] != OUTSIDE)]
    towns = tab[tab["level"] == "township"]
    below_v = list(vill.loc[vill["below_target"] == 1, "name"])
    progress.info(f"预警覆盖 {pop_cov:.0f} / {total:.0f} 人 ({100 * pop_cov / max(total, 1):.1f} %); {len(below_v)} 个村低于 "
                  f"{100 * target:g} %: {_names_text(below_v)} / warning reaches {pop_cov:.0f} of {total:.0f} people; "
                  f"villages below {100 * target:g} %: {len(below_v)}")
    progress.set(70)

    # ---- geohazard monitoring
    pts_out = None
    mon = {"points": 0, "points_monitored": 0, "monitored_share": None, "people_unmonitored": 0.0,
           "unmonitored_names": []}
    if geohazard_points:
        pts = layers["points"]
        pts_w = to_working(pts, work)
        rad = T.threat_radius(pts["hazard_type"], pts["scale"], T.radius_table(threat_radii))
        if threat_radius_field:
            if threat_radius_field not in pts.columns:
                raise input_error("GEOHAZARD_POINTS", f"没有威胁半径字段 {threat_radius_field}",
                                  f"threat-radius field {threat_radius_field} does not exist", "选择威胁范围半径字段 (m)",
                                  "choose the threat-radius field (m)", field=threat_radius_field)
            surveyed = pd.to_numeric(pts[threat_radius_field], errors="coerce").to_numpy(float)
            rad = np.where(surveyed > 0, surveyed, rad)
        count = np.zeros(len(pts_w), np.int64)
        if monitoring:
            mon_w = to_working(layers["monitoring"], work)
            count = W.monitored_points(np.asarray(pts_w.geometry.values, dtype=object), rad,
                                       np.asarray(mon_w.geometry.values, dtype=object))
        ok = count >= int(min_devices)
        ppl = pts_w["people"].fillna(0).to_numpy(float)
        pts_out = gpd.GeoDataFrame({"code": pts_w["code"].to_numpy(object), "name": pts_w["name"].to_numpy(object),
                                    "hazard_type": pts_w["hazard_type"].to_numpy(object), "radius_m": rad,
                                    "people": ppl, "devices_in_zone": count, "monitored": ok.astype(int)},
                                   geometry=pts_w.geometry.values, crs=work)
        mon = {"points": int(len(pts_w)), "points_monitored": int(ok.sum()),
               "monitored_share": float(ok.mean()) if len(pts_w) else None,
               "people_unmonitored": float(ppl[~ok].sum()), "unmonitored_names": list(pts_w["name"][~ok])}
        progress.info(f"隐患点 {len(pts_w)} 处, 有监测 {int(ok.sum())} 处; 无监测点威胁 {ppl[~ok].sum():.0f} 人 / geohazard "
                      f"points monitored: {int(ok.sum())} of {len(pts_w)}; people at unmonitored points: "
                      f"{ppl[~ok].sum():.0f}")
    progress.set(75)

    # ---- audible areas
    cov_poly = None
    if output_coverage:
        cov_poly = _audible_areas(dgeom, radius, height, kind, dem, factor, float(receiver_height), coverage_cell,
                                  units_w, work, progress.sub(75, 92))
    progress.set(92)

    # ---- outputs
    nm = np.append(names, None)
    dem_out = gpd.GeoDataFrame({
        "people": np.round(people, 3), "name": dem_w["name"].to_numpy(object), "unit": unit_names,
        "township": unit_parent, "covered": covered.astype(int), "devices_heard": n_heard,
        "nearest_device": nm[nearest], "nearest_m": np.round(nearest_m, 1),
        "blocked": (covered_flat & ~covered).astype(int)}, geometry=dem_w.geometry.values, crs=work)
    if "source_fid" in dem_w:
        dem_out.insert(0, "source_fid", dem_w["source_fid"].to_numpy())
    frames = {"demand": dem_out, "table": tab, "points": pts_out, "coverage": cov_poly}
    outputs = {}
    if output_demand:
        outputs["demand"] = write_vector(to_working(dem_out, out_crs), output_demand)
    if output_units:
        n_u = len(units_w)
        vg = gpd.GeoDataFrame(tab.iloc[:n_u].drop(columns=["level"]).reset_index(drop=True),
                              geometry=units_w.geometry.values, crs=work)
        frames["units"] = vg
        outputs["units"] = write_vector(to_working(vg, out_crs), output_units)
    if output_table:
        outputs["table"] = write_table(_bilingual(tab), output_table)
    if output_coverage and cov_poly is not None:
        outputs["coverage"] = write_vector(to_working(cov_poly, out_crs), output_coverage)
    if output_points and pts_out is not None:
        outputs["points"] = write_vector(to_working(pts_out, out_crs), output_points)
    progress.set(100)
    return {"population_total": total, "population_covered": pop_cov,
            "covered_share": pop_cov / total if total > 0 else None,
            "population_blocked": float(people[covered_flat & ~covered].sum()),
            "villages_below_target": len(below_v), "villages_below_names": below_v,
            "townships_below_target": int(towns["below_target"].sum()) if len(towns) else 0,
            "devices": int(len(dev_w)), "working_crs": work.to_string(), "demand_kind": dem_kind, **mon,
            "outputs": outputs, "frames": frames}


def _as_points(geoms):
    """Points as given; a (multi)part geometry by its centroid (a one-part MultiPoint is its point)."""
    g = np.asarray(geoms, dtype=object).copy()
    other = shapely.get_type_id(g) != 0
    g[other] = shapely.centroid(g[other])
    return g


def _in_dem_crs(dem, targets, sources, work):
    """Coordinates of listeners and devices in the DEM's CRS."""
    import rasterio
    from pyproj import CRS, Transformer
    tx, ty = shapely.get_x(targets), shapely.get_y(targets)
    sx, sy = shapely.get_x(sources), shapely.get_y(sources)
    with rasterio.open(dem) as src:
        dcrs = CRS.from_user_input(src.crs)
    if dcrs != work:
        tr = Transformer.from_crs(work, dcrs, always_xy=True)
        tx, ty = tr.transform(tx, ty)
        sx, sy = tr.transform(sx, sy)
    return np.asarray(tx), np.asarray(ty), np.asarray(sx), np.asarray(sy)


def _audible_areas(dgeom, radius, height, kind, dem, factor, receiver, cell, units_w, work, progress):
    """Audible area per device type: circles merged (no DEM), or grid cells heard (with a DEM) merged."""
    rows, geoms = [], []
    clip = shapely.union_all(units_w.geometry.values) if units_w is not None else None
    for i, k in enumerate(D.DEVICE_TYPES):   # two device types, each its share of the progress range
        part = progress.sub(100.0 * i / len(D.DEVICE_TYPES), 100.0 * (i + 1) / len(D.DEVICE_TYPES))
        sel = np.flatnonzero(kind == k)
        if not len(sel):
            continue
        if not dem:
            geom = shapely.union_all(shapely.buffer(dgeom[sel], radius[sel], quad_segs=16))
        else:
            from rasterio import features
            from rasterio.transform import from_origin
            x0, y0, x1, y1 = shapely.total_bounds(shapely.buffer(dgeom[sel], radius[sel]))
            w, h = int(np.ceil((x1 - x0) / cell)), int(np.ceil((y1 - y0) / cell))
            tr = from_origin(x0, y1, cell, cell)
            col, row = np.meshgrid(np.arange(w), np.arange(h))
            cx, cy = x0 + (col.ravel() + 0.5) * cell, y1 - (row.ravel() + 0.5) * cell
            cells = shapely.points(cx, cy)
            s, t, dist = W.pairs_within(dgeom[sel], radius[sel], cells)
            ok = np.ones(len(s), bool)
            need = np.flatnonzero(dist > radius[sel][s] * factor)
            bx, by, ax, ay = _in_dem_crs(dem, cells[t[need]], dgeom[sel][s[need]], work)
            ok[need[W.line_of_sight_blocked(dem, ax, ay, height[sel][s[need]], bx, by, np.full(len(need), receiver),
                                            progress=part)]] = False
            grid = np.zeros(w * h, np.uint8)
            grid[t[ok]] = 1
            shapes = [shapely.geometry.shape(g) for g, _ in features.shapes(grid.reshape(h, w), mask=grid.reshape(h, w) > 0,
                                                                           transform=tr)]  # regions, not cells
            geom = shapely.union_all(shapes) if shapes else shapely.Polygon()
        if clip is not None:
            geom = shapely.intersection(geom, clip)
        rows.append({"device_type": k, "type_zh": D.TYPE_ZH[k], "devices": int(len(sel)),
                     "area_km2": round(float(shapely.area(geom)) / 1e6, 3)})
        geoms.append(geom)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=work) if rows else None


def _bilingual(tab):
    lvl = {"village": "村/社区 village", "township": "乡镇 township", "total": "合计 total"}
    out = tab.copy()
    out["level"] = out["level"].map(lvl)
    return out.rename(columns={"level": "级别 level", "name": "名称 name", "township": "所属乡镇 township",
                               "people": "人数 people", "covered": "覆盖人数 covered", "uncovered": "未覆盖 uncovered",
                               "covered_pct": "覆盖率% covered_pct", "below_target": "低于目标 below_target"})
