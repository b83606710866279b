"""Issue 15, susceptibility half: what IV and FR count on mapping units (UNIT_RULE), METHOD=auto by
cross-validation, and a weak model that says so.

Hand-computed tables for the three rules on eight units; a synthetic set where unit size grows
with the factor (the failure seen on real co-seismic slope units); the Ecuador reference data for
METHOD=auto; processing.run and qgis_process for the new parameters and outputs.
"""
import math

import numpy as np
import pytest

CRS = "EPSG:4545"
X0, Y0 = 500000.0, 3300000.0


def write_units(path, columns, heights, width=100.0, crs=CRS):
    """Rectangles ``width`` m wide and ``heights`` m tall, 50 m apart: areas are exact."""
    import geopandas as gpd
    import shapely
    boxes, x = [], X0
    for h in heights:
        boxes.append(shapely.box(x, Y0, x + width, Y0 + h))
        x += width + 50
    gpd.GeoDataFrame(columns, geometry=boxes, crs=crs).to_file(str(path), engine="pyogrio")
    return str(path)


def weight(table, factor, code):
    row = table[(table["因子 factor"] == factor) & (table["分级代码 class"] == code)]
    assert len(row) == 1, (factor, code)
    return float(row["权重 weight"].iloc[0])


class LogFeedback:
    """A QgsProcessingFeedback that keeps every line pushed to the log."""

    def __new__(cls):
        from qgis.core import QgsProcessingFeedback

        class _F(QgsProcessingFeedback):
            def __init__(self):
                super().__init__()
                self.lines = []

            def pushInfo(self, info):
                self.lines.append(info)
                super().pushInfo(info)

        return _F()


def run_logged(alg_id, params):
    import processing
    from qgis.core import QgsProcessingContext
    fb = LogFeedback()
    res = processing.run(alg_id, params, context=QgsProcessingContext(), feedback=fb)
    return res, "\n".join(fb.lines)


# --- eight units, one lithology factor, by hand -----------------------------------------------------
# unit  lith  area (ha)  landslides  presence  failed area (m²)
#  1     A      1           2           1          300
#  2     A      1           0           0            0
#  3     A      2           1           1          500
#  4     A      4           0           0            0
#  5     B      4           3           1         1000
#  6     B      4           1           1          200
#  7     B      8           0           0            0
#  8     B      8           2           1         1500
# Class A: 4 units, 8 ha, 2 units with landslides, 3 landslides, 800 m² failed.
# Class B: 4 units, 24 ha, 3 units with landslides, 6 landslides, 2700 m² failed. All: 8, 32, 5, 9, 3500.
HEIGHTS = [100, 100, 200, 400, 400, 400, 800, 800]          # × 100 m wide = 1, 1, 2, 4, 4, 4, 8, 8 ha
UNITS = {"lith": ["A"] * 4 + ["B"] * 4, "n": [2, 0, 1, 0, 3, 1, 0, 2], "ls01": [1, 0, 1, 0, 1, 1, 0, 1],
         "failed_m2": [300.0, 0, 500, 0, 1000, 200, 0, 1500]}
# FR per rule (class A, class B); IV = ln FR (no empty class here):
HAND_FR = {
    # presence: positive units / units: A (2/5)/(4/8) = 0.8, B (3/5)/(4/8) = 1.2
    "presence": (0.8, 1.2),
    # count: landslides / area: A (3/9)/(8/32) = 4/3, B (6/9)/(24/32) = 8/9
    "count": (4 / 3, 8 / 9),
    # area: failed area / area: A (800/3500)/(8/32) = 32/35, B (2700/3500)/(24/32) = 36/35
    "area": (32 / 35, 36 / 35),
}
# The old behaviour (a 0/1 presence divided by class area, what UNIT_RULE=count does to ls01):
# A (2/5)/(8/32) = 1.6 above B (3/5)/(24/32) = 0.8, although B's units fail more often (3 of 4 vs 2 of 4).


@pytest.fixture()
def eight(tmp_path):
    return write_units(tmp_path / "eight.gpkg", UNITS, HEIGHTS)


@pytest.mark.parametrize("rule,field,area_field", [("presence", "ls01", None), ("count", "n", None),
                                                   ("area", None, "failed_m2")])
