"""riskmap:fourcolorrisk (issue 4): the risk matrix cell by cell, exposure classes at their breaks, a
hand-built grid whose 16 cells reproduce the matrix, admin-unit support, the township table, and the
map as QGIS loads it (official colours, 重大风险 … 低风险 legend, township outlines on top)."""
import numpy as np
import pytest

CRS = "EPSG:4545"
X0, Y0 = 500000.0, 3300000.0
# people per 100 m cell by column: 6000, 2000, 500, 0 per km² → exposure classes 4, 3, 2, 1
POP_COLS = np.array([60, 20, 5, 0], np.float32)
E_COLS = (4, 3, 2, 1)
HAZ_ROWS = (4, 3, 2, 1)          # hazard class by row


def band(score):
    """The documented reasoning of the default matrix: R = H × E banded 12+ / 8–9 / 4–6 / 1–3."""
    return 1 if score >= 12 else 2 if score >= 8 else 3 if score >= 4 else 4


@pytest.mark.parametrize("h", [1, 2, 3, 4])
@pytest.mark.parametrize("e", [1, 2, 3, 4])
def test_default_matrix_cell_by_cell(engine, h, e):
    from riskmap.risk_plugin.definitions.fourcolor import MATRIX
    from riskmap.risk_plugin.fourcolor import risk_level
    assert int(risk_level(h, e)) == MATRIX[h - 1][e - 1] == band(h * e)
    assert int(risk_level(0, e)) == 4          # no hazard: 低风险


def test_matrix_parameter(engine):
    from riskmap.risk_plugin.errors import ParameterError
    from riskmap.risk_plugin.fourcolor import matrix_warnings, parse_matrix, risk_level
    custom = "4,4,4,4; 4,4,4,3; 3,3,2,2; 2,1,1,1"
    m = parse_matrix(custom)
    assert int(risk_level(4, 1, m)) == 2 and int(risk_level(1, 4, m)) == 4 and int(risk_level(3, 3, m)) == 2
    np.testing.assert_array_equal(risk_level([1, 2, 3, 4], [4, 3, 2, 1], m), [4, 4, 3, 2])
    assert matrix_warnings(m) == []
    assert len(matrix_warnings(parse_matrix("1,1,1,1; 1,1,1,1; 1,1,1,1; 4,4,4,4"))) == 1
    for bad in ("1,2,3; 1,2,3; 1,2,3", "1,2,3,4; 1,2,3,4; 1,2,3,4; 1,2,3,5", "a,b"):
        with pytest.raises(ParameterError):
            parse_matrix(bad)


def test_exposure_classes_at_the_breaks(engine):
    from riskmap.risk_plugin.fourcolor import exposure_class
    people = np.array([0, 99.99, 100, 999.9, 1000, 4999, 5000, 1e6])
    np.testing.assert_array_equal(exposure_class(people, 0 * people, False), [1, 1, 2, 2, 3, 3, 4, 4])
    bld = np.array([29.9, 30, 299, 300, 1499, 1500])
    np.testing.assert_array_equal(exposure_class(0 * bld, bld, False), [1, 2, 2, 3, 3, 4])
    # the higher of people and buildings; a key facility lifts to at least 3 but never lowers
    assert int(exposure_class(150, 400, False)) == 3
    np.testing.assert_array_equal(exposure_class(np.array([0, 6000]), np.array([0, 0]), True), [3, 4])


def test_support_levels_most_severe_class_and_vulnerability(engine):
    from riskmap.risk_plugin.fourcolor import support_levels
    z = np.zeros((3, 5))
    area = np.array([1.0, 1.0, 1.0])
    people, bld, fac, acls = z.copy(), z.copy(), z.copy(), z.copy()
    # support 0: 50 % class 4 with nobody, 50 % class 2 with 2 000 people → max(4×E1 = 3, 2×E3 = 3) = 3
    acls[0, [2, 4]] = 0.5
    people[0, 2] = 2000
    # support 1: class 3 with 500 people, plus a school in class 1 → 3×E2 = 3 vs 1×E3 = 4 → 3
    acls[1, [1, 3]] = 0.5
    people[1, 3] = 500
    fac[1, 1] = 1
    # support 2: only class 0 → low, raised one step by vulnerability 0.8
    acls[2, 0] = 1
    res = support_levels(people, bld, fac, acls, area, vulnerability=np.array([0.1, 0.9, 0.8]))
    np.testing.assert_array_equal(res["level"], [3, 2, 3])
    np.testing.assert_array_equal(res["hazard_class"], [4, 3, 0])       # ties: the higher class decides
    np.testing.assert_array_equal(res["raised"], [False, True, True])
    np.testing.assert_array_equal(res["max_class"], [4, 3, 0])


