"""Hazard zoning (issue 3, items 3-6): flood classes, geohazard-point threat, forest fire, composite.

Hand-built rasters and layers with hand-computed answers, then each algorithm once through
processing.run and once through qgis_process on the demo county.
"""
import math

import numpy as np
import pytest

CRS = "EPSG:4545"
X0, Y0 = 500000.0, 3300000.0


# --- helpers ------------------------------------------------------------------------------------------
def write_tif(path, array, cell=10.0, crs=CRS, nodata=None, x0=X0, y0=Y0):
    from rasterio.transform import from_origin
    from riskmap.risk_plugin.io import write_raster
    return write_raster(np.asarray(array), str(path), from_origin(x0, y0, cell, cell), crs, nodata)


def read_tif(path):
    import rasterio
    with rasterio.open(path) as src:
        return src.read(1), src.transform, src.crs


def write_gpkg(path, columns, geoms, crs=CRS):
    import geopandas as gpd
    gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs).to_file(str(path), engine="pyogrio")
    return str(path)


# --- flood ----------------------------------------------------------------------------------------------
def test_flood_depth_classes_at_break_boundaries(engine, tmp_path):
    from riskmap.risk_plugin.flood import flood_hazard
    depth = np.array([[-9999, 0.0, 0.2, 0.5],
                      [0.500001, 1.0, 1.01, 2.0],
                      [2.01, 5.0, np.nan, -0.3]], dtype=np.float32)
    # default breaks 0, 0.5, 1, 2: class k holds (break k, break k+1]; nodata, NaN and <= 0 are dry
    expected = np.array([[0, 0, 1, 1],
                         [2, 2, 3, 3],
                         [4, 4, 0, 0]], dtype=np.uint8)
    write_tif(tmp_path / "d.tif", depth, nodata=-9999)
    res = flood_hazard(str(tmp_path / "c.tif"), depth=str(tmp_path / "d.tif"), block_size=2)
    classes, _, crs = read_tif(tmp_path / "c.tif")
    np.testing.assert_array_equal(classes, expected)
    assert crs.to_epsg() == 4545
    # 2 cells of 100 m² in every class 1..4
    assert res["areas_km2"] == pytest.approx({1: 2e-4, 2: 2e-4, 3: 2e-4, 4: 2e-4})
    # other breaks move the boundaries: 0.2 is now class 0, 5.0 class 4 only above 3
    flood_hazard(str(tmp_path / "c2.tif"), depth=str(tmp_path / "d.tif"), depth_breaks="0.2, 1, 2, 5")
    np.testing.assert_array_equal(read_tif(tmp_path / "c2.tif")[0],
                                  [[0, 0, 0, 1], [1, 1, 2, 2], [3, 3, 0, 0]])


def test_flood_bad_breaks_are_refused(engine, tmp_path):
    from riskmap.risk_plugin.errors import ParameterError
    from riskmap.risk_plugin.flood import flood_hazard
    write_tif(tmp_path / "d.tif", np.ones((2, 2), np.float32))
    with pytest.raises(ParameterError, match="ascending"):
        flood_hazard(str(tmp_path / "c.tif"), depth=str(tmp_path / "d.tif"), depth_breaks="0, 1, 0.5, 2")
    with pytest.raises(ParameterError, match="4 numbers"):
        flood_hazard(str(tmp_path / "c.tif"), depth=str(tmp_path / "d.tif"), depth_breaks="0, 1")
    assert not (tmp_path / "c.tif").exists()


def test_flood_geographic_depth_areas_are_geodesic(engine, tmp_path):
    from pyproj import Geod
    from riskmap.risk_plugin.flood import flood_hazard
    # 3 rows x 4 columns of 0.01 degree at 30 N, all deeper than 2 m: class 4 covers the whole extent
    write_tif(tmp_path / "g.tif", np.full((3, 4), 3.0, np.float32), cell=0.01, crs="EPSG:4490", x0=108.0, y0=30.0)
    res = flood_hazard(str(tmp_path / "gc.tif"), depth=str(tmp_path / "g.tif"))
    geod = Geod(ellps="GRS80")
    area, _ = geod.polygon_area_perimeter([108.0, 108.04, 108.04, 108.0], [30.0, 30.0, 29.97, 29.97])
    assert res["areas_km2"][4] == pytest.approx(abs(area) / 1e6, rel=1e-6)