@pytest.mark.parametrize("method", ["information_value", "frequency_ratio"])
def test_each_rule_by_hand(engine, eight, tmp_path, rule, field, area_field, method):
    """UNIT_RULE=auto detects the rule from the field; the weights are the hand-computed ones."""
    import geopandas as gpd
    import pandas as pd
    from riskmap.risk_plugin.susceptibility import unit_susceptibility
    out = str(tmp_path / "out.gpkg")
    r = unit_susceptibility(eight, ["lith"], field, out, landslide_area_field=area_field, method=method, folds=2,
                            breaks="quantile", out_report=str(tmp_path / "r.xlsx"))
    assert r.rule == rule and r.method == method
    fr = HAND_FR[rule]
    want = fr if method == "frequency_ratio" else tuple(math.log(v) for v in fr)
    assert weight(r.weights, "lith", 1) == pytest.approx(want[0], abs=1e-12)
    assert weight(r.weights, "lith", 2) == pytest.approx(want[1], abs=1e-12)
    # the index of a unit is its class's weight, as written
    got = gpd.read_file(out)
    np.testing.assert_allclose(got["susc_index"], [want[0]] * 4 + [want[1]] * 4, rtol=1e-6)
    assert r.n_positive == 5 and list(got["n"]) == UNITS["n"]                 # input fields kept
    # the report shows the counts behind the weights, and says which rule was used and why
    w = r.weights.set_index("分级代码 class")
    assert list(w["单元数 units"]) == [4, 4] and list(w["有滑坡单元 landslide_units"]) == [2, 3]
    assert list(w["面积 area_km2"]) == pytest.approx([0.08, 0.24])
    if rule == "count":
        assert list(w["滑坡数 landslides"]) == [3, 6]
    if rule == "area":
        assert list(w["滑坡面积 landslide_area_km2"]) == pytest.approx([800e-6, 2700e-6])
    summary = pd.read_excel(tmp_path / "r.xlsx", sheet_name="summary").set_index("项目 item")["值 value"]
    assert summary["统计规则 rule"] == rule
    assert {"presence": "0 和 1", "count": "非负整数", "area": "滑坡面积字段"}[rule] in summary["规则依据 why"]


def test_old_rule_ranked_the_large_unit_class_first(engine, eight, tmp_path):
    """UNIT_RULE=count on a 0/1 field is what the algorithm did before: it says so, and ranks A
    (2 of 4 units failed) above B (3 of 4) because B's units are larger."""
    from riskmap.risk_plugin.susceptibility import unit_susceptibility
    r = unit_susceptibility(eight, ["lith"], "ls01", str(tmp_path / "o.gpkg"), unit_rule="count",
                            method="frequency_ratio", folds=2)
    assert r.rule == "count"
    assert weight(r.weights, "lith", 1) == pytest.approx(1.6) and weight(r.weights, "lith", 2) == pytest.approx(0.8)
    assert any("只有 0/1 却按滑坡数统计" in n and "presence suits a 0/1 field" in n for n in r.notes)


def test_rule_detection_and_refusals(engine, tmp_path):
    from riskmap.risk_plugin.errors import ParameterError
    from riskmap.risk_plugin.susceptibility import resolve_rule, unit_susceptibility
    ids = list(range(4))
    assert resolve_rule("auto", np.array([0, 1, 1, 0.0]), False, "f", ids)[0] == "presence"
    assert resolve_rule("auto", np.array([0, 3, 1, 0.0]), False, "f", ids)[0] == "count"
    assert resolve_rule("auto", np.array([0, 1, 1, 0.0]), True, "f", ids)[0] == "area"
    # a count used as presence is allowed and said
    rule, _, _, notes = resolve_rule("presence", np.array([0, 3, 1, 0.0]), False, "f", ids)
    assert rule == "presence" and "值 > 0 的单元记为有滑坡" in notes[0]
    with pytest.raises(ParameterError) as err:
        resolve_rule("auto", np.array([0, 2.5, 1, 0.0]), False, "density", [11, 12, 13, 14])
    text = str(err.value)
    assert "density" in text and "12" in text and "2.5" in text and "LANDSLIDE_AREA_FIELD" in text
    src = write_units(tmp_path / "u.gpkg", UNITS, HEIGHTS)
    with pytest.raises(ParameterError, match="UNIT_RULE=area needs"):
        unit_susceptibility(src, ["lith"], "n", str(tmp_path / "o.gpkg"), unit_rule="area", folds=2)
    assert not (tmp_path / "o.gpkg").exists()


