"""Rescue, fire, medical and supply reach (issue 13).

Travel times on a hand-drawn network against an independent Dijkstra written here (heapq over the
raw line vertices) and hand-computed minutes; one-way roads and hazard zones by hand; Jakarta's real
OSM roads against QGIS's own native:serviceareafromlayer and native:shortestpathpointtolayer with a
speed field (fastest path); reach monotone in speed, everybody counted once; supplies and siting by hand;
both algorithms through processing.run and qgis_process.
"""
import heapq

import numpy as np
import pytest

CRS = "EPSG:4545"
X0, Y0 = 500000.0, 3300000.0
JAKARTA_UTM = "EPSG:32748"


def P(x, y):
    import shapely
    return shapely.Point(X0 + x, Y0 + y)


def L(*xy):
    import shapely
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in xy])


def write_gpkg(path, columns, geoms, crs=CRS):
    import geopandas as gpd
    gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs).to_file(str(path), engine="pyogrio")
    return str(path)


# A hand-drawn county road net (metres): a county road A–B–C along y = 0, a one-way township road C→E
# north, a village loop A–D–E, a spur B–F into a hamlet, and a path F–E over the hill.
#   D(0,1000) ---- village 20 ---- E(2000,1000)
#   |village 20                    ^ one-way 乡道 30 (C→E only)        F(1000,600)
#   A(0,0) -- 县道 40 -- B(1000,0) -- 县道 40 -- C(2000,0)             spur B–F 村道, path F–E 步道
HAND = [("A-B-C", "县道", L((0, 0), (1000, 0), (2000, 0)), "no"),
        ("C-E", "乡道", L((2000, 0), (2000, 1000)), "yes"),
        ("A-D", "村道", L((0, 0), (0, 1000)), "no"),
        ("D-E", "村道", L((0, 1000), (1000, 1000), (2000, 1000)), "no"),
        ("B-F", "村道", L((1000, 0), (1000, 600)), "no"),
        ("F-E", "步道", L((1000, 600), (2000, 1000)), "no")]
KMH = {"县道": 40.0, "乡道": 30.0, "村道": 20.0, "步道": 4.32}


def hand_roads(tmp_path, oneway=True):
    names, klass, geoms, ow = zip(*HAND)
    cols = {"名称": list(names), "道路等级": list(klass)}
    if oneway:
        cols["oneway"] = list(ow)
    return write_gpkg(tmp_path / "roads.gpkg", cols, geoms)


def reference_minutes(lines, oneway, kmh, sources, targets):
    """Independent reference: every raw vertex a node, each consecutive pair an edge (minutes = length /
    speed), one-way lines forward only; sources and targets are split into their segment as extra nodes
    (as QGIS ties points into the graph). Dijkstra with heapq from all sources at once."""
    import shapely
    nodes, edges = {}, {}

    def node(xy):
        key = (round(xy[0], 6), round(xy[1], 6))
        return nodes.setdefault(key, len(nodes))

    def add(a, b, w):
        edges.setdefault(a, []).append((b, w))

    pts = [(shapely.get_x(p), shapely.get_y(p)) for p in list(sources) + list(targets)]
    for line, one, v in zip(lines, oneway, kmh):
        c = shapely.get_coordinates(line)
        for (x0, y0), (x1, y1) in zip(c[:-1], c[1:]):
            seg_len = np.hypot(x1 - x0, y1 - y0)
            # points lying on this segment split it
            on = [(np.hypot(px - x0, py - y0), (px, py)) for px, py in pts
                  if abs(np.hypot(px - x0, py - y0) + np.hypot(px - x1, py - y1) - seg_len) < 1e-6]
            chain = [(0.0, (x0, y0))] + sorted(on) + [(seg_len, (x1, y1))]
            for (d0, p0), (d1, p1) in zip(chain[:-1], chain[1:]):
                w = (d1 - d0) / (v * 1000 / 60)
                add(node(p0), node(p1), w)
                if not one:
                    add(node(p1), node(p0), w)
    dist = {node(p): 0.0 for p in pts[:len(sources)]}
    heap = [(0.0, n) for n in dist]
    while heap:
        d, n = heapq.heappop(heap)
        if d > dist.get(n, np.inf):
            continue
        for m, w in edges.get(n, []):
            if d + w < dist.get(m, np.inf):
                dist[m] = d + w
                heapq.heappush(heap, (d + w, m))
    return np.array([dist.get(node(p), np.inf) for p in pts[len(sources):]])


def hand_network(engine, oneway=True):
    import geopandas as gpd
    from riskmap.risk_plugin.network import RoadNetwork
    from riskmap.risk_plugin.roadclass import road_directions, road_speeds, speed_table
    from riskmap.risk_plugin.traveltime import TimeNetwork
    names, klass, geoms, ow = zip(*HAND)
    roads = gpd.GeoDataFrame({"road_class": list(klass)}, geometry=list(geoms), crs=CRS)
    kmh, _ = road_speeds(roads, speed_table({"county": 40, "township": 30, "village": 20}))
    net = RoadNetwork.from_lines(roads.geometry.values)
    return net, TimeNetwork.build(net, kmh, road_directions(list(ow)) if oneway else None)


