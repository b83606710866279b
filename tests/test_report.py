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
    assert wb.sheetnames == ["汇总 summary", "西镇", "东镇", "口径对照 reconcile"]
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
    # whole persons (largest remainder per township): each level within a person per township of the map's total
    for k, zh in enumerate(("重大风险", "较大风险", "一般风险", "低风险"), start=1):
        assert summary[f"{zh}人口 people L{k}"].sum() == pytest.approx(fc[f"PEOPLE_LEVEL_{k}"], abs=len(towns))
    total = sum(fc[f"PEOPLE_LEVEL_{k}"] for k in range(1, 5))
    assert summary["总人口 people"].sum() == round(total)
    assert (summary[[f"{zh}人口 people L{k}" for k, zh in enumerate(("重大风险", "较大风险", "一般风险", "低风险"), 1)]]
            .sum(axis=1) == summary["总人口 people"]).all()
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


@pytest.fixture(scope="module")
def demo_report(demo_county, alg, tmp_path_factory):
    """The demo chain as make demo runs it: four-colour risk on the villages and on a 100 m grid, the report on the
    villages with the grid to reconcile."""
    d = tmp_path_factory.mktemp("demo_report")
    common = {"HAZARD": demo_county["flood_zones"], "HAZARD_FIELD": "重现期", "HAZARD_MAPPING": "10=4; 50=3; 100=2",
              "POPULATION": demo_county["population"], "BUILDINGS": demo_county["buildings"],
              "FACILITIES": demo_county["facilities"], "TOWNSHIPS": demo_county["townships"]}
    villages = alg("riskmap:fourcolorrisk", {**common, "UNITS": demo_county["villages"], "SUPPORT": 1,
                                             "OUTPUT": str(d / "fourcolor_villages.gpkg"),
                                             "OUTPUT_TABLE": str(d / "fourcolor_villages_townships.xlsx")})
    grid = alg("riskmap:fourcolorrisk", {**common, "SUPPORT": 0, "CELL_SIZE": 100, "OUTPUT": str(d / "fourcolor_grid.gpkg")})
    threat = alg("riskmap:hazardpointthreat", {"POINTS": demo_county["geohazard_points"],
                                               "BUILDINGS": demo_county["buildings"],
                                               "OUTPUT_POINTS": str(d / "threat.gpkg"), "OUTPUT_ZONES": str(d / "zones.gpkg")})
    res = alg("riskmap:townshipreport", {"TOWNSHIPS": demo_county["townships"], "RISK": villages["OUTPUT"],
                                         "RISK_OTHER": [grid["OUTPUT"]], "GEOHAZARDS": threat["OUTPUT_POINTS"],
                                         "FACILITIES": demo_county["facilities"], "ALERT_LEVEL": 3,
                                         "OUTPUT": str(d / "township_report.xlsx"), "OUTPUT_CSV": str(d / "csv")})
    return res, villages, grid, d


def test_report_a_bureau_can_file(demo_report, demo_county):
    """Totals per section and for the county, every column filled, whole persons, widths, frozen headers, filters,
    number formats, the four colours on level cells, A4 landscape with the title rows repeated."""
    import geopandas as gpd
    import openpyxl
    res, villages, _, d = demo_report
    wb = openpyxl.load_workbook(d / "township_report.xlsx")
    names = gpd.read_file(demo_county["townships"])["名称"].tolist()
    assert wb.sheetnames == ["汇总 summary", *names, "口径对照 reconcile"]
    colours = {c["zh"]: c["color"][1:].upper() for c in __import__("json").loads(
        (__import__("conftest").REPO / "styles" / "classes.json").read_text(encoding="utf-8"))["risk_levels"]["classes"]}
    # the summary: one row per township and the county total, which adds them up; people are whole persons
    ws = wb["汇总 summary"]
    header = [c.value for c in ws[4]]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5, max_row=4 + len(names) + 1)]
    assert [r[0] for r in rows] == names + ["全县合计 / County total"]
    people = header.index("总人口 people")
    assert rows[-1][people] == sum(r[people] for r in rows[:-1])
    assert rows[-1][people] == round(sum(villages[f"PEOPLE_LEVEL_{k}"] for k in range(1, 5)))
    assert all(isinstance(r[people], int) for r in rows)
    assert ws.freeze_panes == "C5" and ws.auto_filter.ref.startswith("A4:")
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$1:$4" and ws.page_setup.fitToWidth == 1
    assert ws.cell(row=5, column=people + 1).number_format == "#,##0"
    assert all(ws.column_dimensions[c].width and ws.column_dimensions[c].width >= 8 for c in "ABCDEFGH")
    # a township sheet: sections with their totals, every column filled, level cells in their colour
    ws = wb[names[0]]
    cells = [[c.value for c in r] for r in ws.iter_rows()]
    assert "人口口径: 按村/社区统计" in cells[1][0]
    totals = [r for r in cells if r[0] == "合计 / Total"]
    assert len(totals) == 4                          # levels, villages, geohazard points, facilities
    level_rows = [r for r in cells if r[0] in colours]
    assert len(level_rows) == 4 and totals[0][2] == sum(r[2] for r in level_rows)
    for row in ws.iter_rows():
        for cell in row:
            if cell.value in colours and cell.column == 1:
                assert cell.fill.fgColor.rgb[-6:] == colours[cell.value]
    assert ws.freeze_panes == "A3" and ws.print_title_rows == "$1:$2" and ws.auto_filter.ref
    # facilities: the village of every one is filled (the risk polygons are the villages)
    head = next(i for i, r in enumerate(cells) if r[:4] == ["名称 name", "类型 type", "风险等级 level", "所在村 village"])
    fac = []
    for r in cells[head + 1:]:
        if r[0] in (None, "合计 / Total"):
            break
        fac.append(r)
    assert fac and all(r[3] and not str(r[3]).startswith("(") for r in fac)
    vnames = set(gpd.read_file(demo_county["villages"])["名称"])
    assert {r[3] for r in fac} <= vnames
    # the village section: whole persons whose levels add up to each village's total
    vh = next(i for i, r in enumerate(cells) if r[0] == "排序 rank")
    vrows = []
    for r in cells[vh + 1:]:
        if r[0] == "合计 / Total":
            break
        vrows.append(r)
    assert all(sum(r[4:8]) == r[8] and all(isinstance(v, int) for v in r[4:9]) for r in vrows)
    assert not any(v is None for r in vrows for v in r[:10])


