"""riskmap:townshipreport (issue 4): a hand-built county with known answers for every section, the
hazardpointthreat output preferred over the surveyed counts, and the chain fourcolorrisk →
hazardpointthreat → townshipreport on the demo county through processing.run and qgis_process."""
import pytest

CRS = "EPSG:4545"
X0, Y0 = 500000.0, 3300000.0


def box(x0, y0, x1, y1):
    import shapely
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def write_gpkg(path, columns, geoms):
    import geopandas as gpd
    gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS).to_file(str(path), engine="pyogrio")
    return str(path)


@pytest.fixture(scope="module")
def county(engine, tmp_path_factory):
    """Two townships side by side (west 0–200 m, east 200–400 m); four risk polygons; three villages:
    V1 = west 0–150 (all of R1, half of R2), V2 = west 150–200 (the other half of R2), V3 = east."""
    import shapely
    d = tmp_path_factory.mktemp("report")
    p = {"dir": d}
    p["towns"] = write_gpkg(d / "towns.gpkg", {"名称": ["西镇", "东镇"], "行政区划代码": ["101", "102"]},
                            [box(0, 0, 200, 100), box(200, 0, 400, 100)])
    p["risk"] = write_gpkg(d / "risk.gpkg", {
        "risk_level": [1, 3, 2, 4], "people": [100.0, 40.0, 20.0, 5.0], "buildings": [30, 10, 6, 2],
        "area_km2": [0.01, 0.01, 0.01, 0.01], "township_code": ["101", "101", "102", "102"]},
        [box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100), box(300, 0, 400, 100)])
    p["villages"] = write_gpkg(d / "villages.gpkg", {"名称": ["一村", "二村", "三村"], "行政区划代码": ["1011", "1012", "1021"],
                                                     "上级代码": ["101", "101", "102"]},
                               [box(0, 0, 150, 100), box(150, 0, 200, 100), box(200, 0, 400, 100)])
    pts = shapely.points([X0 + 50, X0 + 250, X0 + 350], [Y0 + 50] * 3)
    survey = {"统一编号": ["G1", "G2", "G3"], "名称": ["一号滑坡", "二号崩塌", "三号泥石流"], "灾害类型": ["滑坡", "崩塌", "泥石流"],
              "规模等级": ["小型", "中型", "大型"], "威胁户数": [3, 5, 40], "威胁人数": [10, 12, 150], "险情等级": ["小型", "小型", "中型"]}
    p["survey"] = write_gpkg(d / "survey.gpkg", survey, pts)
    p["threat"] = write_gpkg(d / "threat.gpkg", {**survey, "households_calc": [4, 0, 60], "people_calc": [11, 0, 170],
                                                 "danger_level": [4, 4, 3], "danger_zh": ["小型", "小型", "中型"]}, pts)
    p["fac"] = write_gpkg(d / "fac.gpkg", {"名称": ["一小", "东院", "东敬老院"], "类型": ["学校", "医院", "养老院"]},
                          shapely.points([X0 + 20, X0 + 220, X0 + 320], [Y0 + 20] * 3))
    return p


def test_report_sections_by_hand(county, tmp_path):
    import openpyxl
    import pandas as pd
    from riskmap.risk_plugin.report import run_township_report
    res = run_township_report(county["towns"], county["risk"], villages=county["villages"], geohazards=county["threat"],
                              facilities=county["fac"], output_xlsx=str(tmp_path / "r.xlsx"),
                              output_csv_dir=str(tmp_path / "csv"))
    assert res["TOWNSHIPS"] == 2
    # people per level per township
    summary = res["summary"].set_index("乡镇 township")
    assert summary.loc["西镇", "重大风险人口 people L1"] == 100 and summary.loc["西镇", "一般风险人口 people L3"] == 40
    assert summary.loc["东镇", "较大风险人口 people L2"] == 20 and summary.loc["东镇", "低风险人口 people L4"] == 5
    # villages ranked: 一村 (重大, 100 + half of 40) before 二村 (一般, the other 20)
    v = res["villages"].set_index("name")
    assert (v.loc["一村", "worst"], v.loc["二村", "worst"], v.loc["三村", "worst"]) == (1, 3, 2)
    assert v.loc["一村", "people_l1"] == pytest.approx(100) and v.loc["一村", "people_l3"] == pytest.approx(20)
    assert v.loc["二村", "people"] == pytest.approx(20) and v.loc["三村", "people"] == pytest.approx(25)
    assert (v.loc["一村", "rank"], v.loc["二村", "rank"], v.loc["三村", "rank"]) == (1, 2, 1)
    assert res["VILLAGES_LEVEL_1"] == 1
    # geohazard points: the computed counts of hazardpointthreat, not the surveyed ones
    g = res["geohazards"].set_index("code")
    assert list(g.loc[["G1", "G2", "G3"], "people"]) == [11, 0, 170]
    assert list(g.loc[["G1", "G3"], "households"]) == [4, 60]
    assert set(g["source"]) == {"计算 computed"} and res["PEOPLE_THREATENED"] == 181
    assert list(g.loc[["G1", "G2", "G3"], "town"]) == [0, 1, 1]
    # facilities in red or orange: the school (重大) and the hospital (较大), not the elderly home (低)
    f = res["facilities"]
    assert sorted(zip(f["name"], f["level_zh"])) == [("一小", "重大风险"), ("东院", "较大风险")]
    assert list(f.loc[f["name"] == "一小", "village"]) == ["一村"]
    # the workbook: a summary and one sheet per township, sections titled in Chinese
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)
    assert wb.sheetnames == ["汇总 summary", "西镇", "东镇"]
    cells = [c for row in wb["东镇"].iter_rows(values_only=True) for c in row if c is not None]
    assert "三、地质灾害隐患点及威胁户数、人数 / Geohazard points and threatened households and people" in cells
    assert "三号泥石流" in cells and "东敬老院" not in cells
    # the CSVs carry the same rows
    ranked = pd.read_csv(tmp_path / "csv" / "villages_ranked.csv", encoding="utf-8-sig")
    assert list(ranked["村/社区 village"]) == ["一村", "二村", "三村"]
    pts = pd.read_csv(tmp_path / "csv" / "geohazard_points.csv", encoding="utf-8-sig")
    assert pts["威胁人数 people"].sum() == 181