TARGETS = [P(2000, 0), P(2000, 1000), P(2000, 500), P(1000, 600), P(500, 1000), P(1500, 0), P(0, 700),
           P(1500, 800), P(1000, 300)]


@pytest.mark.parametrize("oneway", [True, False])
def test_hand_network_equals_independent_dijkstra(engine, oneway):
    net, tn = hand_network(engine, oneway)
    src_pts = [P(0, 0), P(1000, 1000)]                        # a team at A and a depot half way along D–E
    src = net.snap(np.array(src_pts, dtype=object), 1.0)
    tgt = net.snap(np.array(TARGETS, dtype=object), 1.0)
    minutes, nearest = tn.solve(src).at(tgt)
    _, klass, geoms, ow = zip(*HAND)
    ref = reference_minutes(geoms, [o == "yes" and oneway for o in ow], [KMH[k] for k in klass], src_pts, TARGETS)
    assert minutes == pytest.approx(ref, abs=1e-9)
    # by hand: A→C along the county road, 2000 m at 40 km/h = 3 min; C→(2000,500) on the one-way road
    # north at 30 km/h: +1 min; E from the depot at (1000,1000): 1000 m at 20 km/h = 3 min
    assert minutes[0] == pytest.approx(3.0) and minutes[2] == pytest.approx(4.0) and minutes[1] == pytest.approx(3.0)
    assert nearest[0] == 0 and nearest[1] == 1


def test_one_way_road_forces_the_detour(engine):
    net, tn = hand_network(engine, oneway=True)
    _, open_ = hand_network(engine, oneway=False)
    src = net.snap(np.array([P(2000, 1000)], dtype=object), 1.0)    # at E: C–E is one-way C→E
    tgt = net.snap(np.array([P(2000, 0)], dtype=object), 1.0)       # C, straight down the one-way road
    directed, _ = tn.solve(src).at(tgt)
    undirected, _ = open_.solve(src).at(tgt)
    assert undirected[0] == pytest.approx(2.0)                      # 1000 m at 30 km/h
    # against the one-way road: E→D (2000 m village road, 6 min), D→A (1000 m, 3 min), A→C (2000 m county
    # road, 3 min) = 12; over the hill E→F is a 1077 m path at 4.32 km/h, 15 min alone: the village loop wins
    assert directed[0] == pytest.approx(12.0)


def test_hazard_zone_slows_and_closes_roads(engine):
    import shapely
    from riskmap.risk_plugin.traveltime import TimeNetwork, hazard_fraction
    from riskmap.risk_plugin.roadclass import road_directions
    net, _ = hand_network(engine)
    _, klass, geoms, ow = zip(*HAND)
    kmh = [KMH[k] for k in klass]
    zone = shapely.box(X0 + 1200, Y0 - 50, X0 + 1600, Y0 + 50)      # 400 m of the county road B–C under water
    frac = hazard_fraction(net, np.array([zone]))
    assert (frac * net.seg_len).sum() == pytest.approx(400.0)
    src = net.snap(np.array([P(0, 0)], dtype=object), 1.0)
    tgt = net.snap(np.array([P(2000, 0)], dtype=object), 1.0)
    slow = TimeNetwork.build(net, kmh, road_directions(list(ow)), None, frac, 0.5)
    t, _ = slow.solve(src).at(tgt)
    assert t[0] == pytest.approx(3.0 + 400 / (40000 / 60))          # 400 m at half speed: +0.6 min
    closed = TimeNetwork.build(net, kmh, road_directions(list(ow)), None, frac, close_hazard=True)
    t, _ = closed.solve(src).at(tgt)
    # B–C closed: C can be entered only from B–C (C–E is one-way C→E): C is cut off
    assert np.isinf(t[0])


def test_road_classes_aliases_unknown_and_overrides(engine):
    import geopandas as gpd
    from riskmap.risk_plugin.errors import ValidationError
    from riskmap.risk_plugin.roadclass import extra_speeds, road_speeds, speed_table
    values = ["高速公路", "国道", "primary", "二级公路", "县道", "乡道", "村道", "城市道路", "footway", None, "construction"]
    roads = gpd.GeoDataFrame({"road_class": values, "v": [None] * 10 + [50]},
                             geometry=[L((0, i), (10, i)) for i in range(len(values))], crs=CRS)
    kmh, rep = road_speeds(roads, speed_table({"county": 35}), default_speed=25)
    assert list(kmh) == [100, 80, 60, 60, 35, 30, 20, 40, 4.32, 25, 0]
    bad = roads.assign(road_class=values[:-1] + ["机耕道X"])
    with pytest.raises(ValidationError) as err:
        road_speeds(bad, speed_table())
    msg = str(err.value)
    assert "机耕道X" in msg and "ROADS" in msg and "EXTRA_SPEEDS" in msg and "道路等级" in msg
    kmh, _ = road_speeds(bad, speed_table(), extra_speeds("机耕道X=12"))
    assert kmh[-1] == 12
    kmh, _ = road_speeds(bad, speed_table(), speed_field="v")      # the speed field wins where positive
    assert kmh[-1] == 50 and kmh[0] == 100


