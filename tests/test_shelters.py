"""Shelter coverage and siting (issue 5).

Hand-built networks with hand-computed walking distances (a river crossed by one bridge, a dead end,
two disconnected components, a full shelter), allocation rules against a sequential reference,
Jakarta (real OSM roads, schools and population) cross-checked against QGIS's own
native:serviceareafromlayer, and both algorithms through processing.run and qgis_process.
"""
import json

import numpy as np
import pytest

from conftest import REPO

CRS = "EPSG:4545"
X0, Y0 = 500000.0, 3300000.0
JAKARTA_UTM = "EPSG:32748"


def P(x, y):
    """A point in local metres, offset into the CRS."""
    import shapely
    return shapely.Point(X0 + x, Y0 + y)


def L(*xy):
    import shapely
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in xy])


def write_gpkg(path, columns, geoms, crs=CRS):
    import geopandas as gpd
    gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs).to_file(str(path), engine="pyogrio")
    return str(path)


# A river along y = 0 between two bank roads (y = -10 and y = +10), one bridge at x = 500, a dead-end spur
# north from (1000, 10) to (1000, 200), and a separate hamlet road far east (another component).
RIVER_ROADS = [L((0, -10), (500, -10), (1000, -10)), L((0, 10), (500, 10), (1000, 10)),
               L((500, -10), (500, 10)), L((1000, 10), (1000, 200)), L((5000, 0), (5100, 0))]
ROAD_NAMES = ["南岸路", "北岸路", "大桥", "断头路", "孤村路"]


def river_network(engine):
    from riskmap.risk_plugin.network import RoadNetwork
    import geopandas as gpd
    return RoadNetwork.from_lines(gpd.GeoSeries(RIVER_ROADS).values)


# --- network distances ------------------------------------------------------------------------------------
def test_detour_over_the_only_bridge(engine):
    net = river_network(engine)
    assert (net.n_nodes, net.n_segments, net.ncomp) == (9, 7, 2)
    src = net.snap(np.array([P(100, -15)]), 300)            # 5 m south of the south bank
    tgt = net.snap(np.array([P(100, 15), P(1000, 150), P(5050, 5), P(100, -12), P(400, 14)]), 300)
    assert list(tgt.distance) == pytest.approx([5, 0, 5, 2, 4])
    s, t, d = net.pairs_within(src, tgt, [5000.0])
    got = dict(zip(t, d))
    # across the river 20 m as the crow flies, but 5 + 400 + 20 + 400 + 5 m via the bridge at x = 500
    assert got[0] == pytest.approx(830.0)
    # up the dead end: 5 + 400 + 20 + 500 + 140 (snap 0)
    assert got[1] == pytest.approx(1065.0)
    # same segment as the source: straight along it, 5 + 0 + 2
    assert got[3] == pytest.approx(7.0)
    assert got[4] == pytest.approx(5 + 400 + 20 + 100 + 4)
    # the hamlet road is another component: never reached
    assert 2 not in got
    # a limit cuts exactly: the north-bank point at 830 m is out of reach at 829 m, in at 830 m
    assert 0 not in net.pairs_within(src, tgt, [829.0])[1]
    assert 0 in net.pairs_within(src, tgt, [830.0])[1]


def test_snap_distance_counts_and_max_snap_refuses(engine):
    net = river_network(engine)
    snap = net.snap(np.array([P(300, -400), P(300, -200)]), 300)
    assert list(snap.ok) == [False, True]                    # 390 m from the road is too far
    assert snap.distance[1] == pytest.approx(190.0)
    assert snap.offset[1] == pytest.approx(300.0)


def test_tie_between_unjoined_roads_goes_to_the_first_line(engine):
    """A road ending on another without a shared vertex is not joined to it (as in QGIS); a point on
    that junction is equally near both and snaps to the first line in layer order, as QGIS does."""
    import geopandas as gpd
    from riskmap.risk_plugin.network import RoadNetwork
    east_west, north_south = L((0, 0), (500, 0)), L((500, -100), (500, 100))
    for lines, reached in (([east_west, north_south], [505.0]), ([north_south, east_west], [])):
        net = RoadNetwork.from_lines(gpd.GeoSeries(lines).values)
        assert net.ncomp == 2
        snap = net.snap(np.array([P(500, 0)]), 10)
        assert net.seg_feature[snap.segment[0]] == 0
        src = net.snap(np.array([P(0, 5)]), 10)              # on the east-west road
        _, t, d = net.pairs_within(src, snap, [2000.0])
        assert list(d) == pytest.approx(reached)