def test_flood_zones_nested_return_periods(engine, tmp_path):
    import geopandas as gpd
    import shapely
    from riskmap.risk_plugin.flood import flood_hazard
    # nested strips 100 m tall: 10-yr 0..20 m, 50-yr 0..50 m, 100-yr 0..100 m, 1000-yr 0..120 m (beyond 500: 0)
    geoms = [shapely.box(X0, Y0 - 100, X0 + w, Y0) for w in (120, 100, 50, 20)]
    write_gpkg(tmp_path / "z.gpkg", {"重现期": [1000, 100, 50, 10]}, geoms)
    res = flood_hazard(str(tmp_path / "z.tif"), zones=str(tmp_path / "z.gpkg"), cell_size=10,
                       output_zones=str(tmp_path / "zz.gpkg"))
    assert res["areas_km2"] == pytest.approx({4: 0.002, 3: 0.003, 2: 0.005, 1: 0.0})
    classes, transform, _ = read_tif(tmp_path / "z.tif")
    assert classes.shape == (10, 12)
    np.testing.assert_array_equal(classes[0], [4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 0, 0])
    zones = gpd.read_file(tmp_path / "zz.gpkg").set_index("hazard_class")
    assert sorted(zones.index) == [2, 3, 4]
    assert zones.area.to_dict() == pytest.approx({4: 2000.0, 3: 3000.0, 2: 5000.0})
    assert not shapely.intersects(zones.geometry[4], shapely.buffer(zones.geometry[3], -1e-6))


# --- geohazard-point threat ----------------------------------------------------------------------------------
def threat_case(tmp_path):
    """Two points 120 m apart: A landslide small (r = 100 m), B collapse small (r = 50 m)."""
    import shapely
    pts = write_gpkg(tmp_path / "pts.gpkg", {
        "统一编号": ["A", "B"], "名称": ["甲滑坡", "乙崩塌"], "灾害类型": ["滑坡", "崩塌"], "规模等级": ["小型", "小型"],
        "威胁人数": [8, 40], "威胁财产": [100.0, 600.0], "险情等级": ["小型", "小型"]},
        [shapely.Point(X0, Y0), shapely.Point(X0 + 120, Y0)])
    P = shapely.Point
    bld = write_gpkg(tmp_path / "bld.gpkg", {
        "居住人数": [4.0, 5.0, 7.0, 3.0, None, 6.0, 9.0],
        "户数": [1, 2, 2, None, 2, 2, 3]}, [
        P(X0 + 50, Y0),            # 1: A only
        P(X0, Y0 + 99),            # 2: A only (99 m)
        P(X0 + 150, Y0),           # 3: B only (30 m from B, 150 from A)
        P(X0 + 90, Y0),            # 4: A (90 m) and B (30 m): counted once in totals; households ceil(3/2.62) = 2
        P(X0 - 60, Y0 - 60),       # 5: A (84.9 m); residents = 2 households x 2.62
        shapely.box(X0 + 100, Y0 - 80, X0 + 140, Y0 - 40),  # 6: B only, by its edge: 40 m from B (centroid 60 m), 108 m from A
        P(X0 + 300, Y0)])          # 7: outside both
    return pts, bld