# --- Jakarta: real OSM roads against QGIS's own network analysis ------------------------------------------
@pytest.fixture(scope="module")
def jakarta_net(engine, shared_data, tmp_path_factory):
    """Jakarta roads in UTM 48S with our speed per road (OSM highway tags read as classes) as a field, the
    OSM oneway field as the direction; start points and targets lying on the main network."""
    import geopandas as gpd
    import shapely
    from riskmap.risk_plugin.inputs import VectorInput, load_vectors
    from riskmap.risk_plugin.network import RoadNetwork
    from riskmap.risk_plugin.roadclass import road_directions, road_speeds, speed_table
    from riskmap.risk_plugin.traveltime import TimeNetwork
    d = tmp_path_factory.mktemp("jakarta_reach")
    roads = load_vectors([VectorInput("roads", str(shared_data / "jakarta" / "roads.gpkg"), "roads")])["roads"]
    roads = roads.to_crs(JAKARTA_UTM)
    kmh, report = road_speeds(roads, speed_table())
    assert report["closed"] == 5                                 # OSM highway=construction carries no traffic
    roads["speed"] = kmh
    roads[["TYPE", "ONEWAY", "speed", "geometry"]].to_file(d / "roads.gpkg", engine="pyogrio")
    net = RoadNetwork.from_lines(roads.geometry.values)
    main = np.argmax(np.bincount(net.node_component))
    rng = np.random.default_rng(13)
    segs = np.flatnonzero(net.node_component[net.seg_u] == main)
    seg = rng.choice(segs, 2004, replace=False)
    t = rng.uniform(0.2, 0.8, len(seg))
    a, b = net.xy[net.seg_u[seg]], net.xy[net.seg_v[seg]]
    pts = shapely.points(a + (b - a) * t[:, None])
    gpd.GeoDataFrame({"sid": np.arange(4)}, geometry=pts[:4], crs=JAKARTA_UTM).to_file(d / "starts.gpkg")
    gpd.GeoDataFrame({"tid": np.arange(2000)}, geometry=pts[4:], crs=JAKARTA_UTM).to_file(d / "targets.gpkg")
    tn = TimeNetwork.build(net, kmh, road_directions(roads["ONEWAY"]))
    return {"dir": d, "net": net, "tn": tn, "starts": pts[:4], "targets": pts[4:]}


def _qgis_network_params(d):
    # same speeds (our per-road speed as QGIS's speed field), fastest path, one-way by OSM oneway; QGIS's
    # topology tolerance 1e-6 m merges the float noise of the reprojection (shared OSM nodes 2e-9 m apart),
    # as our 1 cm vertex grid does, without merging the few distinct nodes 1 cm apart
    return {"INPUT": str(d / "roads.gpkg"), "STRATEGY": 1, "SPEED_FIELD": "speed", "DEFAULT_SPEED": 30,
            "DIRECTION_FIELD": "ONEWAY", "VALUE_FORWARD": "yes", "VALUE_BACKWARD": "-1", "VALUE_BOTH": "no",
            "DEFAULT_DIRECTION": 2, "TOLERANCE": 1e-6}