@pytest.mark.parametrize("max_snap", [1.0, 40.0, 300.0, 1e7])
def test_snap_finds_what_the_nearest_neighbour_search_finds(engine, max_snap):
    """The growing-radius dwithin search against GEOS's STRtree.query_nearest (all equally near
    segments, then the lowest index): points and polygons, some on vertices shared by 3 roads, some
    on a road drawn twice, some far away."""
    import shapely
    from riskmap.risk_plugin.network import RoadNetwork
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 3000, (60, 2))
    lines = [shapely.LineString(xy[[i, j, k]]) for i, j, k in rng.integers(0, 60, (80, 3))]
    lines += lines[:10]                                       # overlapping duplicates: exact ties
    net = RoadNetwork.from_lines(np.array(lines, dtype=object))
    pts = list(shapely.points(rng.uniform(-2000, 5000, (3000, 2))))
    pts += list(shapely.points(xy[:20]))                     # on shared vertices
    pts += list(shapely.buffer(shapely.points(rng.uniform(0, 3000, (200, 2))), 15.0))   # polygons
    geoms = np.array(pts, dtype=object)
    net.snap(geoms[:1], max_snap)                             # builds the tree
    (pi, seg), dist = net._tree.query_nearest(geoms, max_distance=max_snap, return_distance=True, all_matches=True)
    order = np.lexsort((seg, pi))
    pi, seg, dist = pi[order], seg[order], dist[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, bool)
    got = net._nearest_segments(geoms, max_snap)
    assert len(got[0]) == first.sum() > 0
    np.testing.assert_array_equal(got[0], pi[first])
    np.testing.assert_array_equal(got[1], seg[first])
    np.testing.assert_allclose(got[2], dist[first], rtol=0, atol=1e-9)

def test_polygon_shelter_enters_where_it_touches_the_road(engine):
    import shapely
    net = river_network(engine)
    yard = shapely.box(X0 + 600, Y0 + 10, X0 + 700, Y0 + 60)     # a school yard on the north bank road
    snap = net.snap(np.array([yard]), 300)
    assert snap.distance[0] == pytest.approx(0.0)
    assert snap.y[0] == pytest.approx(Y0 + 10)


def test_catchment_follows_the_network(engine):
    from riskmap.risk_plugin.shelters import catchments
    net = river_network(engine)
    src = net.snap(np.array([P(100, -15)]), 300)
    poly = catchments(np.array([P(100, -15)]), np.array([700.0]), network=net, snap=src, width=5.0)[0]
    # within 700 m: the south bank to x = 100 + 695 = 795, the bridge, the north bank from x = 225 to 775
    assert poly.contains(P(780, -10)) and not poly.contains(P(810, -10))
    assert poly.contains(P(230, 10)) and not poly.contains(P(215, 10))
    assert poly.contains(P(770, 10)) and not poly.contains(P(785, 10))
    # road length inside: 500 (south, west of bridge) + 295 + 20 + 275 + 275 = 1365 m, times 2 × 5 m width
    assert poly.area == pytest.approx(1365 * 10, rel=0.03)


# --- capacity ---------------------------------------------------------------------------------------------
def test_capacity_from_area_and_class(engine):
    from riskmap.risk_plugin.definitions import shelters as D
    from riskmap.risk_plugin.shelters import capacity
    # the county inventory in the plans: 302,100 m² for 201,400 people = GB 21734-2008 §5.4's 1.5 m²
    assert capacity([302_100.0], ["fixed_short"], uniform_per_capita=1.5)[0] == pytest.approx(201_400)
    cap = capacity([1000.0, 1000.0, 900.0, 900.0], ["emergency", "fixed_short", "fixed_medium", "fixed_long"])
    assert list(cap) == pytest.approx([1000, 500, 300, 200])
    assert D.SERVICE_DISTANCE["emergency"] == 500 and D.PER_CAPITA["emergency"] == 1.0
    assert capacity([100.0], ["emergency"], per_capita={"emergency": 0.5})[0] == pytest.approx(200)


# --- allocation -------------------------------------------------------------------------------------------
def reference_nearest(s, t, d, people, cap):
    """The rule as written: pairs by increasing distance (ties: unit, shelter), take what fits."""
    order = np.lexsort((s, t, d))
    rem, room, x = np.array(people, float), np.array(cap, float), np.zeros(len(s))
    for k in order:  # the sequential definition the vectorised engine must reproduce
        a = min(rem[t[k]], room[s[k]])
        if a > 0:
            x[k], rem[t[k]], room[s[k]] = a, rem[t[k]] - a, room[s[k]] - a
    return x


def test_nearest_with_room_known_answer(engine):
    from riskmap.risk_plugin.shelters import allocate_nearest
    # shelter 0 (room for 40) is nearest to both units; unit 0 is closer, so it is served first
    x = allocate_nearest([0, 0, 1], [0, 1, 1], [100.0, 200.0, 900.0], [30.0, 30.0], [40.0, 100.0])
    assert list(x) == pytest.approx([30, 10, 20])


def test_nearest_with_room_equals_sequential_rule(engine):
    from riskmap.risk_plugin.shelters import allocate_nearest
    rng = np.random.default_rng(5)
    for _ in range(400):
        nt, ns = rng.integers(1, 15), rng.integers(1, 6)
        t, s = rng.integers(0, nt, 50), rng.integers(0, ns, 50)
        keep = np.unique(t * 100 + s, return_index=True)[1]
        t, s = t[keep], s[keep]
        d = rng.integers(1, 5, len(t)) * 100.0                   # many ties on purpose
        people, cap = rng.integers(0, 60, nt) * 1.0, rng.integers(0, 80, ns) * 1.0
        np.testing.assert_allclose(allocate_nearest(s, t, d, people, cap), reference_nearest(s, t, d, people, cap))