def test_threat_counts_on_hand_placed_buildings(engine, tmp_path):
    import geopandas as gpd
    from riskmap.risk_plugin.threat import hazard_point_threat
    pts, bld = threat_case(tmp_path)
    res = hazard_point_threat(pts, str(tmp_path / "out.gpkg"), output_zones=str(tmp_path / "zones.gpkg"),
                              buildings=bld)
    out = gpd.read_file(tmp_path / "out.gpkg").set_index("统一编号")
    # A: buildings 1, 2, 4, 5; B: 3, 4, 6
    assert out.loc["A", "buildings_calc"] == 4 and out.loc["B", "buildings_calc"] == 3
    assert out.loc["A", "households_calc"] == pytest.approx(1 + 2 + 2 + 2)
    assert out.loc["B", "households_calc"] == pytest.approx(2 + 2 + 2)
    assert out.loc["A", "people_calc"] == pytest.approx(4 + 5 + 3 + 2 * 2.62)
    assert out.loc["B", "people_calc"] == pytest.approx(7 + 3 + 6)
    assert list(out["radius_m"]) == [100.0, 50.0]
    # totals count building 4 once
    assert res["buildings_threatened"] == 6
    assert res["people_threatened"] == pytest.approx(4 + 5 + 7 + 3 + 2 * 2.62 + 6)
    assert res["households_threatened"] == pytest.approx(1 + 2 + 2 + 2 + 2 + 2)
    # flags: A surveyed 8 vs 17.24 -> |9.24| <= max(4, 10): fine; B surveyed 40 vs 16 -> 24 > max(20, 10): flagged
    assert list(out["flagged"]) == [0, 1] and res["points_flagged"] == 1
    assert out.loc["B", "people_diff"] == pytest.approx(16 - 40)
    # levels: A 17 people, 100 万元 -> 小型 (4); B 16 people but 600 万元 -> 中型 (3), surveyed 小型
    assert list(out["danger_level"]) == [4, 3] and list(out["danger_survey"]) == [4, 4]
    assert list(out["level_changed"]) == [0, 1] and list(out["danger_zh"]) == ["小型", "中型"]
    # the user's fields stay as given; canonical copies are not duplicated
    assert "code" not in out.columns and out.loc["A", "名称"] == "甲滑坡"
    zones = gpd.read_file(tmp_path / "zones.gpkg")
    assert zones.area.to_numpy() == pytest.approx([math.pi * 100 ** 2, math.pi * 50 ** 2], rel=3e-3)


def test_threat_radius_override_and_tolerance(engine, tmp_path):
    import geopandas as gpd
    from riskmap.risk_plugin.threat import hazard_point_threat
    pts, bld = threat_case(tmp_path)
    # small landslides now 40 m: none of A's buildings (nearest 50 m) is left
    res = hazard_point_threat(pts, str(tmp_path / "o.gpkg"), buildings=bld, radii="landslide=40,200,300,500",
                              tolerance=0.0, min_difference=0)
    out = gpd.read_file(tmp_path / "o.gpkg").set_index("统一编号")
    assert out.loc["A", "radius_m"] == 40 and out.loc["A", "buildings_calc"] == 0
    assert out.loc["B", "radius_m"] == 50
    assert res["points_flagged"] == 2  # any difference is flagged with zero tolerance
    # a surveyed radius wins where it is given (> 0): A 95 m takes buildings 1, 4, 5 (not 2 at 99 m)
    import geopandas as gpd
    g = gpd.read_file(pts)
    g["威胁范围"] = [95.0, 0.0]
    g.to_file(tmp_path / "pts_r.gpkg")
    hazard_point_threat(str(tmp_path / "pts_r.gpkg"), str(tmp_path / "o2.gpkg"), buildings=bld, radius_field="威胁范围")
    out = gpd.read_file(tmp_path / "o2.gpkg").set_index("统一编号")
    assert list(out["radius_m"]) == [95.0, 50.0] and out.loc["A", "buildings_calc"] == 3


def test_threat_population_raster_area_weighted(engine, tmp_path):
    from riskmap.risk_plugin.threat import hazard_point_threat
    pts, _ = threat_case(tmp_path)
    # 2 people in every 50 m cell: 800 people / km²
    write_tif(tmp_path / "pop.tif", np.full((20, 20), 2.0, np.float32), cell=50.0, x0=X0 - 500, y0=Y0 + 500)
    res = hazard_point_threat(pts, str(tmp_path / "o.gpkg"), population=str(tmp_path / "pop.tif"))
    import geopandas as gpd
    out = gpd.read_file(tmp_path / "o.gpkg")
    density = 2.0 / 2500.0
    a_area, b_area = math.pi * 100 ** 2, math.pi * 50 ** 2
    assert out["people_raster"].to_numpy() == pytest.approx([density * a_area, density * b_area], rel=3e-3)
    # the circles overlap (120 m apart, radii 100 and 50): the total counts the lens once
    d, r1, r2 = 120.0, 100.0, 50.0
    lens = (r1 ** 2 * math.acos((d * d + r1 * r1 - r2 * r2) / (2 * d * r1)) +
            r2 ** 2 * math.acos((d * d + r2 * r2 - r1 * r1) / (2 * d * r2)) -
            0.5 * math.sqrt((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2)))
    assert res["people_threatened"] == pytest.approx(density * (a_area + b_area - lens), rel=3e-3)
    # the same raster as a density per km²
    write_tif(tmp_path / "dens.tif", np.full((20, 20), 800.0, np.float32), cell=50.0, x0=X0 - 500, y0=Y0 + 500)
    res2 = hazard_point_threat(pts, str(tmp_path / "o2.gpkg"), population=str(tmp_path / "dens.tif"),
                               population_unit="per_km2")
    assert res2["people_threatened"] == pytest.approx(res["people_threatened"], rel=1e-9)