@pytest.fixture
def utm_context(riskmap):
    """A processing context whose project is in UTM 48S: QGIS's fastest-path cost scales lengths by the
    project CRS's units."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsProcessingContext, QgsProject
    project = QgsProject.instance()
    old = project.crs()
    project.setCrs(QgsCoordinateReferenceSystem(JAKARTA_UTM))
    ctx = QgsProcessingContext()
    ctx.setProject(project)
    yield ctx
    project.setCrs(old)


def test_jakarta_travel_times_equal_qgis_shortest_paths(jakarta_net, utm_context):
    """Minutes to 2000 points on the network from one start, ours against native:shortestpathpointtolayer
    (fastest, speed field, one-way roads): every target within 1 % (QGIS measures on the WGS 84 ellipsoid, we
    in UTM, whose scale factor there is 1.0001)."""
    import geopandas as gpd
    import processing
    import shapely
    from qgis.core import QgsProcessingFeedback
    d, net, tn = jakarta_net["dir"], jakarta_net["net"], jakarta_net["tn"]
    x, y = shapely.get_x(jakarta_net["starts"][0]), shapely.get_y(jakarta_net["starts"][0])
    processing.run("native:shortestpathpointtolayer", dict(
        _qgis_network_params(d), START_POINT=f"{x!r},{y!r} [{JAKARTA_UTM}]", END_POINTS=str(d / "targets.gpkg"),
        OUTPUT=str(d / "paths.gpkg")), context=utm_context, feedback=QgsProcessingFeedback())
    q = gpd.read_file(d / "paths.gpkg", engine="pyogrio").set_index("tid").sort_index()
    theirs = q["cost"].to_numpy(float) * 60                       # hours -> minutes
    src = net.snap(jakarta_net["starts"][:1], 1.0)
    tgt = net.snap(jakarta_net["targets"], 1.0)
    assert tgt.distance.max() < 1e-6
    ours, _ = tn.solve(src).at(tgt)
    both = np.isfinite(ours) & np.isfinite(theirs)
    assert both.sum() > 1900 and (np.isfinite(ours) == np.isfinite(theirs)).all()
    rel = np.abs(ours[both] - theirs[both]) / theirs[both]
    assert rel.max() < 0.01, rel.max()
    assert np.median(rel) < 3e-4                                  # the ellipsoid/UTM scale factor, no more
    assert 10 < np.mean(ours[both]) < 60


@pytest.mark.parametrize("minutes", [5.0, 15.0])
def test_jakarta_reached_equals_qgis_service_area(jakarta_net, utm_context, minutes):
    """Targets reached within the time from any of 4 starts, ours against native:serviceareafromlayer by
    travel time (its lines, then the targets within 5 cm of them, as a technician would count): within 1 %."""
    import geopandas as gpd
    import processing
    import shapely
    from qgis.core import QgsProcessingFeedback
    d, net, tn = jakarta_net["dir"], jakarta_net["net"], jakarta_net["tn"]
    out = d / f"sa_{minutes:g}.gpkg"
    processing.run("native:serviceareafromlayer", dict(
        _qgis_network_params(d), START_POINTS=str(d / "starts.gpkg"), TRAVEL_COST2=minutes / 60.0,
        INCLUDE_BOUNDS=False, OUTPUT_LINES=str(out)), context=utm_context, feedback=QgsProcessingFeedback())
    lines = gpd.read_file(out, engine="pyogrio")
    assert len(lines) == 4 and not lines.geometry.is_empty.any()
    hit = np.unique(shapely.STRtree(jakarta_net["targets"]).query(lines.geometry.values, predicate="dwithin",
                                                                  distance=0.05)[1])
    theirs = np.zeros(len(jakarta_net["targets"]), bool)
    theirs[hit] = True
    ours_t, _ = tn.solve(net.snap(jakarta_net["starts"], 1.0)).at(net.snap(jakarta_net["targets"], 1.0))
    ours = ours_t <= minutes
    assert ours.sum() > 30
    assert abs(int(ours.sum()) - int(theirs.sum())) <= 0.01 * theirs.sum(), (ours.sum(), theirs.sum())
    # the few that differ lie on an edge QGIS draws past the limit or where two roads cross without a vertex
    # (a point within 5 cm of a reached road it is not on): never more than 1 % of the reached
    assert (ours ^ theirs).sum() <= 0.01 * theirs.sum() + 2


# --- the engine on files ------------------------------------------------------------------------------------
@pytest.fixture
def hand_case(engine, tmp_path):
    """The hand network as files: a rescue team at A, a fire station at C, a depot at D with stock, two
    villages (west, east) with three houses each, a flood zone over the B–C county road."""
    import shapely
    roads = hand_roads(tmp_path)
    fac = write_gpkg(tmp_path / "fac.gpkg", {"名称": ["A救援队", "C消防站", "D储备点"], "类型": ["救援队", "消防站", "储备点"],
                                             "饮用水": [None, None, 90.0], "帐篷": [None, None, 10.0]},
                     [P(0, -20), P(2000, -20), P(-10, 1000)])
    houses = [P(100, 20), P(900, 20), P(0, 800), P(1500, 20), P(2000, 600), P(1900, 1020)]
    bld = write_gpkg(tmp_path / "bld.gpkg", {"居住人数": [10, 20, 30, 40, 50, 60]}, houses)
    vil = write_gpkg(tmp_path / "vil.gpkg", {"名称": ["西村", "东村"], "乡镇": ["甲镇", "乙乡"]},
                     [shapely.box(X0 - 100, Y0 - 100, X0 + 1000, Y0 + 1100),
                      shapely.box(X0 + 1000, Y0 - 100, X0 + 2100, Y0 + 1100)])
    zone = write_gpkg(tmp_path / "zone.gpkg", {"名称": ["淹没区"]}, [shapely.box(X0 + 1200, Y0 - 50, X0 + 1600, Y0 + 50)])
    return {"roads": roads, "fac": fac, "bld": bld, "vil": vil, "zone": zone, "dir": tmp_path, "houses": houses}


def test_reach_on_files_counts_everybody_once(hand_case):
    from riskmap.risk_plugin.reach_run import response_reach
    c = hand_case
    r = response_reach(c["fac"], c["bld"], c["roads"], units=c["vil"], thresholds="2,5,10", target=5,
                       speeds={"county": 40, "township": 30, "village": 20}, direction_field="oneway",
                       output_demand=str(c["dir"] / "d.gpkg"))
    dem = r["frames"]["demand"]
    # by hand, rescue forces (team at A, fire station at C; each 20 m off the road, walked at 4.32 km/h):
    walk = lambda m: m / (4320 / 60)  # noqa: E731
    t_fire_1500 = walk(20) + 500 / (40000 / 60) + walk(20)
    assert dem["t_forces"].iloc[3] == pytest.approx(t_fire_1500, abs=0.01)
    assert dem["nearest_forces"].iloc[3] == "C消防站" and dem["nearest_forces"].iloc[0] == "A救援队"
    assert (dem["t_forces"] <= dem[["t_rescue", "t_fire"]].min(axis=1) + 1e-6).all()
    tab = r["frames"]["table"]
    total = tab[tab["level"] == "total"].iloc[0]
    assert total["people"] == 210
    vill = tab[tab["level"] == "village"]
    town = tab[tab["level"] == "township"]
    for col in ("people", "forces_2min", "forces_5min", "forces_10min", "depot_10min"):
        assert vill[col].sum() == pytest.approx(total[col]) == pytest.approx(town[col].sum())
    # reached within each threshold: never more than the people, never fewer at a longer threshold
    for g in r["groups"]:
        a, b, c10 = (vill[f"{g}_{t}min"].to_numpy() for t in ("2", "5", "10"))
        assert (a <= b + 1e-9).all() and (b <= c10 + 1e-9).all() and (c10 <= vill["people"].to_numpy() + 1e-9).all()
        assert r["share"][g] == sorted(r["share"][g])
    people = dem["people"].to_numpy()
    assert r["share"]["forces"][1] == pytest.approx(people[dem["t_forces"].to_numpy() <= 5].sum() / 210)
    assert r["villages_gap"] == int((vill["people"] - vill["forces_5min"] > 1e-6).sum()) == r["villages_unreached"][1]
    assert r["villages_unreached"] == sorted(r["villages_unreached"], reverse=True)


def test_flood_slows_and_cuts_off(hand_case):
    from riskmap.risk_plugin.reach_run import response_reach
    c = hand_case
    kw = dict(units=c["vil"], thresholds="5,10,30", speeds={"county": 40, "township": 30, "village": 20},
              direction_field="oneway")
    dry = response_reach(c["fac"], c["bld"], c["roads"], **kw)
    wet = response_reach(c["fac"], c["bld"], c["roads"], hazard_zones=[c["zone"]], **kw)
    td, tw = dry["frames"]["demand"], wet["frames"]["demand"]
    # every time is at least the dry one; the house at (1500, 0) behind the flooded stretch is slower
    for g in dry["groups"]:
        assert (tw[f"t_{g}"].fillna(np.inf) >= td[f"t_{g}"].fillna(np.inf) - 1e-9).all()
    assert tw["t_rescue"].iloc[3] > td["t_rescue"].iloc[3]
    # closed flood roads: the fire station standing at junction C still leaves north (C→E); only the house at
    # (1500, 20) on the closed stretch loses every facility: 40 of the east village's 150 people
    assert wet["people_cut_off"] == 40 and list(tw.loc[tw["cut_off"] == 1].index) == [3]
    assert np.isinf(tw["t_closed"].fillna(np.inf).iloc[3]) and np.isfinite(tw["t_closed"].iloc[4])
    assert wet["villages_cut_off"] == 0                             # 40 / 150 < CUT_OFF_SHARE 0.5
    wet2 = response_reach(c["fac"], c["bld"], c["roads"], hazard_zones=[c["zone"]], cut_off_share=0.25, **kw)
    assert wet2["villages_cut_off_names"] == ["东村"]


def test_supplies_by_hand(engine):
    import pandas as pd
    from riskmap.risk_plugin.supplies import supply_tables
    # 100 displaced in 甲镇 and 50 in 乙乡 draw on depot 0 (300 L water, 20 tents); 30 more in 乙乡 are beyond
    # the supply time of every depot
    displaced = np.array([60, 40, 50, 30.0])
    town = ["甲镇", "甲镇", "乙乡", "乙乡"]
    depot = np.array([0, 0, 0, 0])
    minutes = np.array([10, 20, 30, 900.0])
    stock = pd.DataFrame({"water": [300.0], "food": [np.nan], "tents": [20.0], "beds": [np.nan]})
    town_t, dep = supply_tables(displaced, town, depot, minutes, stock, ["县库"], time_limit=600)
    t = town_t.set_index("township")
    assert dep["displaced_served"].iloc[0] == 150
    assert dep["water_days"].iloc[0] == pytest.approx(300 / (150 * 3.0), abs=0.01)
    assert t.loc["甲镇", "water_supply"] == pytest.approx(200.0) and t.loc["乙乡", "water_supply"] == pytest.approx(100.0)
    assert t.loc["甲镇", "water_days"] == pytest.approx(200 / (100 * 3), abs=0.01)
    assert t.loc["乙乡", "water_days"] == pytest.approx(100 / (80 * 3), abs=0.01)      # 30 out of time: need, no supply
    assert t.loc["甲镇", "tents_share"] == pytest.approx(20 * 100 / 150 * 3.43 / 100, abs=1e-3)
    assert t.loc["乙乡", "in_time_share"] == pytest.approx(50 / 80, abs=1e-4)
    assert t["food_days"].fillna(0).eq(0).all() and (t["below_target"] == 1).all()


def test_depots_in_the_same_town_are_one_pool(hand_case):
    """A township supply point beside the county depot at D: both serve; neither's stock is lost."""
    import geopandas as gpd
    from riskmap.risk_plugin.reach_run import response_reach
    c = hand_case
    g = gpd.read_file(c["fac"])
    two = write_gpkg(c["dir"] / "two.gpkg", {"名称": list(g["名称"]) + ["D乡储备点"], "类型": list(g["类型"]) + ["储备点"],
                                             "饮用水": list(g["饮用水"]) + [60.0], "帐篷": list(g["帐篷"]) + [np.nan]},
                     list(g.geometry.values) + [P(-10, 1010)])
    r = response_reach(two, c["bld"], c["roads"], units=c["vil"], displaced_share=0.5, direction_field="oneway")
    dep = r["frames"]["depots"]
    # 105 displaced (half of 210), all within 10 h of D: (90 + 60) L for 105 × 3 L a day
    assert list(dep["water_days"]) == [pytest.approx(150 / 315, abs=0.01)] * 2
    assert dep["pool"].iloc[0] == dep["pool"].iloc[1] and dep["displaced_served"].iloc[0] == 105
    assert r["frames"]["supply"]["water_supply"].sum() == pytest.approx(150.0)
    apart = response_reach(two, c["bld"], c["roads"], units=c["vil"], displaced_share=0.5, direction_field="oneway",
                           pool_minutes=0.001)
    assert apart["frames"]["supply"]["water_supply"].sum() < 150 - 1           # the unpooled farther one serves nobody


