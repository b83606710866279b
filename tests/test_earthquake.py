"""riskmap:seismichazard and riskmap:earthquakeimpact (issue 12): intensity parsing and PGA conversion by
the standards' own tables, the attenuation relations at known distances, the damage matrices
(conservation, monotonicity, the GB 50011 calibration they claim), hand-computed damage and deaths of
a few buildings, the earthquake zoning plugged into compositezoning and fourcolorrisk, census field
names and Shapefile truncations, bad inputs, and both algorithms through processing.run and
qgis_process."""
from math import comb

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

CRS = "EPSG:4545"
X0, Y0 = 577600.0, 3265000.0


def write_gpkg(path, columns, geoms, crs=CRS):
    gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs).to_file(str(path), engine="pyogrio")
    return str(path)


# --------------------------------------------------------------------------------------------------
# intensity, PGA, site factor
# --------------------------------------------------------------------------------------------------
def test_intensity_spellings(engine):
    from riskmap.risk_plugin.seismic.intensity import parse_intensity
    vals, bad = parse_intensity(["Ⅶ度", "VIII", "7", 6.0, "烈度9", "七度", "<Ⅵ", "≥Ⅸ度", "viii度区", "Ⅹ", None, "", "强烈", 15])
    np.testing.assert_array_equal(vals[:10], [7, 8, 7, 6, 9, 7, 5, 9, 8, 10])
    assert np.isnan(vals[10:]).all()
    np.testing.assert_array_equal(bad, [False] * 12 + [True, True])     # blank is not an error; '强烈' and 15 are


def test_pga_spellings_and_units(engine):
    from riskmap.risk_plugin.seismic.intensity import parse_pga
    vals, bad = parse_pga(["0.15g", "0.2", "≥0.40g", "147 gal", "<0.05g", 0.1, "0.5 m/s2", "abc"], unit="g")
    g = 9.80665
    np.testing.assert_allclose(vals[:7], [0.15, 0.2, 0.40, 1.47 / g, 0.75 * 0.05, 0.1, 0.5 / g])
    assert bad.tolist() == [False] * 7 + [True]
    gal, _ = parse_pga([196.133], unit="gal")
    assert gal[0] == pytest.approx(0.2)


def test_pga_to_intensity_by_the_standards(engine):
    """GB 18306-2015 表 G.1 bands (a value on a lower bound belongs to the band) and the GB/T 17742-2020
    formula, which gives the centre of each degree at the scale's mean PGA (VI 0.653, VII 1.35, VIII 2.79,
    IX 5.77 m/s²)."""
    from riskmap.risk_plugin.seismic.intensity import pga_to_intensity
    pga = np.array([0.03, 0.04, 0.05, 0.089, 0.09, 0.10, 0.15, 0.19, 0.20, 0.30, 0.38, 0.40, 0.75, 1.2, np.nan])
    np.testing.assert_array_equal(pga_to_intensity(pga)[:-1], [5, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 10, 10])
    assert np.isnan(pga_to_intensity(pga)[-1])
    ms2 = np.array([0.653, 1.35, 2.79, 5.77])
    np.testing.assert_allclose(pga_to_intensity(ms2 / 9.80665, "gb17742"), [6, 7, 8, 9], atol=0.01)


def test_site_factor(engine):
    from riskmap.risk_plugin.seismic.intensity import site_factor
    assert site_factor(0.10, "II") == 1.0
    assert site_factor(0.10, "III") == pytest.approx(1.25)
    assert site_factor(0.125, "III") == pytest.approx((1.25 + 1.15) / 2)
    assert site_factor(0.02, "I0") == pytest.approx(0.72)          # flat beyond the table
    assert site_factor(0.40, "IV") == pytest.approx(0.90)


def test_degrees_and_classes(engine):
    from riskmap.risk_plugin.seismic.intensity import degree, hazard_class
    i = np.array([5.99, 6.0, 6.5, 7.49, 7.5, 8.999999999999, 9.2, np.nan])
    np.testing.assert_array_equal(degree(i, "floor")[:-1], [5, 6, 6, 7, 7, 9, 9])
    np.testing.assert_array_equal(degree(i, "nearest")[:-1], [6, 6, 6, 7, 7, 9, 9])   # 6.5 → 6, 7.5 → 7 (InaSAFE)
    np.testing.assert_array_equal(hazard_class(np.array([4, 5, 6, 7, 8, 9, 10, np.nan])), [0, 0, 1, 2, 3, 4, 4, 0])


# --------------------------------------------------------------------------------------------------
# attenuation
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["cn2013_east", "cn2013_moderate", "cn2013_xinjiang", "cn2013_tibet",
                                 "wang2000_west", "wang2000_east"])
def test_attenuation_relations_at_known_distances(engine, key):
    """The site intensity on each axis is the published I = A + B·M + C·lg(R + R0); the two axes give the
    same epicentral intensity (the joint-fit constraint, which checks the transcription of the coefficients)."""
    from riskmap.risk_plugin.definitions.seismic import ATTENUATION
    from riskmap.risk_plugin.seismic import attenuation as A
    a_a, b_a, c_a, r0a, a_b, b_b, c_b, r0b, _ = ATTENUATION[key]
    rel = A.relation(key)
    m = 6.5
    assert a_a + b_a * m + c_a * np.log10(r0a) == pytest.approx(a_b + b_b * m + c_b * np.log10(r0b), abs=2e-3)
    strike = 30.0
    for r in (2.0, 10.0, 30.0, 80.0):
        t = np.radians(strike)
        x_long, y_long = X0 + 1000 * r * np.sin(t), Y0 + 1000 * r * np.cos(t)       # along the strike
        x_short, y_short = X0 + 1000 * r * np.cos(t), Y0 - 1000 * r * np.sin(t)     # across it
        i = A.intensity_at(np.array([x_long, x_short]), np.array([y_long, y_short]), (X0, Y0), strike, m, rel)
        assert i[0] == pytest.approx(a_a + b_a * m + c_a * np.log10(r + r0a), abs=1e-9)
        assert i[1] == pytest.approx(a_b + b_b * m + c_b * np.log10(r + r0b), abs=1e-9)
        assert i[0] > i[1]                       # the long axis attenuates more slowly
    # intensity falls with distance in every direction
    ang = np.radians(np.arange(0, 360, 15))
    dist = np.array([1, 5, 20, 60, 150])
    xs = X0 + 1000 * dist[:, None] * np.sin(ang)[None, :]
    ys = Y0 + 1000 * dist[:, None] * np.cos(ang)[None, :]
    ii = A.intensity_at(xs.ravel(), ys.ravel(), (X0, Y0), strike, m, rel).reshape(xs.shape)
    assert (np.diff(ii, axis=0) < 0).all()