def test_failed_area_larger_than_its_unit_is_said(engine, tmp_path):
    from riskmap.risk_plugin.susceptibility import unit_susceptibility
    # failed areas 100 × too large (a field in another unit): 30 000 m² in unit 1 of 10 000 m²; units
    # 1, 3, 5 and 8 exceed their area, unit 6 (20 000 of 40 000 m²) does not
    cols = dict(UNITS, failed=[v * 100 for v in UNITS["failed_m2"]])
    src = write_units(tmp_path / "u.gpkg", cols, HEIGHTS)
    r = unit_susceptibility(src, ["lith"], None, str(tmp_path / "o.gpkg"), landslide_area_field="failed", folds=2)
    assert r.rule == "area" and r.n_positive == 5
    assert any("4 个单元的滑坡面积大于单元面积" in n and "is the field in m²?" in n for n in r.notes)


# --- unit size grows with the factor ------------------------------------------------------------------
def size_correlated(path, n=1200, seed=15):
    """Units whose side grows as exp(x / 16) (areas over a 500-fold range) while the chance of a
    landslide rises only from 0.5 to 0.9 with x: most units fail, large units a little more often.
    Per class of x, large-unit classes hold few units (equal-area classes) but most of them failed."""
    import geopandas as gpd
    import shapely
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 40, n)
    side = 60 * np.exp(x / 16) * rng.lognormal(0, 0.15, n)
    y = (rng.random(n) < 0.5 + 0.4 * x / 40).astype(int)
    cols, rows = np.arange(n) % 40, np.arange(n) // 40
    geoms = [shapely.box(X0 + c * 2000, Y0 + r * 2000, X0 + c * 2000 + s, Y0 + r * 2000 + s)
             for c, r, s in zip(cols, rows, side)]
    gpd.GeoDataFrame({"x": x, "landslide": y}, geometry=geoms, crs=CRS).to_file(str(path), engine="pyogrio")
    return str(path), x, y


@pytest.mark.parametrize("method", ["information_value", "frequency_ratio"])
def test_size_correlated_units_rank_better_than_chance(engine, tmp_path, method):
    """Measured (seed 15, 1 200 units, 72 % positive): the old rule (a 0/1 field per area, now
    UNIT_RULE=count) gives prediction AUC 0.386 for IV and FR; the presence rule 0.614. Both are
    computed here."""
    from riskmap.risk_plugin.susceptibility import unit_susceptibility
    src, x, y = size_correlated(tmp_path / "s.gpkg")
    new = unit_susceptibility(src, ["x"], "landslide", str(tmp_path / "new.gpkg"), method=method)
    old = unit_susceptibility(src, ["x"], "landslide", str(tmp_path / "old.gpkg"), method=method, unit_rule="count")
    assert new.rule == "presence" and old.rule == "count"
    assert new.auc_prediction > 0.6 and min(new.fold_aucs) > 0.5 and new.auc_success > 0.6
    assert old.auc_prediction < 0.45 and max(old.fold_aucs) < 0.5          # worse than chance before
    # the presence weights rise with x, as the landslide rate does
    w = new.weights.sort_values("分级代码 class")["权重 weight"].to_numpy()
    assert np.corrcoef(np.arange(w.size), w)[0, 1] > 0.8


def test_size_correlated_units_through_processing(alg, tmp_path):
    """processing.run with the defaults: rule presence, auto method, AUCs above chance; the
    weak-model warning names the cause (most units hold a landslide)."""
    import geopandas as gpd
    from sklearn.metrics import roc_auc_score
    src, _, y = size_correlated(tmp_path / "s.gpkg")
    res, log = run_logged("riskmap:unitsusceptibility", {"UNITS": src, "FACTOR_FIELDS": ["x"],
                                                         "LANDSLIDE_FIELD": "landslide",
                                                         "OUTPUT": str(tmp_path / "o.gpkg"),
                                                         "OUTPUT_REPORT": str(tmp_path / "r.xlsx")})
    assert res["UNIT_RULE_USED"] == "presence" and res["METHOD_USED"] in ("information_value", "frequency_ratio",
                                                                           "logistic")
    assert res["AUC_PREDICTION"] > 0.6
    out = gpd.read_file(tmp_path / "o.gpkg")
    assert roc_auc_score(y, out["susc_index"]) == pytest.approx(res["AUC_SUCCESS"], abs=1e-12)
    assert "统计规则 / rule: presence" in log and "share of units with landslides ÷ share of units" in log
    # 0.61 < 0.7: weak, not unreliable; the cause is detected
    assert res["RELIABLE"] == 1 and "WARNING: the model is weak" in log
    assert "72% of the units hold a landslide" in log