def test_danger_level_at_the_grading_edges(engine):
    from riskmap.risk_plugin.threat import danger_level
    people = [1000, 999.5, 999.4, 999, 500, 499, 100, 99, 0]
    np.testing.assert_array_equal(danger_level(people), [1, 1, 2, 2, 2, 3, 3, 4, 4])
    # property in 万元: 1 亿 = 10000, 5000 万 = 5000, 500 万 = 500
    prop = [10000, 9999.9, 5000, 4999, 500, 499.99, np.nan]
    np.testing.assert_array_equal(danger_level([0] * 7, prop), [1, 2, 2, 3, 3, 4, 4])
    # the more severe of the two
    np.testing.assert_array_equal(danger_level([99, 600, 1200], [6000, 10, 10]), [2, 2, 1])


# --- composite ------------------------------------------------------------------------------------------------
def test_composite_is_the_cellwise_max(engine, tmp_path):
    import shapely
    from riskmap.risk_plugin.composite import composite_zoning
    rng = np.random.default_rng(3)
    a = rng.integers(0, 5, (23, 31)).astype(np.uint8)
    b = rng.integers(0, 5, (23, 31)).astype(np.uint8)
    write_tif(tmp_path / "a.tif", a)
    write_tif(tmp_path / "b.tif", b, nodata=255)
    # a polygon layer: class 3 over columns 10..19 of rows 5..9 (cell edges, so centre and all-touched agree
    # up to the touching ring; use nearest to take cell centres)
    box = shapely.box(X0 + 100.5, Y0 - 99.5, X0 + 199.5, Y0 - 50.5)
    write_gpkg(tmp_path / "p.gpkg", {"危险性等级": [3]}, [box])
    c = np.zeros_like(a)
    c[5:10, 10:20] = 3
    res = composite_zoning([str(tmp_path / "a.tif"), str(tmp_path / "b.tif"), str(tmp_path / "p.gpkg")],
                           str(tmp_path / "m.tif"), resampling="nearest", block_size=8)
    out, transform, _ = read_tif(tmp_path / "m.tif")
    expected = np.maximum(np.maximum(a, b), c)
    np.testing.assert_array_equal(out, expected)
    assert res["cell_size"] == 10.0
    assert res["areas_km2"] == pytest.approx({k: (expected == k).sum() * 100 / 1e6 for k in range(1, 5)})
    # max resampling onto the same grid is the same; onto a 20 m grid it is the max of each 2 x 2 block
    composite_zoning([str(tmp_path / "a.tif"), str(tmp_path / "b.tif")], str(tmp_path / "m20.tif"), cell_size=20)
    out20 = read_tif(tmp_path / "m20.tif")[0]
    ab = np.pad(np.maximum(a, b), ((0, 1), (0, 1)))
    np.testing.assert_array_equal(out20, ab.reshape(12, 2, 16, 2).max(axis=(1, 3)))


def test_composite_weighted_mean(engine, tmp_path):
    from riskmap.risk_plugin.composite import composite_zoning
    a = np.array([[0, 4, 2, 1]], np.uint8)
    b = np.array([[4, 0, 3, 2]], np.uint8)
    write_tif(tmp_path / "a.tif", a)
    write_tif(tmp_path / "b.tif", b)
    composite_zoning([str(tmp_path / "a.tif"), str(tmp_path / "b.tif")], str(tmp_path / "w.tif"),
                     method="weighted", weights="3,1")
    # means (3a + b) / 4: 1.0, 3.0, 2.25, 1.25 -> classes by (0.5, 1.5, 2.5, 3.5]: 1, 3, 2, 1
    np.testing.assert_array_equal(read_tif(tmp_path / "w.tif")[0], [[1, 3, 2, 1]])