def test_siting_picks_what_brute_force_picks(hand_case):
    import geopandas as gpd
    from riskmap.risk_plugin.reach_run import response_reach, response_siting
    c = hand_case
    cand = write_gpkg(c["dir"] / "cand.gpkg", {"名称": ["候选E", "候选B", "候选D"]}, [P(2000, 1000), P(1000, 0), P(0, 1000)])
    kw = dict(speeds={"county": 40, "township": 30, "village": 20}, direction_field="oneway")
    s = response_siting(cand, c["bld"], c["roads"], group="rescue", k=2, minutes=3, facilities=c["fac"], method="exact",
                        output=str(c["dir"] / "s.gpkg"), output_curve=str(c["dir"] / "curve.csv"), **kw)
    curve = s["curve"]
    assert (curve["reached_total"].diff().iloc[1:] >= -1e-9).all()
    # brute force over single candidates: people within 3 min of the team at A or the candidate
    best = {}
    for i in range(3):
        sub = write_gpkg(c["dir"] / f"f{i}.gpkg", {"名称": ["A", "X"], "类型": ["救援队", "救援队"]},
                         [P(0, -20), [P(2000, 1000), P(1000, 0), P(0, 1000)][i]])
        r = response_reach(sub, c["bld"], c["roads"], thresholds="3", **kw)
        best[i] = r["share"]["rescue"][0] * 210
    first = gpd.read_file(c["dir"] / "s.gpkg")["name"].iloc[0]
    assert first == ["候选E", "候选B", "候选D"][max(best, key=best.get)]
    assert curve["reached_total"].iloc[1] == pytest.approx(max(best.values()), abs=0.1)
    assert s["exact"][0][1] == pytest.approx(max(best.values()), abs=0.1)


