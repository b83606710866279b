"""Hazard layers of the demo county: nested flood zones and a depth raster along the
main rivers, geohazard points above settlements, a landslide inventory, forest cover
and fire history."""
import geopandas as gpd
import numpy as np
import rasterio.features
import shapely
from scipy import ndimage

from .admin import person_names

FLOOD_HAND_M = {10: 2.5, 50: 4.5, 100: 6.5}  # flooded where height above the main river is below this


def drainage_target(receivers, target_mask):
    """For every cell, the first cell downstream (itself included) in ``target_mask``,
    or -1 if its flow leaves the grid first. Pointer jumping: log2(path length) passes."""
    n = receivers.size
    idx = np.arange(n)
    nxt = receivers.ravel().copy()
    tm = target_mask.ravel()
    nxt[tm] = idx[tm]
    while True:
        jump = nxt[nxt]
        if np.array_equal(jump, nxt):
            break
        nxt = jump
    return np.where(tm[nxt], nxt, -1).reshape(receivers.shape)


def flood_layers(z, receivers, acc, main_cells, transform, crs):
    """Height above nearest drainage (HAND) along the main rivers → nested zones and depth."""
    target = drainage_target(receivers, acc >= main_cells)
    zf = z.ravel()
    hand = np.where(target >= 0, z - zf[np.maximum(target, 0)].reshape(z.shape), np.inf)
    rows = []
    for rp in sorted(FLOOD_HAND_M):
        mask = (hand <= FLOOD_HAND_M[rp]).astype(np.uint8)
        geoms = [shapely.geometry.shape(g) for g, v in rasterio.features.shapes(mask, mask=mask.astype(bool),
                                                                                transform=transform) if v == 1]
        rows.append({"重现期": rp, "geometry": shapely.union_all(geoms)})
    zones = gpd.GeoDataFrame(rows, crs=crs)
    depth = np.clip(FLOOD_HAND_M[100] - hand, 0, None).astype(np.float32)
    return zones, depth, hand


TYPE_CODE = {"滑坡": "landslide", "崩塌": "collapse", "泥石流": "debris_flow", "不稳定斜坡": "unstable_slope",
             "地面塌陷": "subsidence"}
SCALE_INDEX = {"小型": 0, "中型": 1, "大型": 2, "特大型": 3}


def survey_radius(types, scales):
    """The surveyed threat range: the default radius by type and scale of riskmap:hazardpointthreat."""
    from ..definitions.threat import THREAT_RADIUS_M
    return np.array([THREAT_RADIUS_M[TYPE_CODE[t]][SCALE_INDEX[s]] for t, s in zip(types, scales)])


def geohazard_points(slope, dist_bldg_m, transform, cell, bldg, villages, rng, crs, n_points):
    """Hazard points on steep slopes 20–90 m from houses; 威胁人数 = residents of the buildings
    touching the threat range (a tenth carry a survey error, as real inventories do)."""
    cand = np.flatnonzero(((slope > 22) & (dist_bldg_m > 20) & (dist_bldg_m < 90)).ravel())
    if cand.size < n_points:
        cand = np.argsort(-(slope * (dist_bldg_m < 400)).ravel())[:max(n_points * 4, 10)]
    pick = rng.choice(cand, size=n_points, replace=False)
    r, c = np.divmod(pick, slope.shape[1])
    x, y = transform * (c + rng.uniform(0.2, 0.8, n_points), r + rng.uniform(0.2, 0.8, n_points))
    pts = shapely.points(x, y)
    types = rng.choice(["滑坡", "崩塌", "泥石流", "不稳定斜坡", "地面塌陷"], n_points, p=[0.5, 0.2, 0.1, 0.15, 0.05])
    scale = rng.choice(["小型", "中型", "大型", "特大型"], n_points, p=[0.7, 0.22, 0.07, 0.01])
    tree = shapely.STRtree(bldg.geometry.values)
    pi, bi = tree.query(shapely.buffer(pts, survey_radius(types, scale)), predicate="intersects")
    people = np.bincount(pi, weights=bldg["居住人数"].to_numpy()[bi], minlength=n_points)
    hh = np.bincount(pi, weights=bldg["户数"].to_numpy()[bi], minlength=n_points)
    nb = np.bincount(pi, minlength=n_points)
    err = rng.random(n_points) < 0.1
    people = np.where(err, np.round(people * rng.uniform(0.3, 2.0, n_points)), people).astype(int)
    prop = np.round(nb * rng.uniform(8, 25, n_points), 1)  # 万元
    level = np.select([(people >= 1000) | (prop >= 10000), (people >= 500) | (prop >= 5000),
                       (people >= 100) | (prop >= 500)], ["特大型", "大型", "中型"], "小型")
    vt = shapely.STRtree(villages.geometry.values)
    pv, vv = vt.query(pts, predicate="within")
    vidx = np.zeros(n_points, int)
    vidx[pv] = vv
    town_names = villages["乡镇"].to_numpy()[vidx]
    return gpd.GeoDataFrame({
        "统一编号": [f"500299{1000 + i:06d}" for i in range(n_points)],
        "名称": [f"{villages['名称'].iloc[v]}{t}{i + 1}号" for i, (v, t) in enumerate(zip(vidx, types))],
        "灾害类型": types, "规模等级": scale,
        "稳定性": rng.choice(["不稳定", "欠稳定", "基本稳定"], n_points, p=[0.3, 0.5, 0.2]),
        "威胁户数": hh.astype(int), "威胁人数": people, "威胁财产": prop, "险情等级": level,
        "乡镇": town_names, "村": villages["名称"].to_numpy()[vidx], "监测责任人": person_names(n_points, rng)},
        geometry=pts, crs=crs)