def test_composite_unit_table(engine, tmp_path):
    import pandas as pd
    import shapely
    from riskmap.risk_plugin.composite import composite_zoning
    cls = np.zeros((10, 10), np.uint8)
    cls[:, :3] = 4       # west unit: 30 cells class 4, 20 cells class 1
    cls[:, 3:5] = 1
    cls[:, 5:] = 2       # east unit: 50 cells class 2
    cls[0, 9] = 3        # ... except one class 3 cell
    write_tif(tmp_path / "h.tif", cls)
    units = write_gpkg(tmp_path / "u.gpkg", {"名称": ["西乡", "东镇"], "行政区划代码": ["1", "2"]},
                       [shapely.box(X0, Y0 - 100, X0 + 50, Y0), shapely.box(X0 + 50, Y0 - 100, X0 + 100, Y0)])
    res = composite_zoning([str(tmp_path / "h.tif")], str(tmp_path / "o.tif"), units=units,
                           output_table=str(tmp_path / "t.csv"), output_units=str(tmp_path / "ou.gpkg"))
    t = pd.read_csv(tmp_path / "t.csv", dtype={"code": str}).set_index("name")
    assert t.loc["西乡", "class4_km2"] == pytest.approx(0.003) and t.loc["西乡", "class1_km2"] == pytest.approx(0.002)
    assert t.loc["西乡", "dominant_class"] == 4 and t.loc["西乡", "max_class"] == 4
    assert t.loc["东镇", "class2_km2"] == pytest.approx(0.0049) and t.loc["东镇", "class3_km2"] == pytest.approx(0.0001)
    assert t.loc["东镇", "dominant_class"] == 2 and t.loc["东镇", "max_class"] == 3
    assert t.loc["东镇", "class2_pct"] == pytest.approx(98.0)
    assert res["units"][0]["area_km2"] == pytest.approx(0.005)


# --- fire -----------------------------------------------------------------------------------------------------
def fire_case(tmp_path, forest_type):
    """A plane rising north at 20 degrees (slope faces south), 40 x 30 cells of 10 m, all forest of one type,
    a road along the centre line of row 10."""
    import shapely
    rows, cols, cell = 40, 30, 10.0
    y_centres = Y0 - (np.arange(rows) + 0.5) * cell
    z = np.repeat(((y_centres - (Y0 - rows * cell)) * math.tan(math.radians(20)))[:, None], cols, axis=1)
    dem = write_tif(tmp_path / "dem.tif", z.astype(np.float32), cell=cell)
    forest = write_gpkg(tmp_path / f"forest_{forest_type}.gpkg", {"林分类型": [forest_type]},
                        [shapely.box(X0, Y0 - rows * cell, X0 + cols * cell, Y0)])
    road_y = Y0 - 10.5 * cell
    roads = write_gpkg(tmp_path / "roads.gpkg", {"道路等级": ["县道"]},
                       [shapely.LineString([(X0 - 50, road_y), (X0 + cols * cell + 50, road_y)])])
    return dem, forest, roads


def test_fire_index_by_hand_and_monotone_in_flammability(engine, tmp_path):
    from riskmap.risk_plugin.definitions import fire as D
    from riskmap.risk_plugin.fire import fire_hazard
    types = sorted(D.FLAMMABILITY, key=D.FLAMMABILITY.get)   # orchard (0.2) … conifer (1.0)
    indices, classes = [], []
    for t in types:
        dem, forest, roads = fire_case(tmp_path, t)
        res = fire_hazard(dem, forest, str(tmp_path / f"c_{t}.tif"), roads=roads,
                          output_index=str(tmp_path / f"i_{t}.tif"), block_size=16)
        assert res["factors"] == ["fuel", "slope", "aspect", "ignition"]
        indices.append(read_tif(tmp_path / f"i_{t}.tif")[0])
        classes.append(read_tif(tmp_path / f"c_{t}.tif")[0])
    # by hand, interior cells: slope 20 deg -> 0.6, aspect 180 -> 0.5 + 0.5 cos(22.5 deg), road 10 m per row away
    aspect = 0.5 + 0.5 * math.cos(math.radians(180 - 202.5))
    for t, index in zip(types, indices):
        for row in (10, 15, 30, 35):
            road = max(0.0, 1 - abs(row - 10) * 10.0 / 500.0)
            hand = (0.35 * D.FLAMMABILITY[t] + 0.15 * 0.6 + 0.10 * aspect + 0.30 * road) / 0.9
            assert index[row, 15] == pytest.approx(hand, abs=1e-5), (t, row)
    # more flammable stands never rank lower, and the classes follow
    for lo, hi, ilo, ihi in zip(classes, classes[1:], indices, indices[1:]):
        assert (ihi >= ilo).all() and (hi >= lo).all()
    assert (classes[-1] > classes[0]).any()
    assert set(np.unique(classes[-1])) <= {1, 2, 3, 4} and set(np.unique(classes[0])) <= {1, 2, 3, 4}


