"""Warning coverage and geohazard monitoring (issue 13).

Audible radius by the FEMA CPG 1-17 rule computed by hand; coverage of houses at known distances; every
person counted once however many sirens they hear; coverage monotone in radius and in terrain loss; line
of sight over a ridge by hand and against a per-pair loop; monitored geohazard points by hand; Jakarta's
real population grid against an independent k-d tree count; the algorithm through processing.run and
qgis_process.
"""
import numpy as np
import pytest

CRS = "EPSG:4545"
X0, Y0 = 500000.0, 3300000.0


def P(x, y):
    import shapely
    return shapely.Point(X0 + x, Y0 + y)


def write_gpkg(path, columns, geoms, crs=CRS):
    import geopandas as gpd
    gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs).to_file(str(path), engine="pyogrio")
    return str(path)


def test_audible_radius_is_the_cpg_rule(engine):
    from riskmap.risk_plugin.definitions import warning as D
    from riskmap.risk_plugin.warning import radius_table, shrink
    # 115 dB at 100 ft, 10 dB lost per doubling, effective to 70 dB: 45 dB = 4.5 doublings
    assert D.AUDIBLE_RADIUS_M["siren"] == pytest.approx(30.48 * 2 ** 4.5, abs=0.1) == pytest.approx(689.7, abs=0.1)
    assert D.AUDIBLE_RADIUS_M["loudspeaker"] == pytest.approx(30.48 * 2 ** 2.5, abs=0.1)
    assert radius_table("loudspeaker=200")["loudspeaker"] == 200 and radius_table(None)["siren"] == 689.7
    assert shrink(20) == 0.25 and shrink(10) == 0.5


@pytest.fixture
def village(engine, tmp_path):
    """A siren at (0, 0) and a loudspeaker at (700, 0); houses at known distances; two villages."""
    import shapely
    dev = write_gpkg(tmp_path / "dev.gpkg", {"名称": ["镇警报器", "村1号喇叭"], "类型": ["电声警报器", "应急广播"]},
                     [P(0, 0), P(700, 0)])
    houses = [P(600, 0), P(0, 700), P(700, 150), P(700, -180), P(-800, 0), P(500, 100)]
    bld = write_gpkg(tmp_path / "bld.gpkg", {"居住人数": [10, 20, 30, 40, 50, 60]}, houses)
    vil = write_gpkg(tmp_path / "vil.gpkg", {"名称": ["西村", "东村"], "乡镇": ["甲镇", "甲镇"]},
                     [shapely.box(X0 - 1000, Y0 - 1000, X0 + 650, Y0 + 1000),
                      shapely.box(X0 + 650, Y0 - 1000, X0 + 2000, Y0 + 1000)])
    return {"dev": dev, "bld": bld, "vil": vil, "dir": tmp_path}


def test_coverage_by_hand_and_counted_once(village):
    from riskmap.risk_plugin.warning_run import warning_coverage
    c = village
    r = warning_coverage(c["dev"], c["bld"], units=c["vil"])
    dem = r["frames"]["demand"]
    # siren 689.7 m: (600, 0) 600 m yes, (0, 700) no, (700, ±y) 716 / 723 m no, (-800, 0) no, (500, 100) 510 m yes;
    # loudspeaker 172.4 m: (600, 0) 100 m yes (it hears both), (700, 150) yes, (700, -180) no, (500, 100) 224 m no
    assert list(dem["covered"]) == [1, 0, 1, 0, 0, 1]
    assert list(dem["devices_heard"]) == [2, 0, 1, 0, 0, 1]
    assert r["population_covered"] == 10 + 30 + 60 == dem.loc[dem["covered"] == 1, "people"].sum()  # once each
    tab = r["frames"]["table"].set_index("name")
    assert tab.loc["西村", "covered"] == 70 and tab.loc["东村", "covered"] == 30 and tab.loc["甲镇", "people"] == 210
    assert tab.loc["合计 / total", "covered_pct"] == pytest.approx(100 * 100 / 210, abs=0.01)
    assert r["villages_below_target"] == 2 and r["townships_below_target"] == 1
    assert dem["nearest_device"].iloc[0] == "村1号喇叭" and dem["nearest_m"].iloc[0] == pytest.approx(100)
    # a bigger loudspeaker reaches (700, -180) too
    big = warning_coverage(c["dev"], c["bld"], units=c["vil"], radii="loudspeaker=200")
    assert big["population_covered"] == 140