# --- METHOD=auto ----------------------------------------------------------------------------------------
def test_method_enum_keeps_its_meaning(riskmap):
    from qgis.core import QgsApplication
    from riskmap.risk_plugin.definitions import susceptibility as D
    assert D.METHODS == ("information_value", "frequency_ratio", "logistic", "auto") and D.METHOD == "auto"
    for alg_id in ("riskmap:landslidesusceptibility", "riskmap:unitsusceptibility"):
        a = QgsApplication.processingRegistry().algorithmById(alg_id)
        p = a.parameterDefinition("METHOD")
        assert p.defaultValue() == 3 and len(p.options()) == 4
        assert p.options()[0].startswith("信息量法") and p.options()[2].startswith("逻辑回归")
        assert p.options()[3].startswith("自动")
    p = QgsApplication.processingRegistry().algorithmById("riskmap:unitsusceptibility").parameterDefinition("UNIT_RULE")
    assert p.defaultValue() == 0 and len(p.options()) == len(D.UNIT_RULES) == 4


@pytest.mark.parametrize("number,name", [(0, "information_value"), (1, "frequency_ratio"), (2, "logistic")])
def test_numeric_methods_through_processing(alg, eight, tmp_path, number, name):
    res = alg("riskmap:unitsusceptibility", {"UNITS": eight, "FACTOR_FIELDS": ["lith"], "LANDSLIDE_FIELD": "ls01",
                                             "METHOD": number, "FOLDS": 2, "OUTPUT": str(tmp_path / "o.gpkg")})
    assert res["METHOD_USED"] == name and res["UNIT_RULE_USED"] == "presence"


def test_auto_keeps_the_best_of_the_same_folds(engine, shared_data, tmp_path):
    """Ecuador (grid): auto keeps frequency ratio (prediction AUC 0.824 > IV 0.814 > LR 0.806); each
    row of the comparison equals the explicit run of that method, fold for fold."""
    import openpyxl
    from riskmap.risk_plugin.susceptibility import landslide_susceptibility
    d = shared_data / "ecuador_landslides"
    runs = {}
    for m in ("auto", "information_value", "logistic"):
        runs[m] = landslide_susceptibility(str(d / "dem.tif"), str(d / "landslide_points.gpkg"),
                                           str(tmp_path / f"{m}.tif"), None, str(tmp_path / f"{m}.xlsx"),
                                           presence_field="landslide", method=m)
    auto = runs["auto"]
    comp = auto.comparison.set_index("方法 method")
    assert auto.method == "frequency_ratio" == comp["AUC_PREDICTION"].idxmax()
    assert comp.loc["frequency_ratio", "选用 kept"].startswith("✓")
    for m in ("information_value", "logistic"):
        assert comp.loc[m, "AUC_PREDICTION"] == runs[m].auc_prediction
        assert comp.loc[m, "AUC_SUCCESS"] == pytest.approx(runs[m].auc_success, abs=1e-9)
        assert comp.loc[m, "各折 AUC fold_aucs"] == ", ".join(f"{a:.4f}" for a in runs[m].fold_aucs)
        # an explicit method is kept even when another predicts better, and the report still compares
        assert runs[m].method == m and len(runs[m].comparison) == 3
    assert comp.loc["frequency_ratio", "AUC_PREDICTION"] == auto.auc_prediction == pytest.approx(0.8239, abs=2e-4)   # 0.8238 and 0.8240 in two builds of the same pins
    assert openpyxl.load_workbook(tmp_path / "auto.xlsx").sheetnames[:2] == ["comparison", "reliability"]
    assert auto.verdict.level == "reliable"
    assert any("METHOD=auto" in n and "frequency ratio" in n for n in auto.notes)