def test_reach_components_and_batches_by_hand(engine):
    """Shelters 0, 1 share unit 1 (one component with units 0, 1, 2); shelter 2 alone serves unit 3;
    shelter 3 and unit 4 reach nothing. Batches of at most 2 pairs keep a component whole (4 pairs)."""
    from riskmap.risk_plugin.shelters import component_batches, reach_components
    s, t = np.array([0, 0, 1, 2, 1]), np.array([0, 1, 1, 3, 2])
    comp, n = reach_components(s, t, 4, 5)
    assert n == 4 + 5 - 4 - 1                       # {S0 S1 U0 U1 U2}, {S2 U3}, {S3}, {U4}
    assert comp[0] == comp[1] == comp[2] == comp[4] != comp[3]
    batches = component_batches(comp, 2)
    assert [list(b) for b in batches] == [[0, 1, 2, 4], [3]]
    assert [list(b) for b in component_batches(comp, 10)] == [[0, 1, 2, 3, 4]]


def test_allocation_by_component_equals_the_county_wide_one(engine):
    """Random instances with many components and ties: per component (each its own batch, or all in
    one) the people per pair equal the county-wide allocation and the sequential rule."""
    from riskmap.risk_plugin.shelters import allocate_by_component, allocate_nearest
    rng = np.random.default_rng(11)
    for _ in range(200):
        nt, ns = rng.integers(5, 60), rng.integers(2, 20)
        t, s = rng.integers(0, nt, 80), rng.integers(0, ns, 80)
        s = np.where(rng.random(80) < 0.7, (t * ns) // nt, s)   # mostly local pairs: many components
        keep = np.unique(t * 100 + s, return_index=True)[1]
        t, s = t[keep], s[keep]
        d = rng.integers(1, 5, len(t)) * 100.0
        people, cap = rng.integers(0, 60, nt) * 1.0, rng.integers(0, 80, ns) * 1.0
        ref = allocate_nearest(s, t, d, people, cap)
        np.testing.assert_allclose(ref, reference_nearest(s, t, d, people, cap))
        for batch in (1, 10_000):
            np.testing.assert_allclose(allocate_by_component(s, t, d, people, cap, max_pairs=batch), ref,
                                       rtol=1e-12, atol=1e-9)
    x = allocate_by_component([0, 1, 0], [0, 0, 1], [100.0, 200.0, 150.0], [10.0, 10.0], [10.0, 10.0],
                              rule="balanced")      # one linear programme, as allocate_balanced
    assert list(x) == pytest.approx([0, 10, 10], abs=1e-6)


def test_balanced_serves_more_when_nearest_blocks(engine):
    from riskmap.risk_plugin.shelters import allocate_balanced, allocate_nearest
    # unit A (10) is 100 m from S0 and 200 m from S1; unit B (10) reaches only S0 (150 m). Each holds 10.
    s, t, d = [0, 1, 0], [0, 0, 1], [100.0, 200.0, 150.0]
    people, cap = [10.0, 10.0], [10.0, 10.0]
    assert allocate_nearest(s, t, d, people, cap).sum() == pytest.approx(10)    # A takes S0, B is left out
    x = allocate_balanced(s, t, d, people, cap)
    assert list(x) == pytest.approx([0, 10, 10], abs=1e-6)                      # A walks on to S1
    # when both rules can serve everyone, balanced minimises the walk: same as nearest here
    x2 = allocate_balanced([0, 1], [0, 1], [50.0, 70.0], [5.0, 5.0], [10.0, 10.0])
    assert list(x2) == pytest.approx([5, 5])


# --- whole coverage on files: full shelter, dead end, components, hazard, units ----------------------------
@pytest.fixture
def river_case(engine, tmp_path):
    import shapely
    roads = write_gpkg(tmp_path / "roads.gpkg", {"名称": ROAD_NAMES}, RIVER_ROADS)
    # S1 near the bridge on the south bank holds 30; S2 on the north bank holds 100; both emergency (500 m)
    shelters = write_gpkg(tmp_path / "shelters.gpkg",
                          {"名称": ["南岸小学", "北岸广场"], "类别": ["紧急", "紧急"], "有效面积": [30.0, 100.0]},
                          [P(480, -20), P(700, 20)])
    # houses: 40 people near S1 (south), 20 on the dead end (north), 15 in the hamlet (other component),
    # 8 far from any road
    buildings = write_gpkg(tmp_path / "b.gpkg", {"居住人数": [40, 20, 15, 8], "名称": ["甲", "乙", "丙", "丁"]},
                           [P(400, -20), P(1000, 100), P(5050, 10), P(2500, 2500)])
    villages = write_gpkg(tmp_path / "v.gpkg", {"名称": ["南村", "北村", "孤村", "远村"], "乡镇": ["河镇", "河镇", "山乡", "山乡"]},
                          [shapely.box(X0 - 100, Y0 - 500, X0 + 1200, Y0), shapely.box(X0 - 100, Y0, X0 + 1200, Y0 + 500),
                           shapely.box(X0 + 4900, Y0 - 100, X0 + 5200, Y0 + 100),
                           shapely.box(X0 + 2400, Y0 + 2400, X0 + 2600, Y0 + 2600)])
    return {"roads": roads, "shelters": shelters, "buildings": buildings, "villages": villages, "dir": tmp_path}


def test_full_shelter_dead_end_and_components(river_case):
    from riskmap.risk_plugin.shelter_run import shelter_coverage
    c = river_case
    r = shelter_coverage(c["shelters"], c["buildings"], roads=c["roads"], units=c["villages"],
                         output_units=str(c["dir"] / "u.csv"))
    dem = r["frames"]["demand"].set_index("name")
    sh = r["frames"]["shelters"].set_index("name")
    # 甲 walks 10 + 80 + 10 = 100 m to 南岸小学, which holds only 30: the other 10 cross the bridge to 北岸广场
    # (10 + 100 + 20 + 200 + 10 = 340 m, within 500 m)
    assert dem.loc["甲", "nearest_m"] == pytest.approx(100.0)
    assert dem.loc["甲", "served_people"] == pytest.approx(40.0)
    assert dem.loc["甲", "shelter"] == "南岸小学"
    assert sh.loc["南岸小学", "assigned"] == pytest.approx(30.0)
    assert sh.loc["南岸小学", "utilisation"] == pytest.approx(1.0)
    assert sh.loc["南岸小学", "over_demanded"] == 1          # 40 first-choice people for 30 places
    # 乙 on the dead end: 0 + 90 (up the spur) + 300 (north bank to x = 700) + 10 = 400 m ≤ 500
    assert dem.loc["乙", "nearest_shelter"] == "北岸广场"
    assert dem.loc["乙", "nearest_m"] == pytest.approx(400.0)
    assert sh.loc["北岸广场", "assigned"] == pytest.approx(30.0)
    # 丙 lives on a road with no shelter at all: reported by component, with the road and village names
    assert dem.loc["丙", "status"] == "no_shelter_on_network"
    comps = r["components_without_shelter"]
    assert len(comps) == 1 and comps.iloc[0]["people"] == 15
    assert comps.iloc[0]["roads"] == "孤村路" and comps.iloc[0]["units"] == "孤村"
    # 丁 is 2.5 km from any road: counted, not dropped
    assert dem.loc["丁", "status"] == "unsnapped"
    assert r["demand_unsnapped"] == 1 and r["demand_unsnapped_people"] == 8
    assert r["population_total"] == 83
    assert r["population_within_reach"] == 60
    assert r["population_served"] == 60 and r["population_unserved"] == 23
    units = r["frames"]["units"].set_index("名称 name")
    assert units.loc["南村", "已安置 served"] == 40 and units.loc["孤村", "未安置 unserved"] == 15
    assert units.loc["河镇", "人数 people"] == 60 and units.loc["山乡", "已安置 served"] == 0
    assert units.loc["合计 / total", "服务距离内人数 within_reach"] == 60
    import pandas as pd
    assert len(pd.read_csv(c["dir"] / "u.csv")) == len(units)


def test_shrinking_the_service_distance_and_going_straight(river_case):
    from riskmap.risk_plugin.shelter_run import shelter_coverage
    c = river_case
    # at 300 m 乙 (400 m) is out of reach and 甲's overflow (340 m) too
    r = shelter_coverage(c["shelters"], c["buildings"], roads=c["roads"], service_distance={"emergency": 300})
    dem = r["frames"]["demand"].set_index("name")
    assert dem.loc["乙", "status"] == "out_of_reach"
    assert dem.loc["甲", "status"] == "partly_served" and dem.loc["甲", "served_people"] == pytest.approx(30)
    # without roads the distance is straight-line: 乙 is 184 m from 北岸广场's point, 丙 nowhere near
    r2 = shelter_coverage(c["shelters"], c["buildings"])
    dem2 = r2["frames"]["demand"].set_index("name")
    assert dem2.loc["乙", "nearest_m"] == pytest.approx(np.hypot(300, 80), abs=0.1)
    assert dem2.loc["丁", "status"] == "out_of_reach"


def test_hazard_flags_and_excludes(river_case):
    from rasterio.transform import from_origin
    from riskmap.risk_plugin.io import write_raster
    from riskmap.risk_plugin.shelter_run import shelter_coverage
    c = river_case
    # class 4 over 北岸广场 (x 650..750, y 0..50), class 2 elsewhere
    a = np.full((60, 120), 2, np.uint8)
    a[5:10, 65:75] = 4
    hz = write_raster(a, str(c["dir"] / "hz.tif"), from_origin(X0, Y0 + 100, 10, 10), CRS, 0)
    r = shelter_coverage(c["shelters"], c["buildings"], roads=c["roads"], hazard=hz)
    assert r["hazardous_shelters"] == ["北岸广场"] and r["population_served"] == 60
    sh = r["frames"]["shelters"].set_index("name")
    assert sh.loc["北岸广场", "hazard_class"] == 4 and sh.loc["南岸小学", "hazard_class"] == 2
    r2 = shelter_coverage(c["shelters"], c["buildings"], roads=c["roads"], hazard=hz, exclude_hazardous=True)
    assert r2["population_served"] == 30                     # only 南岸小学's 30 places remain


def test_balanced_option_on_files(river_case):
    from riskmap.risk_plugin.shelter_run import shelter_coverage
    c = river_case
    r = shelter_coverage(c["shelters"], c["buildings"], roads=c["roads"], allocation="balanced")
    assert r["population_served"] == pytest.approx(60, abs=1e-4)
    # same people served, and no more person-metres than the nearest rule
    s, t, d, x = r["frames"]["pairs"]
    rn = shelter_coverage(c["shelters"], c["buildings"], roads=c["roads"])
    s2, t2, d2, x2 = rn["frames"]["pairs"]
    assert (d * x).sum() <= (d2 * x2).sum() + 1e-6


def test_missing_area_and_capacity_is_reported(river_case, tmp_path):
    from riskmap.risk_plugin.errors import ValidationError
    from riskmap.risk_plugin.shelter_run import shelter_coverage
    bad = write_gpkg(tmp_path / "bad.gpkg", {"名称": ["无面积"], "类别": ["中心"]}, [P(0, 0)])
    with pytest.raises(ValidationError) as err:
        shelter_coverage(bad, river_case["buildings"], roads=river_case["roads"])
    assert "effective area" in str(err.value) and "capacity" in str(err.value)


# --- siting ----------------------------------------------------------------------------------------------
def test_siting_greedy_known_order(engine, tmp_path):
    from rasterio.transform import from_origin
    from riskmap.risk_plugin.io import write_raster
    from riskmap.risk_plugin.shelter_run import shelter_siting
    roads = write_gpkg(tmp_path / "r.gpkg", {"名称": ["大街"]}, [L((0, 0), (4000, 0))])
    # three hamlets of 300, 200 and 50 people along one street
    b = write_gpkg(tmp_path / "b.gpkg", {"人口": [300, 200, 50]}, [P(500, 10), P(2000, 10), P(3500, 10)])
    # candidates: big square at the first hamlet (room for 1000), a small school at the second (room for 120),
    # a park at the third; a stadium between 1 and 2 in a hazard zone, which would cover both
    cand = write_gpkg(tmp_path / "c.gpkg", {"名称": ["广场", "学校", "公园", "体育场"], "有效面积": [1000.0, 120.0, 500.0, 5000.0]},
                      [P(500, 20), P(2000, 20), P(3500, 20), P(1250, 20)])
    a = np.zeros((10, 400), np.uint8)
    a[:, 120:130] = 4                                        # x 1200..1300
    hz = write_raster(a, str(tmp_path / "hz.tif"), from_origin(X0, Y0 + 50, 10, 10), CRS, 0)
    r = shelter_siting(cand, b, 3, roads=roads, hazard=hz, service_distance={"emergency": 1000},
                       output=str(tmp_path / "s.gpkg"), output_curve=str(tmp_path / "curve.csv"))
    sites = r["sites"]
    assert list(sites["name"]) == ["广场", "学校", "公园"]
    assert list(sites["people_added"]) == pytest.approx([300, 120, 50])
    assert r["candidates_excluded_hazard"] == 1
    curve = r["curve"]
    assert list(curve["served_total"]) == pytest.approx([0, 300, 420, 470])
    # allowed into the hazard zone, the stadium (750 m from both big hamlets) comes first with 500
    r2 = shelter_siting(cand, b, 1, roads=roads, hazard=hz, include_hazardous=True,
                        service_distance={"emergency": 1000})
    assert list(r2["sites"]["name"]) == ["体育场"] and r2["served_after"] == pytest.approx(500)
    # the exact solver agrees with greedy here and reports the optimum for each k
    r3 = shelter_siting(cand, b, 2, roads=roads, hazard=hz, method="exact", service_distance={"emergency": 1000})
    assert [e[1] for e in r3["exact"]] == pytest.approx([300, 420])


def test_siting_counts_existing_shelters_first(engine, tmp_path):
    from riskmap.risk_plugin.shelter_run import shelter_siting
    roads = write_gpkg(tmp_path / "r.gpkg", {}, [L((0, 0), (4000, 0))])
    b = write_gpkg(tmp_path / "b.gpkg", {"人口": [300, 200]}, [P(500, 10), P(2000, 10)])
    sh = write_gpkg(tmp_path / "sh.gpkg", {"名称": ["旧场"], "类别": ["紧急"], "有效面积": [300.0]}, [P(450, 5)])
    cand = write_gpkg(tmp_path / "c.gpkg", {"名称": ["甲", "乙"], "有效面积": [1000.0, 1000.0]}, [P(550, 20), P(2100, 20)])
    r = shelter_siting(cand, b, 2, shelters=sh, roads=roads)
    assert r["served_before"] == pytest.approx(300)
    # the hamlet at 500 m is already served, so the site by the second hamlet comes first; then nothing is left
    assert list(r["sites"]["name"]) == ["乙"] and r["served_after"] == pytest.approx(500)


# --- Jakarta: real roads, schools and population ------------------------------------------------------------
@pytest.fixture(scope="module")
def jakarta(engine, shared_data, tmp_path_factory):
    """OSM schools (use == education) as emergency shelters; effective area = footprint × 0.5."""
    import geopandas as gpd
    from riskmap.risk_plugin.definitions import shelters as D
    d = shared_data / "jakarta"
    out = tmp_path_factory.mktemp("jakarta")
    b = gpd.read_file(d / "osm_buildings_use.gpkg", engine="pyogrio")
    e = b[b["use"] == "education"].copy()
    e["有效面积"] = e.to_crs(JAKARTA_UTM).area * D.JAKARTA_EDUCATION_AREA_RATIO
    e["类别"] = "紧急"
    e["名称"] = [n if isinstance(n, str) and n.strip() else f"school {i}" for i, n in zip(e.index, e["name"])]
    e[["名称", "类别", "有效面积", "geometry"]].to_file(out / "schools.gpkg", engine="pyogrio")
    return {"dir": out, "schools": str(out / "schools.gpkg"), "roads": str(d / "roads.gpkg"),
            "population": str(d / "population.tif"), "kecamatan": str(d / "kecamatan.gpkg")}


def test_jakarta_walking_coverage_per_kecamatan(jakarta):
    import pandas as pd
    from riskmap.risk_plugin.shelter_run import shelter_coverage
    res = {}
    for dist in (500, 1000):
        res[dist] = shelter_coverage(jakarta["schools"], jakarta["population"], roads=jakarta["roads"],
                                     units=jakarta["kecamatan"], unit_field="KEC_NAME", parent_field="KAB_NAME",
                                     repair=True, service_distance={"emergency": float(dist)},
                                     output_units=str(jakarta["dir"] / f"kecamatan_{dist}.csv"))
    r5, r10 = res[500], res[1000]
    assert r5["working_crs"] == "EPSG:32748"                 # UTM 48S, chosen because the data are in degrees
    assert r5["population_total"] == pytest.approx(8_899_691, abs=1)   # population.tif total (README)
    for r in (r5, r10):
        assert r["population_served"] <= r["population_within_reach"] <= r["population_total"]
        assert r["population_served"] + r["population_unserved"] == pytest.approx(r["population_total"])
    assert r10["population_within_reach"] > 2 * r5["population_within_reach"]
    assert r10["population_served"] >= r5["population_served"]
    # capacity binds: schools hold about 0.25 million at 1 m² per person; every place used at most once
    cap = r10["frames"]["shelters"]["capacity"].sum()
    assert r10["population_served"] <= cap + 1
    assert (r10["frames"]["shelters"]["assigned"] <= r10["frames"]["shelters"]["capacity"] + 0.2).all()
    # unsnapped schools (the Depok campus beyond the OSM road extract) are named, not dropped
    assert r10["shelters_unsnapped"] and all(isinstance(n, str) for n in r10["shelters_unsnapped"])
    t5 = r5["frames"]["units"]
    t10 = r10["frames"]["units"]
    rows = t10[t10["级别 level"].str.startswith("村")]
    outside = rows["名称 name"].str.startswith("(")
    kec = rows[~outside]
    assert len(kec) == 42                                     # 42 kecamatan (README)
    total = t10[t10["级别 level"].str.startswith("合计")].iloc[0]
    assert total["人数 people"] == pytest.approx(r10["population_total"], abs=1)
    assert rows["人数 people"].sum() == pytest.approx(r10["population_total"], rel=1e-6)
    # cells whose centre falls outside every kecamatan polygon (the coastline, the raster's edge) get their
    # own row rather than vanishing; they are a small share
    assert rows.loc[outside, "人数 people"].sum() < 0.02 * r10["population_total"]
    kab = t10[t10["级别 level"].str.startswith("乡镇")]
    assert set(kab["名称 name"]) == {"JAKARTA BARAT", "JAKARTA PUSAT", "JAKARTA SELATAN", "JAKARTA TIMUR",
                                     "JAKARTA UTARA"}
    table = pd.DataFrame({"kecamatan": kec["名称 name"].to_numpy(), "kabupaten": kec["所属乡镇 township"].to_numpy(),
                          "people": kec["人数 people"].to_numpy(),
                          "within_500m": t5.loc[kec.index, "服务距离内人数 within_reach"].to_numpy(),
                          "served_500m": t5.loc[kec.index, "已安置 served"].to_numpy(),
                          "within_1km": kec["服务距离内人数 within_reach"].to_numpy(),
                          "served_1km": kec["已安置 served"].to_numpy(),
                          "unserved_1km": kec["未安置 unserved"].to_numpy()})
    assert (table["within_500m"] <= table["within_1km"] + 1e-6).all()
    table.to_csv(jakarta["dir"] / "jakarta_kecamatan.csv", index=False)
    print("\n" + table.round(0).to_string(index=False))
    print(f"total {r10['population_total']:.0f}; within 500 m {r5['population_within_reach']:.0f}, served "
          f"{r5['population_served']:.0f}; within 1 km {r10['population_within_reach']:.0f}, served "
          f"{r10['population_served']:.0f}")


def test_jakarta_distances_agree_with_qgis_service_area(jakarta, riskmap, tmp_path):
    """Covered sets from our network distances = those of native:serviceareafromlayer on the same roads.

    Both sides get the same inputs: roads in UTM 48S, and start and demand points already on the network
    (QGIS does not count the snap distance; our snap is then 0). QGIS joins lines at shared vertices with
    tolerance 0, ours merges vertices closer than 1 cm: the only documented difference, a few boundary
    cases whose distance is within a metre of the limit.
    """
    import geopandas as gpd
    import processing
    import shapely
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject
    from riskmap.risk_plugin.network import RoadNetwork
    from riskmap.risk_plugin.shelter_run import load_demand
    roads = gpd.read_file(jakarta["roads"], engine="pyogrio").to_crs(JAKARTA_UTM)
    roads.to_file(tmp_path / "roads.gpkg", engine="pyogrio")
    net = RoadNetwork.from_lines(roads.geometry.values)
    schools = gpd.read_file(jakarta["schools"], engine="pyogrio").to_crs(JAKARTA_UTM)
    sn = net.snap(schools.geometry.values, 300)
    rng = np.random.default_rng(3)
    pick = rng.choice(np.flatnonzero(sn.ok), 8, replace=False)
    start = gpd.GeoDataFrame({"sid": pick}, geometry=shapely.points(sn.x[pick], sn.y[pick]), crs=JAKARTA_UTM)
    start.to_file(tmp_path / "start.gpkg", engine="pyogrio")
    dem, _ = load_demand(jakarta["population"])
    dem = dem.to_crs(JAKARTA_UTM)
    limit = 1000.0
    near = np.unique(shapely.STRtree(dem.geometry.values).query(
        shapely.buffer(start.geometry.values, limit + 300), predicate="intersects")[1])
    tsn = net.snap(dem.geometry.values[near], 300)
    tpts = shapely.points(tsn.x[tsn.ok], tsn.y[tsn.ok])
    s_on, t_on = net.snap(start.geometry.values, 1.0), net.snap(tpts, 1.0)
    assert s_on.distance.max() < 1e-6 and t_on.distance.max() < 1e-6
    s, t, d = net.pairs_within(s_on, t_on, np.full(len(start), limit))
    ours = set(zip(pick[s], t))
    ctx = QgsProcessingContext()
    ctx.setProject(QgsProject.instance())                    # the algorithm refuses to run without a project
    processing.run("native:serviceareafromlayer", {
        "INPUT": str(tmp_path / "roads.gpkg"), "START_POINTS": str(tmp_path / "start.gpkg"), "STRATEGY": 0,
        "TRAVEL_COST2": limit, "DEFAULT_DIRECTION": 2, "TOLERANCE": 0, "INCLUDE_BOUNDS": False,
        "OUTPUT_LINES": str(tmp_path / "sa.gpkg")}, context=ctx, feedback=QgsProcessingFeedback())
    lines = gpd.read_file(tmp_path / "sa.gpkg", engine="pyogrio")
    assert len(lines) == len(start)
    tree = shapely.STRtree(tpts)
    theirs = set()
    for sid, geom in zip(lines["sid"], lines.geometry.values):  # 8 service areas
        theirs |= {(sid, h) for h in tree.query(geom, predicate="dwithin", distance=0.05)}
    assert len(ours) > 1000
    s_all, t_all, d_all = net.pairs_within(s_on, t_on, np.full(len(start), 2 * limit))
    dist = dict(zip(zip(pick[s_all], t_all), d_all))
    differ = ours ^ theirs
    assert all(abs(dist.get(k, np.inf) - limit) < 1.0 for k in differ), sorted(dist.get(k) for k in differ)[:10]
    assert len(differ) <= 0.005 * len(ours)


# --- the algorithms ----------------------------------------------------------------------------------------
def test_coverage_algorithm_processing_run_and_qgis_process(alg, qgis_process, demo_county, tmp_path):
    from riskmap.risk_plugin.shelter_run import shelter_coverage
    params = {"SHELTERS": demo_county["shelters"], "DEMAND": demo_county["buildings"], "ROADS": demo_county["roads"],
              "UNITS": demo_county["villages"], "OUTPUT_SHELTERS": str(tmp_path / "sh.gpkg"),
              "OUTPUT_DEMAND": str(tmp_path / "dem.gpkg"), "OUTPUT_UNITS": str(tmp_path / "units.xlsx"),
              "OUTPUT_CATCHMENTS": str(tmp_path / "c.gpkg")}
    res = alg("riskmap:sheltercoverage", params)
    ref = shelter_coverage(demo_county["shelters"], demo_county["buildings"], roads=demo_county["roads"],
                           units=demo_county["villages"])
    for key in ("POPULATION_TOTAL", "POPULATION_WITHIN_REACH", "POPULATION_SERVED", "POPULATION_UNSERVED"):
        assert res[key] == pytest.approx(ref[key.lower()])
    assert res["POPULATION_TOTAL"] > 0 and 0 < res["POPULATION_SERVED"] < res["POPULATION_TOTAL"]
    import geopandas as gpd
    import pandas as pd
    c = gpd.read_file(tmp_path / "c.gpkg")
    shf = ref["frames"]["shelters"]
    assert len(c) == ((shf["snapped"] == 1) & (shf["snap_m"] < shf["service_m"])).sum() and c.crs.to_epsg() == 4545
    assert len(pd.read_excel(tmp_path / "units.xlsx")) > 20
    # styles from styles/classes.json: shelter classes, served / unserved, catchment fill
    from qgis.core import QgsVectorLayer
    from riskmap.processing.shelter_params import CatchmentStyle
    from riskmap.processing.styling import apply_style
    lay = QgsVectorLayer(str(tmp_path / "sh.gpkg"), "sh", "ogr")
    apply_style(lay, "shelter_classes", "shelter_class")
    assert [cat.value() for cat in lay.renderer().categories()] == ["emergency", "fixed_short", "fixed_medium",
                                                                     "fixed_long", "central"]
    lay = QgsVectorLayer(str(tmp_path / "dem.gpkg"), "dem", "ogr")
    apply_style(lay, "service_status", "served")
    assert lay.renderer().classAttribute() == "served" and len(lay.renderer().categories()) == 2
    lay = QgsVectorLayer(str(tmp_path / "c.gpkg"), "c", "ogr")
    CatchmentStyle().postProcessLayer(lay, None, None)
    catchments = json.loads((REPO / "styles" / "classes.json").read_text(encoding="utf-8"))["base_layers"]["catchments"]
    assert lay.renderer().symbol().color().name() == catchments["color"].lower()     # not a class colour
    assert lay.renderer().symbol().color().alpha() < 60
    params2 = dict(params, OUTPUT_SHELTERS=str(tmp_path / "q_sh.gpkg"), OUTPUT_DEMAND=str(tmp_path / "q_dem.gpkg"),
                   OUTPUT_UNITS=str(tmp_path / "q_units.csv"), OUTPUT_CATCHMENTS=str(tmp_path / "q_c.gpkg"),
                   ALLOCATION=1)
    code, out, log = qgis_process.run("riskmap:sheltercoverage", params2)
    assert code == 0
    assert out["POPULATION_TOTAL"] == pytest.approx(res["POPULATION_TOTAL"])
    assert out["POPULATION_SERVED"] >= res["POPULATION_SERVED"] - 1e-3    # balanced never serves fewer
    assert gpd.read_file(tmp_path / "q_dem.gpkg")["served_people"].sum() == pytest.approx(out["POPULATION_SERVED"], rel=1e-4)


def test_siting_algorithm_processing_run_and_qgis_process(alg, qgis_process, demo_county, tmp_path):
    params = {"CANDIDATES": demo_county["shelter_candidates"], "K": 3, "DEMAND": demo_county["population"],
              "SHELTERS": demo_county["shelters"], "ROADS": demo_county["roads"],
              "OUTPUT": str(tmp_path / "sites.gpkg"), "OUTPUT_CURVE": str(tmp_path / "curve.csv")}
    res = alg("riskmap:sheltersiting", params)
    assert res["SERVED_AFTER"] >= res["SERVED_BEFORE"] > 0
    import pandas as pd
    curve = pd.read_csv(tmp_path / "curve.csv")
    assert curve["served_total"].iloc[-1] == pytest.approx(res["SERVED_AFTER"], abs=0.1)
    assert (curve["people_added"].iloc[1:] >= -1e-6).all() and res["SITES_CHOSEN"] == len(curve) - 1
    code, out, _ = qgis_process.run("riskmap:sheltersiting", dict(params, OUTPUT=str(tmp_path / "q.gpkg"),
                                                                   OUTPUT_CURVE=str(tmp_path / "q.csv")))
    assert code == 0 and out["SERVED_AFTER"] == pytest.approx(res["SERVED_AFTER"])


def test_cancel_leaves_no_output(river_case):
    from riskmap.risk_plugin.errors import Cancelled
    from riskmap.risk_plugin.progress import Progress
    from riskmap.risk_plugin.shelter_run import shelter_coverage
    c = river_case
    calls = []
    progress = Progress(on_progress=calls.append, is_canceled=lambda: len(calls) >= 3)
    with pytest.raises(Cancelled):
        shelter_coverage(c["shelters"], c["buildings"], roads=c["roads"], output_shelters=str(c["dir"] / "x.gpkg"),
                         output_demand=str(c["dir"] / "y.gpkg"), progress=progress)
    assert not (c["dir"] / "x.gpkg").exists() and not (c["dir"] / "y.gpkg").exists()
    assert calls and max(calls) < 100