def test_moderate_region_hand_values(engine):
    """俞言祥等 2013, 中强地震活动区, Ms 6.5: long axis I = 5.8410 + 1.0710·6.5 − 3.6570·lg(R + 15)."""
    from riskmap.risk_plugin.seismic import attenuation as A
    rel = A.relation("cn2013_moderate")
    # by hand: 5.8410 + 6.96150 = 12.80250; lg(25) = 1.397940; lg(65) = 1.812913
    assert A.axis_intensity(rel.major, 6.5, 10.0) == pytest.approx(12.8025 - 3.6570 * 1.397940, abs=1e-5)   # 7.6902
    assert A.axis_intensity(rel.major, 6.5, 50.0) == pytest.approx(12.8025 - 3.6570 * 1.812913, abs=1e-5)   # 6.1727
    # the VII isoseismal of Ms 6.5: Ra = 10^((12.8025 − 7)/3.657) − 15 = 23.53 km; Rb = 10^((10.9055 − 7)/2.845) − 7
    assert A.axis_radius(rel.major, 6.5, 7.0) == pytest.approx(10 ** (5.8025 / 3.657) - 15, rel=1e-9)
    assert A.axis_radius(rel.minor, 6.5, 7.0) == pytest.approx(10 ** (3.9055 / 2.845) - 7, rel=1e-9)
    ells = A.isoseismals((X0, Y0), 45.0, 6.5, rel, degrees=[7])
    ra, rb = A.axis_radius(rel.major, 6.5, 7.0) * 1000, A.axis_radius(rel.minor, 6.5, 7.0) * 1000
    assert ells[0][1].area == pytest.approx(np.pi * ra * rb, rel=2e-3)
    assert A.epicentral_intensity(6.5, rel) == pytest.approx(8.5013, abs=1e-3)


def test_strike_from_the_nearest_fault(engine):
    from riskmap.risk_plugin.seismic.attenuation import strike_from_faults
    f = [shapely.LineString([(X0 - 5000, Y0 - 5000), (X0 + 5000, Y0 + 5000)]),
         shapely.LineString([(X0 + 90000, Y0), (X0 + 90000, Y0 + 9000)])]
    assert strike_from_faults((X0 + 100, Y0), f) == pytest.approx(45.0)
    assert strike_from_faults((X0 + 89000, Y0 + 100), f) == pytest.approx(0.0)
    assert strike_from_faults((X0 + 300000, Y0), f) is None


# --------------------------------------------------------------------------------------------------
# damage matrices
# --------------------------------------------------------------------------------------------------
def test_default_matrices_conserve_and_are_monotone(engine):
    """Rows sum to 1; a higher intensity never lowers the chance of reaching any damage state (first-order
    stochastic dominance), a higher fortification never raises it; ordinary houses reproduce the mean damage
    index midpoints of GB/T 17742-1999 at VI … X."""
    from riskmap.risk_plugin.definitions import seismic as D
    from riskmap.risk_plugin.seismic.vulnerability import Matrices
    m = Matrices.default()
    p = m.p                                   # (structure, fortification, degree, state)
    assert np.isfinite(p).all() and m.complete.all()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-12)
    at_least = np.cumsum(p[..., ::-1], axis=-1)[..., ::-1][..., 1:]     # P(state >= k), k = slight … collapse
    assert (np.diff(at_least, axis=2) >= -1e-12).all()                  # along intensity
    assert (np.diff(at_least, axis=1) <= 1e-12).all()                   # along fortification 0, 6, 7, 8, 9
    ordinary = p[D.STRUCTURES.index("brick_concrete"), 0]
    np.testing.assert_allclose(ordinary @ np.array(D.DAMAGE_INDEX), [0.05, 0.205, 0.405, 0.605, 0.805], atol=1e-9)


@pytest.mark.parametrize("structure", ["brick_concrete", "brick_wood", "other", "rc"])
def test_fortification_meets_the_gb50011_objectives(engine, structure):
    """The calibration definitions/seismic.py claims: designed to f, at I = f the mean damage index is below
    0.15, at I = f + 1 the collapse probability is below 1 % (ordinary types, offset <= 0)."""
    from riskmap.risk_plugin.definitions import seismic as D
    from riskmap.risk_plugin.seismic.vulnerability import Matrices
    m = Matrices.default()
    s = D.STRUCTURES.index(structure)
    for f in (6, 7, 8, 9):
        fi = D.FORTIFICATIONS.index(f)
        at_f = m.probabilities(np.array([s]), np.array([fi]), np.array([float(f)]))[0]
        assert at_f @ np.array(D.DAMAGE_INDEX) < 0.15, (structure, f)
        above = m.probabilities(np.array([s]), np.array([fi]), np.array([float(min(f + 1, 10))]))[0]
        assert above[4] < 0.01, (structure, f)


def test_interpolation_between_degrees(engine):
    from riskmap.risk_plugin.seismic.vulnerability import Matrices
    m = Matrices.default()
    t, f = np.array([1, 1, 1, 1]), np.array([0, 0, 0, 0])
    p = m.probabilities(t, f, np.array([7.0, 8.0, 7.25, 5.5]), "interpolate")
    np.testing.assert_allclose(p[2], 0.75 * p[0] + 0.25 * p[1])
    np.testing.assert_allclose(p[3], 0.5 * np.array([1, 0, 0, 0, 0]) + 0.5 * m.p[1, 0, 0])
    np.testing.assert_allclose(m.probabilities(t[:1], f[:1], np.array([11.3]))[0], m.p[1, 0, -1])    # above X: X
    np.testing.assert_allclose(m.probabilities(t[:1], f[:1], np.array([np.nan]))[0], [1, 0, 0, 0, 0])


