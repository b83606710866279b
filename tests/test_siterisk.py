"""riskmap:siterisk (issue 4): LS and LEC levels at every band edge, input checks, and the algorithm
through processing.run and qgis_process on the demo county's sites."""
import numpy as np
import pytest


def test_ls_band_edges(engine):
    """R = L × S: 20–25 重大, 15–16 较大, 9–12 一般, 1–8 低 (every product on the 5 × 5 matrix)."""
    from riskmap.risk_plugin.siterisk import ls_level
    l, s = np.meshgrid(np.arange(1, 6), np.arange(1, 6))
    score, level = ls_level(l.ravel(), s.ravel())
    expected = np.select([score >= 20, score >= 15, score >= 9], [1, 2, 3], 4)
    np.testing.assert_array_equal(level, expected)
    edges = {25: 1, 20: 1, 16: 2, 15: 2, 12: 3, 10: 3, 9: 3, 8: 4, 1: 4}
    for r, lv in edges.items():
        assert int(level[score == r][0]) == lv, r
    # 20, 25 | 15, 16 | 9, 10, 12 | the rest: 3 重大, 3 较大, 5 一般, 14 低 of the 25 cells
    assert list(np.bincount(level)[1:]) == [3, 3, 5, 14]


def test_lec_band_edges(engine):
    from riskmap.risk_plugin.siterisk import lec_level, level_from_score
    scores = [1000, 320.01, 320, 319.99, 160, 159.99, 70, 69.99, 20, 0.1]
    np.testing.assert_array_equal(level_from_score(scores, (320, 160, 70)), [1, 1, 1, 2, 2, 3, 3, 4, 4, 4])
    # standard scale products: 1×10×7 = 70 (一般), 3×6×15 = 270 (较大), 6×6×15 = 540 (重大), 3×3×7 = 63 (低)
    score, level = lec_level([1, 3, 6, 3], [10, 6, 6, 3], [7, 15, 15, 7])
    np.testing.assert_array_equal(score, [70, 270, 540, 63])
    np.testing.assert_array_equal(level, [3, 2, 1, 4])


def test_breaks_are_parameters(engine):
    from riskmap.risk_plugin.errors import ParameterError
    from riskmap.risk_plugin.siterisk import ls_level, parse_breaks
    b = parse_breaks("16, 12, 6", "LS_BREAKS", None)
    assert list(ls_level([4, 3, 2, 2], [4, 4, 3, 2], b)[1]) == [1, 2, 3, 4]
    for bad in ("9, 15, 20", "20, 15"):
        with pytest.raises(ParameterError):
            parse_breaks(bad, "LS_BREAKS", None)


@pytest.fixture
def sites(engine, tmp_path):
    import geopandas as gpd
    import shapely
    path = tmp_path / "sites.gpkg"
    gpd.GeoDataFrame({"名称": ["甲厂", "乙站", "丙库", "丁矿"], "L": [5, 3, 3, 2], "S": [4, 5, 3, 4],
                      "lec_L": [1, 3, 6, 3], "lec_E": [10, 6, 6, 3], "lec_C": [7, 15, 15, 7]},
                     geometry=shapely.points(np.arange(4) * 100.0 + 500000, np.full(4, 3300000.0)),
                     crs="EPSG:4545").to_file(path)
    return str(path)


def test_run_siterisk_levels_colours_and_checks(sites, tmp_path):
    from riskmap.risk_plugin.classes import class_table
    from riskmap.risk_plugin.errors import ValidationError
    from riskmap.risk_plugin.siterisk import run_siterisk
    res = run_siterisk(sites, method="LS", output=str(tmp_path / "ls.gpkg"))
    out = res["layer"]
    assert list(out["score"]) == [20, 15, 9, 8] and list(out["risk_level"]) == [1, 2, 3, 4]
    colours = {c["value"]: c["color"] for c in class_table("risk_levels")["classes"]}
    assert list(out["color"]) == [colours[v] for v in (1, 2, 3, 4)]
    assert list(out["risk_zh"]) == ["重大风险", "较大风险", "一般风险", "低风险"]
    assert (res["SITES_LEVEL_1"], res["SITES_LEVEL_4"]) == (1, 1)
    res = run_siterisk(sites, method="LEC")
    assert list(res["layer"]["risk_level"]) == [3, 2, 1, 4]
    # an LS score outside 1..5 is reported with its feature
    import geopandas as gpd
    g = gpd.read_file(sites)
    g.loc[1, "S"] = 6
    g.to_file(tmp_path / "bad.gpkg")
    with pytest.raises(ValidationError, match="1–5"):
        run_siterisk(str(tmp_path / "bad.gpkg"), method="LS")


def test_siterisk_processing_run(sites, alg, tmp_path):
    res = alg("riskmap:siterisk", {"SITES": sites, "METHOD": 1, "LEC_BREAKS": "300,100,50",
                                   "OUTPUT": str(tmp_path / "o.gpkg")})
    # D = 70, 270, 540, 63 against 300/100/50 → 3, 2, 1, 3
    assert (res["SITES_LEVEL_1"], res["SITES_LEVEL_2"], res["SITES_LEVEL_3"], res["SITES_LEVEL_4"]) == (1, 1, 2, 0)


def test_siterisk_qgis_process_demo_county(demo_county, qgis_process, tmp_path):
    import geopandas as gpd
    code, res, _ = qgis_process.run("riskmap:siterisk", {"SITES": demo_county["sites"], "OUTPUT": str(tmp_path / "s.gpkg")})
    assert code == 0
    g = gpd.read_file(demo_county["sites"])
    r = g["L"] * g["S"]
    expected = [int((r >= 20).sum()), int(((r >= 15) & (r < 20)).sum()), int(((r >= 9) & (r < 15)).sum()), int((r < 9).sum())]
    assert [int(res[f"SITES_LEVEL_{k}"]) for k in range(1, 5)] == expected
    assert int(res["SITES"]) == len(g)