def test_ninety_five_percent_is_met_not_missed(engine, tmp_path):
    import shapely
    from riskmap.risk_plugin.warning_run import warning_coverage
    dev = write_gpkg(tmp_path / "d.gpkg", {"类型": ["警报器"]}, [P(0, 0)])
    bld = write_gpkg(tmp_path / "b.gpkg", {"居住人数": [95, 5, 94, 6]}, [P(10, 0), P(2000, 0), P(0, -10), P(0, -2000)])
    vil = write_gpkg(tmp_path / "v.gpkg", {"名称": ["东村", "南村"]},
                     [shapely.box(X0 + 5, Y0 - 5, X0 + 2100, Y0 + 5), shapely.box(X0 - 5, Y0 - 2100, X0 + 5, Y0 - 5)])
    r = warning_coverage(dev, bld, units=vil)
    tab = r["frames"]["table"].set_index("name")
    assert tab.loc["东村", "covered_pct"] == 95.0 and tab.loc["东村", "below_target"] == 0
    assert tab.loc["南村", "covered_pct"] == 94.0 and tab.loc["南村", "below_target"] == 1


def test_coverage_monotone_in_radius_and_terrain_loss(engine, tmp_path):
    from rasterio.transform import from_origin
    from riskmap.risk_plugin.io import write_raster
    from riskmap.risk_plugin.warning_run import warning_coverage
    rng = np.random.default_rng(5)
    n = 400
    dev = write_gpkg(tmp_path / "d.gpkg", {"类型": rng.choice(["警报器", "高音喇叭"], 12)},
                     [P(x, y) for x, y in rng.uniform(0, 3000, (12, 2))])
    bld = write_gpkg(tmp_path / "b.gpkg", {"居住人数": rng.integers(1, 8, n)}, [P(x, y) for x, y in rng.uniform(0, 3000, (n, 2))])
    # rolling hills, 10 m cells
    yy, xx = np.mgrid[0:320, 0:320] * 10.0
    z = (200 + 25 * np.sin(xx / 170) * np.cos(yy / 230) + 10 * np.sin(xx / 60 + yy / 90)).astype(np.float32)
    dem = write_raster(z, str(tmp_path / "dem.tif"), from_origin(X0 - 100, Y0 + 3100, 10, 10), CRS, -9999.0)
    cov = [warning_coverage(dev, bld, radii=f"siren={700 * f}; loudspeaker={170 * f}")["population_covered"]
           for f in (0.5, 0.75, 1.0, 1.5, 2.0)]
    assert cov == sorted(cov) and cov[0] < cov[-1]
    by_loss = [warning_coverage(dev, bld, dem=dem, terrain_loss_db=db, radii="siren=700; loudspeaker=170")
               for db in (0, 6, 20, 999)]
    lost = [r["population_covered"] for r in by_loss]
    assert lost == sorted(lost, reverse=True) and lost[0] == cov[2] and lost[-1] < lost[0]
    assert by_loss[-1]["population_blocked"] == pytest.approx(lost[0] - lost[-1])


def test_line_of_sight_over_a_ridge_by_hand(engine, tmp_path):
    from rasterio.transform import from_origin
    from riskmap.risk_plugin.io import write_raster
    from riskmap.risk_plugin.warning_run import warning_coverage
    z = np.full((20, 100), 100.0, np.float32)
    z[:, 30] = 110.0                    # a 10 m ridge across x = 300–310 m
    dem = write_raster(z, str(tmp_path / "dem.tif"), from_origin(X0 - 5, Y0 + 100, 10, 10), CRS, -9999.0)
    bld = write_gpkg(tmp_path / "b.gpkg", {"居住人数": [7]}, [P(600, 0)])
    for height, heard in ((15.0, 0), (30.0, 1)):
        # the sight line from the horn (100 + h) to the ear (101.5) crosses x = 305 at 100 + (h + 1.5) / 2:
        # 108.25 m for a 15 m mast (below the 110 m ridge: blocked), 115.75 m for 30 m (clear)
        dev = write_gpkg(tmp_path / f"d{height:g}.gpkg", {"类型": ["警报器"], "安装高度": [height]}, [P(0, 0)])
        r = warning_coverage(dev, bld, dem=dem)
        assert r["frames"]["demand"]["covered"].iloc[0] == heard
        assert r["population_blocked"] == 7 * (1 - heard)
    # behind the ridge but within a quarter of the radius (20 dB): heard over it
    dev = write_gpkg(tmp_path / "near.gpkg", {"类型": ["警报器"], "安装高度": [15.0]}, [P(400, 0)])
    near = write_gpkg(tmp_path / "near_b.gpkg", {"居住人数": [3]}, [P(250, 0)])
    assert warning_coverage(dev, near, dem=dem)["population_covered"] == 3


