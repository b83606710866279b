"""riskmap:exposure (issue 4): hand-built cases for every counting rule with known answers, the exact
cell-coverage method against GEOS, population conservation through reprojection and resampling, and
the Jakarta data (flood depth × population per kecamatan / kelurahan; flood zones × buildings with
mixed-case FLOODPRONE mapped by the parameter)."""
import numpy as np
import pytest

CRS = "EPSG:4545"
X0, Y0 = 500000.0, 3300000.0
POP = np.arange(1, 17, dtype=np.float32).reshape(4, 4)      # 100 m cells; column sums 28, 32, 36, 40
HAZ_COLS = np.array([4, 2, 0, 1], dtype=np.uint8)           # class per 100 m column


def write_tif(path, array, cell, crs=CRS, nodata=None, x0=X0, y0=Y0):
    from rasterio.transform import from_origin
    from riskmap.risk_plugin.io import write_raster
    return write_raster(np.asarray(array), str(path), from_origin(x0, y0, cell, cell), crs, nodata)


def write_gpkg(path, columns, geoms, crs=CRS):
    import geopandas as gpd
    gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs).to_file(str(path), engine="pyogrio")
    return str(path)


def box(x0, y0, x1, y1):
    """A box in metres from the grid origin (x right, y down from the top edge)."""
    import shapely
    return shapely.box(X0 + x0, Y0 - y1, X0 + x1, Y0 - y0)


@pytest.fixture(scope="module")
def hand(engine, tmp_path_factory):
    """4 × 4 population cells of 100 m (1..16 people), a class raster per column, two tiling units
    split at x = 140 m (inside column 1), and a tiny unit inside cell (row 0, column 1)."""
    d = tmp_path_factory.mktemp("exposure_hand")
    p = {"dir": d}
    p["pop"] = write_tif(d / "pop.tif", POP, 100.0, nodata=-9999.0)
    p["haz"] = write_tif(d / "haz.tif", np.tile(HAZ_COLS, (4, 1)), 100.0, nodata=255)
    p["units"] = write_gpkg(d / "units.gpkg", {"名称": ["A", "B"], "行政区划代码": ["1", "2"]},
                            [box(0, 0, 140, 400), box(140, 0, 400, 400)])
    p["tiny"] = write_gpkg(d / "tiny.gpkg", {"名称": ["T"], "行政区划代码": ["9"]}, [box(110, 10, 140, 90)])
    # hazard polygons with mixed-case text: YES/yes → 3, No → 0, a 10 m 'Extreme' square → 4
    p["zones"] = write_gpkg(d / "zones.gpkg", {"FLOODPRONE": ["YES", "yes", "No", "Extreme"]},
                            [box(0, 0, 140, 400), box(140, 0, 260, 400), box(260, 0, 400, 400), box(310, 80, 320, 90)])
    # buildings: b1 inside column 0; b2 straddles columns 1|2 with its centroid in column 2
    p["buildings"] = write_gpkg(d / "b.gpkg", {"居住人数": [5, 7]}, [box(10, 10, 30, 20), box(190, 50, 215, 60)])
    import shapely
    p["facilities"] = write_gpkg(d / "f.gpkg", {"名称": ["小学", "卫生院", "敬老院"], "类型": ["学校", "卫生院", "养老院"]},
                                 shapely.points([X0 + 50, X0 + 350, X0 + 250], [Y0 - 50, Y0 - 350, Y0 - 250]))
    return p


def level_rows(result, level=0):
    df = result["frames"][level][0]
    return {name: row for name, row in zip(df["name"], df.to_dict("records"))}