def test_fire_needs_an_ignition_source_and_is_zero_outside_forest(engine, tmp_path):
    import shapely
    from riskmap.risk_plugin.errors import ParameterError
    from riskmap.risk_plugin.fire import fire_hazard
    dem, forest, roads = fire_case(tmp_path, "conifer")
    with pytest.raises(ParameterError, match="settlements"):
        fire_hazard(dem, forest, str(tmp_path / "x.tif"))
    half = write_gpkg(tmp_path / "half.gpkg", {"林分类型": ["针叶林"]}, [shapely.box(X0, Y0 - 400, X0 + 150, Y0)])
    res = fire_hazard(dem, half, str(tmp_path / "h.tif"), roads=roads)
    out = read_tif(tmp_path / "h.tif")[0]
    assert (out[:, 15:] == 0).all() and (out[:, :15] >= 1).all()
    assert res["forest_cells"] == 40 * 15


# --- the algorithms on the demo county: processing.run and qgis_process -----------------------------------------
def area_by_class(path, nodata=255):
    """km² per class 1..4 of a class raster in a metric CRS, counted by hand."""
    arr, t, _ = read_tif(path)
    cell_km2 = abs(t.a * t.e) / 1e6
    return {k: float((arr == k).sum() * cell_km2) for k in range(1, 5)}


def numbers(results, keys):
    return {k: float(results[k]) for k in keys}


AREAS = [f"AREA_KM2_{k}" for k in range(1, 5)]


@pytest.fixture(scope="module")
def hazard_runs(alg, demo_county, tmp_path_factory):
    """Each algorithm once through processing.run on the demo county."""
    d, out = demo_county, tmp_path_factory.mktemp("hazards")
    runs = {"out": out}
    runs["flood"] = alg("riskmap:floodhazard", {"DEPTH": d["flood_depth_100"], "OUTPUT": str(out / "flood.tif")})
    runs["flood_zones"] = alg("riskmap:floodhazard", {"ZONES": d["flood_zones"], "OUTPUT": str(out / "flood_rp.tif"),
                                                      "OUTPUT_ZONES": str(out / "flood_rp.gpkg")})
    runs["fire"] = alg("riskmap:firehazard", {"DEM": d["dem"], "FOREST": d["forest"], "SETTLEMENTS": d["buildings"],
                                              "ROADS": d["roads"], "FIRE_HISTORY": d["fire_history"],
                                              "OUTPUT": str(out / "fire.tif"), "OUTPUT_INDEX": str(out / "fire_index.tif")})
    runs["composite"] = alg("riskmap:compositezoning", {
        "HAZARDS": [str(out / "flood.tif"), str(out / "fire.tif"), str(out / "flood_rp.gpkg")],
        "UNITS": d["townships"], "OUTPUT": str(out / "composite.tif"), "OUTPUT_TABLE": str(out / "composite.csv"),
        "OUTPUT_UNITS": str(out / "composite_units.gpkg")})
    runs["threat"] = alg("riskmap:hazardpointthreat", {
        "POINTS": d["geohazard_points"], "BUILDINGS": d["buildings"], "POPULATION": d["population"],
        "OUTPUT_POINTS": str(out / "threat_points.gpkg"), "OUTPUT_ZONES": str(out / "threat_zones.gpkg")})
    return runs