def test_line_of_sight_equals_a_loop_over_pairs(engine):
    from rasterio.transform import from_origin
    from riskmap.risk_plugin.warning import blocked_in_window
    rng = np.random.default_rng(9)
    dem = (rng.normal(0, 1, (60, 80)).cumsum(axis=0).cumsum(axis=1) * 0.5 + 50).astype(float)
    tr = from_origin(0, 600, 10, 10)
    n = 300
    ax, ay = rng.uniform(0, 800, n), rng.uniform(0, 600, n)
    bx, by = rng.uniform(0, 800, n), rng.uniform(0, 600, n)
    az, bz = rng.uniform(40, 120, n), rng.uniform(40, 120, n)
    got = blocked_in_window(dem, tr, ax, ay, az, bx, by, bz, 10.0)
    ref = np.zeros(n, bool)
    for i in range(n):   # the same definition, one pair at a time: samples every 10 m strictly between the ends
        d = np.hypot(bx[i] - ax[i], by[i] - ay[i])
        steps = max(int(np.ceil(d / 10.0)), 1)
        for k in range(1, steps):
            t = k / steps
            x, y = ax[i] + (bx[i] - ax[i]) * t, ay[i] + (by[i] - ay[i]) * t
            col, row = int(np.floor(x / 10)), int(np.floor((600 - y) / 10))
            if 0 <= row < 60 and 0 <= col < 80 and dem[row, col] > az[i] + (bz[i] - az[i]) * t:
                ref[i] = True
                break
    assert (got == ref).all() and 20 < ref.sum() < n - 20


def test_monitored_points_by_hand(engine, tmp_path):
    from riskmap.risk_plugin.warning_run import warning_coverage
    # small landslide: threat radius 100 m; large debris flow: 500 m (definitions.threat)
    pts = write_gpkg(tmp_path / "p.gpkg", {"统一编号": ["1", "2", "3"], "名称": ["滑坡1", "滑坡2", "泥石流3"],
                                           "灾害类型": ["滑坡", "滑坡", "泥石流"], "规模等级": ["小型", "小型", "大型"],
                                           "威胁人数": [12, 30, 80], "半径": [None, 150.0, None]},
                     [P(0, 0), P(2000, 0), P(5000, 0)])
    mon = write_gpkg(tmp_path / "m.gpkg", {"设备类型": ["裂缝计", "雨量计", "GNSS"]}, [P(80, 0), P(2120, 0), P(5450, 0)])
    dev = write_gpkg(tmp_path / "d.gpkg", {"类型": ["警报器"]}, [P(0, 0)])
    bld = write_gpkg(tmp_path / "b.gpkg", {"居住人数": [1]}, [P(0, 10)])
    r = warning_coverage(dev, bld, geohazard_points=pts, monitoring=mon, output_points=str(tmp_path / "out.gpkg"))
    out = r["frames"]["points"]
    assert list(out["devices_in_zone"]) == [1, 0, 1] and list(out["monitored"]) == [1, 0, 1]
    assert r["points_monitored"] == 2 and r["monitored_share"] == pytest.approx(2 / 3)
    assert r["people_unmonitored"] == 30 and r["unmonitored_names"] == ["滑坡2"]
    # two devices needed per point: none is monitored
    r2 = warning_coverage(dev, bld, geohazard_points=pts, monitoring=mon, min_devices=2)
    assert r2["points_monitored"] == 0 and r2["people_unmonitored"] == 122
    # the surveyed 150 m radius of point 2 takes in its rain gauge at 120 m
    r3 = warning_coverage(dev, bld, geohazard_points=pts, monitoring=mon, threat_radius_field="半径")
    assert r3["points_monitored"] == 3 and r3["people_unmonitored"] == 0


def test_jakarta_population_against_a_kd_tree(engine, shared_data, tmp_path):
    """Real data: sirens at Jakarta's OSM government buildings, people from the HKV population grid; the
    covered people equal an independent count (scipy k-d tree over cell centres), each cell once."""
    import geopandas as gpd
    from scipy.spatial import cKDTree
    from riskmap.risk_plugin.shelter_run import load_demand
    from riskmap.risk_plugin.warning_run import warning_coverage
    b = gpd.read_file(shared_data / "jakarta" / "osm_buildings_use.gpkg", engine="pyogrio").to_crs("EPSG:32748")
    gov = b[b["use"] == "government"]
    assert len(gov) > 20
    dev = gpd.GeoDataFrame({"类型": ["警报器"] * len(gov)}, geometry=gov.geometry.centroid.values, crs="EPSG:32748")
    dev.to_file(tmp_path / "sirens.gpkg", engine="pyogrio")
    pop = str(shared_data / "jakarta" / "population.tif")
    r = warning_coverage(str(tmp_path / "sirens.gpkg"), pop, units=str(shared_data / "jakarta" / "kecamatan.gpkg"),
                         unit_field="KEC_NAME", repair=True)        # two district polygons self-intersect
    cells, _ = load_demand(pop)
    cells = cells.to_crs("EPSG:32748")
    xy = np.column_stack([cells.geometry.x, cells.geometry.y])
    near = cKDTree(np.column_stack([dev.geometry.x, dev.geometry.y])).query(xy, distance_upper_bound=689.7)[0]
    expected = float(cells["people"].to_numpy()[np.isfinite(near)].sum())
    assert r["population_covered"] == pytest.approx(expected, rel=1e-9)
    assert r["population_total"] == pytest.approx(float(cells["people"].sum()))
    tab = r["frames"]["table"]
    assert tab[tab["level"] == "village"]["covered"].sum() == pytest.approx(expected, abs=1.0)   # each cell once
    assert 0 < r["covered_share"] < 0.5


