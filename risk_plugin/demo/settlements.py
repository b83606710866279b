"""Buildings clustered in valleys, a consistent population raster, facilities,
shelters, candidate shelter sites and enterprises."""
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .admin import person_names


def cluster_centres(suit, village_id, n_villages, transform, rng, per_village=(1, 3)):
    """1–3 settlement centres per village, drawn where the valley suitability is high.

    Returns (x, y, village index). Loops over villages only (setup, not per cell)."""
    xs, ys, vs = [], [], []
    flat_v = village_id.ravel()
    weight = suit.ravel()
    order = np.argsort(flat_v, kind="stable")
    bounds = np.searchsorted(flat_v[order], np.arange(n_villages + 1))
    for v in range(n_villages):
        cells = order[bounds[v]:bounds[v + 1]]
        if cells.size == 0:
            continue
        w = weight[cells] + 1e-6
        k = int(rng.integers(per_village[0], per_village[1] + 1))
        pick = rng.choice(cells, size=min(k, cells.size), replace=False, p=w / w.sum())
        r, c = np.divmod(pick, suit.shape[1])
        x, y = transform * (c + 0.5, r + 0.5)
        xs.append(np.atleast_1d(x)); ys.append(np.atleast_1d(y)); vs.append(np.full(pick.size, v))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(vs)


def buildings(centres, villages, slope_at, per_village, rng, crs):
    """Rectangular footprints scattered around settlement centres, each inside one village."""
    cx, cy, cv = centres
    n_clusters = cx.size
    counts_per_village = np.bincount(cv, minlength=len(villages))
    share = 1.0 / counts_per_village[cv]
    n_each = rng.poisson(per_village * share * rng.uniform(0.6, 1.4, n_clusters)).clip(5)
    n = int(n_each.sum() * 3)
    src = np.repeat(np.arange(n_clusters), np.ceil(n_each * 3).astype(int))[:n]
    n = src.size
    sigma = rng.uniform(110, 260, n_clusters)[src]
    x = cx[src] + rng.normal(0, 1, n) * sigma
    y = cy[src] + rng.normal(0, 1, n) * sigma
    ok = slope_at(x, y) < 22.0
    x, y, src = x[ok], y[ok], src[ok]
    # keep the planned number per cluster
    rank = pd.Series(np.arange(src.size)).groupby(src).cumcount().to_numpy()
    keep = rank < n_each[src]
    x, y, src = x[keep], y[keep], src[keep]
    n = x.size
    wdt, lng = rng.uniform(8, 14, n), rng.uniform(10, 18, n)
    ang = rng.uniform(0, np.pi, n)
    dx = np.array([-1, 1, 1, -1, -1])[None, :] * (lng / 2)[:, None]
    dy = np.array([-1, -1, 1, 1, -1])[None, :] * (wdt / 2)[:, None]
    px = x[:, None] + dx * np.cos(ang)[:, None] - dy * np.sin(ang)[:, None]
    py = y[:, None] + dx * np.sin(ang)[:, None] + dy * np.cos(ang)[:, None]
    polys = shapely.polygons(np.stack([px, py], -1))
    vgeom = villages.geometry.values
    inside = shapely.within(polys, np.asarray(vgeom)[cv[src]])
    polys, src = polys[inside], src[inside]
    # drop overlapping footprints (keep the first of each overlapping pair)
    tree = shapely.STRtree(polys)
    a, b = tree.query(polys, predicate="intersects")
    clash = np.unique(np.maximum(a, b)[a != b])
    keep = np.ones(polys.size, bool)
    keep[clash] = False
    polys, src = polys[keep], src[keep]
    n = polys.size
    use = rng.choice(["住宅", "商业", "仓储", "公共"], size=n, p=[0.88, 0.06, 0.03, 0.03])
    residents = np.where(use == "住宅", rng.poisson(3.3, n).clip(1, 9), 0)
    households = np.where(residents > 0, np.ceil(residents / 3.2), 0).astype(int)
    floors = rng.choice([1, 2, 3], size=n, p=[0.45, 0.4, 0.15])
    gdf = gpd.GeoDataFrame({"居住人数": residents.astype(int), "户数": households, "层数": floors, "用途": use,
                            "village_idx": cv[src]}, geometry=polys, crs=crs)
    return gdf