def test_demo_flood(hazard_runs, demo_county):
    import geopandas as gpd
    r, out = hazard_runs["flood"], hazard_runs["out"]
    assert numbers(r, AREAS) == pytest.approx({f"AREA_KM2_{k}": v for k, v in area_by_class(r["OUTPUT"]).items()})
    depth = read_tif(demo_county["flood_depth_100"])[0]
    classes = read_tif(r["OUTPUT"])[0]
    wet = depth > 0
    assert ((classes > 0) == wet).all() and (classes[depth > 2.0] == 4).all()
    rz = hazard_runs["flood_zones"]
    zones = gpd.read_file(demo_county["flood_zones"])
    ten = zones[zones["重现期"] == 10].area.sum() / 1e6
    assert rz["AREA_KM2_4"] == pytest.approx(ten, rel=1e-9)
    # nested zones: class 4 + 3 + 2 is the 100-year extent
    hundred = zones[zones["重现期"] == 100].union_all().union(zones.union_all()).area / 1e6
    assert rz["AREA_KM2_4"] + rz["AREA_KM2_3"] + rz["AREA_KM2_2"] == pytest.approx(hundred, rel=1e-6)
    assert gpd.read_file(out / "flood_rp.gpkg").area.sum() / 1e6 == pytest.approx(hundred, rel=1e-6)


def test_demo_fire(hazard_runs, demo_county):
    import geopandas as gpd
    r = hazard_runs["fire"]
    assert numbers(r, AREAS) == pytest.approx({f"AREA_KM2_{k}": v for k, v in area_by_class(r["OUTPUT"]).items()})
    forest_km2 = gpd.read_file(demo_county["forest"]).union_all().area / 1e6
    assert r["FOREST_KM2"] == pytest.approx(forest_km2, rel=0.02)   # rasterised by cell centre
    index = read_tif(r["OUTPUT_INDEX"])[0]
    classes = read_tif(r["OUTPUT"])[0]
    forest = classes > 0
    assert (np.isnan(index) == ~forest).all()
    assert (classes[forest & (index > 0.7)] == 4).all() and (classes[forest & (index <= 0.3)] == 1).all()


def test_demo_composite_is_max_of_flood_fire_and_zones(hazard_runs, demo_county):
    import geopandas as gpd
    import pandas as pd
    from rasterio.features import rasterize
    r, out = hazard_runs["composite"], hazard_runs["out"]
    comp, transform, _ = read_tif(r["OUTPUT"])
    flood, fire = read_tif(out / "flood.tif")[0], read_tif(out / "fire.tif")[0]
    fire = np.where(fire == 255, 0, fire)          # DEM nodata counts as no hazard
    assert comp.shape == flood.shape == fire.shape  # the townships cover the DEM: one 20 m grid
    # the return-period polygons, each class burned on its own with every touched cell ('max' resampling)
    zones = gpd.read_file(out / "flood_rp.gpkg")
    burned = [rasterize(zones.geometry[zones["hazard_class"] == k], out_shape=comp.shape, transform=transform,
                        all_touched=True, default_value=k, fill=0, dtype="uint8") for k in (2, 3, 4)]
    np.testing.assert_array_equal(comp, np.maximum.reduce([flood, fire, *burned]))
    table = pd.read_csv(r["OUTPUT_TABLE"])
    assert len(table) == 4
    assert table[[f"class{k}_km2" for k in range(1, 5)]].sum().to_numpy() == pytest.approx(
        [r[f"AREA_KM2_{k}"] for k in range(1, 5)], rel=1e-9)
    assert table["area_km2"].sum() == pytest.approx(comp.size * 400 / 1e6, rel=1e-9)


def test_demo_threat(hazard_runs, demo_county):
    import geopandas as gpd
    r, out = hazard_runs["threat"], hazard_runs["out"]
    pts = gpd.read_file(demo_county["geohazard_points"])
    zones = gpd.read_file(out / "threat_zones.gpkg")
    bld = gpd.read_file(demo_county["buildings"])
    assert r["POINTS"] == len(pts) == len(zones)
    # people threatened, by hand: each building touching any zone once
    hit = gpd.sjoin(bld, zones[["geometry"]], predicate="intersects").index.unique()
    assert bld["居住人数"].notna().all()
    assert r["PEOPLE_THREATENED"] == pytest.approx(bld.loc[hit, "居住人数"].sum())
    assert r["BUILDINGS_THREATENED"] == len(hit)
    res = gpd.read_file(out / "threat_points.gpkg")
    diff = (res["people_calc"] - res["威胁人数"]).abs()
    assert r["POINTS_FLAGGED"] == int((diff > np.maximum(0.5 * res["威胁人数"], 10)).sum())
    assert set(res["danger_level"]) <= {1, 2, 3, 4}