def test_auto_through_qgis_process(qgis_process, shared_data, tmp_path):
    d = shared_data / "ecuador_landslides"
    code, results, output = qgis_process.run("riskmap:landslidesusceptibility", {
        "DEM": str(d / "dem.tif"), "INVENTORY": str(d / "landslide_points.gpkg"), "PRESENCE_FIELD": "landslide",
        "OUTPUT_INDEX": str(tmp_path / "i.tif"), "OUTPUT_ZONES": str(tmp_path / "z.tif"),
        "OUTPUT_REPORT": str(tmp_path / "r.csv")})
    assert code == 0
    assert results["METHOD_USED"] == "frequency_ratio" and float(results["RELIABLE"]) == 1
    import pandas as pd
    rep = pd.read_csv(tmp_path / "r.csv")
    assert rep["部分 section"].iloc[0] == "comparison"
    comp = rep[rep["部分 section"] == "comparison"].set_index("方法 method")
    assert float(comp.loc["frequency_ratio", "AUC_PREDICTION"]) == pytest.approx(float(results["AUC_PREDICTION"]))
    assert len(comp) == 3


# --- a weak model says so ---------------------------------------------------------------------------------
def test_unreliable_units_say_why(alg, tmp_path):
    """40 equal units, landslides at random, a constant factor and a noise factor: the prediction
    AUC is near chance; the causes found are a factor with one class and too few landslides."""
    import pandas as pd
    rng = np.random.default_rng(3)
    cols = {"flat": [5.0] * 40, "noise": rng.normal(size=40), "ls": (rng.random(40) < 0.5).astype(int)}
    src = write_units(tmp_path / "u.gpkg", cols, [100] * 40)
    res, log = run_logged("riskmap:unitsusceptibility", {"UNITS": src, "FACTOR_FIELDS": ["flat", "noise"],
                                                         "LANDSLIDE_FIELD": "ls", "FOLDS": 4,
                                                         "OUTPUT": str(tmp_path / "o.gpkg"),
                                                         "OUTPUT_REPORT": str(tmp_path / "r.xlsx")})
    assert res["RELIABLE"] == 0 and res["AUC_PREDICTION"] < 0.6
    assert "易发性分区不可靠" in log and "the susceptibility zoning is unreliable" in log
    assert "factor(s) ['flat'] have (almost) one class" in log
    n_pos = int(np.sum(cols["ls"]))
    rare = f"with landslides: {n_pos}" if n_pos <= 40 - n_pos else f"without landslides: {40 - n_pos}"
    assert f"too few units {rare} for 7 class weights" in log      # flat: 1 class, noise: 8 → 0 + 7 weights
    rel = pd.read_excel(tmp_path / "r.xlsx", sheet_name="reliability")
    assert rel.iloc[0]["中文"] == "不可靠" and rel.iloc[0]["English"] == "unreliable"
    assert rel["English"].str.contains("below 0.6").any() and rel["中文"].str.contains("几乎只有一个分级").any()
    assert rel["项目 item"].eq("建议 try").sum() >= 2


def test_units_too_large_are_detected(engine, tmp_path):
    """85 % of the units hold a landslide and the large ones more often; the factor is noise: the
    verdict names the units (most positive; area alone predicts better than the model)."""
    from riskmap.risk_plugin.susceptibility import unit_susceptibility
    rng = np.random.default_rng(8)
    n = 300
    h = rng.uniform(50, 1000, n)
    ls = (rng.random(n) < 0.6 + 0.4 * (h - 50) / 950).astype(int)
    src = write_units(tmp_path / "u.gpkg", {"noise": rng.normal(size=n), "ls": ls}, h)
    r = unit_susceptibility(src, ["noise"], "ls", str(tmp_path / "o.gpkg"))
    assert r.verdict.level == "unreliable" and r.rule == "presence"
    text = "\n".join(r.verdict.lines())
    share = ls.mean()
    assert share > 0.7 and f"{share:.0%} of the units hold a landslide" in text
    assert "unit area alone separates units with and without landslides" in text
    assert "LANDSLIDE_AREA_FIELD" in text


