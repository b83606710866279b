"""Townships and villages that partition the county exactly, with Chinese names and codes."""
import geopandas as gpd
import numpy as np
import shapely

COUNTY_CODE = "500299"  # fictional county code (the 99 slot is unused in 重庆市)
# GB/T 10114 codes: 6-digit county + 3-digit township + 3-digit village. Townships are numbered 101–999 and
# villages 201–999, so one county code holds 899 townships; larger demo areas take the next (unused) county
# codes downwards (500298, 500297, … 500244 are unused in 重庆市).
TOWNSHIPS_PER_COUNTY = 899
VILLAGES_PER_TOWNSHIP_MAX = 799
SPARE_COUNTY_CODES = 56   # 500299 down to 500244
TOWNSHIP_NAMES = ["龙潭镇", "清溪镇", "石门乡", "桃源镇", "白马乡", "黄岩镇", "青龙乡", "双河镇", "金竹乡", "云峰镇",
                  "梅江镇", "兴隆乡", "铜鼓镇", "板桥乡", "官渡镇", "花田乡", "麻旺镇", "苍岭镇", "丁市镇", "浪坪乡"]
VILLAGE_HEADS = ["大坪", "杨柳", "柏树", "新华", "红岩", "马鞍", "长春", "团结", "凉桥", "双龙", "光明", "田坝", "茶园", "沙坝",
                 "水井", "三合", "岩口", "高峰", "河湾", "竹林", "枫香", "黄桷", "石板", "小河", "金山", "花园", "银杏", "松林"]
VILLAGE_TAILS = ["村", "社区"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐冉田彭向")
GIVEN = ["国华", "建军", "秀英", "明", "志强", "丽", "德明", "桂兰", "永红", "春梅", "海", "兴平", "家富", "玉珍"]


def township_name(i):
    n = TOWNSHIP_NAMES[i % len(TOWNSHIP_NAMES)]
    return n if i < len(TOWNSHIP_NAMES) else f"{n[:-1]}{i // len(TOWNSHIP_NAMES) + 1}{n[-1]}"


def village_names(n, rng):
    heads = rng.permutation(len(VILLAGE_HEADS))
    names = []
    for i in range(n):
        head = VILLAGE_HEADS[heads[i % len(heads)]]
        suffix = "" if i < len(heads) else str(i // len(heads) + 1)
        names.append(f"{head}{suffix}{'社区' if i == 0 else '村'}")
    return names


def person_names(n, rng):
    s = rng.integers(0, len(SURNAMES), n)
    g = rng.integers(0, len(GIVEN), n)
    return [SURNAMES[a] + GIVEN[b] for a, b in zip(s, g)]


def admin_codes(township_of, n_townships):
    """12-digit codes: (township codes, each township's county code + "000000", village codes in input order)."""
    if n_townships > TOWNSHIPS_PER_COUNTY * SPARE_COUNTY_CODES:
        raise ValueError(f"{n_townships} townships do not fit the demo's fictional county codes (at most "
                         f"{TOWNSHIPS_PER_COUNTY * SPARE_COUNTY_CODES})")
    t = np.arange(n_townships)
    county = [f"{int(COUNTY_CODE) - c}" for c in t // TOWNSHIPS_PER_COUNTY]
    t_codes = [f"{c}{101 + k:03d}000" for c, k in zip(county, t % TOWNSHIPS_PER_COUNTY)]
    township_of = np.asarray(township_of)
    # the rank of each village within its township, in input order (stable sort keeps the order)
    order = np.argsort(township_of, kind="stable")
    starts = np.searchsorted(township_of[order], township_of[order], side="left")
    rank = np.empty(len(township_of), int)
    rank[order] = np.arange(len(township_of)) - starts + 1
    if len(rank) and rank.max() > VILLAGES_PER_TOWNSHIP_MAX:
        raise ValueError(f"a township has {rank.max()} villages; 3-digit village codes hold {VILLAGES_PER_TOWNSHIP_MAX}")
    v_codes = [t_codes[a][:9] + f"{200 + r:03d}" for a, r in zip(township_of, rank)]
    return t_codes, [c + "000000" for c in county], v_codes


def partition(bounds, n_townships, villages_per_township, rng, crs):
    """Voronoi villages over the county; townships are the union of their villages,
    so every village nests in exactly one township."""
    minx, miny, maxx, maxy = bounds
    county = shapely.box(minx, miny, maxx, maxy)
    # township seats on a jittered grid keep townships of similar size
    k = int(np.ceil(np.sqrt(n_townships)))
    gx, gy = np.meshgrid((np.arange(k) + 0.5) / k, (np.arange(k) + 0.5) / k)
    pick = rng.permutation(k * k)[:n_townships]
    tx = minx + (gx.ravel()[pick] + rng.uniform(-0.15, 0.15, n_townships) / k) * (maxx - minx)
    ty = miny + (gy.ravel()[pick] + rng.uniform(-0.15, 0.15, n_townships) / k) * (maxy - miny)
    n_villages = n_townships * villages_per_township
    vx = rng.uniform(minx, maxx, n_villages * 3)
    vy = rng.uniform(miny, maxy, n_villages * 3)
    # keep well-spread village seeds (farthest from each other among candidates), seats first
    seeds = np.column_stack([np.concatenate([tx, vx]), np.concatenate([ty, vy])])
    chosen = list(range(n_townships))
    d = np.min(np.hypot(seeds[:, None, 0] - seeds[None, chosen, 0], seeds[:, None, 1] - seeds[None, chosen, 1]), axis=1)
    while len(chosen) < n_villages:
        j = int(np.argmax(d))
        chosen.append(j)
        d = np.minimum(d, np.hypot(seeds[:, 0] - seeds[j, 0], seeds[:, 1] - seeds[j, 1]))
    seeds = seeds[chosen]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=county))
    # match each Voronoi cell to its seed
    tree = shapely.STRtree(cells)
    cell_of_seed = tree.query(shapely.points(seeds), predicate="within")
    order = np.empty(len(seeds), int)
    order[cell_of_seed[0]] = cell_of_seed[1]
    polys = shapely.intersection(cells[order], county)
    # villages join the township whose seat is nearest: townships are then (Voronoi) contiguous
    dist = np.hypot(seeds[:, None, 0] - tx[None, :], seeds[:, None, 1] - ty[None, :])
    township_of = np.argmin(dist, axis=1)
    township_of[:n_townships] = np.arange(n_townships)
    t_codes, t_parents, v_codes = admin_codes(township_of, n_townships)
    t_names = [township_name(t) for t in range(n_townships)]
    v_names = village_names(n_villages, rng)
    villages = gpd.GeoDataFrame({"行政区划代码": v_codes, "名称": v_names,
                                 "上级代码": [t_codes[t] for t in township_of],
                                 "乡镇": [t_names[t] for t in township_of]}, geometry=list(polys), crs=crs)
    townships = villages.dissolve(by="上级代码", as_index=False)[["上级代码", "geometry"]]
    townships = townships.rename(columns={"上级代码": "行政区划代码"})
    townships["名称"] = townships["行政区划代码"].map(dict(zip(t_codes, t_names)))
    townships["上级代码"] = townships["行政区划代码"].map(dict(zip(t_codes, t_parents)))
    townships = townships[["行政区划代码", "名称", "上级代码", "geometry"]]
    seats = gpd.GeoDataFrame({"行政区划代码": t_codes, "名称": t_names}, geometry=shapely.points(tx, ty), crs=crs)
    return townships, villages, seats