def test_warningcoverage_processing_run_and_qgis_process(alg, qgis_process, demo_county, tmp_path):
    import geopandas as gpd
    import pandas as pd
    from riskmap.risk_plugin.warning_run import warning_coverage
    d = demo_county
    params = {"DEVICES": d["warning_devices"], "DEMAND": d["buildings"], "UNITS": d["villages"], "DEM": d["dem"],
              "GEOHAZARD_POINTS": d["geohazard_points"], "MONITORING": d["monitoring_devices"],
              "OUTPUT_DEMAND": str(tmp_path / "dem.gpkg"), "OUTPUT_UNITS": str(tmp_path / "vil.gpkg"),
              "OUTPUT_TABLE": str(tmp_path / "tab.xlsx"), "OUTPUT_COVERAGE": str(tmp_path / "cov.gpkg"),
              "OUTPUT_POINTS": str(tmp_path / "pts.gpkg")}
    res = alg("riskmap:warningcoverage", params)
    ref = warning_coverage(d["warning_devices"], d["buildings"], units=d["villages"], dem=d["dem"],
                           geohazard_points=d["geohazard_points"], monitoring=d["monitoring_devices"])
    assert res["POPULATION_COVERED"] == pytest.approx(ref["population_covered"])
    assert 0 < res["POPULATION_COVERED"] < res["POPULATION_TOTAL"] and res["POPULATION_BLOCKED"] > 0
    assert res["COVERED_SHARE"] == pytest.approx(res["POPULATION_COVERED"] / res["POPULATION_TOTAL"])
    dem = gpd.read_file(tmp_path / "dem.gpkg")
    assert dem.loc[dem["covered"] == 1, "people"].sum() == pytest.approx(res["POPULATION_COVERED"], abs=0.01)
    vil = gpd.read_file(tmp_path / "vil.gpkg")
    assert vil["below_target"].sum() == res["VILLAGES_BELOW_TARGET"] and vil["covered"].sum() <= res["POPULATION_COVERED"]
    tab = pd.read_excel(tmp_path / "tab.xlsx")
    assert tab["覆盖人数 covered"].iloc[-1] == pytest.approx(res["POPULATION_COVERED"], abs=0.1)
    pts = gpd.read_file(tmp_path / "pts.gpkg")
    assert pts["monitored"].sum() == res["POINTS_MONITORED"] and res["POINTS"] == len(pts)
    assert pts.loc[pts["monitored"] == 0, "people"].sum() == res["PEOPLE_UNMONITORED"]
    cov = gpd.read_file(tmp_path / "cov.gpkg")
    assert set(cov["device_type"]) == {"siren", "loudspeaker"} and (cov["area_km2"] > 0).all()
    from riskmap.risk_plugin.webmap_layers import prepare_vector
    assert prepare_vector(str(tmp_path / "dem.gpkg")).style.key == "warning_status"
    assert prepare_vector(str(tmp_path / "pts.gpkg")).style.key == "monitoring_status"
    assert prepare_vector(str(tmp_path / "vil.gpkg")).style.key == "coverage_pct"
    no_dem = {k: v for k, v in params.items() if k != "DEM"}
    code, out, _ = qgis_process.run("riskmap:warningcoverage", dict(
        no_dem, TERRAIN_LOSS_DB=20, OUTPUT_DEMAND=str(tmp_path / "q.gpkg"), OUTPUT_UNITS=str(tmp_path / "qv.gpkg"),
        OUTPUT_TABLE=str(tmp_path / "q.csv"), OUTPUT_COVERAGE=str(tmp_path / "qc.gpkg"),
        OUTPUT_POINTS=str(tmp_path / "qp.gpkg")))
    assert code == 0
    # without the DEM nothing is blocked: exactly the people in range
    assert out["POPULATION_COVERED"] == pytest.approx(res["POPULATION_COVERED"] + res["POPULATION_BLOCKED"])
    assert out["POPULATION_BLOCKED"] == 0 and out["POINTS_MONITORED"] == res["POINTS_MONITORED"]
