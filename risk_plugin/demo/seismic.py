"""The demo county's earthquake data: a NE-striking active fault through the county, a GB 18306-style
ground-motion zoning (0.20g near the fault, 0.15g, 0.10g beyond, with characteristic periods) and the
house-survey attributes of every building (结构类型, 建造年代, 抗震设防烈度) in plausible shares for a
Wuling mountain county.

Drawn from their own random stream (seeded from the county seed), so adding them changed no other
layer of the county.
"""
import geopandas as gpd
import numpy as np
import shapely

FAULT_STRIKE = 45.0              # NE, the strike of the Wuling fault systems (e.g. 保靖—慈利断裂)
# (distance from the fault in m, PGA g, characteristic period s): 0.20g within 4 km, 0.15g within 10 km
ZONES = ((4000.0, 0.20, 0.40), (10000.0, 0.15, 0.40), (None, 0.10, 0.35))
STREAM = 18306                   # the random stream of the earthquake layers

# structure shares by storeys (1, 2, 3+) and for non-residential buildings; order of STRUCTURE_NAMES
STRUCTURE_NAMES = ("土木", "砖木", "砖混", "钢混", "其他")
SHARES = {1: (0.25, 0.35, 0.25, 0.03, 0.12), 2: (0.10, 0.15, 0.55, 0.12, 0.08), 3: (0.0, 0.05, 0.45, 0.45, 0.05),
          "non_residential": (0.0, 0.0, 0.40, 0.50, 0.10)}
YEARS = {"土木": (1950, 1995), "砖木": (1960, 2005), "砖混": (1980, 2020), "钢混": (1995, 2023), "其他": (1960, 2015)}


def rng_for(seed):
    return np.random.default_rng([int(seed), STREAM])


def fault(bounds, crs, centre=None):
    """One straight NE-striking fault through the county centre, running 20 % beyond its edges."""
    minx, miny, maxx, maxy = bounds
    cx, cy = centre or ((minx + maxx) / 2, (miny + maxy) / 2)
    half = 0.6 * np.hypot(maxx - minx, maxy - miny)
    t = np.radians(FAULT_STRIKE)
    line = shapely.LineString([(cx - half * np.sin(t), cy - half * np.cos(t)), (cx + half * np.sin(t), cy + half * np.cos(t))])
    return gpd.GeoDataFrame({"名称": ["示范断裂"], "性质": ["逆冲兼走滑"], "活动时代": ["晚更新世"]}, geometry=[line], crs=crs)


def zoning(bounds, fault_gdf, crs):
    """Ground-motion zones covering the county: bands at a distance from the fault."""
    box = shapely.box(*bounds).buffer(500.0, join_style="mitre")
    line = fault_gdf.geometry.iloc[0]
    rows, geoms, inner = [], [], None
    for dist, pga, tg in ZONES:
        band = box if dist is None else shapely.intersection(line.buffer(dist, quad_segs=16), box)
        part = band if inner is None else shapely.difference(band, inner)
        inner = band if inner is None else shapely.union(inner, band)
        if part.is_empty:
            continue
        rows.append({"分区": f"{pga:.2f}g", "地震动峰值加速度": pga, "反应谱特征周期": tg})
        geoms.append(part)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=crs)


def building_attributes(bldg, zones, rng):
    """结构类型, 建造年代, 抗震设防烈度 for each building (columns added to a copy)."""
    n = len(bldg)
    floors = np.clip(bldg["层数"].to_numpy(int), 1, 3)
    residential = bldg["用途"].to_numpy() == "住宅"
    u = rng.random(n)
    struct = np.empty(n, dtype=object)
    for key in (1, 2, 3, "non_residential"):
        sel = (~residential) if key == "non_residential" else (residential & (floors == key))
        cum = np.cumsum(SHARES[key])
        struct[sel] = np.asarray(STRUCTURE_NAMES, dtype=object)[np.searchsorted(cum, u[sel] * cum[-1], side="right")]
    lo = np.array([YEARS[s][0] for s in struct])
    hi = np.array([YEARS[s][1] for s in struct])
    year = (lo + rng.random(n) * (hi - lo + 1)).astype(int)
    # the zoning at each building: designed buildings follow the local 设防烈度 (0.20g → 8, else 7)
    cent = shapely.centroid(bldg.geometry.to_numpy())
    bi, zi = shapely.STRtree(zones.geometry.to_numpy()).query(cent, predicate="within")
    pga = np.full(n, 0.10)
    pga[bi] = zones["地震动峰值加速度"].to_numpy()[zi]
    local = np.where(pga >= 0.19, "8度", "7度")
    v = rng.random(n)
    fort = np.full(n, None, dtype=object)
    rc = struct == "钢混"
    fort[rc & (year >= 1990) & (v < 0.85)] = local[rc & (year >= 1990) & (v < 0.85)]
    bc = struct == "砖混"
    fort[bc & (year >= 2009) & (v < 0.5)] = "7度"
    weak = np.isin(struct, ["土木", "砖木", "其他"]) | (bc & (year < 2009))
    fort[weak & (v < 0.7)] = "未设防"
    out = bldg.copy()
    out["结构类型"] = struct
    out["建造年代"] = year
    out["抗震设防烈度"] = fort
    return out