def _by_hand_states(mu):
    """Binomial(4, p) over 基本完好 … 毁坏 with mean damage index mu (indices 0, .2, .4, .7, 1), by brentq."""
    from scipy.optimize import brentq
    d = np.array([0.0, 0.2, 0.4, 0.7, 1.0])

    def probs(p):
        return np.array([comb(4, k) * p ** k * (1 - p) ** (4 - k) for k in range(5)])
    p = brentq(lambda q: probs(q) @ d - mu, 0.0, 1.0, xtol=1e-15)
    return probs(p)


@pytest.fixture(scope="module")
def three(engine, tmp_path_factory):
    """Three buildings in intensity zones VIII, IX, VII (zone polygons written as Ⅷ, 9, VII度), two villages."""
    d = tmp_path_factory.mktemp("eq_three")
    p = {"dir": d}
    boxes = [shapely.box(X0 + 1000 * i, Y0, X0 + 1000 * (i + 1), Y0 + 1000) for i in range(3)]
    p["zones"] = write_gpkg(d / "zones.gpkg", {"烈度": ["Ⅷ", "9", "VII度"]}, boxes)
    pts = [shapely.Point(X0 + 500, Y0 + 500), shapely.Point(X0 + 1500, Y0 + 500), shapely.Point(X0 + 2500, Y0 + 500)]
    p["bld"] = write_gpkg(d / "bld.gpkg", {"结构类型": ["砖混", "钢筋混凝土结构", "土坯房"], "居住人数": [4, 10, 3],
                                           "建筑层数": [2, 6, 1], "建造年代": ["1985", "2005", "1980年及以前"],
                                           "抗震设防烈度": ["未设防", "8度", None]}, pts)
    p["villages"] = write_gpkg(d / "villages.gpkg", {"名称": ["东村", "西村"], "行政区划代码": ["1", "2"],
                                                     "上级代码": ["9", "9"]},
                               [shapely.box(X0, Y0, X0 + 2000, Y0 + 1000), shapely.box(X0 + 2000, Y0, X0 + 3000, Y0 + 1000)])
    return p


def _hand_building(mu, occupants, residents, collapse_share):
    states = _by_hand_states(mu)
    death = states[3] * 0.00001 + states[4] * (collapse_share * 0.10 + (1 - collapse_share) * 0.0001)
    injured = (states[1] * 0.0005 + states[2] * (0.0025 + 0.0003) + states[3] * (0.01 + 0.001 + 0.00001)
               + states[4] * (collapse_share * 0.65 + (1 - collapse_share) * 0.0601))
    displaced = residents * (0.9 * states[3] + states[4]) - occupants * death
    return states, occupants * death, occupants * injured, displaced


def test_hand_computed_damage_and_deaths(three, alg, tmp_path):
    """By hand, outside the engine: (1) 砖混 未设防 at VIII: mean index 0.405; (2) 钢混 8度, 6 storeys, at IX:
    I_eff = 9 − 0.5 − 2 = 6.5 → 0.1275, collapse share 10 % (mid-rise); (3) 土坯 blank, built before 1990, at
    VII: unfortified, I_eff = 7.5 → 0.305. Night occupancy 0.99."""
    out = tmp_path / "b.gpkg"
    res = alg("riskmap:earthquakeimpact", {"BUILDINGS": three["bld"], "HAZARD": three["zones"], "UNITS": [three["villages"]],
                                           "OUTPUT_BUILDINGS": str(out), "OUTPUT_UNITS": str(tmp_path / "u.gpkg"),
                                           "OUTPUT_TABLE": str(tmp_path / "t.xlsx")})
    b = gpd.read_file(out)
    cases = [(0.405, 4, 0.15), (0.1275, 10, 0.10), (0.305, 3, 0.15)]
    total = 0.0
    for i, (mu, res_, share) in enumerate(cases):
        states, death, inj, disp = _hand_building(mu, 0.99 * res_, res_, share)
        got = b.loc[i, ["p_intact", "p_slight", "p_moderate", "p_extensive", "p_collapse"]].to_numpy(float)
        np.testing.assert_allclose(got, states, atol=2e-6)          # written with 6 decimals
        assert b.loc[i, "deaths"] == pytest.approx(death, rel=1e-9)
        assert b.loc[i, "injured"] == pytest.approx(inj, rel=1e-9)
        assert b.loc[i, "displaced"] == pytest.approx(disp, rel=1e-9)
        total += death
    assert b["eq_fortification"].tolist() == [0, 8, 0] and b["eq_degree"].tolist() == [8, 9, 7]
    assert res["DEATHS"] == pytest.approx(total, rel=1e-12)
    assert res["BUILDINGS"] == 3 and res["RESIDENTS"] == 17
    u = gpd.read_file(tmp_path / "u.gpkg")
    assert u["deaths"].sum() == pytest.approx(total, rel=1e-9)
    # PAGER beside it: residents × Φ(ln(I/θ)/β), China θ = 10.328811, β = 0.100058
    from scipy.stats import norm
    pager = sum(r * norm.cdf(np.log(i / 10.328811) / 0.100058) for i, r in ((8, 4), (9, 10), (7, 3)))
    assert res["DEATHS_PAGER"] == pytest.approx(pager, rel=1e-9)
    # the matrices used are in the table
    m = pd.read_excel(tmp_path / "t.xlsx", sheet_name="易损性矩阵 vulnerability")
    assert len(m) == 5 * 5 * 5 and np.allclose(m[["intact", "slight", "moderate", "extensive", "collapse"]].sum(axis=1), 1)