def test_isochrone_bands_along_a_straight_road(engine, tmp_path):
    import geopandas as gpd
    from riskmap.risk_plugin.reach_run import response_reach
    roads = write_gpkg(tmp_path / "r.gpkg", {"道路等级": ["县道"]}, [L((0, 0), (20000, 0))])     # 40 km/h
    fac = write_gpkg(tmp_path / "f.gpkg", {"名称": ["队"], "类型": ["救援队"]}, [P(0, 0)])
    bld = write_gpkg(tmp_path / "b.gpkg", {"居住人数": [1, 2, 3]}, [P(5000, 50), P(9000, 0), P(15000, 0)])
    r = response_reach(fac, bld, roads, thresholds="10,20", isochrone_cell=50, max_snap=300,
                       output_bands=str(tmp_path / "bands.gpkg"))
    assert r["share"]["forces"] == pytest.approx([1 / 6, 3 / 6])
    bands = gpd.read_file(tmp_path / "bands.gpkg")
    assert set(bands["group"]) == {"forces"}                                   # the default: rescue forces
    b1 = bands[bands["band"] == 1].geometry.iloc[0]
    b2 = bands[bands["band"] == 2].geometry.iloc[0]
    # one row of 50 m cells centred 25 m off the road: 25 m walked (0.35 min), then 40 km/h (666.7 m/min)
    # along the road: band 1 ends where x / 666.7 + 25 / 72 = 10 min, band 2 at 20 min (to the cell)
    v, walk = 40000 / 60, 25 / 72
    assert b1.bounds[2] - X0 == pytest.approx((10 - walk) * v, abs=50)
    assert b2.bounds[2] - X0 == pytest.approx((20 - walk) * v, abs=50)
    assert b1.intersection(b2).area < 1.0
    assert list(bands["people"]) == [1, 2]                                      # the house at 15 km is beyond 20 min


