"""Rescue, fire, medical and supply reach on files: read and validate every input, compute travel
times with :mod:`risk_plugin.traveltime`, summarise per person, village and township, write outputs.

>>> r = response_reach("response_facilities.gpkg", "buildings.gpkg", "roads.gpkg", units="villages.gpkg",
...                    hazard_zones=["flood_zones.gpkg"], output_demand="out/reach_demand.gpkg",
...                    output_units="out/reach_villages.gpkg", output_bands="out/reach_bands.gpkg")
>>> r["share"]["forces"]        # share of people reached by rescue forces within each threshold

>>> s = response_siting("villages.gpkg", "buildings.gpkg", "roads.gpkg", group="forces", k=5,
...                     facilities="response_facilities.gpkg", output="out/sites.gpkg")
"""
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import paramtext
from . import shelters as S
from .crs import to_working, working_crs
from .definitions import reach as D
from .definitions import shelters as SD
from .errors import Problem, ValidationError, input_error, parameter_error
from .inputs import RasterInput, VectorInput, check_rasters, load_vectors
from .io import geometry_kind, write_table, write_vector
from .isochrones import Grid, band_of, band_polygons
from .network import RoadNetwork
from .progress import ensure
from .roadclass import extra_speeds, road_directions, road_speeds, speed_table
from .shelter_run import _names_text, _units_join, hazard_max, load_demand
from .supplies import supply_tables
from .traveltime import TimeNetwork, hazard_fraction, segments_reversed

OUTSIDE = "(不在任何单元内 / outside every unit)"


# ---------------------------------------------------------------------------------------- parameters
def check_thresholds(thresholds):
    """Ascending positive minutes, at most definitions.reach.MAX_THRESHOLDS (text '15,30,60' or a sequence)."""
    t = paramtext.numbers(thresholds, "THRESHOLDS", ascending=True)
    if t[0] <= 0 or len(t) > D.MAX_THRESHOLDS:
        raise parameter_error("THRESHOLDS", f"应为 1–{D.MAX_THRESHOLDS} 个正的分钟数, 从小到大: {t}",
                              f"needs 1–{D.MAX_THRESHOLDS} positive minutes, ascending: {t}", "例如 15,30,60",
                              "e.g. 15,30,60")
    return t


def _positive(name, value, zh, en, upper=None):
    if not (value is not None and np.isfinite(value) and value > 0 and (upper is None or value <= upper)):
        rng = f"0 < x ≤ {upper}" if upper is not None else "x > 0"
        raise parameter_error(name, f"{zh}应满足 {rng}, 现为 {value}", f"{en} must satisfy {rng}, got {value}",
                              "改正数值", "correct the value")
    return float(value)


def fmt(t):
    return f"{t:g}"


# ---------------------------------------------------------------------------------------- the network
def time_networks(roads_w, *, speeds=None, extra=None, default_speed=D.DEFAULT_SPEED_KMH, speed_field=None,
                  direction_field=None, noding=SD.NODING, zones=None, hazard_factor=D.HAZARD_SPEED_FACTOR,
                  label="ROADS", progress=None):
    """(RoadNetwork, open TimeNetwork, closed TimeNetwork or None, hazard fraction per segment, report)."""
    progress = ensure(progress)
    table = speed_table(speeds)
    kmh, report = road_speeds(roads_w, table, extra_speeds(extra), default_speed, speed_field, label)
    direction = None
    if direction_field:
        if direction_field not in roads_w.columns:
            raise input_error(label, f"没有方向字段 {direction_field}", f"direction field {direction_field} does not exist",
                              "选择单行方向字段 (如 OSM oneway)", "choose the one-way field (e.g. OSM oneway)",
                              field=direction_field)
        direction = road_directions(roads_w[direction_field], label, direction_field)
    net = RoadNetwork.from_lines(roads_w.geometry.values, noding=noding)
    net.seg_name = roads_w["name"].to_numpy(object)[net.seg_feature] if "name" in roads_w else None
    rev = segments_reversed(net, roads_w.geometry.values) if direction is not None and noding == "intersections" else None
    frac = hazard_fraction(net, zones) if zones is not None and len(zones) else None
    open_ = TimeNetwork.build(net, kmh, direction, rev, frac, hazard_factor)
    closed = TimeNetwork.build(net, kmh, direction, rev, frac, close_hazard=True) if frac is not None else None
    km = float(net.seg_len.sum() / 1000)
    progress.info(f"路网 / road network: {net.n_nodes} 节点 nodes, {net.n_segments} 路段 segments, {km:.0f} km; "
                  f"车速 / speeds: " + ", ".join(f"{D.CLASS_ZH.get(k, k)} {table.get(k, '')}" for k in report["classes"])
                  + (f"; {report['empty_class']} 条道路无等级, 按 {default_speed:g} km/h / roads without a class at "
                     f"{default_speed:g} km/h" if report["empty_class"] else ""))
    if frac is not None:
        inside = float((net.seg_len * frac).sum() / 1000)
        progress.info(f"灾害范围内道路 {inside:.1f} km (车速 ×{hazard_factor:g}; 断路情景下封闭) / road inside hazard "
                      f"zones: {inside:.1f} km (speed ×{hazard_factor:g}; closed in the cut-off scenario)")
    return net, open_, closed, frac, report