def test_day_occupancy_and_retrofit(three, alg, tmp_path):
    """Daytime halves occupants (0.5 instead of 0.99) and so deaths; retrofitting to VIII saves exactly the
    difference of the hand-computed deaths of the two unfortified buildings."""
    night = alg("riskmap:earthquakeimpact", {"BUILDINGS": three["bld"], "HAZARD": three["zones"], "UNITS": [three["villages"]],
                                             "RETROFIT_FORTIFICATION": 8, "OUTPUT_RETROFIT": str(tmp_path / "r.csv")})
    day = alg("riskmap:earthquakeimpact", {"BUILDINGS": three["bld"], "HAZARD": three["zones"], "TIME": 1})
    assert day["DEATHS"] == pytest.approx(night["DEATHS"] * 0.5 / 0.99, rel=1e-9)
    # retrofit to VIII: 砖混 at VIII → I_eff 6 (index 0.05); 土坯 at VII → 7 + 0.5 − 2 = 5.5 (0.025)
    saved = []
    for mu, mu_r, res_, share in ((0.405, 0.05, 4, 0.15), (0.305, 0.025, 3, 0.15)):
        saved.append(_hand_building(mu, 0.99 * res_, res_, share)[1] - _hand_building(mu_r, 0.99 * res_, res_, share)[1])
    assert night["DEATHS_SAVED_ALL"] == pytest.approx(sum(saved), rel=1e-9)
    r = pd.read_csv(tmp_path / "r.csv", encoding="utf-8-sig")
    assert r.iloc[0, 0] == 1 and len(r) == 2                       # the RC building is already at VIII
    assert night["DEATHS_SAVED_TOP"] == pytest.approx(max(saved), rel=1e-9)


def test_user_vulnerability_table_replaces_the_default(three, alg, tmp_path):
    """A provincial table in Chinese headers and percentages; its rows are used as given; a missing
    structure × fortification pair and a bad row sum are refused, naming the table."""
    from qgis.core import QgsProcessingException
    from riskmap.risk_plugin.definitions import seismic as D
    rows = []
    for s, zh in (("brick_concrete", "砖混"), ("rc", "钢混"), ("earth_wood", "土木")):
        for f in D.FORTIFICATIONS:
            for i in D.DPM_INTENSITIES:
                col = 10 * (i - 5)      # collapse 10 % at VI … 50 % at X
                rows.append({"结构类型": zh, "设防烈度": "未设防" if f == 0 else f"{f}度", "烈度": f"{i}",
                             "基本完好": 100 - col, "轻微破坏": 0, "中等破坏": 0, "严重破坏": 0, "毁坏": col})
    table = tmp_path / "dpm.csv"
    pd.DataFrame(rows).to_csv(table, index=False, encoding="utf-8-sig")
    out = tmp_path / "b.gpkg"
    alg("riskmap:earthquakeimpact", {"BUILDINGS": three["bld"], "HAZARD": three["zones"], "VULNERABILITY_TABLE": str(table),
                                     "OUTPUT_BUILDINGS": str(out)})
    b = gpd.read_file(out)
    np.testing.assert_allclose(b["p_collapse"], [0.30, 0.40, 0.20])       # VIII, IX, VII
    bad = pd.DataFrame(rows)
    bad = bad[bad["结构类型"] != "钢混"]
    bad.loc[bad.index[0], "毁坏"] = 55
    bad.to_csv(tmp_path / "bad.csv", index=False, encoding="utf-8-sig")
    with pytest.raises(QgsProcessingException) as err:
        alg("riskmap:earthquakeimpact", {"BUILDINGS": three["bld"], "HAZARD": three["zones"],
                                         "VULNERABILITY_TABLE": str(tmp_path / "bad.csv")})
    assert "bad.csv" in str(err.value) and "sum" in str(err.value)
    bad.loc[bad.index[0], "毁坏"] = 10
    bad.to_csv(tmp_path / "bad.csv", index=False, encoding="utf-8-sig")
    with pytest.raises(QgsProcessingException) as err:
        alg("riskmap:earthquakeimpact", {"BUILDINGS": three["bld"], "HAZARD": three["zones"],
                                         "VULNERABILITY_TABLE": str(tmp_path / "bad.csv")})
    assert "('rc', 8)" in str(err.value) and "缺少" in str(err.value)


def test_pga_zoning_equals_the_intensity_zoning(three, tmp_path):
    """0.20g / 0.40g / 0.10g zones (GB 18306 表 G.1: VIII, IX, VII) give the same damage as Ⅷ / 9 / VII度."""
    from riskmap.risk_plugin.seismic import earthquake_impact
    boxes = [shapely.box(X0 + 1000 * i, Y0, X0 + 1000 * (i + 1), Y0 + 1000) for i in range(3)]
    pga = write_gpkg(tmp_path / "pga.gpkg", {"地震动峰值加速度": ["0.20g", "0.40g", 0.10], "特征周期": ["0.40s", "0.45", 0.35]}, boxes)
    a = earthquake_impact(buildings=three["bld"], hazard=pga)
    b = earthquake_impact(buildings=three["bld"], hazard=three["zones"])
    assert a["measure"] == "pga" and b["measure"] == "intensity"
    assert a["DEATHS"] == pytest.approx(b["DEATHS"], rel=1e-12)
    # on a class-III site the 0.10g zone becomes 0.125g (Fa 1.25): still VII; 0.40g stays 0.40g: IX
    c = earthquake_impact(buildings=three["bld"], hazard=pga, conv=_conv(site_class="III"))
    assert c["DEATHS"] == pytest.approx(b["DEATHS"], rel=1e-12)


def _conv(**kw):
    from riskmap.risk_plugin.seismic.field import Conversion
    return Conversion(**kw)


# --------------------------------------------------------------------------------------------------
# the demo county, end to end
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def eq_run(demo_county, alg, tmp_path_factory):
    d = tmp_path_factory.mktemp("eq_demo")
    units = [demo_county["townships"], demo_county["villages"]]
    hz = alg("riskmap:seismichazard", {"HAZARD": demo_county["seismic_zoning"], "UNITS": units, "CELL_SIZE": 20,
                                       "OUTPUT": str(d / "hz.tif"), "OUTPUT_UNITS": str(d / "hz_units.gpkg"),
                                       "OUTPUT_ZONES": str(d / "hz_zones.gpkg")})
    im = alg("riskmap:earthquakeimpact", {"BUILDINGS": demo_county["buildings"], "HAZARD": demo_county["seismic_zoning"],
                                          "UNITS": units, "OUTPUT_UNITS": str(d / "units.gpkg"),
                                          "OUTPUT_ZONING": str(d / "zoning.gpkg"), "OUTPUT_BUILDINGS": str(d / "b.gpkg"),
                                          "OUTPUT_TABLE": str(d / "t.xlsx"), "OUTPUT_RETROFIT": str(d / "r.csv")})
    return {"dir": d, "hz": hz, "im": im}