def test_awkward_files_give_the_same_numbers(hand_case):
    """Facilities as a GBK shapefile with an OBJECTID column and stock written as text: same result."""
    import subprocess
    import geopandas as gpd
    from riskmap.risk_plugin.reach_run import response_reach
    c = hand_case
    g = gpd.read_file(c["fac"])
    g.insert(0, "OBJECTID", [7, 8, 9])
    g["饮用水"] = g["饮用水"].map(lambda v: None if v != v else f"{v:g}")
    g.to_file(c["dir"] / "text.gpkg")
    shp = c["dir"] / "fac_gbk.shp"
    subprocess.run(["ogr2ogr", "-lco", "ENCODING=CP936", str(shp), str(c["dir"] / "text.gpkg")], check=True,
                   capture_output=True)
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    kw = dict(units=c["vil"], thresholds="2,5", displaced_share=0.5, direction_field="oneway")
    a = response_reach(c["fac"], c["bld"], c["roads"], **kw)
    b = response_reach(str(shp), c["bld"], c["roads"], **kw)
    assert a["share"] == b["share"] and a["displaced_total"] == b["displaced_total"] == 105
    assert list(b["frames"]["facilities"]["name"]) == ["A救援队", "C消防站", "D储备点"]
    assert b["frames"]["depots"]["water_days"].iloc[0] == a["frames"]["depots"]["water_days"].iloc[0]


def test_reach_monotone_in_speed_on_the_demo_county(demo_county):
    from riskmap.risk_plugin.definitions import reach as D
    from riskmap.risk_plugin.reach_run import response_reach
    kw = dict(units=demo_county["villages"], thresholds="5,10,20")
    slow = response_reach(demo_county["response_facilities"], demo_county["buildings"], demo_county["roads"], **kw)
    fast = response_reach(demo_county["response_facilities"], demo_county["buildings"], demo_county["roads"],
                          speeds={k: 1.5 * v for k, v in D.SPEED_KMH.items()}, **kw)
    ds, df_ = slow["frames"]["demand"], fast["frames"]["demand"]
    for g in slow["groups"]:
        assert (df_[f"t_{g}"].fillna(np.inf) <= ds[f"t_{g}"].fillna(np.inf) + 1e-9).all()
        assert all(f >= s - 1e-12 for f, s in zip(fast["share"][g], slow["share"][g]))
    assert fast["share"]["forces"][0] > slow["share"]["forces"][0]
    # rescue forces = the nearer of rescue teams and fire stations
    assert (ds["t_forces"].fillna(np.inf) == ds[["t_rescue", "t_fire"]].fillna(np.inf).min(axis=1)).all()


# --- the algorithms -----------------------------------------------------------------------------------------
def test_responsereach_processing_run_and_qgis_process(alg, qgis_process, demo_county, tmp_path):
    import geopandas as gpd
    import pandas as pd
    from riskmap.risk_plugin.reach_run import response_reach
    d = demo_county
    params = {"FACILITIES": d["response_facilities"], "DEMAND": d["buildings"], "ROADS": d["roads"],
              "UNITS": d["villages"], "HAZARD_ZONES": [d["flood_zones"]], "DISPLACED_SHARE": 0.05, "BANDS_GROUP": 5,
              "OUTPUT_DEMAND": str(tmp_path / "dem.gpkg"), "OUTPUT_UNITS": str(tmp_path / "vil.gpkg"),
              "OUTPUT_TABLE": str(tmp_path / "tab.xlsx"), "OUTPUT_BANDS": str(tmp_path / "bands.gpkg"),
              "OUTPUT_FACILITIES": str(tmp_path / "fac.gpkg"), "OUTPUT_SUPPLY": str(tmp_path / "supply.xlsx")}
    res = alg("riskmap:responsereach", params)
    ref = response_reach(d["response_facilities"], d["buildings"], d["roads"], units=d["villages"],
                         hazard_zones=[d["flood_zones"]], displaced_share=0.05)
    assert res["POPULATION_TOTAL"] == pytest.approx(ref["population_total"]) and res["POPULATION_TOTAL"] > 1000
    for i in (1, 2, 3):
        assert res[f"SHARE_FORCES_{i}"] == pytest.approx(ref["share"]["forces"][i - 1])
        assert res[f"SHARE_FORCES_{i}"] >= max(res[f"SHARE_RESCUE_{i}"], res[f"SHARE_FIRE_{i}"]) - 1e-12
    assert res["SHARE_FORCES_4"] is None and res["DISPLACED"] == pytest.approx(0.05 * res["POPULATION_TOTAL"])
    dem = gpd.read_file(tmp_path / "dem.gpkg")
    assert dem["people"].sum() == pytest.approx(res["POPULATION_TOTAL"], rel=1e-6) and dem.crs.to_epsg() == 4545
    within = lambda t: (dem["minutes"] <= t).mul(dem["people"]).sum() / dem["people"].sum()  # noqa: E731
    assert within(15 - 0.005) <= res["SHARE_FORCES_1"] <= within(15 + 0.005)         # minutes written to 0.01
    vil = gpd.read_file(tmp_path / "vil.gpkg")
    assert vil["gap"].sum() == res["VILLAGES_GAP"] == res["VILLAGES_UNREACHED_2"] and vil["cut_off"].sum() == res["VILLAGES_CUT_OFF"]
    assert res["VILLAGES_UNREACHED_1"] == (vil["people"] - vil["forces_15min"] > 0.01).sum() and res["VILLAGES_UNREACHED_4"] is None
    tab = pd.read_excel(tmp_path / "tab.xlsx")
    assert len(tab) == len(vil) + 4 + 1 + (1 if (tab["名称 name"].str.contains("outside")).any() else 0)
    sup = pd.read_excel(tmp_path / "supply.xlsx")
    assert sup["转移安置人数 displaced"].sum() == pytest.approx(res["DISPLACED"], abs=0.5)
    bands = gpd.read_file(tmp_path / "bands.gpkg")
    assert set(bands["group"]) == {"forces", "rescue", "fire", "hospital", "depot"}
    # the styles of styles/classes.json
    from qgis.core import QgsVectorLayer
    from riskmap.processing.styling import apply_style
    lay = QgsVectorLayer(str(tmp_path / "bands.gpkg"), "b", "ogr")
    apply_style(lay, "reach_bands", "minutes")
    assert lay.renderer().classAttribute() == "minutes" and len(lay.renderer().ranges()) == 5
    from riskmap.risk_plugin.webmap_layers import prepare_vector
    assert prepare_vector(str(tmp_path / "vil.gpkg")).style.key == "coverage_pct"
    assert prepare_vector(str(tmp_path / "fac.gpkg")).style.key == "facility_types"
    code, out, _ = qgis_process.run("riskmap:responsereach", dict(
        params, THRESHOLDS="10,30", BANDS_GROUP=0, OUTPUT_DEMAND=str(tmp_path / "q.gpkg"), OUTPUT_UNITS=str(tmp_path / "qv.gpkg"),
        OUTPUT_TABLE=str(tmp_path / "q.csv"), OUTPUT_BANDS=str(tmp_path / "qb.gpkg"),
        OUTPUT_FACILITIES=str(tmp_path / "qf.gpkg"), OUTPUT_SUPPLY=str(tmp_path / "qs.csv")))
    assert code == 0
    assert set(gpd.read_file(tmp_path / "qb.gpkg")["group"]) == {"forces"}
    assert out["SHARE_FORCES_2"] == pytest.approx(res["SHARE_FORCES_2"])       # 30 min, either way
    assert out["SHARE_FORCES_1"] <= res["SHARE_FORCES_1"] + 1e-12 and out.get("SHARE_FORCES_3") is None   # 10 < 15 min


def test_responsesiting_processing_run_and_qgis_process(alg, qgis_process, demo_county, tmp_path):
    import pandas as pd
    d = demo_county
    params = {"CANDIDATES": d["response_candidates"], "DEMAND": d["population"], "ROADS": d["roads"],
              "FACILITIES": d["response_facilities"], "GROUP": 1, "MINUTES": 10, "K": 3,
              "OUTPUT": str(tmp_path / "s.gpkg"), "OUTPUT_CURVE": str(tmp_path / "c.csv")}
    res = alg("riskmap:responsesiting", params)
    assert res["REACHED_AFTER"] >= res["REACHED_BEFORE"] > 0 and res["SITES_CHOSEN"] >= 1
    curve = pd.read_csv(tmp_path / "c.csv")
    assert curve["reached_total"].iloc[-1] == pytest.approx(res["REACHED_AFTER"], abs=0.1)
    assert (curve["people_added"].iloc[1:] > 0).all()
    code, out, _ = qgis_process.run("riskmap:responsesiting", dict(params, OUTPUT=str(tmp_path / "q.gpkg"),
                                                                    OUTPUT_CURVE=str(tmp_path / "q.csv")))
    assert code == 0 and out["REACHED_AFTER"] == pytest.approx(res["REACHED_AFTER"])


def test_cancel_leaves_no_output(hand_case):
    from riskmap.risk_plugin.errors import Cancelled
    from riskmap.risk_plugin.progress import Progress
    from riskmap.risk_plugin.reach_run import response_reach
    c = hand_case
    calls = []
    progress = Progress(on_progress=calls.append, is_canceled=lambda: len(calls) >= 4)
    with pytest.raises(Cancelled):
        response_reach(c["fac"], c["bld"], c["roads"], output_demand=str(c["dir"] / "x.gpkg"), progress=progress)
    assert not (c["dir"] / "x.gpkg").exists()