def write_tif(path, array, cell):
    from rasterio.transform import from_origin
    from riskmap.risk_plugin.io import write_raster
    return write_raster(np.asarray(array), str(path), from_origin(X0, Y0, cell, cell), CRS, None)


def write_gpkg(path, columns, geoms):
    import geopandas as gpd
    gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS).to_file(str(path), engine="pyogrio")
    return str(path)


@pytest.fixture(scope="module")
def world(engine, tmp_path_factory):
    """4 × 4 cells of 100 m: hazard class 4, 3, 2, 1 by row; people 60, 20, 5, 0 by column; two
    townships (west, east); a school in cell (row 0, column 3); a building in cell (1, 3)."""
    import shapely
    d = tmp_path_factory.mktemp("fourcolor")
    p = {"dir": d}
    p["haz"] = write_tif(d / "haz.tif", np.repeat(np.array(HAZ_ROWS, np.uint8)[:, None], 4, axis=1), 100.0)
    p["pop"] = write_tif(d / "pop.tif", np.tile(POP_COLS, (4, 1)), 100.0)
    p["towns"] = write_gpkg(d / "towns.gpkg", {"名称": ["西镇", "东镇"], "行政区划代码": ["101", "102"]},
                            [shapely.box(X0, Y0 - 400, X0 + 200, Y0), shapely.box(X0 + 200, Y0 - 400, X0 + 400, Y0)])
    rows = [shapely.box(X0, Y0 - (r + 1) * 100, X0 + 400, Y0 - r * 100) for r in range(4)]
    p["villages"] = write_gpkg(d / "villages.gpkg", {"名称": [f"村{r}" for r in range(4)],
                                                     "行政区划代码": [f"10{r}001" for r in range(4)],
                                                     "上级代码": ["101"] * 4}, rows)
    p["fac"] = write_gpkg(d / "fac.gpkg", {"名称": ["村小"], "类型": ["学校"]}, [shapely.Point(X0 + 350, Y0 - 50)])
    p["bld"] = write_gpkg(d / "bld.gpkg", {"居住人数": [3]}, [shapely.box(X0 + 340, Y0 - 160, X0 + 360, Y0 - 140)])
    return p


def test_grid_reproduces_the_matrix(world, tmp_path):
    """Every 100 m cell has one hazard class and one exposure class: its level is one matrix entry."""
    import geopandas as gpd
    from riskmap.risk_plugin.definitions.fourcolor import MATRIX
    from riskmap.risk_plugin.fourcolor import run_fourcolor
    res = run_fourcolor(world["haz"], world["pop"], facilities=world["fac"], townships=world["towns"],
                        support="grid", cell_size=100, output=str(tmp_path / "g.gpkg"),
                        output_table=str(tmp_path / "g.csv"))
    out = gpd.read_file(tmp_path / "g.gpkg")
    assert len(out) == 16 and res["SUPPORTS"] == 16
    got = out.set_index(["grid_row", "grid_col"])["risk_level"]
    row0 = int(out["grid_row"].min())
    col0 = int(out["grid_col"].min())
    for r, h in enumerate(HAZ_ROWS):
        for c, e in enumerate(E_COLS):
            expected = MATRIX[h - 1][e - 1]
            if (r, c) == (0, 3):
                expected = MATRIX[h - 1][3 - 1]        # the school lifts exposure 1 → 3: level 3 → 1
            assert got[(row0 + r, col0 + c)] == expected, (r, c)
    # colours and labels from styles/classes.json
    from riskmap.risk_plugin.classes import class_table
    colours = {c["value"]: c["color"] for c in class_table("risk_levels")["classes"]}
    assert all(out["color"] == out["risk_level"].map(colours))
    assert set(out.loc[out["risk_level"] == 1, "risk_zh"]) == {"重大风险"}
    # people per level: level 1 = (row 0: 60 + 20 + 0 school cell) + (row 1: 60) → 140
    levels = out.groupby("risk_level")["people"].sum()
    for lv in range(1, 5):
        assert res[f"PEOPLE_LEVEL_{lv}"] == pytest.approx(levels.get(lv, 0.0))
    assert res["PEOPLE_LEVEL_1"] == pytest.approx(60 + 20 + 60)
    assert sum(res[f"PEOPLE_LEVEL_{k}"] for k in range(1, 5)) == pytest.approx(4 * POP_COLS.sum())
    # townships: every cell in exactly one; west = columns 0–1
    assert set(out.loc[out["grid_col"] - col0 <= 1, "township_name"]) == {"西镇"}
    import pandas as pd
    table = pd.read_csv(tmp_path / "g.csv", encoding="utf-8-sig")
    west = table[table["乡镇 township"] == "西镇"].set_index("风险等级 risk level")
    # west: levels (row-wise from the matrix, columns E4, E3): row0 1,1; row1 1,2; row2 2,3; row3 3,4
    assert list(west["图斑数 supports"]) == [3, 2, 2, 1]
    assert west["面积(km²) area km²"].sum() == pytest.approx(0.08)
    assert west.loc[1, "人口 people"] == pytest.approx(60 + 20 + 60)
    total = table[table["乡镇 township"] == "全县合计 / total"]
    assert total["人口 people"].sum() == pytest.approx(4 * POP_COLS.sum())