def test_demo_hazard_classes_follow_the_zoning(eq_run, demo_county):
    """0.20g (VIII) → class 3, 0.15g (VII) → class 2: areas equal the zoning polygons' areas (20 m grid)."""
    z = gpd.read_file(demo_county["seismic_zoning"])
    t = gpd.read_file(demo_county["townships"])
    county = shapely.union_all(t.geometry.values)
    area = {pga: shapely.intersection(g, county).area / 1e6 for pga, g in zip(z["地震动峰值加速度"], z.geometry)}
    hz = eq_run["hz"]
    assert hz["AREA_KM2_3"] == pytest.approx(area[0.20], rel=0.01)
    assert hz["AREA_KM2_2"] == pytest.approx(area.get(0.15, 0) + area.get(0.10, 0), rel=0.01)
    assert hz["AREA_KM2_1"] == 0 and hz["AREA_KM2_4"] == 0 and hz["MAX_DEGREE"] == 8
    u = gpd.read_file(eq_run["dir"] / "hz_units.gpkg")
    assert set(u["level"]) == {1, 2}
    towns = u[u["level"] == 1]
    assert towns["area_km2"].sum() == pytest.approx(county.area / 1e6, rel=0.01)
    np.testing.assert_allclose(towns[[f"class{k}_pct" for k in range(1, 5)]].sum(axis=1), 100, atol=0.01)
    assert set(u["hazard_class"]) <= {2, 3} and (u["hazard_class"] == u["max_class"]).all()


def test_demo_conservation(eq_run, demo_county):
    """Every building in exactly one damage state in expectation; unit sums equal building sums; villages
    nest in townships."""
    b = gpd.read_file(eq_run["dir"] / "b.gpkg")
    ps = b[["p_intact", "p_slight", "p_moderate", "p_extensive", "p_collapse"]].to_numpy(float)
    np.testing.assert_allclose(ps.sum(axis=1), 1.0, atol=5e-6)
    im = eq_run["im"]
    assert im["BUILDINGS"] == len(b) == len(gpd.read_file(demo_county["buildings"]))
    u = gpd.read_file(eq_run["dir"] / "units.gpkg")
    for level in (1, 2):
        lv = u[u["level"] == level]
        states = lv[["bld_intact", "bld_slight", "bld_moderate", "bld_extensive", "bld_collapse"]].sum(axis=1)
        np.testing.assert_allclose(states, lv["buildings"], rtol=1e-6)
        assert lv["buildings"].sum() == im["BUILDINGS"]
        assert lv["deaths"].sum() == pytest.approx(im["DEATHS"], rel=1e-6)
        assert lv["bld_collapse"].sum() == pytest.approx(im["BUILDINGS_COLLAPSE"], rel=1e-6)
    assert b["deaths"].sum() == pytest.approx(im["DEATHS"], rel=1e-9)
    assert im["BUILDINGS_OUTSIDE_HAZARD"] == 0
    # structure shares of a Wuling mountain county: brick-concrete the largest, earth-timber above a tenth
    share = b["eq_structure"].value_counts(normalize=True)
    assert share.idxmax() == "brick_concrete" and 0.10 < share["earth_wood"] < 0.25 and 0.05 < share["rc"] < 0.30


def test_demo_monotone_in_intensity_and_fortification(demo_county, tmp_path):
    """One degree more everywhere never lowers any building's expected deaths; designing every building to
    VIII never raises them (and lowers the total)."""
    from riskmap.risk_plugin.seismic import earthquake_impact
    z = gpd.read_file(demo_county["seismic_zoning"])
    z["烈度"] = np.where(z["地震动峰值加速度"] >= 0.19, 8, 7)
    zi = z[["烈度", "geometry"]]
    base_p = tmp_path / "z.gpkg"
    zi.to_file(base_p)
    up = zi.copy()
    up["烈度"] = up["烈度"] + 1
    up_p = tmp_path / "z_up.gpkg"
    up.to_file(up_p)
    a = earthquake_impact(buildings=demo_county["buildings"], hazard=str(base_p))
    b = earthquake_impact(buildings=demo_county["buildings"], hazard=str(up_p))
    ga, gb = a["building_table"]["deaths"].to_numpy(float), b["building_table"]["deaths"].to_numpy(float)
    assert (gb >= ga - 1e-15).all() and gb.sum() > ga.sum()
    pa, pb = a["building_table"]["p_collapse"].to_numpy(float), b["building_table"]["p_collapse"].to_numpy(float)
    assert (pb >= pa - 1e-12).all()
    bld = gpd.read_file(demo_county["buildings"])
    bld["抗震设防烈度"] = "8度"
    p8 = tmp_path / "b8.gpkg"
    bld.to_file(p8)
    c = earthquake_impact(buildings=str(p8), hazard=str(base_p))
    gc = c["building_table"]["deaths"].to_numpy(float)
    assert (gc <= ga + 1e-15).all() and gc.sum() < ga.sum()