# --- the cell rule, by hand -----------------------------------------------------------------------------
@pytest.mark.parametrize("rule, a_total, tiny_total", [
    ("centre", 28.0, 0.0),            # A holds the centres of column 0 only; no centre lies in T
    ("all_touched", 28.0, 2.0),       # column 1 touches A but its centres are in B; T takes its whole cell
    ("fraction", 28.0 + 0.4 * 32, 2.0 * 30 * 80 / 100 ** 2),   # 40 % of column 1; 30 × 80 m of a 2-person cell
])
def test_cell_rules_by_hand(hand, rule, a_total, tiny_total):
    from riskmap.risk_plugin.exposure import UnitSpec, run_exposure
    res = run_exposure(hazard=hand["haz"], population=hand["pop"], cell_rule=rule,
                       units=[UnitSpec(hand["units"]), UnitSpec(hand["tiny"])])
    a, b = level_rows(res)["A"], level_rows(res)["B"]
    assert a["pop_total"] == pytest.approx(a_total)
    assert b["pop_total"] == pytest.approx(136.0 - a_total)
    assert level_rows(res, 1)["T"]["pop_total"] == pytest.approx(tiny_total)
    # every person once: units + outside = raster total, on both levels
    for df, _ in res["frames"]:
        assert df["pop_total"].sum() == pytest.approx(136.0)
    # classes: A's people are in column 0 (class 4) and, for 'fraction', 40 % of column 1 (class 2)
    assert a["pop_c4"] == pytest.approx(28.0)
    assert a["pop_c2"] == pytest.approx(a_total - 28.0)
    assert b["pop_c1"] == pytest.approx(40.0) and b["pop_c0"] == pytest.approx(36.0)
    assert res["POPULATION_TOTAL"] == pytest.approx(136.0)
    assert res["POPULATION_EXPOSED"] == pytest.approx(136.0 - 36.0)


def test_population_cells_split_to_the_hazard_grid(hand):
    """A 50 m hazard grid: each 100 m population cell is split into 2 × 2 sub-cells of a quarter each."""
    from riskmap.risk_plugin.exposure import UnitSpec, run_exposure
    d = hand["dir"]
    fine = np.zeros((8, 8), np.uint8)
    fine[:, :3] = 4                                   # class 4 on x < 150 m: column 0 and half of column 1
    write_tif(d / "fine.tif", fine, 50.0, nodata=255)
    res = run_exposure(hazard=str(d / "fine.tif"), population=hand["pop"], units=[UnitSpec(hand["units"])])
    assert res["counts"].subdivision == 2
    assert res["POPULATION_EXPOSED"] == pytest.approx(28.0 + 32.0 / 2)
    # unit A (x < 140): the sub-cell centres at 25, 75, 125 m → column 0 and half of column 1
    assert level_rows(res)["A"]["pop_c4"] == pytest.approx(28.0 + 16.0)


def test_density_units(hand):
    """People per km² on 100 m cells (0.01 km²): the counts are density × 0.01."""
    from riskmap.risk_plugin.exposure import run_exposure
    d = hand["dir"]
    write_tif(d / "dens.tif", POP * 100.0, 100.0, nodata=-9999.0)
    write_tif(d / "dens_m2.tif", POP / 10000.0, 100.0, nodata=-9999.0)
    for path, unit in ((d / "dens.tif", "per_km2"), (d / "dens_m2.tif", "per_m2")):
        res = run_exposure(hazard=hand["haz"], population=str(path), population_unit=unit)
        assert res["POPULATION_TOTAL"] == pytest.approx(136.0)
        assert res["POPULATION_EXPOSED"] == pytest.approx(100.0)


@pytest.mark.parametrize("rule, expected", [
    # class per unit: (A c3, A c4, B c0, B c3, B c4)
    ("centre", (28.0, 0.0, 40.0, 68.0, 0.0)),       # centres 50/150/250 m are in YES/yes zones, 350 m in No
    ("all_touched", (28.0, 0.0, 36.0, 68.0, 4.0)),  # the 10 m Extreme square makes its whole cell class 4
    ("fraction", (28.0 + 0.4 * 32, 0.0, 0.4 * 36 + 40 - 0.04, 0.6 * 32 + 0.6 * 36, 4 * 0.01)),
])
def test_hazard_polygons_text_mapping_and_rules(hand, rule, expected):
    from riskmap.risk_plugin.exposure import UnitSpec, run_exposure
    res = run_exposure(hazard=hand["zones"], hazard_field="FLOODPRONE", hazard_mapping="yes=3; no = 0; EXTREME=4",
                       population=hand["pop"], units=[UnitSpec(hand["units"])], cell_rule=rule)
    a, b = level_rows(res)["A"], level_rows(res)["B"]
    got = (a["pop_c3"], a["pop_c4"], b["pop_c0"], b["pop_c3"], b["pop_c4"])
    assert got == pytest.approx(expected)
    assert a["pop_total"] + b["pop_total"] == pytest.approx(136.0)


