"""Rescue teams, fire stations, hospitals, supply depots, warning devices, geohazard monitoring devices and
candidate sites for the demo county, placed where a county would have them: at township seats on the
road, loudspeakers among the houses, monitors on the slopes they watch.

>>> paths.update(generate(out_dir, paths, seed=2025))

Drawn from their own random stream (seed, 13), after the other layers, so adding them changes
nothing else in the county. Deliberately incomplete, as the plans find: not every township has a
rescue team or a depot, loudspeakers do not reach every house, some slopes are unmonitored.
"""
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..definitions import threat as TD
from ..inputs import VectorInput, load_vectors
from ..io import read_vector, write_vector

STREAM = 13
# Shares of townships with their own team / fire brigade / supply point (the plans' finding: gaps remain).
RESCUE_SHARE, FIRE_SHARE, DEPOT_SHARE = 0.7, 0.35, 0.5
# Loudspeakers: one per this many residents of a village, at least one.
PEOPLE_PER_LOUDSPEAKER = 120
# Share of the county's people the county relief depot stocks for (3 days): 5 %.
COUNTY_STOCK_SHARE = 0.05
# Geohazard points with monitoring devices inside their threat zone.
MONITORED_SHARE = 0.7


def _road_point(roads, xy, rng, offset=(10.0, 30.0)):
    """A point beside the road nearest to each (x, y): on the road, moved a little to one side."""
    pts = shapely.points(xy[:, 0], xy[:, 1])
    tree = shapely.STRtree(roads)
    idx = tree.query_nearest(pts, all_matches=False)[1]
    on = shapely.line_interpolate_point(roads[idx], shapely.line_locate_point(roads[idx], pts))
    ang = rng.uniform(0, 2 * np.pi, len(xy))
    r = rng.uniform(*offset, len(xy))
    return shapely.points(shapely.get_x(on) + r * np.cos(ang), shapely.get_y(on) + r * np.sin(ang))


def _seats(bld, villages):
    """Per village: residents and their centroid of the densest half (the village centre); per township: the
    centre of its most populous village (the seat)."""
    c = shapely.centroid(bld.geometry.values)
    v = bld["village_idx"].to_numpy()
    w = bld["居住人数"].to_numpy(float) + 0.1
    n = len(villages)
    sw = np.bincount(v, weights=w, minlength=n)
    x = np.bincount(v, weights=w * shapely.get_x(c), minlength=n) / np.maximum(sw, 1e-9)
    y = np.bincount(v, weights=w * shapely.get_y(c), minlength=n) / np.maximum(sw, 1e-9)
    # the building nearest to the weighted centre (a centre between two hamlets would be in the fields)
    d = np.hypot(shapely.get_x(c) - x[v], shapely.get_y(c) - y[v])
    near = pd.Series(d).groupby(v).idxmin()
    vx, vy = x.copy(), y.copy()
    vx[near.index] = shapely.get_x(c)[near.to_numpy()]
    vy[near.index] = shapely.get_y(c)[near.to_numpy()]
    empty = sw <= 0                     # a village without houses: a point inside it
    if empty.any():
        rp = shapely.point_on_surface(villages.geometry.values[empty])
        vx[empty], vy[empty] = shapely.get_x(rp), shapely.get_y(rp)
    people = np.bincount(v, weights=bld["居住人数"].to_numpy(float), minlength=n)
    return np.column_stack([vx, vy]), people


def generate(out_dir, paths, seed=2025, buildings=None):
    """Write response_facilities, warning_devices, monitoring_devices and response_candidates; return their paths.

    ``buildings`` (with a 'village_idx' column) saves re-reading; otherwise buildings are joined to villages."""
    out = Path(out_dir)
    rng = np.random.default_rng([int(seed), STREAM])
    villages = read_vector(paths["villages"])
    roads = np.asarray(read_vector(paths["roads"]).geometry.values, dtype=object)
    crs = villages.crs
    if buildings is None:
        buildings = read_vector(paths["buildings"])
        pts = shapely.point_on_surface(buildings.geometry.values)
        vi, bi = shapely.STRtree(pts).query(villages.geometry.values, predicate="contains")
        idx = np.full(len(buildings), -1)
        idx[bi] = vi
        buildings = buildings.assign(village_idx=idx)[idx >= 0]
    centre, vpeople = _seats(buildings, villages)
    town_of_v = villages["乡镇"].to_numpy(object)
    towns = pd.Series(vpeople).groupby(town_of_v).idxmax()          # the most populous village of each township
    t_names = towns.index.to_numpy(object)
    t_seat = centre[towns.to_numpy()]
    t_people = pd.Series(vpeople).groupby(town_of_v).sum().reindex(t_names).to_numpy()
    county_seat = int(np.argmax(t_people))
    n_t = len(t_names)
    res = {}

    # ---- response facilities
    rows, xy = [], []

    def add(name, kind, at, **stock):
        rows.append({"名称": name, "类型": kind, **stock})
        xy.append(at)

    seat = t_seat[county_seat]
    total = float(vpeople.sum())
    add("县消防救援大队", "消防救援站", seat)
    add("县应急救援大队", "应急救援队", seat)
    add("县人民医院", "医院", seat)
    # the county depot holds 3 days for COUNTY_STOCK_SHARE of the population (建标 121-2009 sizes depots by the
    # displaced people they must supply), township points 2 days for 1–3 % of theirs
    cs = COUNTY_STOCK_SHARE
    add("县救灾物资储备库", "救灾物资储备库", seat, 饮用水=round(total * cs * 3 * 3, -2), 食品=round(total * cs * 0.5 * 3, -1),
        帐篷=int(total * cs / 3.43), 折叠床=int(total * cs))
    for i in range(n_t):
        short = str(t_names[i])[:-1]
        if i != county_seat and rng.random() < RESCUE_SHARE:
            add(f"{short}应急救援队", "乡镇应急救援队", t_seat[i])
        if i != county_seat and rng.random() < FIRE_SHARE:
            add(f"{short}专职消防队", "专职消防队", t_seat[i])
        if rng.random() < DEPOT_SHARE:
            p = t_people[i]
            add(f"{short}应急物资储备点", "应急物资储备点", t_seat[i], 饮用水=round(p * rng.uniform(0.01, 0.03) * 3 * 2, -1),
                食品=round(p * rng.uniform(0.01, 0.03) * 0.5 * 2, -1), 帐篷=int(p * rng.uniform(0.01, 0.03) / 3.43),
                折叠床=int(p * rng.uniform(0.01, 0.03)))
    fac = gpd.GeoDataFrame(rows, geometry=_road_point(roads, np.array(xy), rng), crs=crs)
    # hospitals: the township health centres of facilities.gpkg, where they are
    hosp = read_vector(paths["facilities"])
    hosp = hosp[hosp["类型"] == "医院"]
    fac = pd.concat([fac, gpd.GeoDataFrame({"名称": hosp["名称"].to_numpy(), "类型": "卫生院"},
                                           geometry=hosp.geometry.values, crs=crs)], ignore_index=True)
    fac = gpd.GeoDataFrame(fac, geometry="geometry", crs=crs)
    res["response_facilities"] = write_vector(fac, out / "response_facilities.gpkg")

    # ---- warning devices: loudspeakers among the houses, a siren at each township seat
    c = shapely.centroid(buildings.geometry.values)
    v = buildings["village_idx"].to_numpy()
    n_speak = np.maximum(1, np.round(vpeople / PEOPLE_PER_LOUDSPEAKER)).astype(int)
    order = rng.permutation(len(buildings))
    rank = pd.Series(np.arange(len(order))).groupby(v[order]).cumcount().to_numpy()
    pick = order[rank < n_speak[v[order]]]                       # random houses, n per village
    ang = rng.uniform(0, 2 * np.pi, len(pick))
    sx = shapely.get_x(c)[pick] + 8 * np.cos(ang)
    sy = shapely.get_y(c)[pick] + 8 * np.sin(ang)
    vname = villages["名称"].to_numpy(object)[v[pick]]
    k = pd.Series(np.ones(len(pick))).groupby(v[pick]).cumcount().to_numpy() + 1
    height = np.where(rng.random(len(pick)) < 0.5, rng.choice([6.0, 8.0, 10.0], len(pick)), np.nan)
    speak = gpd.GeoDataFrame({"名称": [f"{a}{b}号喇叭" for a, b in zip(vname, k)],
                              "类型": np.where(rng.random(len(pick)) < 0.6, "应急广播", "高音喇叭"), "安装高度": height},
                             geometry=shapely.points(sx, sy), crs=crs)
    sirens = gpd.GeoDataFrame({"名称": [f"{str(t)[:-1]}警报器" for t in t_names], "类型": "电声警报器", "安装高度": 15.0},
                              geometry=_road_point(roads, t_seat, rng, (20.0, 60.0)), crs=crs)
    dev = gpd.GeoDataFrame(pd.concat([speak, sirens], ignore_index=True), geometry="geometry", crs=crs)
    res["warning_devices"] = write_vector(dev, out / "warning_devices.gpkg")

    # ---- monitoring devices inside (most) threat zones
    gp = load_vectors([VectorInput("p", paths["geohazard_points"], "geohazard_points")])["p"]
    lookup = {(t, s): r for t, radii in TD.THREAT_RADIUS_M.items() for s, r in zip(TD.SCALES, radii)}
    radius = np.array([lookup[(t, s)] for t, s in zip(gp["hazard_type"], gp["scale"])], float)  # a dict lookup per point
    inside = rng.random(len(gp)) < MONITORED_SHARE
    n_dev = np.where(inside, rng.integers(1, 4, len(gp)), 0)
    src = np.repeat(np.arange(len(gp)), n_dev)
    r = radius[src] * np.sqrt(rng.uniform(0.0, 0.6, len(src)))
    a = rng.uniform(0, 2 * np.pi, len(src))
    # a few rain gauges sit in the village, outside the zone of the slope they are meant for
    far = np.flatnonzero(~inside & (rng.random(len(gp)) < 0.3))
    r = np.concatenate([r, radius[far] * rng.uniform(1.5, 3.0, len(far))])
    a = np.concatenate([a, rng.uniform(0, 2 * np.pi, len(far))])
    src = np.concatenate([src, far])
    kinds = np.array(["GNSS位移监测站", "裂缝计", "雨量计", "泥水位计"])
    gx, gy = shapely.get_x(gp.geometry.values)[src], shapely.get_y(gp.geometry.values)[src]
    mon = gpd.GeoDataFrame({"名称": [f"{gp['name'].iloc[i]}监测点{j + 1}" for j, i in enumerate(src)],
                            "设备类型": kinds[np.r_[rng.integers(0, 4, len(src) - len(far)), np.full(len(far), 2)]],
                            "隐患点编号": gp["code"].to_numpy(object)[src]},
                           geometry=shapely.points(gx + r * np.cos(a), gy + r * np.sin(a)), crs=crs)
    res["monitoring_devices"] = write_vector(mon, out / "monitoring_devices.gpkg")

    # ---- candidate sites: each village centre, beside its nearest road
    cand = gpd.GeoDataFrame({"名称": [f"{n}候选站点" for n in villages["名称"]]},
                            geometry=_road_point(roads, centre, rng), crs=crs)
    res["response_candidates"] = write_vector(cand, out / "response_candidates.gpkg")
    return res