def test_zoning_plugs_into_composite_and_fourcolor(eq_run, demo_county, alg, tmp_path):
    """The earthquake outputs are hazard layers like the others: the class raster and the village zoning
    go into compositezoning and fourcolorrisk with no HAZARD_FIELD or mapping."""
    import rasterio
    d = eq_run["dir"]
    comp = alg("riskmap:compositezoning", {"HAZARDS": [str(d / "hz.tif")], "UNITS": demo_county["villages"],
                                           "OUTPUT": str(tmp_path / "c.tif"), "OUTPUT_UNITS": str(tmp_path / "cu.gpkg")})
    for k in range(1, 5):
        assert comp[f"AREA_KM2_{k}"] == pytest.approx(eq_run["hz"][f"AREA_KM2_{k}"], rel=1e-6)
    comp2 = alg("riskmap:compositezoning", {"HAZARDS": [str(d / "zoning.gpkg")], "UNITS": demo_county["villages"],
                                            "CELL_SIZE": 20, "OUTPUT": str(tmp_path / "c2.tif"),
                                            "OUTPUT_UNITS": str(tmp_path / "c2u.gpkg")})
    zon = gpd.read_file(d / "zoning.gpkg")
    cu = gpd.read_file(tmp_path / "c2u.gpkg")
    # each village is one zoning polygon: its dominant composite class is its earthquake risk class
    np.testing.assert_array_equal(cu.sort_values("code")["dominant_class"].to_numpy(),
                                  zon.sort_values("code")["eq_risk_class"].to_numpy())
    assert sum(comp2[f"AREA_KM2_{k}"] for k in range(1, 5)) > 0
    with rasterio.open(tmp_path / "c2.tif") as src:
        assert set(np.unique(src.read(1))) <= {0} | set(zon["eq_risk_class"])
    four = alg("riskmap:fourcolorrisk", {"HAZARD": str(d / "zoning.gpkg"), "POPULATION": demo_county["population"],
                                         "BUILDINGS": demo_county["buildings"], "SUPPORT": 1, "UNITS": demo_county["villages"],
                                         "TOWNSHIPS": demo_county["townships"], "OUTPUT": str(tmp_path / "f.gpkg")})
    f = gpd.read_file(tmp_path / "f.gpkg")
    assert four["SUPPORTS"] == len(zon) == len(f)
    # the decisive hazard class of every village is its earthquake risk class
    merged = f.merge(zon[["code", "eq_risk_class"]], left_on="unit_code", right_on="code")
    assert len(merged) == len(f) and (merged["hazard_class"] == merged["eq_risk_class"]).all()
    assert sum(four[f"PEOPLE_LEVEL_{k}"] for k in range(1, 5)) == pytest.approx(eq_run["im"]["RESIDENTS"], rel=0.01)


def test_risk_zoning_classes(eq_run):
    """eq_risk_class from deaths per 10 000 residents at the breaks 0.5 / 5 / 50; the zoning layer is the
    village level and carries the people."""
    z = gpd.read_file(eq_run["dir"] / "zoning.gpkg")
    u = gpd.read_file(eq_run["dir"] / "units.gpkg")
    villages = u[u["level"] == 2]
    assert len(z) == len(villages) and "people" in z.columns
    rate = villages["deaths"] / villages["residents"] * 1e4
    expected = 1 + np.searchsorted([0.5, 5.0, 50.0], rate.to_numpy(), side="right")
    np.testing.assert_array_equal(villages["eq_risk_class"].to_numpy(), expected)
    for k in range(5):
        assert eq_run["im"][f"UNITS_RISK_{k}"] == int((z["eq_risk_class"] == k).sum())


def test_retrofit_priorities(eq_run):
    """Ranked by deaths saved; the village × type rows add up to the buildings' own savings."""
    r = pd.read_csv(eq_run["dir"] / "r.csv", encoding="utf-8-sig")
    b = gpd.read_file(eq_run["dir"] / "b.gpkg")
    saved = r.filter(like="deaths saved").iloc[:, 0].to_numpy()
    assert (np.diff(saved) <= 1e-12).all() and r.iloc[:, 0].tolist() == list(range(1, len(r) + 1))
    assert saved.sum() == pytest.approx(b["deaths_saved"].sum(), rel=1e-6)
    top = r.iloc[0]
    sel = b[(b["unit_code"].astype(str) == str(top.iloc[1])) & (b["eq_structure"] == top.iloc[4])]
    assert sel["deaths_saved"].sum() == pytest.approx(saved[0], rel=1e-6)
    assert eq_run["im"]["DEATHS_SAVED_TOP"] == pytest.approx(saved[0], rel=1e-6)


def test_scenario_qgis_process_equals_processing_run(demo_county, alg, qgis_process, tmp_path):
    params = {"BUILDINGS": demo_county["buildings"], "EPICENTRE": f"{X0},{Y0} [EPSG:4545]", "MAGNITUDE": 6.5,
              "DEPTH": 10, "FAULTS": demo_county["faults"], "UNITS": demo_county["villages"]}
    a = alg("riskmap:earthquakeimpact", dict(params, OUTPUT_UNITS=str(tmp_path / "a.gpkg")))
    rc, b, _ = qgis_process.run("riskmap:earthquakeimpact", dict(params, OUTPUT_UNITS=str(tmp_path / "b.gpkg")))
    assert rc == 0
    for key in ("DEATHS", "BUILDINGS_COLLAPSE", "DEATHS_PAGER", "DISPLACED"):
        assert b[key] == pytest.approx(a[key], rel=1e-9)
    assert a["MAX_INTENSITY"] == pytest.approx(8.5, abs=0.2) and a["DEATHS"] > 0
    rc, h, _ = qgis_process.run("riskmap:seismichazard", {
        "EPICENTRE": f"{X0},{Y0} [EPSG:4545]", "MAGNITUDE": 6.5, "FAULTS": demo_county["faults"],
        "UNITS": demo_county["townships"], "OUTPUT": str(tmp_path / "s.tif"), "OUTPUT_ZONES": str(tmp_path / "iso.gpkg")})
    assert rc == 0 and h["STRIKE"] == pytest.approx(45.0) and h["EPICENTRAL_INTENSITY"] == pytest.approx(8.501, abs=1e-3)
    iso = gpd.read_file(tmp_path / "iso.gpkg")          # cut to the townships: VI lies outside this small county
    towns = shapely.union_all(gpd.read_file(demo_county["townships"]).geometry.values)
    assert iso["eq_degree"].tolist() == [7, 8] and (iso.area > 0).all()
    assert shapely.union_all(iso.geometry.values).area == pytest.approx(towns.area, rel=1e-3)
    from riskmap.risk_plugin.seismic import seismic_hazard
    full = seismic_hazard(str(tmp_path / "f.tif"), epicentre=(X0, Y0, "EPSG:4545"), magnitude=6.5, cell_size=500,
                          output_zones=str(tmp_path / "full.gpkg"))
    rings = gpd.read_file(tmp_path / "full.gpkg")
    assert rings["eq_degree"].tolist() == [6, 7, 8] and full["MAX_DEGREE"] == 8