def test_unmapped_text_values_are_all_reported(hand):
    from riskmap.risk_plugin.errors import InputError
    from riskmap.risk_plugin.exposure import run_exposure
    with pytest.raises(InputError) as err:
        run_exposure(hazard=hand["zones"], hazard_field="FLOODPRONE", hazard_mapping="yes=3", population=hand["pop"])
    msg = str(err.value)
    assert "FLOODPRONE" in msg and "'Extreme'" in msg and "'No'" in msg and "HAZARD_MAPPING" in msg


def test_depth_raster_is_refused(hand):
    from riskmap.risk_plugin.errors import InputError
    from riskmap.risk_plugin.exposure import run_exposure
    write_tif(hand["dir"] / "depth.tif", np.full((4, 4), 0.7, np.float32), 100.0)
    with pytest.raises(InputError, match="floodhazard"):
        run_exposure(hazard=str(hand["dir"] / "depth.tif"), population=hand["pop"])


@pytest.mark.parametrize("rule, classes", [("centroid", (4, 0)), ("max_touched", (4, 2))])
def test_building_rules(hand, rule, classes):
    """b1 lies in column 0 (class 4); b2 straddles columns 1 (class 2) and 2 (class 0), centroid in 2."""
    from riskmap.risk_plugin.exposure import UnitSpec, run_exposure
    res = run_exposure(hazard=hand["haz"], buildings=hand["buildings"], facilities=hand["facilities"],
                       units=[UnitSpec(hand["units"])], building_rule=rule)
    np.testing.assert_array_equal(res["counts"].building_classes, classes)
    a, b = level_rows(res)["A"], level_rows(res)["B"]
    assert (a["bld_total"], b["bld_total"]) == (1, 1)          # b2 counts in B, where its centroid is
    assert res["BUILDINGS_TOTAL"] == 2
    assert res["BUILDINGS_EXPOSED"] == (1 if rule == "centroid" else 2)
    assert a["res_c4"] == 5 and b["res_exposed"] == (0 if rule == "centroid" else 7)
    # facilities: school in A (class 4), health centre in B (class 1), elderly home in B (class 0)
    assert (a["fac_school_exposed"], b["fac_hospital_exposed"], b["fac_elderly_home_total"],
            b["fac_elderly_home_exposed"]) == (1, 1, 1, 0)
    assert res["FACILITIES_EXPOSED"] == 2


def test_max_touched_with_hazard_polygons(hand):
    from riskmap.risk_plugin.exposure import run_exposure
    # b2 (x 190–215) lies in the 'yes' zone (140–260): class 3 by either rule; b1 in 'YES'
    res = run_exposure(hazard=hand["zones"], hazard_field="FLOODPRONE", hazard_mapping="yes=3;no=0;extreme=4",
                       buildings=hand["buildings"], building_rule="max_touched")
    np.testing.assert_array_equal(res["counts"].building_classes, [3, 3])


def test_exact_coverage_equals_geos(engine):
    """The numpy Green's-theorem areas equal GEOS intersections, holes and clockwise rings included."""
    import shapely
    from affine import Affine
    from riskmap.risk_plugin.coverage import cell_polygon_areas
    rng = np.random.default_rng(3)
    polys = []
    for i in range(25):
        c, r = rng.uniform(0, 100, 2), rng.uniform(5, 30)
        ring = np.array(shapely.Point(*c).buffer(r, quad_segs=6).exterior.coords)
        ring += rng.normal(0, r * 0.1, ring.shape)
        ring[-1] = ring[0]
        p = shapely.make_valid(shapely.Polygon(ring))
        if i % 3 == 0:
            p = p.difference(shapely.Point(*c).buffer(r / 3))
        if i % 4 == 0 and p.geom_type == "Polygon":
            p = shapely.geometry.polygon.orient(p, -1)
        polys.append(p)
    geoms = np.array(polys, dtype=object)
    t = Affine(1.7, 0, X0 - 10, 0, -1.7, Y0 + 110)
    geoms = shapely.transform(geoms, lambda xy: xy + [X0, Y0])
    tree = shapely.STRtree(geoms)
    n = 75
    rows, cols = np.divmod(np.arange(n * n), n)
    ci, gi, area = cell_polygon_areas(t, rows, cols, geoms, tree)
    x0, y0 = t.c + cols * t.a, t.f + rows * t.e
    cells = shapely.box(x0, y0 + t.e, x0 + t.a, y0)
    bi, pj = tree.query(cells, predicate="intersects")
    ref = shapely.area(shapely.intersection(cells[bi], geoms[pj]))
    got = dict(zip(zip(ci, gi), area))
    expected = {k: v for k, v in zip(zip(bi, pj), ref) if v > 1e-9}
    assert set(got) == set(expected)
    assert max(abs(got[k] - expected[k]) for k in expected) < 1e-6
    assert len(expected) > 1000