def population_raster(bldg, bounds, cell):
    """People per cell: residents summed at building centroids (np.bincount), so the raster
    total equals the residents total exactly."""
    minx, miny, maxx, maxy = bounds
    w, h = int(round((maxx - minx) / cell)), int(round((maxy - miny) / cell))
    c = shapely.centroid(bldg.geometry.values)
    col = np.clip(((shapely.get_x(c) - minx) // cell).astype(int), 0, w - 1)
    row = np.clip(((maxy - shapely.get_y(c)) // cell).astype(int), 0, h - 1)
    pop = np.bincount(row * w + col, weights=bldg["居住人数"].to_numpy(float), minlength=w * h)
    return pop.reshape(h, w).astype(np.float32)


def _near_building(bldg, idx, rng, offset=(20, 60)):
    c = shapely.centroid(bldg.geometry.values[idx])
    ang = rng.uniform(0, 2 * np.pi, len(idx))
    r = rng.uniform(*offset, len(idx))
    return shapely.points(shapely.get_x(c) + r * np.cos(ang), shapely.get_y(c) + r * np.sin(ang))


def facilities(bldg, villages, townships, rng, crs):
    """Schools, hospitals and elderly homes: one of each per township, village schools in half the villages."""
    rows, geoms = [], []
    tname = dict(zip(townships["行政区划代码"], townships["名称"]))
    for t_code, grp in bldg.groupby(villages["上级代码"].to_numpy()[bldg["village_idx"].to_numpy()]):
        name = tname[t_code]
        pick = rng.choice(grp.index.to_numpy(), size=3, replace=False)
        for i, (kind, label) in enumerate([("学校", f"{name[:-1]}中心小学"), ("医院", f"{name[:-1]}卫生院"),
                                           ("养老院", f"{name[:-1]}敬老院")]):
            rows.append({"名称": label, "类型": kind})
            geoms.append(_near_building(bldg, [pick[i]], rng)[0])
    for v, grp in bldg.groupby("village_idx"):
        if rng.random() < 0.5 and len(grp) > 20:
            rows.append({"名称": f"{villages['名称'].iloc[v].rstrip('村社区')}村小", "类型": "学校"})
            geoms.append(_near_building(bldg, [rng.choice(grp.index.to_numpy())], rng)[0])
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=crs)


def shelters(bldg, villages, townships, rng, crs):
    """Existing shelters: deliberately too few (the plans' finding), roughly 45 % of residents."""
    rows, geoms = [], []
    for v, grp in bldg.groupby("village_idx"):
        if rng.random() < 0.45:
            area = float(rng.integers(8, 30) * 100)
            rows.append({"名称": f"{villages['名称'].iloc[v]}广场避难点", "类别": "紧急", "有效面积": area})
            geoms.append(_near_building(bldg, [rng.choice(grp.index.to_numpy())], rng, (40, 120))[0])
    t_of_b = villages["上级代码"].to_numpy()[bldg["village_idx"].to_numpy()]
    tname = dict(zip(townships["行政区划代码"], townships["名称"]))
    for t_code in np.unique(t_of_b):
        idx = np.flatnonzero(t_of_b == t_code)
        area = float(rng.integers(60, 160) * 100)
        rows.append({"名称": f"{tname[t_code][:-1]}中学操场避难场所", "类别": "固定-短期", "有效面积": area})
        geoms.append(_near_building(bldg, [bldg.index[rng.choice(idx)]], rng, (60, 150))[0])
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=crs)


def candidates(bldg, villages, rng, crs, per_village=0.8):
    kinds = ["学校", "广场", "公园", "体育场", "停车场"]
    n = max(5, int(len(villages) * per_village))
    idx = rng.choice(bldg.index.to_numpy(), size=n, replace=False)
    kind = rng.choice(kinds, size=n, p=[0.35, 0.25, 0.15, 0.1, 0.15])
    area = rng.integers(15, 120, n) * 100.0
    vname = villages["名称"].to_numpy()[bldg.loc[idx, "village_idx"].to_numpy()]
    names = [f"{v}{k}{i + 1}" for i, (v, k) in enumerate(zip(vname, kind))]
    return gpd.GeoDataFrame({"名称": names, "类型": kind, "有效面积": area},
                            geometry=_near_building(bldg, idx, rng, (50, 200)), crs=crs)


def sites(bldg, townships, rng, crs, per_township=3):
    trades = [("砂石厂", "非煤矿山"), ("加油站", "危险化学品"), ("水泥厂", "建材"), ("烟花爆竹仓库", "烟花爆竹"),
              ("页岩砖厂", "建材"), ("液化气站", "危险化学品")]
    n = per_township * len(townships)
    idx = rng.choice(bldg.index.to_numpy(), size=n, replace=False)
    pick = rng.integers(0, len(trades), n)
    owners = person_names(n, rng)
    return gpd.GeoDataFrame({
        "名称": [f"{o[0]}氏{trades[p][0]}" for o, p in zip(owners, pick)],
        "行业": [trades[p][1] for p in pick],
        "L": rng.integers(1, 6, n), "S": rng.integers(1, 6, n),
        "lec_L": rng.choice([0.2, 0.5, 1, 3, 6, 10], n), "lec_E": rng.choice([0.5, 1, 2, 3, 6, 10], n),
        "lec_C": rng.choice([1, 3, 7, 15, 40, 100], n)},
        geometry=_near_building(bldg, idx, rng, (150, 400)), crs=crs)