def test_units_support(world, tmp_path):
    """Villages = rows (0.04 km², 85 people → 2 125 /km², exposure 3): levels M[h][3] = 1, 2, 3, 4."""
    from riskmap.risk_plugin.fourcolor import run_fourcolor
    res = run_fourcolor(world["haz"], world["pop"], buildings=world["bld"], townships=world["towns"],
                        units=world["villages"], support="units", output=str(tmp_path / "u.gpkg"))
    out = res["layer"]
    assert list(out["unit_name"]) == ["村0", "村1", "村2", "村3"]
    assert list(out["risk_level"]) == [1, 2, 3, 4]
    assert list(out["township_name"]) == ["西镇"] * 4          # by parent code 101
    assert list(out["buildings"]) == [0, 1, 0, 0]
    assert res["PEOPLE_LEVEL_2"] == pytest.approx(85.0)


def test_vulnerability_raises_levels(world, tmp_path):
    from riskmap.risk_plugin.fourcolor import run_fourcolor
    vul = write_tif(world["dir"] / "vul.tif", np.full((4, 4), 0.9, np.float32), 100.0)
    res = run_fourcolor(world["haz"], world["pop"], units=world["villages"], support="units", vulnerability=vul)
    assert list(res["layer"]["risk_level"]) == [1, 1, 2, 3]


def test_cell_size_range_is_enforced(world):
    from riskmap.risk_plugin.errors import ParameterError
    from riskmap.risk_plugin.fourcolor import run_fourcolor
    for size in (20, 2000):
        with pytest.raises(ParameterError, match="CELL_SIZE"):
            run_fourcolor(world["haz"], world["pop"], support="grid", cell_size=size)


def test_fourcolor_loads_styled_with_townships_on_top(world, riskmap, tmp_path):
    """As QGIS shows it: official colours, legend 重大风险 … 低风险, township outlines above the map."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject
    from riskmap.risk_plugin.classes import class_table
    project = QgsProject.instance()
    project.clear()
    context = QgsProcessingContext()
    context.setProject(project)
    res = processing.runAndLoadResults("riskmap:fourcolorrisk", {
        "HAZARD": world["haz"], "POPULATION": world["pop"], "TOWNSHIPS": world["towns"], "CELL_SIZE": 100,
        "OUTPUT": str(tmp_path / "fc.gpkg"), "OUTPUT_TABLE": str(tmp_path / "fc.xlsx")},
        feedback=QgsProcessingFeedback(), context=context)
    assert res["SUPPORTS"] == 16
    tree = [n.layer() for n in project.layerTreeRoot().findLayers()]
    assert len(tree) == 2
    top, risk = tree
    assert top.name() == "乡镇界 / Township boundaries" and top.featureCount() == 2
    assert top.renderer().symbol().symbolLayer(0).fillColor().alpha() == 0      # outline only
    cats = risk.renderer().categories()
    expected = class_table("risk_levels")["classes"]
    assert risk.renderer().classAttribute() == "risk_level"
    assert [c.label().split(" / ")[0] for c in cats] == ["重大风险", "较大风险", "一般风险", "低风险"]
    assert [c.symbol().color().name().upper() for c in cats] == [c["color"].upper() for c in expected]
    project.clear()


def test_fourcolor_qgis_process_on_demo_county(demo_county, qgis_process, tmp_path):
    """The demo county on a 250 m grid: exit 0, every person in exactly one level."""
    import rasterio
    code, res, out = qgis_process.run("riskmap:fourcolorrisk", {
        "HAZARD": demo_county["flood_zones"], "HAZARD_FIELD": "重现期", "HAZARD_MAPPING": "10=4; 50=3; 100=2",
        "POPULATION": demo_county["population"], "BUILDINGS": demo_county["buildings"],
        "FACILITIES": demo_county["facilities"], "TOWNSHIPS": demo_county["townships"], "CELL_SIZE": 250,
        "OUTPUT": str(tmp_path / "fc.gpkg"), "OUTPUT_TABLE": str(tmp_path / "fc.csv")})
    assert code == 0
    with rasterio.open(demo_county["population"]) as src:
        total = float(src.read(1, masked=True).sum())
    people = sum(float(res[f"PEOPLE_LEVEL_{k}"]) for k in range(1, 5))
    assert people == pytest.approx(total, rel=1e-6)
    assert float(res["PEOPLE_LEVEL_1"]) + float(res["PEOPLE_LEVEL_2"]) > 0
    assert int(res["SUPPORTS"]) >= (8000 // 250) ** 2