# --------------------------------------------------------------------------------------------------
# awkward inputs
# --------------------------------------------------------------------------------------------------
def test_truncated_shapefile_names_give_the_same_numbers(three, tmp_path):
    """A UTF-8 Shapefile holds 10-byte field names: 结构类型 becomes 结构类, 建筑层数 建筑层, 建造年代 建造年,
    抗震设防烈度 抗震设 (three characters of three bytes; GDAL itself cuts mid-character, so the file is
    written with the names an exporter leaves): found by alias, same numbers as the GeoPackage."""
    from riskmap.risk_plugin.seismic import earthquake_impact
    g = gpd.read_file(three["bld"]).rename(columns={"结构类型": "结构类", "建筑层数": "建筑层", "建造年代": "建造年",
                                                    "抗震设防烈度": "抗震设", "居住人数": "居住人"})
    shp = tmp_path / "bld.shp"
    g.to_file(shp, engine="pyogrio", encoding="UTF-8")
    from riskmap.risk_plugin.io import read_vector
    cols = set(read_vector(str(shp)).columns)
    assert {"结构类", "建筑层", "建造年", "抗震设", "居住人"} <= cols
    a = earthquake_impact(buildings=str(shp), hazard=three["zones"])
    b = earthquake_impact(buildings=three["bld"], hazard=three["zones"])
    assert a["DEATHS"] == pytest.approx(b["DEATHS"], rel=1e-12)


def test_bad_inputs_are_named(three, alg, tmp_path):
    from qgis.core import QgsProcessingException
    boxes = [shapely.box(X0 + 1000 * i, Y0, X0 + 1000 * (i + 1), Y0 + 1000) for i in range(3)]
    cases = [
        (write_gpkg(tmp_path / "nofield.gpkg", {"说明": ["a", "b", "c"]}, boxes), {}, ["nofield.gpkg", "峰值加速度"]),
        (write_gpkg(tmp_path / "gal.gpkg", {"峰值加速度": [196.0, 98.0, 147.0]}, boxes), {}, ["gal.gpkg", "PGA_UNIT"]),
        (write_gpkg(tmp_path / "roman.gpkg", {"烈度": ["Ⅷ", "强", "VII"]}, boxes), {}, ["roman.gpkg", "intensity"]),
        (write_gpkg(tmp_path / "far.gpkg", {"烈度": [8, 8, 8]}, [shapely.box(0, 0, 10, 10)] * 3), {},
         ["far.gpkg", "does not cover"]),
    ]
    for hazard, extra, words in cases:
        with pytest.raises(QgsProcessingException) as err:
            alg("riskmap:earthquakeimpact", dict({"BUILDINGS": three["bld"], "HAZARD": hazard}, **extra))
        msg = str(err.value)
        assert "Traceback" not in msg and all(w in msg for w in words), msg
    fort = gpd.read_file(three["bld"])
    fort["抗震设防烈度"] = ["7度", "十二度设防", "abc"]
    fort.to_file(tmp_path / "fort.gpkg")
    with pytest.raises(QgsProcessingException) as err:
        alg("riskmap:earthquakeimpact", {"BUILDINGS": str(tmp_path / "fort.gpkg"), "HAZARD": three["zones"]})
    assert "fort.gpkg" in str(err.value) and "fortification" in str(err.value) and "2" in str(err.value)
    with pytest.raises(QgsProcessingException) as err:         # neither or both hazards
        alg("riskmap:earthquakeimpact", {"BUILDINGS": three["bld"]})
    assert "EPICENTRE" in str(err.value)
    with pytest.raises(QgsProcessingException) as err:
        alg("riskmap:earthquakeimpact", {"BUILDINGS": three["bld"], "EPICENTRE": f"{X0},{Y0} [EPSG:4545]", "MAGNITUDE": 9.3})
    assert "MAGNITUDE" in str(err.value)
    with pytest.raises(QgsProcessingException) as err:
        alg("riskmap:earthquakeimpact", {"BUILDINGS": three["bld"], "EPICENTRE": f"{X0},{Y0} [EPSG:4545]", "MAGNITUDE": 6,
                                         "DEPTH": 300})
    assert "DEPTH" in str(err.value)


def test_partial_coverage_is_reported(three, tmp_path):
    from riskmap.risk_plugin.seismic import earthquake_impact
    part = write_gpkg(tmp_path / "part.gpkg", {"烈度": [8]}, [shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)])
    notes = []
    from riskmap.risk_plugin.progress import Progress
    r = earthquake_impact(buildings=three["bld"], hazard=part, progress=Progress(on_info=notes.append))
    assert r["BUILDINGS_OUTSIDE_HAZARD"] == 2 and any("outside the hazard" in n for n in notes)


def test_census_fortification_and_year_values(engine):
    from riskmap.risk_plugin.seismic.vulnerability import parse_fortification, parse_year
    f, bad = parse_fortification(["7度(0.15g)", "未设防", "否", "是", "Ⅷ", "设防8度", "9", None, "", "抗震设防7度", "十度", "x"])
    np.testing.assert_array_equal(f[:7], [7, 0, 0, 7, 8, 8, 9])
    assert np.isnan(f[7:9]).all() and f[9] == 7
    assert bad.tolist() == [False] * 10 + [True, True]
    y, ybad = parse_year(["1981-1990", "1980年及以前", "2016年及以后", 2003.0, "1991～2000年", None, "不详"])
    np.testing.assert_array_equal(y[:5], [1981, 1980, 2016, 2003, 1991])
    assert np.isnan(y[5]) and ybad.tolist() == [False] * 6 + [True]