# --- Jakarta -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def jakarta(shared_data, tmp_path_factory):
    """Jakarta flood depth classified by depth (0 | (0, 0.5] | (0.5, 1] | (1, 2] | > 2 m, the breaks of
    riskmap:floodhazard), beside the population raster on the same grid."""
    import rasterio
    j = shared_data / "jakarta"
    d = tmp_path_factory.mktemp("jakarta")
    with rasterio.open(j / "flood_depth_current.tif") as src:
        depth, transform, crs = src.read(1, masked=True), src.transform, src.crs
    classes = np.digitize(depth.filled(0), [0, 0.5, 1, 2], right=True).astype(np.uint8)
    classes[depth.mask] = 255
    from riskmap.risk_plugin.io import write_raster
    return {"dir": d, "j": j, "classes": write_raster(classes, str(d / "classes.tif"), transform, crs, 255),
            "pop": str(j / "population.tif")}


def jakarta_units(j, kecamatan=None):
    from riskmap.risk_plugin.exposure import UnitSpec
    return [UnitSpec(kecamatan or str(j / "kecamatan.gpkg"), name_field="KEC_NAME"),
            UnitSpec(str(j / "kelurahan.gpkg"), name_field="KEL_NAME_1", code_field="ID")]


def raster_total_in(pop_path, geoms_4326):
    """Independent check: people in cells whose centre lies in any of the polygons (shapely, not GDAL)."""
    import rasterio
    import shapely
    with rasterio.open(pop_path) as src:
        pop = src.read(1, masked=True).filled(0).astype(float)
        t = src.transform
    rows, cols = np.nonzero(pop)
    pts = shapely.points(t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e)
    inside = shapely.STRtree(geoms_4326).query(pts, predicate="intersects")[0]
    return pop[rows, cols][np.unique(inside)].sum(), pop.sum()


def test_jakarta_flood_population_per_kecamatan_and_kelurahan(jakarta, tmp_path):
    import geopandas as gpd
    from riskmap.risk_plugin.exposure import run_exposure
    j = jakarta["j"]
    res = run_exposure(hazard=jakarta["classes"], population=jakarta["pop"], units=jakarta_units(j), repair=True,
                       output_units=str(tmp_path / "exp.gpkg"), output_table=str(tmp_path / "exp.xlsx"))
    kec, kel = res["frames"][0][0], res["frames"][1][0]
    assert len(kec) == 42 + 1 and len(kel) == 261 + 1
    raster = res["POPULATION_RASTER_TOTAL"]
    assert raster == pytest.approx(8_899_691, rel=1e-6)
    # every person once: on each level, units + outside = the raster total
    for df in (kec, kel):
        assert df["pop_total"].sum() == pytest.approx(raster, rel=1e-9)
        assert (df["pop_c0"] + df["pop_c1"] + df["pop_c2"] + df["pop_c3"] + df["pop_c4"]).to_numpy() == \
            pytest.approx(df["pop_total"].to_numpy())
    # the people inside the districts = the raster's people whose cells have their centre inside (shapely)
    geoms = gpd.read_file(j / "kecamatan.gpkg").make_valid().geometry.values
    inside, total = raster_total_in(jakarta["pop"], geoms)
    assert res["POPULATION_TOTAL"] == pytest.approx(inside, rel=1e-3)
    # the two levels tile the same city: totals and exposed agree within 0.1 %
    assert kel["pop_total"].iloc[1:].sum() == pytest.approx(kec["pop_total"].iloc[1:].sum(), rel=1e-3)
    assert kel["pop_exposed"].iloc[1:].sum() == pytest.approx(kec["pop_exposed"].iloc[1:].sum(), rel=1e-3)
    # exposed people = people on wet cells (class ≥ 1) inside the districts, counted without the engine
    import rasterio
    with rasterio.open(jakarta["classes"]) as c, rasterio.open(jakarta["pop"]) as p:
        wet = (c.read(1) >= 1) & (c.read(1) != 255)
        ppl = p.read(1, masked=True).filled(0).astype(float)
    assert res["POPULATION_EXPOSED"] <= (ppl * wet).sum()
    assert res["POPULATION_EXPOSED"] == pytest.approx(2_474_916, rel=1e-3)
    # outputs: one polygon per unit of both levels; the workbook has one sheet per level
    out = gpd.read_file(tmp_path / "exp.gpkg")
    assert len(out) == 42 + 261 and set(out["level"]) == {1, 2}
    assert out.loc[out["level"] == 2, "pop_exposed"].sum() == pytest.approx(kel["pop_exposed"].iloc[1:].sum())
    import openpyxl
    wb = openpyxl.load_workbook(tmp_path / "exp.xlsx", read_only=True)
    assert len(wb.sheetnames) == 2
    headers = [c.value for c in next(wb[wb.sheetnames[0]].iter_rows(max_row=1))]
    assert "人口(极高) people class 4" in headers and "名称 name" in headers


def test_jakarta_conserved_through_reprojection_and_resampling(jakarta, tmp_path):
    """Units given in UTM 48S, the hazard warped to UTM at 30 m (so population cells are split in
    2 × 2), the population as a density per km²: the people counted stay the raster's people."""
    import geopandas as gpd
    import rasterio
    import shapely
    from rasterio.warp import Resampling, calculate_default_transform, reproject
    from riskmap.risk_plugin.exposure import run_exposure
    j = jakarta["j"]
    base = run_exposure(hazard=jakarta["classes"], population=jakarta["pop"], units=jakarta_units(j), repair=True)
    kec_utm = str(tmp_path / "kec_utm.gpkg")
    kec = gpd.read_file(j / "kecamatan.gpkg")
    kec.geometry = kec.make_valid()
    kec.to_crs(32748).to_file(kec_utm)
    with rasterio.open(jakarta["classes"]) as src:
        t, w, h = calculate_default_transform(src.crs, "EPSG:32748", src.width, src.height, *src.bounds, resolution=30)
        dst = np.full((h, w), 255, np.uint8)
        reproject(src.read(1), dst, src_transform=src.transform, src_crs=src.crs, dst_transform=t,
                  dst_crs="EPSG:32748", resampling=Resampling.nearest, src_nodata=255, dst_nodata=255)
        pop = rasterio.open(jakarta["pop"])
        ppl = pop.read(1, masked=True).filled(0).astype(np.float64)
        pt = pop.transform
    from riskmap.risk_plugin.io import write_raster
    warped = write_raster(dst, str(tmp_path / "classes_utm.tif"), t, "EPSG:32748", 255)
    # density per km²: the area of every cell measured by projecting its square to UTM (not geodesic)
    r = np.arange(ppl.shape[0])
    cells = shapely.box(pt.c, pt.f + (r + 1) * pt.e, pt.c + pt.a, pt.f + r * pt.e)
    area_km2 = gpd.GeoSeries(cells, crs=4326).to_crs(32748).area.to_numpy() / 1e6
    dens = write_raster((ppl / area_km2[:, None]).astype(np.float64), str(tmp_path / "dens.tif"), pt, "EPSG:4326", None)
    res = run_exposure(hazard=warped, population=dens, population_unit="per_km2", units=jakarta_units(j, kec_utm),
                       repair=True)
    assert res["counts"].subdivision == 2
    assert res["POPULATION_RASTER_TOTAL"] == pytest.approx(base["POPULATION_RASTER_TOTAL"], rel=1e-3)
    for df, _ in res["frames"]:
        assert df["pop_total"].sum() == pytest.approx(res["POPULATION_RASTER_TOTAL"], rel=1e-9)
    assert res["POPULATION_TOTAL"] == pytest.approx(base["POPULATION_TOTAL"], rel=1e-3)
    # exposure moves a little with a 30 m nearest-neighbour hazard grid, not by more than 1 %
    assert res["POPULATION_EXPOSED"] == pytest.approx(base["POPULATION_EXPOSED"], rel=1e-2)


def test_jakarta_all_rules_count_each_person_once(jakarta):
    from riskmap.risk_plugin.exposure import run_exposure
    j = jakarta["j"]
    totals = {}
    for rule in ("all_touched", "fraction"):
        res = run_exposure(hazard=jakarta["classes"], population=jakarta["pop"], units=jakarta_units(j),
                           repair=True, cell_rule=rule)
        for df, _ in res["frames"]:
            assert df["pop_total"].sum() == pytest.approx(res["POPULATION_RASTER_TOTAL"], rel=1e-9)
        totals[rule] = res["POPULATION_TOTAL"]
    # all touched takes in the coastal edge cells, fraction a share of them
    assert totals["all_touched"] > totals["fraction"]
    assert totals["fraction"] == pytest.approx(8_794_584, rel=2e-3)