def test_folds_that_disagree_make_it_unreliable(engine):
    """The fold rule alone: mean 0.77 but SD 0.18 > 0.1."""
    from riskmap.risk_plugin.susceptibility import MethodScore, assess
    from riskmap.risk_plugin.susceptibility.factors import Factor
    s = MethodScore("information_value", 0.8, 0.77, [0.95, 0.55, 0.95, 0.55, 0.85])
    assert s.fold_sd == pytest.approx(np.std([0.95, 0.55, 0.95, 0.55, 0.85], ddof=1))
    codes = np.tile(np.arange(1, 9, dtype=np.uint8), 50)[None, :]
    y = np.tile([0, 1], 200)
    v = assess(s, codes, y, [Factor.continuous("x", np.arange(1.5, 8))], [np.r_[0, np.full(8, 50.0)]], grid=True)
    assert v.level == "unreliable" and not v.reliable
    assert any("folds disagree widely (0.55–0.95, SD 0.205 > 0.1)" in en for _, en in v.triggers)
    assert assess(MethodScore("logistic", 0.8, 0.77, [0.75, 0.8, 0.77, 0.76, 0.77]), codes, y,
                  [Factor.continuous("x", np.arange(1.5, 8))], [np.r_[0, np.full(8, 50.0)]], grid=True).level == "reliable"


def test_grid_with_shuffled_labels_is_unreliable(engine, shared_data, tmp_path):
    """Ecuador with the landslide labels shuffled among the 350 points: near-chance AUC, said in the
    report (CSV section 'reliability') and in the notes."""
    import geopandas as gpd
    import pandas as pd
    from riskmap.risk_plugin.susceptibility import landslide_susceptibility
    d = shared_data / "ecuador_landslides"
    pts = gpd.read_file(d / "landslide_points.gpkg")
    pts["landslide"] = np.random.default_rng(1).permutation(pts["landslide"].to_numpy())
    pts.to_file(tmp_path / "shuffled.gpkg")
    r = landslide_susceptibility(str(d / "dem.tif"), str(tmp_path / "shuffled.gpkg"), str(tmp_path / "i.tif"), None,
                                 str(tmp_path / "r.csv"), presence_field="landslide", dem_factors=("slope", "elevation"))
    assert r.auc_prediction < 0.6 and r.verdict.level == "unreliable"
    rep = pd.read_csv(tmp_path / "r.csv")
    rel = rep[rep["部分 section"] == "reliability"]
    assert rel["English"].iloc[0] == "unreliable" and rel["English"].str.contains("below 0.6").any()
    assert any("易发性分区不可靠" in n for n in r.notes)


def test_area_rule_through_qgis_process(qgis_process, eight, tmp_path):
    code, results, _ = qgis_process.run("riskmap:unitsusceptibility", {
        "UNITS": eight, "FACTOR_FIELDS": "lith", "LANDSLIDE_AREA_FIELD": "failed_m2", "METHOD": 1, "FOLDS": 2,
        "OUTPUT": str(tmp_path / "o.gpkg"), "OUTPUT_REPORT": str(tmp_path / "r.csv")})
    assert code == 0 and results["UNIT_RULE_USED"] == "area" and results["METHOD_USED"] == "frequency_ratio"
    import geopandas as gpd
    got = gpd.read_file(tmp_path / "o.gpkg")
    np.testing.assert_allclose(got["susc_index"], [32 / 35] * 4 + [36 / 35] * 4, rtol=1e-6)


def test_a_field_named_like_the_canonical_one_stays_in_the_output(engine, tmp_path):
    """The layer's own `landslides` field is kept (before, the output dropped it unless it was named
    in LANDSLIDE_FIELD); a canonical column added by validation for an alias is not written."""
    import geopandas as gpd
    from riskmap.risk_plugin.susceptibility import unit_susceptibility
    own = write_units(tmp_path / "own.gpkg", {"lith": UNITS["lith"], "landslides": UNITS["n"]}, HEIGHTS)
    unit_susceptibility(own, ["lith"], None, str(tmp_path / "o1.gpkg"), folds=2)
    assert list(gpd.read_file(tmp_path / "o1.gpkg")["landslides"]) == UNITS["n"]
    alias = write_units(tmp_path / "alias.gpkg", {"lith": UNITS["lith"], "滑坡数": UNITS["n"]}, HEIGHTS)
    r = unit_susceptibility(alias, ["lith"], None, str(tmp_path / "o2.gpkg"), folds=2)
    cols = set(gpd.read_file(tmp_path / "o2.gpkg").columns)
    assert r.rule == "count" and "滑坡数" in cols and "landslides" not in cols