def test_web_map_and_atlas_recognise_the_earthquake_layers(eq_run, demo_county):
    """Titles come from styles/classes.json: the zoning by its eq_risk_class, the zones by eq_degree, the
    fault by its name."""
    from riskmap.risk_plugin.classes import class_table, title
    from riskmap.risk_plugin.webmap_layers import recognise
    z = gpd.read_file(eq_run["dir"] / "zoning.gpkg")
    st = recognise(z.columns, "zoning", lambda c: z[c].dropna().unique())
    assert (st.kind, st.key, st.field) == ("classes", "earthquake_risk", "eq_risk_class")
    assert title(class_table(st.key)) == "地震灾害风险区划 / Earthquake risk zoning"
    zz = gpd.read_file(eq_run["dir"] / "hz_zones.gpkg")
    st = recognise(zz.columns, "hz_zones", lambda c: zz[c].dropna().unique())
    assert (st.key, st.field) == ("seismic_intensity", "eq_degree")
    f = gpd.read_file(demo_county["faults"])
    st = recognise(f.columns, "faults", lambda c: f[c].dropna().unique())
    assert (st.kind, st.key) == ("base", "faults")


def test_cancel_writes_nothing(three, tmp_path):
    from riskmap.risk_plugin.errors import Cancelled
    from riskmap.risk_plugin.progress import Progress
    from riskmap.risk_plugin.seismic import earthquake_impact, seismic_hazard
    calls = {"n": 0}

    def cancel_after_start():
        calls["n"] += 1
        return calls["n"] > 3
    with pytest.raises(Cancelled):
        earthquake_impact(buildings=three["bld"], hazard=three["zones"], units=[three["villages"]],
                          output_units=str(tmp_path / "u.gpkg"), output_table=str(tmp_path / "t.xlsx"),
                          progress=Progress(is_canceled=cancel_after_start))
    calls["n"] = 0
    with pytest.raises(Cancelled):
        seismic_hazard(str(tmp_path / "h.tif"), hazard=three["zones"], units=[three["villages"]], cell_size=10,
                       output_units=str(tmp_path / "hu.gpkg"), progress=Progress(is_canceled=cancel_after_start))
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------------
# survey values: storey ranges, structure mapping, counts with their unit (foreign files)
# --------------------------------------------------------------------------------------------------
def test_storey_ranges_as_surveys_write_them(engine):
    from riskmap.risk_plugin.seismic.vulnerability import parse_storeys
    out, n = parse_storeys(["2", 3, "4-7", "10+", ">7", "≥8", "4~7层", "10层以上", "３层", None, "高层"])
    assert list(out[:9]) == ["2", 3, 5.5, 10.0, 8.0, 8.0, 5.5, 10.0, 3.0]     # numbers and plain text stay for validation
    assert out[9] is None and out[10] == "高层"                                 # unreadable: left for validation to report
    assert n == 7


def test_counts_with_their_unit_and_long_allowed_lists(engine):
    from riskmap.risk_plugin.validation import allowed_text, parse_numbers
    num, n = parse_numbers(pd.Series(["300人", "1000 orang", "12 户", "1,200", "12 km", "3 m"], dtype=object))
    assert list(num[:4]) == [300, 1000, 12, 1200] and num[4:].isna().all() and n == 4    # no measure units
    allowed = {"钢混": "rc", "框架": "rc", "剪力墙": "rc", "钢结构": "rc", "rc": "rc", "砖混": "brick_concrete",
               "砌体": "brick_concrete", "砖木": "brick_wood", "土木": "earth_wood", "土坯": "earth_wood",
               "其他": "other", "other": "other", "木结构": "other"}
    assert allowed_text(allowed) == ("rc (钢混, 框架, 剪力墙 …); brick_concrete (砖混, 砌体); brick_wood (砖木); "
                                     "earth_wood (土木, 土坯); other (其他, 木结构)")


def test_jakarta_survey_buildings_with_a_structure_map(riskmap, shared_data, tmp_path):
    """InaSAFE's 181 surveyed Jakarta buildings: English structure classes, 77 blanks, storeys '4-7' / '10+' / '>7',
    capacity '1000 orang'. Refused with the field and the values named; with STRUCTURE_MAP every building counts
    once under the mapped type, residents are the capacities read as numbers, and the input is not touched."""
    import hashlib
    import re
    from conftest import run_alg
    from qgis.core import QgsProcessingException
    src = shared_data / "jakarta" / "buildings_small.gpkg"
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    base = {"BUILDINGS": str(src), "EPICENTRE": "106.83,-6.18 [EPSG:4326]", "MAGNITUDE": 6.5, "DEPTH": 10,
            "STRUCTURE_FIELD": "STRUCTURE", "FLOORS_FIELD": "LEVELS", "RESIDENTS_FIELD": "CAPACITY",
            "UNITS": [str(shared_data / "jakarta" / "kelurahan.gpkg")], "NAME_FIELDS": "KEL_NAME_1",
            "OUTPUT_UNITS": str(tmp_path / "units.gpkg"), "OUTPUT_TABLE": str(tmp_path / "units.xlsx")}
    with pytest.raises(QgsProcessingException) as err:
        run_alg("riskmap:earthquakeimpact", base)
    msg = str(err.value)
    assert "STRUCTURE" in msg and "unreinforced_masonry" in msg and "rc (" in msg and "LEVELS" not in msg
    assert not (tmp_path / "units.gpkg").exists()
    res = run_alg("riskmap:earthquakeimpact", {**base, "STRUCTURE_MAP": "unreinforced_masonry=brick_wood; "
                  "confined_masonry=砖混; reinforced_masonry=brick_concrete; plastered=other; 空=other"})
    raw = gpd.read_file(src)
    by_hand = sum(int(re.match(r"\d+", str(v)).group()) for v in raw["CAPACITY"].dropna())
    assert res["BUILDINGS"] == len(raw) == 181 and res["RESIDENTS"] == by_hand
    units = gpd.read_file(tmp_path / "units.gpkg", layer="units")
    counts = raw["STRUCTURE"].fillna("").value_counts()
    assert units["n_brick_wood"].sum() == counts["unreinforced_masonry"]
    assert units["n_brick_concrete"].sum() == counts["confined_masonry"] + counts["reinforced_masonry"]
    assert units["n_other"].sum() == counts["plastered"] + counts[""] and units["n_rc"].sum() == 0
    assert 0 < res["DEATHS"] < res["RESIDENTS"]
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest
