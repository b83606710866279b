"""riskmap:earthquakeimpact against published numbers (no network: the data are encoded here, with their
source and licence).

1. InaSAFE's ITB earthquake-fatality test (inasafe/inasafe safe/engine/test, "Test data from Hadi Ghasemi"):
   rasters inasafe/inasafe_data test/itb_test_mmi.asc and itb_test_pop.asc (10 × 15 cells, WGS 84; AIFDR,
   "artificial data created at AIFDR for test purposes", publishable; InaSAFE is GPL) and the expected
   population and fatalities per MMI band of the ITB model (10^(0.62275231·MMI − 8.03314466), bands
   (m − 0.5, m + 0.5]). Every row of both grids holds one value, so the grids are encoded as two columns.
2. USGS PAGER's own model for China on a documented earthquake: the population exposed per MMI of the
   2008-05-12 Wenchuan Ms 8.0 (Mw 7.9) and the 2010-04-13 Yushu earthquakes from PAGER-CAT
   (github.com/usgs/pager losspager/data/expocat.csv; US government work, public domain), with the
   shaking deaths recorded there; θ, β and the uncertainty G of the 'CN' model from losspager/data/fatality.xml.
"""
import numpy as np
import pandas as pd
import pytest
from rasterio.transform import from_origin

# --- 1. InaSAFE ITB ------------------------------------------------------------------------------
ITB_MMI_ROWS = [7, 6.5, 9, 8.5, 8, 7.5, 7, 6.5, 6, 5, 8, 7.5, 9, 8.5, 8.5]
ITB_POP_ROWS = [204557, 4452310, 141970, 32556, 547774, 80159, 467693, 37606, 537428, 264904, 1197007, 44552,
                379224, 154725, None]                        # the last row is nodata (-9999)
ITB_GRID = (96.956, -5.5187329999999, 0.030741064, 10, 15)    # xllcorner, yllcorner, cellsize, ncols, nrows
ITB_X, ITB_Y = 0.62275231, 8.03314466
# expected, from the test: population per MMI 5..9 and fatalities per MMI 5..9
ITB_POPULATION = {5: 2649040.0, 6: 50273440.0, 7: 7969610.0, 8: 19320620.0, 9: 5211940.0}
ITB_FATALITIES = {5: 31.8937368131, 6: 2539.26369372, 7: 1688.72362573, 8: 17174.9261705, 9: 19436.834531}
ITB_TOTAL_REFERENCE = 40871.3028                              # the sum of their reference raster itb_test_fat.asc


def _write(path, rows, nodata):
    import rasterio
    x0, y0, cell, nc, nr = ITB_GRID
    arr = np.array([[nodata if v is None else v] * nc for v in rows], dtype=np.float32)
    prof = {"driver": "GTiff", "width": nc, "height": nr, "count": 1, "dtype": "float32", "crs": "EPSG:4326",
            "transform": from_origin(x0, y0 + nr * cell, cell, cell), "nodata": nodata}
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(arr, 1)
    return str(path)


@pytest.fixture(scope="module")
def itb(engine, tmp_path_factory):
    d = tmp_path_factory.mktemp("itb")
    rates = pd.DataFrame({"intensity": range(4, 11), "rate": [10 ** (ITB_X * m - ITB_Y) for m in range(4, 11)]})
    rates.to_csv(d / "itb_rates.csv", index=False)
    return {"mmi": _write(d / "itb_test_mmi.tif", ITB_MMI_ROWS, -9999.0),
            "pop": _write(d / "itb_test_pop.tif", ITB_POP_ROWS, -9999.0), "rates": str(d / "itb_rates.csv")}


def test_inasafe_itb_fatalities_reproduced(itb, alg):
    res = alg("riskmap:earthquakeimpact", {"HAZARD": itb["mmi"], "MEASURE": 1, "POPULATION": itb["pop"],
                                           "FATALITY_RATES": itb["rates"], "ROUNDING": 1})
    from riskmap.risk_plugin.seismic import earthquake_impact
    from riskmap.risk_plugin.seismic.field import Conversion
    full = earthquake_impact(hazard=itb["mmi"], conv=Conversion(measure="intensity"), population=itb["pop"],
                             fatality_rates=itb["rates"], rounding="nearest")
    by = full["pager_by_degree"]
    for m in range(5, 10):
        assert by[m]["people"] == ITB_POPULATION[m]
        assert by[m]["deaths"] == pytest.approx(ITB_FATALITIES[m], rel=1e-9)
    assert res["POPULATION_TOTAL"] == sum(ITB_POPULATION.values()) == 85424650
    assert res["DEATHS_PAGER"] == pytest.approx(sum(ITB_FATALITIES.values()), rel=1e-9)
    # InaSAFE's own total is the sum of its reference fatality raster: within 1e-5 of the band sums
    assert res["DEATHS_PAGER"] == pytest.approx(ITB_TOTAL_REFERENCE, rel=1e-5)
    assert int(round(res["DEATHS_PAGER"] / 1000)) * 1000 == 41000                 # as InaSAFE reports it