def test_report_falls_back_to_surveyed_counts(county):
    from riskmap.risk_plugin.report import run_township_report
    res = run_township_report(county["towns"], county["risk"], geohazards=county["survey"])
    g = res["geohazards"].set_index("code")
    assert list(g.loc[["G1", "G2", "G3"], "people"]) == [10, 12, 150]
    assert set(g["source"]) == {"调查 surveyed"} and list(g.loc[["G1", "G3"], "danger"]) == ["小型", "中型"]
    assert res["villages"] is None and res["FACILITIES_ALERT"] is None


def test_report_needs_a_risk_layer(county):
    from riskmap.risk_plugin.errors import ValidationError
    from riskmap.risk_plugin.report import run_township_report
    with pytest.raises(ValidationError, match="risk_level"):
        run_township_report(county["towns"], county["villages"])


def test_chain_on_demo_county(demo_county, alg, qgis_process, tmp_path):
    """fourcolorrisk on villages → hazardpointthreat → townshipreport (qgis_process): the report's
    people per level add up to the map's, and its threatened people are the computed ones."""
    import geopandas as gpd
    import pandas as pd
    fc = alg("riskmap:fourcolorrisk", {
        "HAZARD": demo_county["flood_zones"], "HAZARD_FIELD": "重现期", "HAZARD_MAPPING": "10=4; 50=3; 100=2",
        "POPULATION": demo_county["population"], "BUILDINGS": demo_county["buildings"],
        "FACILITIES": demo_county["facilities"], "TOWNSHIPS": demo_county["townships"],
        "UNITS": demo_county["villages"], "SUPPORT": 1, "OUTPUT": str(tmp_path / "fc.gpkg")})
    threat = alg("riskmap:hazardpointthreat", {"POINTS": demo_county["geohazard_points"],
                                               "BUILDINGS": demo_county["buildings"],
                                               "OUTPUT_POINTS": str(tmp_path / "threat.gpkg"),
                                               "OUTPUT_ZONES": str(tmp_path / "zones.gpkg")})
    code, res, _ = qgis_process.run("riskmap:townshipreport", {
        "TOWNSHIPS": demo_county["townships"], "RISK": str(tmp_path / "fc.gpkg"),
        "GEOHAZARDS": str(tmp_path / "threat.gpkg"), "FACILITIES": demo_county["facilities"],
        "OUTPUT": str(tmp_path / "report.xlsx"), "OUTPUT_CSV": str(tmp_path / "csv")})
    assert code == 0
    towns = gpd.read_file(demo_county["townships"])
    assert int(res["TOWNSHIPS"]) == len(towns)
    summary = pd.read_csv(tmp_path / "csv" / "township_summary.csv", encoding="utf-8-sig")
    for k, zh in enumerate(("重大风险", "较大风险", "一般风险", "低风险"), start=1):
        assert summary[f"{zh}人口 people L{k}"].sum() == pytest.approx(fc[f"PEOPLE_LEVEL_{k}"], abs=0.5)
    computed = gpd.read_file(threat["OUTPUT_POINTS"])["people_calc"].sum()
    assert float(res["PEOPLE_THREATENED"]) == pytest.approx(computed)
    ranked = pd.read_csv(tmp_path / "csv" / "villages_ranked.csv", encoding="utf-8-sig")
    assert len(ranked) == len(gpd.read_file(demo_county["villages"]))


def test_report_processing_run(county, alg, tmp_path):
    res = alg("riskmap:townshipreport", {"TOWNSHIPS": county["towns"], "RISK": county["risk"],
                                         "VILLAGES": county["villages"], "GEOHAZARDS": county["survey"],
                                         "FACILITIES": county["fac"], "ALERT_LEVEL": 1,
                                         "OUTPUT": str(tmp_path / "r.xlsx"), "OUTPUT_CSV": str(tmp_path / "csv")})
    # surveyed people 10 + 12 + 150; with ALERT_LEVEL 1 only the school in the 重大 zone is listed
    assert (res["TOWNSHIPS"], res["VILLAGES_LEVEL_1"], res["GEOHAZARD_POINTS"]) == (2, 1, 3)
    assert res["PEOPLE_THREATENED"] == 172 and res["FACILITIES_ALERT"] == 1
    assert (tmp_path / "r.xlsx").exists() and (tmp_path / "csv" / "villages_ranked.csv").exists()