# ---------------------------------------------------------------------------------------- summaries
def reach_columns(key, n_units, people, minutes, thresholds, target):
    """Per unit (bincount over ``key``, n_units + 1 buckets): people reached within each threshold,
    mean and max minutes of the reached, people not reached within the last threshold and within target."""
    fin = np.isfinite(minutes) & (people > 0)
    cols = {}
    for t in thresholds:
        cols[f"{fmt(t)}min"] = np.bincount(key, weights=np.where(minutes <= t, people, 0.0), minlength=n_units + 1)
    cols["target"] = np.bincount(key, weights=np.where(minutes <= target, people, 0.0), minlength=n_units + 1)
    reached = np.bincount(key, weights=np.where(fin, people, 0.0), minlength=n_units + 1)
    cols["_reached"] = reached
    cols["_tsum"] = np.bincount(key, weights=np.where(fin, people * np.where(fin, minutes, 0.0), 0.0),
                                minlength=n_units + 1)
    mx = np.full(n_units + 1, -np.inf)
    np.maximum.at(mx, key[fin], minutes[fin])
    cols["_max"] = mx
    return cols


def unit_frames(units_w, unit_idx, people, results, thresholds, target, primary, cut=None, open_any=None,
                cut_share=D.CUT_OFF_SHARE):
    """(village GeoDataFrame rows incl. the 'outside' bucket, township/total table rows)."""
    n_u = len(units_w) if units_w is not None else 0
    key = np.where(unit_idx >= 0, unit_idx, n_u)
    base = {"people": np.bincount(key, weights=people, minlength=n_u + 1)}
    names = (list(units_w["name"].astype(str)) if n_u else []) + [OUTSIDE]
    parent = ((list(units_w["parent"].astype(object).where(units_w["parent"].notna(), None))
               if n_u and "parent" in units_w else [None] * n_u) + [None])
    raw = {g: reach_columns(key, n_u, people, m, thresholds, target) for g, m in results.items()}
    if cut is not None:
        base["people_cut_off"] = np.bincount(key, weights=np.where(cut, people, 0.0), minlength=n_u + 1)
        base["people_reachable"] = np.bincount(key, weights=np.where(open_any, people, 0.0), minlength=n_u + 1)
    df = pd.DataFrame({"level": "village", "name": names, "township": parent, **base})
    for g, c in raw.items():
        for k, v in c.items():
            df[f"{g}_{k}"] = v
    if base["people"][n_u] == 0:           # nobody outside every unit: no such row
        df = df.iloc[:n_u]
    rows = [df]
    if n_u and "parent" in units_w and units_w["parent"].notna().any():
        sums = [c for c in df.columns if c not in ("level", "name", "township") and not c.endswith("_max")]
        top = df.iloc[:n_u][df["township"].iloc[:n_u].notna()].groupby("township", sort=True)
        town = top[sums].sum()
        for g in raw:
            town[f"{g}__max"] = top[f"{g}__max"].max()
        town = town.reset_index().rename(columns={"township": "name"})
        town.insert(0, "level", "township")
        town.insert(2, "township", None)
        rows.append(town)
    total = df[[c for c in df.columns if c not in ("level", "name", "township")]]
    tot = {c: [total[c].max() if c.endswith("_max") else total[c].sum()] for c in total.columns}
    rows.append(pd.DataFrame({"level": ["total"], "name": ["合计 / total"], "township": [None], **tot}))
    out = pd.concat(rows, ignore_index=True)
    out = _finish(out, raw, thresholds, primary, cut is not None, cut_share)
    # townships and the total count their villages with a gap / cut off
    vil = out["level"] == "village"
    real = vil & (out["name"] != OUTSIDE)
    for flag in ("gap", "cut_off"):
        if flag in out:
            out.loc[~vil, flag] = 0
            by_town = out[real].groupby("township")[flag].sum()
            town = out["level"] == "township"
            out.loc[town, flag] = out.loc[town, "name"].map(by_town).fillna(0).astype(int).to_numpy()
            out.loc[out["level"] == "total", flag] = int(out.loc[real, flag].sum())
    return out


def _finish(df, raw, thresholds, primary, with_cut, cut_share):
    """Shares, mean/max minutes, target columns; rounded; helper columns dropped."""
    people = df["people"].to_numpy()
    safe = np.where(people > 0, people, 1.0)
    out = df[["level", "name", "township", "people"]].copy()
    for g in raw:
        for t in thresholds:
            c = f"{g}_{fmt(t)}min"
            out[c] = df[c].round(1)
            out[f"{g}_{fmt(t)}pct"] = np.where(people > 0, np.round(100 * df[c] / safe, 2), np.nan)
        last = df[f"{g}_{fmt(thresholds[-1])}min"]
        out[f"{g}_unreached"] = (df["people"] - last).clip(lower=0).round(1)
        reached = df[f"{g}__reached"].to_numpy()
        out[f"{g}_mean_min"] = np.where(reached > 0, np.round(df[f"{g}__tsum"] / np.where(reached > 0, reached, 1), 1),
                                        np.nan)
        mx = df[f"{g}__max"].to_numpy()
        out[f"{g}_max_min"] = np.where(np.isfinite(mx), np.round(mx, 1), np.nan)
    if primary is not None:
        tgt = df[f"{primary}_target"].to_numpy()
        share = np.where(people > 0, tgt / safe, np.nan)
        out["covered_pct"] = np.round(100 * share, 2)
        out["people_gap"] = np.round(people - tgt, 1)
        out["gap"] = ((people > 0) & (people - tgt > 1e-6)).astype(int)
    if with_cut:
        reach = df["people_reachable"].to_numpy()
        cut = df["people_cut_off"].to_numpy()
        out["people_cut_off"] = np.round(cut, 1)
        out["cut_off"] = ((cut > 0) & (cut >= cut_share * reach - 1e-9)).astype(int)
    return out