@pytest.mark.parametrize("key,alg_id", [("flood", "riskmap:floodhazard"), ("fire", "riskmap:firehazard"),
                                        ("composite", "riskmap:compositezoning"),
                                        ("threat", "riskmap:hazardpointthreat")])
def test_qgis_process_matches_processing_run(hazard_runs, demo_county, qgis_process, tmp_path, key, alg_id):
    d, out = demo_county, hazard_runs["out"]
    params = {
        "flood": {"DEPTH": d["flood_depth_100"], "DEPTH_BREAKS": "0,0.5,1,2", "OUTPUT": str(tmp_path / "o.tif")},
        "fire": {"DEM": d["dem"], "FOREST": d["forest"], "SETTLEMENTS": d["buildings"], "ROADS": d["roads"],
                 "FIRE_HISTORY": d["fire_history"], "OUTPUT": str(tmp_path / "o.tif")},
        "composite": {"HAZARDS": [str(out / "flood.tif"), str(out / "fire.tif"), str(out / "flood_rp.gpkg")],
                      "UNITS": d["townships"], "OUTPUT": str(tmp_path / "o.tif")},
        "threat": {"POINTS": d["geohazard_points"], "BUILDINGS": d["buildings"], "POPULATION": d["population"],
                   "OUTPUT_POINTS": str(tmp_path / "p.gpkg"), "OUTPUT_ZONES": str(tmp_path / "z.gpkg")},
    }[key]
    code, results, _ = qgis_process.run(alg_id, params)
    assert code == 0
    expected = hazard_runs[key]
    keys = AREAS if key != "threat" else ["POINTS", "POINTS_FLAGGED", "PEOPLE_THREATENED", "BUILDINGS_THREATENED",
                                          "HOUSEHOLDS_THREATENED", "LEVEL_CHANGED"]
    assert numbers(results, keys) == pytest.approx(numbers(expected, keys))
    if key != "threat":
        np.testing.assert_array_equal(read_tif(tmp_path / "o.tif")[0], read_tif(expected["OUTPUT"])[0])


def test_cancel_leaves_no_output(engine, tmp_path):
    from riskmap.risk_plugin.composite import composite_zoning
    from riskmap.risk_plugin.errors import Cancelled
    from riskmap.risk_plugin.fire import fire_hazard
    from riskmap.risk_plugin.flood import flood_hazard
    from riskmap.risk_plugin.progress import Progress
    calls = []

    def cancel_after(n):
        calls.clear()
        return Progress(is_canceled=lambda: calls.append(1) or len(calls) > n)

    write_tif(tmp_path / "d.tif", np.full((40, 40), 1.2, np.float32))
    with pytest.raises(Cancelled):
        flood_hazard(str(tmp_path / "f.tif"), depth=str(tmp_path / "d.tif"), block_size=8, progress=cancel_after(5))
    dem, forest, roads = fire_case(tmp_path, "conifer")
    with pytest.raises(Cancelled):
        fire_hazard(dem, forest, str(tmp_path / "fire.tif"), roads=roads, output_index=str(tmp_path / "i.tif"),
                    block_size=8, progress=cancel_after(5))
    write_tif(tmp_path / "k.tif", np.full((40, 40), 2, np.uint8))
    with pytest.raises(Cancelled):
        composite_zoning([str(tmp_path / "k.tif")], str(tmp_path / "c.tif"), block_size=8, progress=cancel_after(5))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.tif", "dem.tif", "forest_conifer.gpkg", "k.tif", "roads.gpkg"]


def test_composite_refuses_depth_rasters(engine, tmp_path):
    from riskmap.risk_plugin.composite import composite_zoning
    from riskmap.risk_plugin.errors import InputError
    write_tif(tmp_path / "d.tif", np.full((4, 4), 1.2, np.float32))
    with pytest.raises(InputError, match="floodhazard"):
        composite_zoning([str(tmp_path / "d.tif")], str(tmp_path / "c.tif"))
    assert not (tmp_path / "c.tif").exists()
