"""Shelter coverage and siting on files: read and validate every input, compute with
:mod:`risk_plugin.shelters` on the road network (:mod:`risk_plugin.network`), write the outputs.

>>> r = shelter_coverage("shelters.gpkg", "buildings.gpkg", roads="roads.gpkg",
...                      output_shelters="out/shelters.gpkg", output_demand="out/demand.gpkg")
>>> r["population_served"], r["population_unserved"]

>>> s = shelter_siting("shelter_candidates.gpkg", "population.tif", k=10, shelters="shelters.gpkg",
...                    roads="roads.gpkg", output="out/sites.gpkg", output_curve="out/curve.csv")
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import shelters as S
from .crs import to_working, working_crs
from .definitions import shelters as D
from .errors import Problem, ValidationError, parameter_error
from .inputs import RasterInput, VectorInput, check_rasters, load_vectors
from .io import geometry_kind, open_raster, write_table, write_vector
from .network import RoadNetwork
from .progress import ensure

STATUS_ZH = {"served": "已安置", "partly_served": "部分安置", "shelters_full": "可达但场所已满",
             "out_of_reach": "服务距离内无场所", "no_shelter_on_network": "所在路网无场所",
             "unsnapped": "距道路过远", "no_people": "无人口"}


def is_raster(source):
    from .io import is_raster_file
    return is_raster_file(source)


# ---------------------------------------------------------------------------------------- inputs
def load_demand(source, demand_field=None, label="DEMAND", block_rows=1024, repair=False):
    """Demand units as a GeoDataFrame of points with 'people' and 'name' (in the source's CRS).

    A raster (people per cell) gives one point per populated cell centre, read in row blocks;
    buildings or villages (points or polygons) give their point on surface.
    """
    if is_raster(source):
        check_rasters([RasterInput("demand", source, "population", label=label)])
        xs, ys, vals = [], [], []
        with open_raster(source, label) as src:
            for r0 in range(0, src.height, block_rows):
                from rasterio.windows import Window
                win = Window(0, r0, src.width, min(block_rows, src.height - r0))
                a = src.read(1, window=win, masked=True).astype(np.float64).filled(0.0)
                a[~np.isfinite(a)] = 0.0
                rr, cc = np.nonzero(a > 0)
                x, y = src.transform * (cc + 0.5, rr + r0 + 0.5)
                xs.append(np.asarray(x)); ys.append(np.asarray(y)); vals.append(a[rr, cc])
            crs = src.crs
        x, y, v = np.concatenate(xs), np.concatenate(ys), np.concatenate(vals)
        return gpd.GeoDataFrame({"people": v, "name": None}, geometry=shapely.points(x, y), crs=crs), "raster"
    layers = load_vectors([VectorInput("demand", source, "demand_units", {"people": demand_field}, label=label,
                                       repair=repair)])
    gdf = layers["demand"]
    geom, people, names = demand_points(gdf)
    out = gpd.GeoDataFrame({"people": people, "name": names, "source_fid": gdf.index.to_numpy()},
                           geometry=geom, crs=gdf.crs)
    return out, "vector"


def demand_points(gdf):
    """(points, people, names) of a checked demand layer: a polygon (a building footprint) by its point on
    surface, which lies inside it; people 0 where empty."""
    geom = np.asarray(gdf.geometry.values, dtype=object)
    poly = gdf.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if poly.any():
        geom = geom.copy()
        geom[poly] = shapely.point_on_surface(geom[poly])
    names = gdf["name"].to_numpy(object) if "name" in gdf else np.full(len(gdf), None, object)
    return geom, gdf["people"].fillna(0.0).to_numpy(float), names


def hazard_max(geoms, crs, hazard, block=1024):
    """Highest hazard class (0..4) under each geometry: the cell under a point, any cell a polygon
    touches. Read block by block; nodata counts as 0."""
    import rasterio
    from .burn import rasterize
    from rasterio.windows import Window
    geoms = gpd.GeoSeries(geoms, crs=crs)
    n = len(geoms)
    out = np.zeros(n, np.int64)
    if n == 0:
        return out
    with open_raster(hazard, "HAZARD") as src:
        g = geoms.to_crs(src.crs).values if src.crs and geoms.crs and src.crs != geoms.crs else geoms.values
        g = np.asarray(g, dtype=object)
        inv = ~src.transform
        is_pt = shapely.get_type_id(g) == 0
        # points: the cell under each point, grouped by block
        pi = np.flatnonzero(is_pt)
        if pi.size:
            col, row = inv * (shapely.get_x(g[pi]), shapely.get_y(g[pi]))
            row, col = np.floor(row).astype(np.int64), np.floor(col).astype(np.int64)
            inside = (row >= 0) & (row < src.height) & (col >= 0) & (col < src.width)
            pi, row, col = pi[inside], row[inside], col[inside]
            key = (row // block) * (src.width // block + 1) + col // block
            for k in np.unique(key):  # loop over raster blocks that hold points, not over points
                m = key == k
                r0, c0 = (row[m].min() // block) * block, (col[m].min() // block) * block
                win = Window(c0, r0, min(block, src.width - c0), min(block, src.height - r0))
                a = src.read(1, window=win, masked=True).filled(0)
                out[pi[m]] = a[row[m] - r0, col[m] - c0]
        # polygons: burn their ids block by block
        qi = np.flatnonzero(~is_pt)
        if qi.size:
            tree = shapely.STRtree(g[qi])
            x0, y0, x1, y1 = shapely.total_bounds(g[qi])
            c_a, r_a = inv * (x0, y1)
            c_b, r_b = inv * (x1, y0)
            rmin, rmax = max(0, int(np.floor(min(r_a, r_b)))), min(src.height, int(np.ceil(max(r_a, r_b))) + 1)
            cmin, cmax = max(0, int(np.floor(min(c_a, c_b)))), min(src.width, int(np.ceil(max(c_a, c_b))) + 1)
            for r0 in range(rmin, rmax, block):
                for c0 in range(cmin, cmax, block):
                    win = Window(c0, r0, min(block, cmax - c0), min(block, rmax - r0))
                    wb = rasterio.windows.bounds(win, src.transform)
                    hit = tree.query(shapely.box(*wb))
                    if hit.size == 0:
                        continue
                    wt = rasterio.windows.transform(win, src.transform)
                    ids = rasterize(g[qi][hit], hit + 1, out_shape=(int(win.height), int(win.width)),
                                    transform=wt, all_touched=True, fill=0, dtype="int32")
                    a = src.read(1, window=win, masked=True).filled(0)
                    sel = ids > 0
                    np.maximum.at(out, qi[ids[sel] - 1], a[sel].astype(np.int64))
    return np.clip(out, 0, 4)


def _prepare_shelters(gdf, label, pc, sd, capacity_field_given):
    """Capacity and service distance per shelter; problems if neither area nor capacity is known."""
    area = gdf["effective_area"].to_numpy(float) if "effective_area" in gdf else np.full(len(gdf), np.nan)
    cap_given = gdf["capacity"].to_numpy(float) if "capacity" in gdf else np.full(len(gdf), np.nan)
    klass = gdf["shelter_class"].to_numpy(object)
    per = np.array([pc[c] for c in klass], float)
    cap = np.where(np.isfinite(cap_given), cap_given, area / per)
    missing = ~np.isfinite(cap)
    problems = []
    if missing.any():
        problems.append(Problem(label, f"{missing.sum()} 个场所既无有效面积也无容量",
                                f"{missing.sum()} shelters have neither an effective area nor a capacity",
                                "填写有效面积 (m²) 或容量 (人), 或在参数中指定 AREA_FIELD / CAPACITY_FIELD",
                                "fill in the effective area (m²) or capacity (people), or set AREA_FIELD / CAPACITY_FIELD",
                                field="有效面积/effective_area", features=list(gdf.index[missing])))
    limits = np.array([sd[c] for c in klass], float)
    return np.where(missing, 0.0, cap), limits, area, problems


def _build_network(roads_gdf, work, noding, progress):
    if roads_gdf is None:
        return None
    r = to_working(roads_gdf, work)
    net = RoadNetwork.from_lines(r.geometry.values, noding=noding)
    net.seg_name = r["name"].to_numpy(object)[net.seg_feature] if "name" in r else None
    progress.info(f"路网 / road network: {net.n_nodes} 节点 nodes, {net.n_segments} 路段 segments, "
                  f"{net.ncomp} 连通分量 components")
    return net


def _units_join(units, pts):
    """Unit index (or -1) of each demand point (the first unit, if units overlap)."""
    idx = np.full(len(pts), -1, np.int64)
    if units is None or len(pts) == 0:
        return idx
    # the tree holds the points and the polygons are the (prepared) query geometries: fast
    tree = shapely.STRtree(pts)
    u, d = tree.query(units.geometry.values, predicate="intersects")
    if not len(d):  # no demand point in any unit (np.r_[True, …] below needs at least one hit)
        return idx
    o = np.lexsort((u, d))
    u, d = u[o], d[o]
    first = np.r_[True, d[1:] != d[:-1]]
    idx[d[first]] = u[first]
    return idx


def units_table(units, unit_idx, people, within, served):
    """Per-village and per-township people, within reach, served, unserved."""
    n_u = len(units)
    people_w = np.where(within, people, 0.0)
    cols = {"people": people, "within_reach": people_w, "served": served}
    key = np.where(unit_idx >= 0, unit_idx, n_u)
    sums = {k: np.bincount(key, weights=v, minlength=n_u + 1) for k, v in cols.items()}
    names = list(units["name"].astype(str)) + ["(不在任何单元内 / outside every unit)"]
    parent = (list(units["parent"].astype(object).where(units["parent"].notna(), None))
              if "parent" in units else [None] * n_u) + [None]
    df = pd.DataFrame({"level": "village", "name": names, "parent": parent, **sums})
    if sums["people"][n_u] == 0:
        df = df.iloc[:n_u]
    rows = [df]
    if "parent" in units and units["parent"].notna().any():
        top = df[df["parent"].notna()].groupby("parent", sort=True)[list(cols)].sum().reset_index()
        top = top.rename(columns={"parent": "name"})
        top.insert(0, "level", "township")
        top.insert(2, "parent", None)
        rows.append(top)
    tot = pd.DataFrame({"level": ["total"], "name": ["合计 / total"], "parent": [None],
                        **{k: [float(v.sum())] for k, v in cols.items()}})
    rows.append(tot)
    out = pd.concat(rows, ignore_index=True)
    out["unserved"] = out["people"] - out["served"]
    out["served_share"] = np.where(out["people"] > 0, out["served"] / out["people"].where(out["people"] > 0, 1), np.nan)
    for c in ("people", "within_reach", "served", "unserved"):
        out[c] = out[c].round(1)
    out["served_share"] = out["served_share"].round(4)
    out["level"] = out["level"].map({"village": "村/社区 village", "township": "乡镇 township",
                                     "total": "合计 total"})
    return out.rename(columns={"level": "级别 level", "name": "名称 name", "parent": "所属乡镇 township",
                               "people": "人数 people", "within_reach": "服务距离内人数 within_reach",
                               "served": "已安置 served", "unserved": "未安置 unserved",
                               "served_share": "安置率 served_share"})


def _components_report(net, comp_shelter_ok, demand_comp, people, demand_ok, unit_names):
    """Network components holding people but no usable shelter: one row each, largest first."""
    if net is None:
        return pd.DataFrame()
    has = np.zeros(net.ncomp, bool)
    has[comp_shelter_ok[comp_shelter_ok >= 0]] = True
    sel = demand_ok & (demand_comp >= 0) & ~has[np.clip(demand_comp, 0, None)]
    if not sel.any():
        return pd.DataFrame(columns=["component", "people", "demand_units", "road_km", "roads", "units"])
    comp = demand_comp[sel]
    ppl = people[sel]
    df = pd.DataFrame({"component": comp, "people": ppl, "unit": unit_names[sel]})
    g = df.groupby("component")
    rep = pd.DataFrame({"people": g["people"].sum(), "demand_units": g.size()})
    seg_comp = net.segment_component()
    km = np.bincount(seg_comp, weights=net.seg_len, minlength=net.ncomp) / 1000.0
    rep["road_km"] = km[rep.index.to_numpy()].round(2)
    if getattr(net, "seg_name", None) is not None:
        sn = pd.DataFrame({"component": seg_comp, "name": net.seg_name, "len": net.seg_len})
        sn = sn[sn["component"].isin(rep.index) & sn["name"].notna()]
        top = sn.groupby(["component", "name"])["len"].sum().reset_index().sort_values("len", ascending=False)
        rep["roads"] = top.groupby("component")["name"].apply(lambda s: "、".join(map(str, s.head(3))))
    else:
        rep["roads"] = None
    top_u = df[df["unit"].notna()].groupby(["component", "unit"])["people"].sum().reset_index() \
        .sort_values("people", ascending=False)
    rep["units"] = top_u.groupby("component")["unit"].apply(lambda s: "、".join(map(str, s.head(3))))
    rep["people"] = rep["people"].round(1)
    return rep.reset_index().sort_values("people", ascending=False, ignore_index=True)


def _names_text(names, limit=10):
    names = [str(n) for n in names]
    more = f" …(+{len(names) - limit})" if len(names) > limit else ""
    return "、".join(names[:limit]) + more


def demand_columns(v, sname):
    """The per-demand output columns (output order, after 'source_fid' and 'name') from the per-demand
    values ``v`` (people, unit and township names, status, snap distance, component, within reach, nearest
    shelter index and metres, served people, shelter index and metres) and the shelter names + None."""
    status = v["status"]
    return {
        "people": np.round(v["people"], 3), "unit": v["unit"], "township": v["township"], "status": status,
        "status_zh": pd.Series(status).map(STATUS_ZH).to_numpy(), "snap_m": np.round(v["snap_m"], 1),
        "component": v["component"], "within_reach": v["within"].astype(int), "nearest_shelter": sname[v["nearest"]],
        "nearest_m": np.round(v["nearest_m"], 1), "served": (status == "served").astype(int),
        "served_people": np.round(v["served"], 3), "unserved_people": np.round(v["people"] - v["served"], 3),
        "shelter": sname[v["shelter"]], "shelter_m": np.round(v["shelter_m"], 1)}


def demand_frame(dem_w, work, values, sname):
    """The per-demand output layer: one row per demand unit of ``dem_w`` (points in ``work``)."""
    cols = demand_columns(values, sname)
    cols = {"people": cols.pop("people"), "name": dem_w["name"].to_numpy(object), **cols}
    out = gpd.GeoDataFrame(cols, geometry=dem_w.geometry.values, crs=work)
    if "source_fid" in dem_w:
        out.insert(0, "source_fid", dem_w["source_fid"].to_numpy())
    return out


def write_demand(dem_out, path, out_crs, progress=None):
    """Write the per-demand layer in ``out_crs`` (one call; ``progress`` is for the Dask writer's cancel)."""
    return write_vector(to_working(dem_out, out_crs) if out_crs else dem_out, path)


# ---------------------------------------------------------------------------------------- coverage
def shelter_coverage(shelters, demand, *, roads=None, demand_field=None, class_field=None, area_field=None,
                     capacity_field=None, max_snap=D.MAX_SNAP, noding=D.NODING, allocation=D.ALLOCATION,
                     per_capita=None, service_distance=None, uniform_per_capita=None, hazard=None,
                     hazard_min_class=D.HAZARD_MIN_CLASS, exclude_hazardous=D.EXCLUDE_HAZARDOUS, units=None,
                     unit_field=None, parent_field=None, catchment_width=D.CATCHMENT_WIDTH,
                     output_shelters=None, output_demand=None, output_units=None, output_catchments=None,
                     repair=False, working_crs_=None, output_crs=None, progress=None):
    """Who reaches a shelter on foot, who gets a place, who is left out.

    Returns a dict with the numeric outputs (population_total, population_within_reach,
    population_served, population_unserved), the lists a technician needs (unsnapped shelters and
    demand, network components without a shelter, shelters in hazard zones, over-demanded shelters),
    the output paths and the result frames.
    """
    progress = ensure(progress)
    if allocation not in D.ALLOCATIONS:
        raise parameter_error("ALLOCATION", f"未知分配规则 {allocation}", f"unknown allocation rule {allocation}",
                              f"可选 {D.ALLOCATIONS}", f"choose one of {D.ALLOCATIONS}")
    if not max_snap > 0:
        raise parameter_error("MAX_SNAP", "吸附距离必须大于 0", "MAX_SNAP must be > 0", "填写米数", "enter metres")
    pc, sd = S.class_table(per_capita, service_distance, uniform_per_capita)
    # ---- read and validate everything first: one error listing every problem
    specs = [VectorInput("shelters", shelters, "shelters",
                         {"shelter_class": class_field, "effective_area": area_field, "capacity": capacity_field},
                         label="SHELTERS", repair=repair)]
    if roads:
        specs.append(VectorInput("roads", roads, "roads", label="ROADS", repair=repair))
    if units:
        specs.append(VectorInput("units", units, "admin_units", {"name": unit_field, "parent": parent_field},
                                 label="UNITS", repair=repair))
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
        dem_gdf = None
    if hazard:
        try:
            check_rasters([RasterInput("hazard", hazard, "hazard_classes", label="HAZARD")])
        except ValidationError as exc:
            problems += exc.problems
    if layers is not None:
        cap, limits, area, p = _prepare_shelters(layers["shelters"], "SHELTERS", pc, sd, capacity_field)
        problems += p
    if problems:
        raise ValidationError(problems)
    progress.set(8)
    sh = layers["shelters"]
    out_crs = output_crs or sh.crs
    work = working_crs(sh.crs, sh.total_bounds, working_crs_)
    sh_w = to_working(sh, work)
    dem_w = to_working(dem_gdf, work)
    units_w = to_working(layers["units"], work) if units else None
    n_s, n_t = len(sh_w), len(dem_w)
    people = dem_w["people"].to_numpy(float)

    # ---- hazard
    hz = hazard_max(sh_w.geometry.values, work, hazard) if hazard else np.zeros(n_s, np.int64)
    in_hazard = hz >= hazard_min_class if hazard else np.zeros(n_s, bool)
    usable = ~in_hazard if exclude_hazardous else np.ones(n_s, bool)
    usable &= cap > 0
    progress.set(12)

    # ---- network and reach
    net = _build_network(layers.get("roads"), work, noding, progress)
    progress.set(25)
    sh_geom = sh_w.geometry.values
    rc = S.reach(sh_geom, limits, dem_w.geometry.values, network=net, max_snap=max_snap, usable=usable,
                 progress=progress.sub(25, 70))
    # ---- allocation
    x = S.allocate(rc.s, rc.t, rc.d, people, cap, allocation)
    al = S.summarise(rc.s, rc.t, rc.d, x, people, n_s)
    progress.set(80)

    # ---- who is left out, and why
    unit_idx = _units_join(units_w, dem_w.geometry.values)
    unit_names = np.array([None] * n_t, dtype=object)
    unit_parent = np.array([None] * n_t, dtype=object)
    if units_w is not None:
        un = units_w["name"].to_numpy(object)
        unit_names[unit_idx >= 0] = un[unit_idx[unit_idx >= 0]]
        if "parent" in units_w:
            up = units_w["parent"].to_numpy(object)
            unit_parent[unit_idx >= 0] = up[unit_idx[unit_idx >= 0]]
    served = al.served
    status = np.full(n_t, "out_of_reach", dtype=object)
    status[al.within_reach] = "shelters_full"
    status[served > S.EPS] = "partly_served"
    status[served >= people - 1e-6 * np.maximum(people, 1)] = "served"
    status[people <= 0] = "no_people"
    comps = pd.DataFrame()
    if net is not None:
        d_ok = rc.demand_snap.ok
        s_ok = rc.shelter_snap.ok & usable
        comp_sh = np.where(s_ok, rc.shelter_component, -1)
        has = np.zeros(net.ncomp, bool)
        has[comp_sh[comp_sh >= 0]] = True
        no_sh = d_ok & ~has[np.clip(rc.demand_component, 0, None)]
        status[no_sh & (people > 0)] = "no_shelter_on_network"
        status[~d_ok & (people > 0)] = "unsnapped"
        comps = _components_report(net, comp_sh, rc.demand_component, people, d_ok & (people > 0), unit_names)
    total = float(people.sum())
    within = float(people[al.within_reach].sum())
    served_total = float(served.sum())
    result = {"population_total": total, "population_within_reach": within,
              "population_served": served_total, "population_unserved": total - served_total,
              "working_crs": work.to_string(), "allocation": allocation,
              "shelters": n_s, "demand_units": n_t, "demand_kind": dem_kind}

    # ---- report what cannot be used, by name and count
    names = sh_w["name"].astype(str).to_numpy()
    if net is not None:
        bad = ~rc.shelter_snap.ok
        result["shelters_unsnapped"] = list(names[bad])
        if bad.any():
            progress.info(f"{bad.sum()} 个避难场所距道路超过 {max_snap:g} m, 无法步行到达 / shelters farther than "
                          f"{max_snap:g} m from any road (unreachable): {_names_text(names[bad])}")
        dbad = ~rc.demand_snap.ok & (people > 0)
        result["demand_unsnapped"] = int(dbad.sum())
        result["demand_unsnapped_people"] = float(people[dbad].sum())
        if dbad.any():
            label = dem_w["name"].to_numpy(object)
            where = label[dbad] if pd.notna(label[dbad]).any() else unit_names[dbad]
            counts = pd.Series(where).fillna("?").value_counts()
            progress.info(f"{dbad.sum()} 个需求单元 ({people[dbad].sum():.0f} 人) 距道路超过 {max_snap:g} m / demand units "
                          f"({people[dbad].sum():.0f} people) farther than {max_snap:g} m from any road: "
                          + "、".join(f"{k} ({v})" for k, v in counts.head(10).items()))
        result["components_without_shelter"] = comps
        if len(comps):
            progress.info(f"{len(comps)} 个路网连通分量有人口但没有可用避难场所, 共 {comps['people'].sum():.0f} 人 / "
                          f"network components with people but no usable shelter: "
                          + "; ".join(f"#{r.component}: {r.people:.0f} 人/people, {r.road_km} km "
                                      f"[{r.roads if isinstance(r.roads, str) else ''}] "
                                      f"{r.units if isinstance(r.units, str) else ''}" for r in comps.head(10).itertuples()))
    result["hazardous_shelters"] = list(names[in_hazard])
    if in_hazard.any():
        progress.info(f"{in_hazard.sum()} 个避难场所位于 {hazard_min_class} 级及以上危险区"
                      f"{' (已排除)' if exclude_hazardous else ''} / shelters in hazard class ≥ {hazard_min_class}"
                      f"{' (excluded)' if exclude_hazardous else ''}: {_names_text(names[in_hazard])}")
    over = (al.first_choice > cap + S.EPS) & usable
    result["over_demanded"] = list(names[over])
    if over.any():
        progress.info(f"{over.sum()} 个避难场所就近需求超过容量 / shelters whose nearest-first demand exceeds their "
                      f"capacity: {_names_text(names[over])}")

    # ---- output frames
    util = np.where(cap > 0, al.assigned / np.where(cap > 0, cap, 1), np.nan)
    sh_out = gpd.GeoDataFrame({
        "name": names, "shelter_class": sh_w["shelter_class"].to_numpy(object),
        "class_zh": [D.CLASS_ZH.get(c, c) for c in sh_w["shelter_class"]],
        "effective_area": area, "per_capita_m2": [pc[c] for c in sh_w["shelter_class"]],
        "capacity": np.round(cap, 1), "service_m": limits, "hazard_class": hz, "in_hazard": in_hazard.astype(int),
        "excluded": (~usable).astype(int),
        "snapped": (rc.shelter_snap.ok if net is not None else np.ones(n_s, bool)).astype(int),
        "snap_m": np.round(rc.shelter_snap.distance, 1) if net is not None else np.zeros(n_s),
        "component": rc.shelter_component, "reachable_people": np.round(al.reachable_people, 1),
        "first_choice_people": np.round(al.first_choice, 1), "assigned": np.round(al.assigned, 1),
        "utilisation": np.round(util, 4), "over_demanded": over.astype(int)},
        geometry=sh_w.geometry.values, crs=work)
    dem_out = demand_frame(dem_w, work, {
        "people": people, "unit": unit_names, "township": unit_parent, "status": status,
        "snap_m": rc.demand_snap.distance if net is not None else np.zeros(n_t), "component": rc.demand_component,
        "within": al.within_reach, "nearest": al.nearest, "nearest_m": al.nearest_dist, "served": served,
        "shelter": al.shelter_of, "shelter_m": al.dist_to}, np.append(names, None))
    frames = {"shelters": sh_out, "demand": dem_out, "pairs": (rc.s, rc.t, rc.d, x)}
    if units_w is not None:
        frames["units"] = units_table(units_w, unit_idx, people, al.within_reach, served)
    progress.set(85)
    if output_catchments:
        poly = S.catchments(sh_geom, limits, network=net, snap=rc.shelter_snap, width=catchment_width,
                            usable=usable, progress=progress.sub(85, 95))
        ok = np.array([p is not None for p in poly], bool)
        frames["catchments"] = gpd.GeoDataFrame({
            "name": names[ok], "shelter_class": sh_out["shelter_class"].to_numpy()[ok],
            "service_m": limits[ok], "capacity": sh_out["capacity"].to_numpy()[ok],
            "assigned": sh_out["assigned"].to_numpy()[ok], "reachable_people": sh_out["reachable_people"].to_numpy()[ok]},
            geometry=list(poly[ok]), crs=work)
    progress.set(95)

    # ---- write
    outputs = {}
    if output_shelters:
        outputs["shelters"] = write_vector(to_working(sh_out, out_crs) if out_crs else sh_out, output_shelters)
    if output_demand:
        outputs["demand"] = write_demand(dem_out, output_demand, out_crs, progress=progress)
    if output_units:
        if "units" not in frames:
            raise parameter_error("OUTPUT_UNITS", "需要先提供统计单元图层 UNITS", "OUTPUT_UNITS needs a UNITS layer",
                                  "选择村/乡镇图层", "choose a village or township layer")
        outputs["units"] = write_table(frames["units"], output_units)
    if output_catchments:
        outputs["catchments"] = write_vector(to_working(frames["catchments"], out_crs) if out_crs
                                             else frames["catchments"], output_catchments)
    progress.set(100)
    result["outputs"] = outputs
    result["frames"] = frames
    return result


# ---------------------------------------------------------------------------------------- siting
def shelter_siting(candidates, demand, k, *, shelters=None, roads=None, demand_field=None,
                   candidate_area_field=None, candidate_class=D.CANDIDATE_CLASS, class_field=None,
                   area_field=None, capacity_field=None, max_snap=D.MAX_SNAP, noding=D.NODING,
                   allocation=D.ALLOCATION, method=D.SITING_METHOD, per_capita=None, service_distance=None,
                   uniform_per_capita=None, hazard=None, hazard_min_class=D.HAZARD_MIN_CLASS,
                   include_hazardous=not D.EXCLUDE_HAZARDOUS_CANDIDATES, output=None, output_curve=None,
                   repair=False, working_crs_=None, output_crs=None, progress=None):
    """Where the next K shelters should go: candidates in order, with the people each one adds."""
    progress = ensure(progress)
    k = int(k)
    if k < 1:
        raise parameter_error("K", "K 必须至少为 1", "K must be at least 1", "填写正整数", "enter a positive integer")
    if method not in D.SITING_METHODS:
        raise parameter_error("METHOD", f"未知方法 {method}", f"unknown method {method}", f"可选 {D.SITING_METHODS}",
                              f"choose one of {D.SITING_METHODS}")
    if candidate_class not in D.CLASSES:
        raise parameter_error("CANDIDATE_CLASS", f"未知类别 {candidate_class}", f"unknown class {candidate_class}",
                              f"可选 {D.CLASSES}", f"choose one of {D.CLASSES}")
    pc, sd = S.class_table(per_capita, service_distance, uniform_per_capita)
    specs = [VectorInput("candidates", candidates, "shelter_candidates", {"effective_area": candidate_area_field},
                         label="CANDIDATES", repair=repair)]
    if shelters:
        specs.append(VectorInput("shelters", shelters, "shelters", {"shelter_class": class_field,
                                 "effective_area": area_field, "capacity": capacity_field}, label="SHELTERS",
                                 repair=repair))
    if roads:
        specs.append(VectorInput("roads", roads, "roads", label="ROADS", repair=repair))
    problems = []
    try:
        layers = load_vectors(specs)
    except ValidationError as exc:
        problems += exc.problems
        layers = None
    try:
        dem_gdf, _ = load_demand(demand, demand_field, repair=repair)
    except ValidationError as exc:
        problems += exc.problems
    if hazard:
        try:
            check_rasters([RasterInput("hazard", hazard, "hazard_classes", label="HAZARD")])
        except ValidationError as exc:
            problems += exc.problems
    if layers is not None and shelters:
        ecap, elim, _, p = _prepare_shelters(layers["shelters"], "SHELTERS", pc, sd, capacity_field)
        problems += p
    if problems:
        raise ValidationError(problems)
    progress.set(8)
    cand = layers["candidates"]
    out_crs = output_crs or cand.crs
    work = working_crs(cand.crs, cand.total_bounds, working_crs_)
    cand_w = to_working(cand, work)
    dem_w = to_working(dem_gdf, work)
    people = dem_w["people"].to_numpy(float)
    n_c = len(cand_w)
    ccap = cand_w["effective_area"].to_numpy(float) / pc[candidate_class]
    clim = np.full(n_c, sd[candidate_class])
    hz = hazard_max(cand_w.geometry.values, work, hazard) if hazard else np.zeros(n_c, np.int64)
    in_hz = hz >= hazard_min_class if hazard else np.zeros(n_c, bool)
    cusable = (ccap > 0) & (include_hazardous | ~in_hz)
    if in_hz.any():
        cn = cand_w["name"].fillna("").astype(str).to_numpy() if "name" in cand_w else np.full(n_c, "")
        progress.info(f"{in_hz.sum()} 个候选场址位于 {hazard_min_class} 级及以上危险区"
                      f"{'' if include_hazardous else ' (不予选址)'} / candidates in hazard class ≥ {hazard_min_class}"
                      f"{'' if include_hazardous else ' (excluded)'}: {_names_text(cn[in_hz])}")
    net = _build_network(layers.get("roads"), work, noding, progress)
    progress.set(20)
    if shelters:
        sh_w = to_working(layers["shelters"], work)
        eusable = ecap > 0  # existing shelters count as they are (riskmap:sheltercoverage flags their hazard)
        er = S.reach(sh_w.geometry.values, elim, dem_w.geometry.values, network=net, max_snap=max_snap,
                     usable=eusable, progress=progress.sub(20, 40))
        existing = (er.s, er.t, er.d, ecap)
    else:
        existing = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    cr = S.reach(cand_w.geometry.values, clim, dem_w.geometry.values, network=net, max_snap=max_snap,
                 usable=cusable, progress=progress.sub(40, 70))
    candp = (cr.s, cr.t, cr.d, ccap)
    base, steps = S.site_greedy(k, people, existing, candp, allocation, progress=progress.sub(70, 90))
    exact = None
    if method == "exact":
        m_pairs = len(existing[0]) + len(cr.s)
        if m_pairs > D.EXACT_MAX_PAIRS:
            progress.info(f"精确求解跳过: {m_pairs} 对超过上限 {D.EXACT_MAX_PAIRS} / exact solve skipped: {m_pairs} pairs "
                          f"exceed {D.EXACT_MAX_PAIRS}; the greedy order stands")
        else:
            exact = [S.site_exact(kk, people, existing, candp) for kk in range(1, k + 1)]
    progress.set(92)
    given = cand_w["name"] if "name" in cand_w else pd.Series([None] * n_c, index=cand_w.index)
    fallback = pd.Series([f"候选 candidate {i}" for i in range(n_c)], index=cand_w.index)
    names = given.where(given.notna() & (given.astype(str).str.len() > 0), fallback).astype(str).to_numpy(object)
    total = float(people.sum())
    rows = [{"k": 0, "site": "(现有场所 / existing shelters)", "people_added": round(base, 1),
             "served_total": round(base, 1), "served_share": round(base / total, 4) if total else np.nan}]
    for st in steps:
        rows.append({"k": st.k, "site": names[st.candidate], "people_added": round(st.added, 1),
                     "served_total": round(st.served_total, 1),
                     "served_share": round(st.served_total / total, 4) if total else np.nan})
    curve = pd.DataFrame(rows)
    if exact is not None:
        opt = [np.nan] + [round(e[1], 1) for e in exact]
        curve["optimum_balanced"] = opt[:len(curve)] + [np.nan] * max(0, len(curve) - len(opt))
    order = [st.candidate for st in steps]
    chosen = cand_w.iloc[order].copy() if order else cand_w.iloc[[]].copy()
    site_type = chosen["site_type"].to_numpy(object) if "site_type" in chosen else np.full(len(order), None, object)
    ch = gpd.GeoDataFrame({
        "rank": np.arange(1, len(order) + 1), "name": names[order], "site_type": site_type,
        "effective_area": chosen["effective_area"].to_numpy(float), "shelter_class": candidate_class,
        "capacity": np.round(ccap[order], 1), "service_m": clim[order], "hazard_class": hz[order],
        "people_added": [round(st.added, 1) for st in steps], "gain_estimate": [round(st.gain_estimate, 1) for st in steps],
        "served_total": [round(st.served_total, 1) for st in steps]}, geometry=chosen.geometry.values, crs=work)
    if exact is not None:
        ch["in_optimum_k"] = [int(i in set(exact[-1][0])) for i in order]
    outputs = {}
    if output:
        outputs["sites"] = write_vector(to_working(ch, out_crs), output, geometry_type=geometry_kind(cand_w))
    if output_curve:
        outputs["curve"] = write_table(curve, output_curve)
    progress.set(100)
    return {"population_total": total, "served_before": base,
            "served_after": steps[-1].served_total if steps else base,
            "sites_chosen": len(steps), "candidates_excluded_hazard": int((in_hz & ~include_hazardous).sum()),
            "exact": [(list(names[e[0]]), e[1], e[2]) for e in exact] if exact is not None else None,
            "curve": curve, "sites": ch, "outputs": outputs}