# ---------------------------------------------------------------------------------------- reach
def response_reach(facilities, demand, roads, *, units=None, demand_field=None, type_field=None, name_field=None,
                   unit_field=None, parent_field=None, class_field=None, thresholds=D.THRESHOLDS_MIN,
                   target=D.TARGET_MIN, speeds=None, extra=None, default_speed=D.DEFAULT_SPEED_KMH, speed_field=None,
                   direction_field=None, hazard_zones=None, hazard_factor=D.HAZARD_SPEED_FACTOR,
                   cut_off_share=D.CUT_OFF_SHARE, walk_speed=D.WALK_SPEED_KMH, max_snap=D.MAX_SNAP, noding=SD.NODING,
                   displaced=None, displaced_field=None, displaced_hazard=None,
                   displaced_min_class=D.DISPLACED_MIN_CLASS, displaced_share=D.DISPLACED_SHARE, per_day=None,
                   people_per_unit=None, supply_days=D.SUPPLY_TARGET_DAYS, supply_time=D.SUPPLY_TIME_MIN,
                   pool_minutes=D.POOL_MINUTES,
                   isochrone_cell=D.ISOCHRONE_CELL, bands_groups=None, output_demand=None, output_units=None,
                   output_table=None, output_bands=None, output_facilities=None, output_supply=None, repair=False,
                   working_crs_=None,
                   output_crs=None, progress=None):
    """Who is reached in time by road from the nearest rescue team, fire station, hospital or depot.

    ``bands_groups``: the groups whose isochrone polygons are written (default: rescue forces, or the first
    group present).

    Returns a dict with the numeric outputs (population_total, share {group: [share per threshold]},
    unreached {group: people}, villages_gap, villages_cut_off, people_cut_off, displaced_total,
    townships_below_supply, …), the output paths and the result frames."""
    progress = ensure(progress)
    if output_units and not units:
        raise parameter_error("OUTPUT_UNITS", "需要先提供统计单元图层 UNITS", "OUTPUT_UNITS needs a UNITS layer",
                              "选择村图层", "choose a village layer")
    thresholds = check_thresholds(thresholds)
    target = _positive("TARGET", target, "目标时间", "target minutes")
    walk = _positive("WALK_SPEED", walk_speed, "步行速度", "walking speed")
    max_snap = _positive("MAX_SNAP", max_snap, "吸附距离", "snap distance")
    hazard_factor = _positive("HAZARD_SPEED_FACTOR", hazard_factor, "灾害范围内车速系数", "hazard speed factor", 1.0)
    cut_share = _positive("CUT_OFF_SHARE", cut_off_share, "孤岛判定比例", "cut-off share", 1.0)
    _positive("SUPPLY_TIME", supply_time, "物资送达时限", "supply time limit")
    _positive("SUPPLY_DAYS", supply_days, "物资保障天数", "supply target days")
    _positive("ISOCHRONE_CELL", isochrone_cell, "等时圈网格", "isochrone cell")
    if not float(pool_minutes) >= 0:
        raise parameter_error("POOL_MINUTES", "储备库合并时间不能为负", "POOL_MINUTES must be >= 0", "填写分钟数", "enter minutes")
    if not 0 <= float(displaced_share or 0) <= 1:
        raise parameter_error("DISPLACED_SHARE", "转移安置比例应在 0–1 之间", "displaced share must be within 0–1",
                              "例如 0.1", "e.g. 0.1")
    if noding not in SD.NODINGS:
        raise parameter_error("NODING", f"未知连接方式 {noding}", f"unknown noding {noding}", f"可选 {SD.NODINGS}",
                              f"choose one of {SD.NODINGS}")
    zones_list = [z for z in (hazard_zones or []) if z]
    specs = [VectorInput("facilities", facilities, "response_facilities",
                         {"facility_type": type_field, "name": name_field}, label="FACILITIES", repair=repair),
             VectorInput("roads", roads, "roads", {"road_class": class_field}, label="ROADS", repair=repair)]
    if units:
        specs.append(VectorInput("units", units, "admin_units", {"name": unit_field, "parent": parent_field},
                                 label="UNITS", repair=repair))
    specs += [VectorInput(f"zones{i}", z, "road_hazard_zones", label=f"HAZARD_ZONES[{i + 1}]", repair=repair)
              for i, z in enumerate(zones_list)]
    if displaced:
        specs.append(VectorInput("displaced", displaced, "demand_units", {"people": displaced_field},
                                 label="DISPLACED", repair=repair))
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
    if displaced_hazard:
        try:
            check_rasters([RasterInput("hazard", displaced_hazard, "hazard_classes", label="DISPLACED_HAZARD")])
        except ValidationError as exc:
            problems += exc.problems
    if layers is not None and displaced and not layers["displaced"].geom_type.isin(["Polygon", "MultiPolygon"]).all():
        problems.append(Problem("DISPLACED", "转移安置人数图层应为面 (村/乡镇)", "the displaced-people layer must be "
                                "polygons (villages or townships)", "使用分村/乡镇结果图层", "use the per-village or "
                                "per-township result layer"))
    if problems:
        raise ValidationError(problems)
    progress.set(5)
    fac = layers["facilities"]
    out_crs = output_crs or fac.crs
    work = working_crs(fac.crs, fac.total_bounds, working_crs_)
    fac_w = to_working(fac, work)
    roads_w = to_working(layers["roads"], work)
    dem_w = to_working(dem_gdf, work)
    units_w = to_working(layers["units"], work) if units else None
    zones = np.concatenate([to_working(layers[f"zones{i}"], work).geometry.values for i in range(len(zones_list))]) \
        if zones_list else None
    people = dem_w["people"].to_numpy(float)
    n_t = len(dem_w)
    ftype = fac_w["facility_type"].to_numpy(object)
    fnames = fac_w["name"].astype(str).to_numpy(object)
    groups = [g for g, types in D.GROUPS.items() if np.isin(ftype, types).any()]
    primary = "forces" if "forces" in groups else (groups[0] if groups else None)
    progress.info("设施 / facilities: " + ", ".join(f"{D.TYPE_ZH[t]} {int((ftype == t).sum())}" for t in D.FACILITY_TYPES))

    # ---- network, snapping
    net, tn, tn_closed, frac, _ = time_networks(roads_w, speeds=speeds, extra=extra, default_speed=default_speed,
                                                speed_field=speed_field, direction_field=direction_field, noding=noding,
                                                zones=zones, hazard_factor=hazard_factor, progress=progress)
    progress.set(20)
    fgeom = np.asarray(fac_w.geometry.values, dtype=object)
    fsnap = net.snap(fgeom, max_snap)
    tsnap = net.snap(dem_w.geometry.values, max_snap)
    progress.set(35)
    if (~fsnap.ok).any():
        progress.info(f"{(~fsnap.ok).sum()} 个设施距道路超过 {max_snap:g} m, 无法出发 / facilities farther than "
                      f"{max_snap:g} m from any road (cannot start): {_names_text(fnames[~fsnap.ok])}")
    d_bad = ~tsnap.ok & (people > 0)
    if d_bad.any():
        progress.info(f"{d_bad.sum()} 个需求单元 ({people[d_bad].sum():.0f} 人) 距道路超过 {max_snap:g} m, 记为不可达 / "
                      f"demand units ({people[d_bad].sum():.0f} people) farther than {max_snap:g} m from any road: "
                      "not reached")

    # ---- travel times per group (one multi-source Dijkstra each)
    fields, minutes, nearest = {}, {}, {}
    for i, g in enumerate(groups):
        ids = np.flatnonzero(np.isin(ftype, D.GROUPS[g]))
        fields[g] = tn.solve(fsnap, ids, walk)
        minutes[g], nearest[g] = fields[g].at(tsnap, walk)
        progress.set(35 + 25 * (i + 1) / max(len(groups), 1))
    cut = open_any = t_closed = None
    if tn_closed is not None and groups:
        all_ids = np.arange(len(fac_w))
        any_open, _ = tn.solve(fsnap, all_ids, walk).at(tsnap, walk)
        any_closed, _ = tn_closed.solve(fsnap, all_ids, walk).at(tsnap, walk)
        open_any = np.isfinite(any_open)
        cut = open_any & ~np.isfinite(any_closed)
        t_closed, _ = tn_closed.solve(fsnap, np.flatnonzero(np.isin(ftype, D.GROUPS[primary])), walk).at(tsnap, walk)
    progress.set(62)

    # ---- units
    unit_idx = _units_join(units_w, dem_w.geometry.values)
    unit_names = np.full(n_t, None, dtype=object)
    unit_parent = np.full(n_t, None, dtype=object)
    if units_w is not None:
        has = unit_idx >= 0
        unit_names[has] = units_w["name"].to_numpy(object)[unit_idx[has]]
        if "parent" in units_w:
            unit_parent[has] = units_w["parent"].to_numpy(object)[unit_idx[has]]
    table = unit_frames(units_w, unit_idx, people, minutes, thresholds, target, primary, cut, open_any, cut_share)
    progress.set(68)

    # ---- displaced people and supplies
    supply = depot_table = None
    disp = None
    if "depot" in groups and (displaced or displaced_hazard or displaced_share):
        disp = _displaced(dem_w, people, layers.get("displaced"), work, displaced_hazard, displaced_min_class,
                          displaced_share, progress)
        depot_ids = np.flatnonzero(ftype == "depot")
        pos = np.full(len(fac_w), -1, np.int64)
        pos[depot_ids] = np.arange(len(depot_ids))
        dep_of = np.where(nearest["depot"] >= 0, pos[np.clip(nearest["depot"], 0, None)], -1)
        stock = pd.DataFrame({item: (fac_w[item].to_numpy(float)[depot_ids] if item in fac_w else
                                     np.full(len(depot_ids), np.nan)) for item in D.ITEMS})
        # depots a few minutes apart (a county depot and a township point in the same town) are one pool: the
        # nearest of them would otherwise take everybody and the other's stock would count for nobody
        pool = depot_pools(tn, fsnap.subset(np.isin(np.arange(len(fac_w)), depot_ids)), pool_minutes, walk)
        pool_stock = stock.groupby(pool).sum(min_count=1)
        pool_names = pd.Series(fnames[depot_ids]).groupby(pool).agg("、".join)
        town = unit_parent if units_w is not None and "parent" in units_w else np.full(n_t, "合计 / total", object)
        supply, pool_table = supply_tables(disp, town, np.where(dep_of >= 0, pool[np.clip(dep_of, 0, None)], -1),
                                           minutes["depot"], pool_stock, pool_names.to_numpy(), supply_time, per_day,
                                           people_per_unit, supply_days)
        depot_table = pool_table.iloc[pool].reset_index(drop=True).rename(columns={"depot": "pool"})
        depot_table.insert(0, "depot", fnames[depot_ids])                 # each depot shows its pool's figures
        short = supply[supply["below_target"] == 1]["township"].tolist()
        progress.info(f"转移安置 {disp.sum():.0f} 人; {len(short)} 个乡镇物资不足 {supply_days:g} 天或帐篷/床位不足 / "
                      f"{disp.sum():.0f} displaced people; townships short of supplies: {_names_text(short)}")
    progress.set(72)

    # ---- isochrone bands
    bands = None
    band_groups = [g for g in (bands_groups or [primary]) if g in groups]
    if output_bands and band_groups:
        bands = _bands(net, fields, band_groups, units_w, dem_w, fac_w.total_bounds, people, minutes, thresholds, isochrone_cell,
                       max_snap, walk, work, progress)
    progress.set(85)

    # ---- frames and outputs
    result = _summary(people, minutes, groups, thresholds, table, cut, disp, supply, tsnap, fsnap, fnames, primary)
    if result["villages_unreached"]:
        progress.info("未全部到达的村 / villages not fully reached: " + ", ".join(
            f"{fmt(t)} min: {n}" for t, n in zip(thresholds, result["villages_unreached"])))
    result.update({"working_crs": work.to_string(), "demand_kind": dem_kind, "thresholds": list(thresholds),
                   "target": target, "groups": groups, "primary": primary})
    dem_out = _demand_frame(dem_w, people, unit_names, unit_parent, tsnap, minutes, nearest, fnames, groups, primary,
                            thresholds, t_closed, cut, disp, work)
    fac_out = _facility_frame(fac_w, ftype, fsnap, zones, nearest, people, minutes, groups, target, depot_table, work)
    frames = {"demand": dem_out, "table": table, "facilities": fac_out, "bands": bands, "supply": supply,
              "depots": depot_table}
    outputs = {}
    if output_demand:
        outputs["demand"] = write_vector(to_working(dem_out, out_crs), output_demand)
    if output_units:
        n_u = len(units_w)
        vill = gpd.GeoDataFrame(table.iloc[:n_u].drop(columns=["level"]).reset_index(drop=True),
                                geometry=units_w.geometry.values, crs=work)
        frames["units"] = vill
        outputs["units"] = write_vector(to_working(vill, out_crs), output_units)
    if output_table:
        outputs["table"] = write_table(_bilingual(table), output_table)
    if output_bands:
        if bands is None:
            bands = gpd.GeoDataFrame({"group": [], "band": [], "minutes": []}, geometry=[], crs=work)
        outputs["bands"] = write_vector(to_working(bands, out_crs), output_bands)
        frames["bands"] = bands
    if output_facilities:
        outputs["facilities"] = write_vector(to_working(fac_out, out_crs), output_facilities)
    if output_supply:
        if supply is None:
            progress.info("无储备库或未给出转移安置人数, 不输出物资保障表 / no depots or no displaced people given: no "
                          "supply table written")
        else:
            outputs["supply"] = write_table(_supply_bilingual(supply, depot_table), output_supply)
    progress.set(100)
    result["outputs"] = outputs
    result["frames"] = frames
    return result