def test_jakarta_flood_zones_and_buildings_mixed_case(jakarta):
    """FLOODPRONE is YES / yes / NO / no: the parameter maps it; the count matches geopandas."""
    import geopandas as gpd
    from riskmap.risk_plugin.exposure import run_exposure
    j = jakarta["j"]
    zones = gpd.read_file(j / "flood_zones_small.gpkg")
    assert set(zones["FLOODPRONE"]) == {"YES", "yes", "NO", "no"}
    for rule in ("centroid", "max_touched"):
        res = run_exposure(hazard=str(j / "flood_zones_small.gpkg"), hazard_field="FLOODPRONE",
                           hazard_mapping="yes=3; no=0", buildings=str(j / "buildings_small.gpkg"), building_rule=rule)
        b = gpd.read_file(j / "buildings_small.gpkg").to_crs(32748)
        wet = zones[zones["FLOODPRONE"].str.lower() == "yes"].to_crs(32748).union_all()
        test = b.geometry.centroid if rule == "centroid" else b.geometry
        assert res["BUILDINGS_TOTAL"] == len(b) == 181
        assert res["BUILDINGS_EXPOSED"] == int(test.intersects(wet).sum()) == 33


# --- through QGIS ------------------------------------------------------------------------------------
def test_exposure_processing_run(hand, alg, tmp_path):
    import geopandas as gpd
    res = alg("riskmap:exposure", {
        "HAZARD": hand["zones"], "HAZARD_FIELD": "FLOODPRONE", "HAZARD_MAPPING": "Yes=3;NO=0;extreme=4",
        "POPULATION": hand["pop"], "BUILDINGS": hand["buildings"], "FACILITIES": hand["facilities"],
        "UNITS": [hand["units"], hand["tiny"]], "CELL_RULE": 2,
        "OUTPUT_UNITS": str(tmp_path / "u.gpkg"), "OUTPUT_TABLE": str(tmp_path / "t.csv")})
    assert res["POPULATION_TOTAL"] == pytest.approx(136.0)
    assert res["POPULATION_EXPOSED"] == pytest.approx(28 + 0.4 * 32 + 0.6 * 32 + 0.6 * 36 + 0.04)
    assert (res["BUILDINGS_TOTAL"], res["BUILDINGS_EXPOSED"]) == (2, 2)
    out = gpd.read_file(tmp_path / "u.gpkg")
    assert list(out["name"]) == ["A", "B", "T"]
    import pandas as pd
    table = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig")
    assert "人口合计 people total" in table.columns and table["人口合计 people total"].iloc[:3].sum() == pytest.approx(136.0)


def test_exposure_qgis_process(hand, qgis_process, tmp_path):
    code, res, out = qgis_process.run("riskmap:exposure", {
        "HAZARD": hand["haz"], "POPULATION": hand["pop"], "BUILDINGS": hand["buildings"],
        "UNITS": hand["units"], "BUILDING_RULE": 1,
        "OUTPUT_UNITS": str(tmp_path / "u.gpkg"), "OUTPUT_TABLE": str(tmp_path / "t.xlsx")})
    assert code == 0
    assert float(res["POPULATION_TOTAL"]) == pytest.approx(136.0)
    assert float(res["POPULATION_EXPOSED"]) == pytest.approx(100.0)
    assert int(res["BUILDINGS_EXPOSED"]) == 2
    assert (tmp_path / "t.xlsx").exists()


def test_cancel_writes_nothing(hand, tmp_path):
    from riskmap.risk_plugin.errors import Cancelled
    from riskmap.risk_plugin.exposure import UnitSpec, run_exposure
    from riskmap.risk_plugin.progress import Progress
    calls = []

    def cancel_after_two_checks():
        calls.append(1)
        return len(calls) > 2

    out = tmp_path / "out"
    with pytest.raises(Cancelled):
        run_exposure(hazard=hand["haz"], population=hand["pop"], buildings=hand["buildings"],
                     units=[UnitSpec(hand["units"])], output_units=str(out / "u.gpkg"),
                     output_table=str(out / "t.xlsx"), progress=Progress(is_canceled=cancel_after_two_checks))
    assert len(calls) == 3
    assert not out.exists() or list(out.iterdir()) == []