def test_report_reconciles_grid_and_villages(demo_report):
    """口径对照: per township and level the people on the villages and on the 100 m grid, side by side; the
    totals agree (the same population), the levels differ by support, each column as the map of that support."""
    import geopandas as gpd
    import openpyxl
    import pandas as pd
    from riskmap.risk_plugin.rounding import whole_table
    res, villages, grid, d = demo_report
    rec = pd.read_excel(d / "township_report.xlsx", sheet_name="口径对照 reconcile", header=3)
    vcol, gcol = "人口 (村/社区) people (villages)", "人口 (100 m 网格) people (100 m grid cells)"
    assert list(rec.columns[3:]) == [vcol, gcol, "差 (100 m 网格 − 村/社区) difference"]
    county = rec[rec["乡镇 township"] == "全县合计 / County total"].set_index("风险等级 level")
    assert county.loc["合计 / Total", vcol] == county.loc["合计 / Total", gcol] == round(
        sum(villages[f"PEOPLE_LEVEL_{k}"] for k in range(1, 5)))
    # the grid column is the grid map's own people per township and level, in whole persons
    g = gpd.read_file(grid["OUTPUT"], layer="fourcolor_grid")
    table = pd.pivot_table(g, values="people", index="township_name", columns="risk_level", aggfunc="sum",
                           fill_value=0.0).reindex(columns=[1, 2, 3, 4], fill_value=0.0)
    whole = pd.DataFrame(whole_table(table.to_numpy()), index=table.index, columns=table.columns)
    levels = ["重大风险", "较大风险", "一般风险", "低风险"]
    for town in table.index:
        sub = rec[rec["乡镇 township"] == town].set_index("风险等级 level")
        assert [sub.loc[lv, gcol] for lv in levels] == list(whole.loc[town])
        assert sub.loc["合计 / Total", gcol] - sub.loc["合计 / Total", vcol] == sub.loc["合计 / Total",
                                                                                  rec.columns[-1]]
    assert (county[rec.columns[-1]] != 0).any()       # the supports do differ per level: that is why the sheet is there
    # the villages column, per level for the county, as make demo's summary counts it (township × level rounded)
    v = gpd.read_file(villages["OUTPUT"], layer="fourcolor_villages")
    vt = pd.pivot_table(v, values="people", index="township_code", columns="risk_level", aggfunc="sum",
                        fill_value=0.0).reindex(columns=[1, 2, 3, 4], fill_value=0.0)
    assert [county.loc[lv, vcol] for lv in levels] == list(whole_table(vt.to_numpy()).sum(axis=0))
    ws = openpyxl.load_workbook(d / "township_report.xlsx")["口径对照 reconcile"]
    assert "网格每格一个等级" in ws.cell(row=2, column=1).value
    assert ws.freeze_panes == "D5" and ws.page_setup.paperSize == 9
    assert (d / "csv" / "reconcile_supports.csv").exists()


def test_other_xlsx_outputs_are_formatted_too(demo_report):
    """write_table / write_sheets outputs (here fourcolorrisk's table): widths, frozen header, filter, A4, fills."""
    import openpyxl
    _, villages, _, d = demo_report
    ws = openpyxl.load_workbook(villages["OUTPUT_TABLE"]).worksheets[0]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == ws.dimensions
    assert ws.page_setup.paperSize == 9 and ws.print_title_rows == "$1:$1"
    header = [c.value for c in ws[1]]
    zh = header.index("风险等级名称 level (中文)") + 1
    red = [ws.cell(row=r, column=zh) for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=zh).value == "重大风险"]
    assert red and all(c.fill.fgColor.rgb[-6:] == "FF0000" for c in red)
    people = header.index("人口 people") + 1
    assert ws.cell(row=2, column=people).number_format == "#,##0"
    assert ws.column_dimensions["B"].width >= 8