def depot_pools(tn, dsnap, minutes, walk):
    """Pool label per depot: depots within ``minutes`` of each other by road (either way), transitively."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components
    n = len(dsnap)
    s, t, _ = tn.pairs_within(dsnap, dsnap, minutes, walk) if n else (np.zeros(0, int), np.zeros(0, int), None)
    g = sparse.coo_matrix((np.ones(len(s)), (s, t)), shape=(n, n))
    return connected_components(g, directed=False)[1].astype(np.int64) if n else np.zeros(0, np.int64)


def _displaced(dem_w, people, disp_layer, work, hazard, min_class, share, progress):
    """Displaced people per demand unit: from result polygons (spread over their units by people), else
    the people of units in a hazard class >= min_class, else a share of everybody."""
    if disp_layer is not None:
        polys = to_working(disp_layer, work)
        idx = _units_join(polys, dem_w.geometry.values)
        key = np.where(idx >= 0, idx, len(polys))
        per_poly = np.bincount(key, weights=people, minlength=len(polys) + 1)[:len(polys)]
        d = polys["people"].fillna(0).to_numpy(float)
        lost = d[(per_poly <= 0) & (d > 0)].sum()
        if lost > 0:
            progress.info(f"{lost:.0f} 名转移安置人员所在的面内没有人口数据, 未计入 / {lost:.0f} displaced people lie in "
                          "polygons that hold no demand units and are not counted")
        ratio = np.where(per_poly > 0, d / np.where(per_poly > 0, per_poly, 1), 0.0)
        return np.where(idx >= 0, people * ratio[np.clip(idx, 0, None)], 0.0)
    if hazard:
        hz = hazard_max(dem_w.geometry.values, dem_w.crs, hazard)
        return np.where(hz >= int(min_class), people, 0.0)
    return people * float(share)


def _bands(net, fields, groups, units_w, dem_w, fac_bounds, people, minutes, thresholds, cell, max_snap, walk, work,
           progress):
    if units_w is not None:
        bounds = units_w.total_bounds
    else:                                   # the people and the facilities they are reached from
        b = np.vstack([dem_w.total_bounds, fac_bounds])
        bounds = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    grid = Grid.covering(bounds, cell)
    gsnap = net.snap(grid.centres(), max_snap)
    clip = shapely.union_all(units_w.geometry.values) if units_w is not None else None
    rows, geoms = [], []
    for g in groups:  # a handful of groups, each vectorised over the grid
        progress.check()
        m, _ = fields[g].at(gsnap, walk)
        pb = band_of(minutes[g], thresholds)
        for b, geom in band_polygons(grid, m, thresholds):
            if clip is not None:
                geom = shapely.intersection(geom, clip)
            lo = 0.0 if b == 1 else thresholds[b - 2]
            rows.append({"group": g, "group_zh": D.GROUP_ZH[g], "band": b, "minutes": thresholds[b - 1],
                         "band_label": f"{fmt(lo)}–{fmt(thresholds[b - 1])} 分钟 / min",
                         "area_km2": round(float(shapely.area(geom)) / 1e6, 3),
                         "people": round(float(people[pb == b].sum()), 1)})
            geoms.append(geom)
    if not rows:
        return gpd.GeoDataFrame({"group": [], "band": [], "minutes": []}, geometry=[], crs=work)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=work)


def _summary(people, minutes, groups, thresholds, table, cut, disp, supply, tsnap, fsnap, fnames, primary):
    total = float(people.sum())
    share, unreached = {}, {}
    for g in groups:
        m = minutes[g]
        share[g] = [float(people[m <= t].sum() / total) if total > 0 else None for t in thresholds]
        unreached[g] = float(people[~(m <= thresholds[-1])].sum())
    vill = table[table["level"] == "village"]
    vill = vill[vill["name"] != OUTSIDE]
    r = {"population_total": total, "share": share, "unreached": unreached,
         "villages_unreached": ([int((vill["people"] - vill[f"{primary}_{fmt(t)}min"] > 1e-6).sum()) for t in thresholds]
                                if primary is not None else []),
         "villages_gap": int(vill["gap"].sum()) if "gap" in vill else 0,
         "villages_gap_names": list(vill.loc[vill.get("gap", pd.Series(dtype=int)) == 1, "name"]) if "gap" in vill else [],
         "villages_cut_off": int(vill["cut_off"].sum()) if "cut_off" in vill else 0,
         "villages_cut_off_names": list(vill.loc[vill["cut_off"] == 1, "name"]) if "cut_off" in vill else [],
         "people_cut_off": float(people[cut].sum()) if cut is not None else 0.0,
         "displaced_total": float(disp.sum()) if disp is not None else 0.0,
         "townships_below_supply": int(supply["below_target"].sum()) if supply is not None else 0,
         "facilities_unsnapped": list(fnames[~fsnap.ok]),
         "demand_unsnapped": int((~tsnap.ok & (people > 0)).sum()),
         "demand_unsnapped_people": float(people[~tsnap.ok].sum())}
    return r


def _demand_frame(dem_w, people, unit_names, unit_parent, tsnap, minutes, nearest, fnames, groups, primary,
                  thresholds, t_closed, cut, disp, work):
    names = np.append(fnames, None)
    cols = {"people": np.round(people, 3), "name": dem_w["name"].to_numpy(object), "unit": unit_names,
            "township": unit_parent, "snap_m": np.round(np.where(tsnap.ok, tsnap.distance, np.nan), 1)}
    for g in groups:
        m = minutes[g]
        cols[f"t_{g}"] = np.round(np.where(np.isfinite(m), m, np.nan), 2)
        cols[f"nearest_{g}"] = names[nearest[g]]
    if primary is not None:
        m = minutes[primary]
        cols["minutes"] = np.round(np.where(np.isfinite(m), m, np.nan), 2)   # styled by styles 'reach_bands'
        cols["band"] = band_of(m, thresholds)
    if t_closed is not None:
        cols["t_closed"] = np.round(np.where(np.isfinite(t_closed), t_closed, np.nan), 2)
        cols["cut_off"] = cut.astype(int)
    if disp is not None:
        cols["displaced"] = np.round(disp, 3)
    out = gpd.GeoDataFrame(cols, geometry=dem_w.geometry.values, crs=work)
    if "source_fid" in dem_w:
        out.insert(0, "source_fid", dem_w["source_fid"].to_numpy())
    return out


def _facility_frame(fac_w, ftype, fsnap, zones, nearest, people, minutes, groups, target, depot_table, work):
    n = len(fac_w)
    own = {"rescue_team": "rescue", "fire_station": "fire", "hospital": "hospital", "depot": "depot"}
    first = np.zeros(n)
    first_t = np.zeros(n)
    for t, g in own.items():
        if g not in groups:
            continue
        k = nearest[g]
        ok = k >= 0
        first += np.bincount(k[ok], weights=people[ok], minlength=n) * (ftype == t)
        w = ok & (minutes[g] <= target)
        first_t += np.bincount(k[w], weights=people[w], minlength=n) * (ftype == t)
    in_zone = np.zeros(n, bool)
    if zones is not None and len(zones):
        hit, _ = shapely.STRtree(zones).query(fac_w.geometry.values, predicate="intersects")
        in_zone[np.unique(hit)] = True
    out = gpd.GeoDataFrame({
        "name": fac_w["name"].astype(str).to_numpy(), "facility_type": ftype,
        "type_zh": [D.TYPE_ZH.get(t, t) for t in ftype], "snapped": fsnap.ok.astype(int),
        "snap_m": np.round(np.where(fsnap.ok, fsnap.distance, np.nan), 1), "in_hazard_zone": in_zone.astype(int),
        "people_nearest": np.round(first, 1), "people_in_target": np.round(first_t, 1)},
        geometry=fac_w.geometry.values, crs=work)
    for item in D.ITEMS:
        if item in fac_w:
            out[item] = fac_w[item].to_numpy(float)
    if depot_table is not None:
        dep = np.flatnonzero(ftype == "depot")
        pool = np.full(n, None, dtype=object)
        pool[dep] = depot_table["pool"].to_numpy(object)
        out["supply_pool"] = pool
        for c in depot_table.columns:
            if c.endswith(("_days", "_share")) or c == "displaced_served":
                col = np.full(n, np.nan)
                col[dep] = depot_table[c].to_numpy(float)
                out[c] = col
    return out


def _bilingual(table):
    lvl = {"village": "村/社区 village", "township": "乡镇 township", "total": "合计 total"}
    out = table.copy()
    out["level"] = out["level"].map(lvl)
    return out.rename(columns={"level": "级别 level", "name": "名称 name", "township": "所属乡镇 township",
                               "people": "人数 people"})


def _supply_bilingual(supply, depots):
    ren = {"township": "乡镇 township", "displaced": "转移安置人数 displaced", "in_time": "时限内可送达 in_time",
           "in_time_share": "可送达比例 in_time_share", "below_target": "低于目标 below_target"}
    for item in D.ITEMS:
        ren[f"{item}_supply"] = f"{D.ITEM_ZH[item]}可得量 {item}_supply ({D.ITEM_UNIT[item]})"
        ren[f"{item}_days"] = f"{D.ITEM_ZH[item]}保障天数 {item}_days"
        ren[f"{item}_share"] = f"{D.ITEM_ZH[item]}满足比例 {item}_share"
    return supply.rename(columns=ren)


# ---------------------------------------------------------------------------------------- siting
def response_siting(candidates, demand, roads, *, group="forces", k=D.SITING_K, minutes=D.SITING_MINUTES,
                    facilities=None, demand_field=None, type_field=None, class_field=None, speeds=None, extra=None,
                    default_speed=D.DEFAULT_SPEED_KMH, speed_field=None, direction_field=None, walk_speed=D.WALK_SPEED_KMH,
                    max_snap=D.MAX_SNAP, noding=SD.NODING, method=SD.SITING_METHOD, output=None, output_curve=None,
                    repair=False, working_crs_=None, output_crs=None, progress=None):
    """Where the next K facilities of ``group`` should go: greedy maximal covering of the people not
    reached within ``minutes`` (risk_plugin.shelters.site_greedy, uncapacitated), candidates in order."""
    progress = ensure(progress)
    k = int(k)
    if k < 1:
        raise parameter_error("K", "K 必须至少为 1", "K must be at least 1", "填写正整数", "enter a positive integer")
    if group not in D.GROUPS:
        raise parameter_error("GROUP", f"未知类别 {group}", f"unknown group {group}", f"可选 {list(D.GROUPS)}",
                              f"choose one of {list(D.GROUPS)}")
    if method not in SD.SITING_METHODS:
        raise parameter_error("METHOD", f"未知方法 {method}", f"unknown method {method}", f"可选 {SD.SITING_METHODS}",
                              f"choose one of {SD.SITING_METHODS}")
    limit = _positive("MINUTES", minutes, "目标时间", "target minutes")
    walk = _positive("WALK_SPEED", walk_speed, "步行速度", "walking speed")
    max_snap = _positive("MAX_SNAP", max_snap, "吸附距离", "snap distance")
    specs = [VectorInput("candidates", candidates, "response_candidates", label="CANDIDATES", repair=repair),
             VectorInput("roads", roads, "roads", {"road_class": class_field}, label="ROADS", repair=repair)]
    if facilities:
        specs.append(VectorInput("facilities", facilities, "response_facilities", {"facility_type": type_field},
                                 label="FACILITIES", repair=repair))
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
    if problems:
        raise ValidationError(problems)
    progress.set(5)
    cand = layers["candidates"]
    out_crs = output_crs or cand.crs
    work = working_crs(cand.crs, cand.total_bounds, working_crs_)
    cand_w = to_working(cand, work)
    dem_w = to_working(dem_gdf, work)
    people = dem_w["people"].to_numpy(float)
    net, tn, _, _, _ = time_networks(to_working(layers["roads"], work), speeds=speeds, extra=extra,
                                     default_speed=default_speed, speed_field=speed_field,
                                     direction_field=direction_field, noding=noding, progress=progress)
    progress.set(20)
    tsnap = net.snap(dem_w.geometry.values, max_snap)
    csnap = net.snap(np.asarray(cand_w.geometry.values, dtype=object), max_snap)
    big = float(people.sum()) + 1.0          # coverage, not capacity: no site ever fills
    existing = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    n_exist = 0
    if facilities:
        fac_w = to_working(layers["facilities"], work)
        ids = np.flatnonzero(np.isin(fac_w["facility_type"].to_numpy(object), D.GROUPS[group]))
        n_exist = len(ids)
        if n_exist:
            fsnap = net.snap(np.asarray(fac_w.geometry.values, dtype=object), max_snap)
            m, who = tn.solve(fsnap, ids, walk).at(tsnap, walk)
            ok = m <= limit
            # with unlimited capacity, each person's nearest existing facility is the only pair that matters
            existing = (np.zeros(int(ok.sum()), np.int64), np.flatnonzero(ok), m[ok], np.array([big]))
    progress.set(30)
    cs, ct, cd = tn.pairs_within(csnap, tsnap, limit, walk, progress=progress.sub(30, 75))
    ccap = np.full(len(cand_w), big)
    base, steps = S.site_greedy(k, people, existing, (cs, ct, cd, ccap), "nearest", progress=progress.sub(75, 92))
    exact = None
    if method == "exact":
        if len(existing[0]) + len(cs) > SD.EXACT_MAX_PAIRS:
            progress.info(f"精确求解跳过: 候选-需求对超过 {SD.EXACT_MAX_PAIRS} / exact solve skipped: more than "
                          f"{SD.EXACT_MAX_PAIRS} pairs; the greedy order stands")
        else:
            exact = [S.site_exact(kk, people, existing, (cs, ct, cd, ccap)) for kk in range(1, k + 1)]
    given = cand_w["name"] if "name" in cand_w else pd.Series([None] * len(cand_w), index=cand_w.index)
    fallback = pd.Series([f"候选 candidate {i}" for i in range(len(cand_w))], index=cand_w.index)
    names = given.where(given.notna() & (given.astype(str).str.len() > 0), fallback).astype(str).to_numpy(object)
    total = float(people.sum())
    rows = [{"k": 0, "site": f"(现有 {n_exist} 处 / {n_exist} existing)", "people_added": round(base, 1),
             "reached_total": round(base, 1), "reached_share": round(base / total, 4) if total else np.nan}]
    for st in steps:
        rows.append({"k": st.k, "site": names[st.candidate], "people_added": round(st.added, 1),
                     "reached_total": round(st.served_total, 1),
                     "reached_share": round(st.served_total / total, 4) if total else np.nan})
    curve = pd.DataFrame(rows)
    if exact is not None:
        opt = [np.nan] + [round(e[1], 1) for e in exact]
        curve["optimum"] = opt[:len(curve)] + [np.nan] * max(0, len(curve) - len(opt))
    order = [st.candidate for st in steps]
    ch = gpd.GeoDataFrame({"rank": np.arange(1, len(order) + 1), "name": names[order], "group": group,
                           "facility_type": D.GROUPS[group][0],
                           "group_zh": D.GROUP_ZH[group], "minutes": limit,
                           "people_added": [round(st.added, 1) for st in steps],
                           "reached_total": [round(st.served_total, 1) for st in steps]},
                          geometry=cand_w.geometry.values[order] if order else [], crs=work)
    if exact is not None:
        ch["in_optimum_k"] = [int(i in set(exact[-1][0])) for i in order]
    outputs = {}
    if output:
        outputs["sites"] = write_vector(to_working(ch, out_crs), output, geometry_type=geometry_kind(cand_w))
    if output_curve:
        outputs["curve"] = write_table(curve, output_curve)
    progress.set(100)
    return {"population_total": total, "reached_before": base, "reached_after": steps[-1].served_total if steps else base,
            "sites_chosen": len(steps), "candidates_unsnapped": int((~csnap.ok).sum()), "existing": n_exist,
            "exact": [(list(names[e[0]]), e[1], e[2]) for e in exact] if exact is not None else None,
            "curve": curve, "sites": ch, "outputs": outputs}