def test_inasafe_itb_through_qgis_process(itb, qgis_process):
    rc, res, _ = qgis_process.run("riskmap:earthquakeimpact", {"HAZARD": itb["mmi"], "MEASURE": 1, "POPULATION": itb["pop"],
                                                               "FATALITY_RATES": itb["rates"], "ROUNDING": 1})
    assert rc == 0 and res["DEATHS_PAGER"] == pytest.approx(sum(ITB_FATALITIES.values()), rel=1e-9)


# --- 2. PAGER China on Wenchuan 2008 and Yushu 2010 ------------------------------------------------
# expocat.csv rows 20080512062801 and 20100413234938: ShakingDeaths, MMI4 … MMI9+ exposure
PAGER_CAT = {
    "wenchuan_2008": {"shaking_deaths": 69195, "exposure": {4: 532278.0, 5: 7288315.0, 6: 8534036.0, 7: 2371719.0,
                                                          8: 999899.0, 9: 160015.0}},
    "yushu_2010": {"shaking_deaths": 2220, "exposure": {4: 69378.0, 5: 65112.0, 6: 42196.0, 7: 6949.0, 8: 5180.0,
                                                      9: 0.0}},
}
CN_THETA, CN_BETA, CN_G = 10.328811, 0.100058, 2.013134       # fatality.xml, ccode CN (theta, beta, gnormvalue)


def _pager_by_hand(exposure):
    """PAGER's own algorithm (losspager/models/emploss.py): Σ over MMI 5..9 of lognormal rate × exposure."""
    from scipy.stats import lognorm
    return sum(lognorm.cdf(m, s=CN_BETA, scale=CN_THETA) * exposure.get(m, 0.0) for m in range(5, 10))


def _exposure_rasters(d, exposure):
    """One WGS 84 cell per MMI degree: intensity m, population = PAGER-CAT exposure at m."""
    import rasterio
    degs = sorted(exposure)
    mmi = np.array([degs], np.float32)
    pop = np.array([[exposure[m] for m in degs]], np.float32)
    paths = []
    for name, arr in (("mmi", mmi), ("pop", pop)):
        p = d / f"{name}.tif"
        with rasterio.open(p, "w", driver="GTiff", width=arr.shape[1], height=1, count=1, dtype="float32",
                           crs="EPSG:4326", transform=from_origin(103.0, 31.5, 0.1, 0.1)) as dst:
            dst.write(arr, 1)
        paths.append(str(p))
    return paths


@pytest.mark.parametrize("event", sorted(PAGER_CAT))
def test_pager_china_on_pager_cat_exposure(engine, alg, tmp_path, event):
    """Our PAGER method = PAGER's algorithm with the China model, on PAGER-CAT's exposure (to 1e-9)."""
    e = PAGER_CAT[event]["exposure"]
    mmi, pop = _exposure_rasters(tmp_path, e)
    res = alg("riskmap:earthquakeimpact", {"HAZARD": mmi, "MEASURE": 1, "POPULATION": pop})
    assert res["DEATHS_PAGER"] == pytest.approx(_pager_by_hand(e), rel=1e-9)
    assert res["POPULATION_TOTAL"] == pytest.approx(sum(e.values()), rel=1e-6)


def test_wenchuan_recorded_deaths_within_pager_uncertainty(engine, alg, tmp_path):
    """Wenchuan 2008: 18 951 estimated from PAGER-CAT's exposure against 69 195 recorded shaking deaths, a
    factor 3.65: |ln(recorded / estimated)| = 1.30, inside PAGER's own uncertainty for China (G = 2.01, the
    spread PAGER uses for its alert probabilities). (Yushu 2010 is not: 28 against 2 220, PAGER-CAT's
    exposure puts nobody at MMI IX; docs/algorithms/earthquakeimpact.md reports both.)"""
    e = PAGER_CAT["wenchuan_2008"]["exposure"]
    mmi, pop = _exposure_rasters(tmp_path, e)
    res = alg("riskmap:earthquakeimpact", {"HAZARD": mmi, "MEASURE": 1, "POPULATION": pop})
    ratio = PAGER_CAT["wenchuan_2008"]["shaking_deaths"] / res["DEATHS_PAGER"]
    assert res["DEATHS_PAGER"] == pytest.approx(18951.13, abs=0.01)
    assert abs(np.log(ratio)) <= CN_G