def landslide_inventory(slope, curvature, transform, rng, crs, n_each):
    """Landslides where slopes are steep and concave (logistic in slope), and as many
    random non-landslide points: field ``landslide`` 1/0, like a survey inventory."""
    p = 1.0 / (1.0 + np.exp(-(slope - 32.0) / 3.0)) * (1.0 + 0.5 * (curvature < 0))
    p = p.ravel() / p.sum()
    pos = rng.choice(p.size, size=n_each, replace=False, p=p)
    neg = rng.choice(p.size, size=n_each, replace=False)
    cells = np.concatenate([pos, neg])
    r, c = np.divmod(cells, slope.shape[1])
    x, y = transform * (c + rng.uniform(0.2, 0.8, cells.size), r + rng.uniform(0.2, 0.8, cells.size))
    return gpd.GeoDataFrame({"landslide": np.r_[np.ones(n_each, int), np.zeros(n_each, int)]},
                            geometry=shapely.points(x, y), crs=crs)


def forest(z, non_forest, transform, rng, crs):
    """Forest types by elevation band with patchiness: 竹林/经济林 low, 阔叶林 and 针阔混交林 middle,
    针叶林 high, 灌木林 on the steepest ridges."""
    lo, hi = np.percentile(z, [25, 70])
    noise = ndimage.gaussian_filter(rng.standard_normal(z.shape), 3)
    noise /= noise.std() + 1e-9
    zz = z + 60 * noise
    cls = np.select([zz < lo, zz < (lo + hi) / 2, zz < hi], [1, 2, 3], 4).astype(np.uint8)
    cls[(noise > 1.4)] = 5
    cls[(noise < -1.6) & (zz < lo)] = 6
    cls[non_forest] = 0
    names = {1: "竹林", 2: "阔叶林", 3: "针阔混交林", 4: "针叶林", 5: "灌木林", 6: "经济林"}
    geoms, types = [], []
    for g, v in rasterio.features.shapes(cls, mask=cls > 0, transform=transform):
        geoms.append(shapely.geometry.shape(g))
        types.append(names[int(v)])
    return gpd.GeoDataFrame({"林分类型": types}, geometry=geoms, crs=crs)


def fire_history(forest_gdf, roads, rng, crs, n=25, near_road_m=800.0):
    """Past fire ignitions: in forest, within ``near_road_m`` of a road (ignition pressure).

    Points drawn over the forest's extent are kept where an STRtree finds them inside a forest polygon
    and within the distance of a road: no union or buffer of the layers, which at 300 km (millions of
    road vertices) does not fit in memory."""
    forest = forest_gdf.geometry.values
    road = roads.geometry.values
    minx, miny, maxx, maxy = shapely.total_bounds(forest)
    x = rng.uniform(minx, maxx, n * 40)
    y = rng.uniform(miny, maxy, n * 40)
    pts = shapely.points(x, y)
    in_forest = np.zeros(pts.size, bool)
    in_forest[shapely.STRtree(forest).query(pts, predicate="within")[0]] = True
    near = np.zeros(pts.size, bool)
    near[shapely.STRtree(road).query(pts, predicate="dwithin", distance=near_road_m)[0]] = True
    pts = pts[in_forest & near][:n]
    years = rng.integers(2010, 2024, pts.size)
    return gpd.GeoDataFrame({"年份": years, "过火面积": np.round(rng.uniform(0.1, 30, pts.size), 1)},
                            geometry=pts, crs=crs)
