"""Landslide susceptibility (issue 3, items 1-2): terrain derivatives, information value, frequency
ratio, logistic regression, AUCs, zones, and the two algorithms.

Hand-built rasters and units with hand-computed weights; the Ecuador reference data (10 m DEM, 350
surveyed points) for the AUCs and the honesty check; processing.run and qgis_process once each.
"""
import math
import subprocess

import numpy as np
import pytest

CRS = "EPSG:4545"
X0, Y0 = 500000.0, 3300000.0
METHODS = ("information_value", "frequency_ratio", "logistic")


# --- helpers ------------------------------------------------------------------------------------------
def write_tif(path, array, cell=10.0, crs=CRS, nodata=None, x0=X0, y0=Y0):
    from rasterio.transform import from_origin
    from riskmap.risk_plugin.io import write_raster
    return write_raster(np.asarray(array), str(path), from_origin(x0, y0, cell, cell), crs, nodata)


def write_gpkg(path, columns, geoms, crs=CRS):
    import geopandas as gpd
    gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs).to_file(str(path), engine="pyogrio")
    return str(path)


def cell_centre(row, col, cell=10.0):
    import shapely
    return shapely.Point(X0 + (col + 0.5) * cell, Y0 - (row + 0.5) * cell)


def sample_raster(path, xs, ys):
    import rasterio
    with rasterio.open(path) as src:
        return np.array([v[0] for v in src.sample(zip(xs, ys))], np.float64), src.nodata


def weight(report, factor, code):
    row = report[(report["因子 factor"] == factor) & (report["分级代码 class"] == code)]
    assert len(row) == 1, (factor, code)
    return float(row["权重 weight"].iloc[0])


def ecuador(shared_data):
    d = shared_data / "ecuador_landslides"
    return str(d / "dem.tif"), str(d / "landslide_points.gpkg")


# --- terrain ------------------------------------------------------------------------------------------
def test_slope_and_aspect_match_gdaldem_blockwise(engine, shared_data, tmp_path):
    """Block-wise Horn slope/aspect (blocks of 100 with a halo) equal gdaldem -compute_edges."""
    import rasterio
    from riskmap.risk_plugin import terrain as T
    dem, _ = ecuador(shared_data)
    for what in ("slope", "aspect"):
        subprocess.run(["gdaldem", what, "-compute_edges", "-q", dem, str(tmp_path / f"{what}.tif")], check=True)
    with rasterio.open(dem) as src:
        slope = np.full((src.height, src.width), np.nan, np.float32)
        aspect = slope.copy()
        for blk in T.blocks(src.height, src.width, block=100, halo=3):
            z = T.read_block(src, blk)
            slope[blk.row0:blk.row1, blk.col0:blk.col1] = blk.crop(T.slope_deg(z, src.res))
            aspect[blk.row0:blk.row1, blk.col0:blk.col1] = blk.crop(T.aspect_deg(z, src.res))
    with rasterio.open(tmp_path / "slope.tif") as s, rasterio.open(tmp_path / "aspect.tif") as a:
        gs = s.read(1, masked=True).filled(np.nan)
        ga = a.read(1, masked=True).filled(np.nan)
    np.testing.assert_array_equal(np.isnan(slope), np.isnan(gs))
    corners = np.zeros(gs.shape, bool)
    corners[[0, 0, -1, -1], [0, -1, 0, -1]] = True   # GDAL extrapolates corners differently
    assert np.nanmax(np.abs(slope - gs)[~corners]) < 0.01
    steep = (gs > 2) & ~corners
    d = np.abs(aspect - ga)[steep]
    assert np.max(np.minimum(d, 360 - d)) < 0.05


def test_curvature_relief_and_twi_by_hand(engine):
    from riskmap.risk_plugin import terrain as T
    x = np.arange(12, dtype=np.float32) * 10.0
    c = 0.01
    z = np.tile(c * x ** 2, (8, 1)).astype(np.float32)          # parabolic cylinder along x
    plan, prof = T.curvatures(z, 10.0)
    inner = (slice(1, -1), slice(2, -1))                        # away from the edges; slope > 0
    # Zevenbergen & Thorne: D = c exactly for a quadratic, E = F = H = 0: profile = -2D, plan = 0 (1/100 m)
    np.testing.assert_allclose(prof[inner], -200 * c, rtol=1e-4)
    np.testing.assert_allclose(plan[inner], 0, atol=1e-6)
    # a plane rising 1 m per 10 m towards the east: slope atan(0.1) = 5.71°, facing west (270°)
    plane = np.tile(np.arange(6, dtype=np.float32), (5, 1))
    np.testing.assert_allclose(T.slope_deg(plane, 10.0)[1:-1, 1:-1], math.degrees(math.atan(0.1)), rtol=1e-5)
    np.testing.assert_allclose(T.aspect_deg(plane, 10.0)[1:-1, 1:-1], 270.0, atol=1e-4)
    assert T.aspect_sector(np.array([0.0, 20.0, 30.0, 350.0, 270.0]), np.array([10, 10, 10, 10, 1.0])).tolist() == [1, 1, 2, 1, 0]
    rel = T.local_relief(np.array([[1, 2, 3, 4], [5, 6, 7, np.nan], [9, 10, 11, 12]], np.float32), 3)
    assert rel[1, 1] == 11 - 1 and rel[0, 0] == 6 - 1 and np.isnan(rel[1, 3]) and rel[2, 3] == 12 - 7
    np.testing.assert_allclose(T.twi(np.float32(100.0), np.float32(1.0)), math.log(100.0), rtol=1e-6)


def test_relief_equals_the_ndimage_filters(engine):
    """local_relief (shifted fmax/fmin) against scipy's maximum/minimum filters (mode 'nearest',
    nodata as ∓inf) on random arrays with nodata, windows up to wider than the array."""
    from scipy import ndimage
    from riskmap.risk_plugin import terrain as T
    rng = np.random.default_rng(3)
    for trial in range(120):
        h, w, n = int(rng.integers(1, 30)), int(rng.integers(1, 30)), int(rng.choice([3, 5, 11, 21]))
        z = (rng.random((h, w)) * 1000).astype(np.float32)
        if trial % 2:
            z[rng.random((h, w)) < 0.3] = np.nan
        nan = np.isnan(z)
        want = (ndimage.maximum_filter(np.where(nan, -np.inf, z), size=n, mode="nearest")
                - ndimage.minimum_filter(np.where(nan, np.inf, z), size=n, mode="nearest")).astype(np.float32)
        want[nan] = np.nan
        np.testing.assert_array_equal(T.local_relief(z, n), want)


def test_hydro_grid_coarsens_large_dems(engine, shared_data):
    from riskmap.risk_plugin import terrain as T
    dem, _ = ecuador(shared_data)
    full = T.hydro_grid(dem, stream_area_m2=1e5)
    coarse = T.hydro_grid(dem, stream_area_m2=1e5, max_cells=383 * 415 // 9)
    assert full.k == 1 and coarse.k == 4 and coarse.cell_size == 40.0
    assert coarse.sca.shape == (math.ceil(415 / 4), math.ceil(383 / 4))
    # the largest catchment has the same area on both grids (within the coarse cells' edge effects)
    a_full = full.sca.max() * full.cell_size
    a_coarse = coarse.sca.max() * coarse.cell_size
    assert a_coarse == pytest.approx(a_full, rel=0.15)
    assert full.stream_distance[full.streams].max() == 0 and full.stream_distance.max() > 0

@pytest.mark.parametrize("h,w,k", [(103, 77, 5), (100, 100, 5), (7, 9, 4), (3, 3, 5), (50, 61, 1)])
def test_coarse_dem_is_the_block_mean_of_valid_cells(engine, tmp_path, h, w, k):
    """read_coarse (GDAL average for whole blocks, numpy for a partial last row/column) against a
    brute-force mean per k × k block, nodata ignored; an all-nodata block stays NaN."""
    import rasterio
    from riskmap.risk_plugin import terrain as T
    rng = np.random.default_rng(h * w + k)
    z = (rng.random((h, w)) * 100).astype(np.float32)
    z[rng.random((h, w)) < 0.2] = -9999
    z[:k, :k] = -9999
    path = write_tif(tmp_path / "dem.tif", z, nodata=-9999)
    zz = np.where(z == -9999, np.nan, z)
    want = np.full((-(-h // k), -(-w // k)), np.nan)
    for i in range(want.shape[0]):
        for j in range(want.shape[1]):
            b = zz[i * k:(i + 1) * k, j * k:(j + 1) * k]
            if (~np.isnan(b)).any():
                want[i, j] = np.nanmean(b)
    with rasterio.open(path) as src:
        got = T.read_coarse(src, k, strip_rows=16)
    np.testing.assert_allclose(got, want, atol=1e-3)
    assert np.isnan(got[0, 0])             # the block of nodata only



# --- hand-built grid -----------------------------------------------------------------------------------
@pytest.fixture()
def tiny(tmp_path):
    """6x6 cells of 10 m. Elevation: columns 0-2 = 100 m, 3-5 = 200 m (2 quantile classes of 18 cells).
    Lithology raster: rows 0-1 = 1, rows 2-3 = 2, rows 4-5 = 3 (12 cells each). Five landslides."""
    z = np.zeros((6, 6), np.float32)
    z[:, :3], z[:, 3:] = 100, 200
    lith = np.repeat(np.array([1, 2, 3], np.int16), 12).reshape(6, 6)
    slides = [(0, 4), (1, 5), (2, 3), (3, 4), (0, 0)]
    return {"dem": write_tif(tmp_path / "dem.tif", z), "lith": write_tif(tmp_path / "lith.tif", lith),
            "inv": write_gpkg(tmp_path / "inv.gpkg", {"id": range(5)}, [cell_centre(r, c) for r, c in slides]),
            "dir": tmp_path}


@pytest.mark.parametrize("method", ["information_value", "frequency_ratio"])
def test_information_value_and_frequency_ratio_by_hand(engine, tiny, method):
    from riskmap.risk_plugin.susceptibility import landslide_susceptibility
    d = tiny["dir"]
    r = landslide_susceptibility(tiny["dem"], tiny["inv"], str(d / "i.tif"), str(d / "z.tif"), str(d / "r.csv"),
                                 categorical_rasters=[tiny["lith"]], dem_factors=("elevation",), n_classes=2,
                                 method=method, folds=2, breaks="quantile", seed=1)
    # N = 5 landslides, S = 36 cells. Elevation: 1 of 5 in 18 low cells, 4 in 18 high cells.
    # Lithology: 3 of 5 in 12 cells, 2 in 12, none in 12 (counted as 0.5 for the information value).
    if method == "information_value":
        expected = {("elevation", 1): math.log((1 / 5) / (18 / 36)), ("elevation", 2): math.log((4 / 5) / (18 / 36)),
                    ("lith", 1): math.log((3 / 5) / (12 / 36)), ("lith", 2): math.log((2 / 5) / (12 / 36)),
                    ("lith", 3): math.log((0.5 / 5) / (12 / 36))}
    else:
        expected = {("elevation", 1): 0.4, ("elevation", 2): 1.6, ("lith", 1): 1.8, ("lith", 2): 1.2, ("lith", 3): 0.0}
    for (factor, code), value in expected.items():
        assert weight(r.weights, factor, code) == pytest.approx(value, abs=1e-12)
    # the index of a cell is the sum of its classes' weights
    idx, _ = sample_raster(str(d / "i.tif"), [X0 + 45, X0 + 5], [Y0 - 5, Y0 - 55])    # cells (0,4) and (5,0)
    assert idx[0] == pytest.approx(expected[("elevation", 2)] + expected[("lith", 1)], abs=1e-5)
    assert idx[1] == pytest.approx(expected[("elevation", 1)] + expected[("lith", 3)], abs=1e-5)
    assert r.n_presence == 5 and r.n_absence == 5           # absences drawn 1:1 without a presence field
    # the report holds the same weights and every zone; areas add up to the 36 cells of 100 m²
    import pandas as pd
    rep = pd.read_csv(d / "r.csv")
    w = rep[rep["部分 section"] == "weights"]
    assert len(w) == 5 and w["权重 weight"].to_numpy() == pytest.approx([expected[k] for k in sorted(expected)], abs=1e-9)
    zones = rep[rep["部分 section"] == "zones"]
    assert zones["面积 area_km2"].sum() == pytest.approx(36 * 100 / 1e6)
    assert zones["滑坡数 landslides"].sum() == 5


def test_units_by_hand(engine, tmp_path):
    """Six units; IV/FR by area: steep 3 ha with 4 landslides, gentle 5 ha with 1; elevation split at the
    area-weighted median 300 m: low 3 ha with 0, high 5 ha with 5."""
    import geopandas as gpd
    import shapely
    from riskmap.risk_plugin.susceptibility import auc, unit_susceptibility
    boxes = [shapely.box(X0 + i * 300, Y0, X0 + i * 300 + w, Y0 + 100) for i, w in enumerate([100, 100, 200, 200, 100, 100])]
    cols = {"坡度类": ["steep", "steep", "gentle", "gentle", "gentle", "steep"],
            "elev": [500.0, 400.0, 100.0, 300.0, 200.0, 600.0], "n": [3, 1, 0, 1, 0, 0]}
    src = write_gpkg(tmp_path / "units.gpkg", cols, boxes)
    out = str(tmp_path / "out.gpkg")
    iv = unit_susceptibility(src, ["坡度类", "elev"], "n", out, n_classes=2, folds=2, breaks="quantile",
                             method="information_value", out_report=str(tmp_path / "u.xlsx"))
    assert iv.rule == "count"                                # whole numbers: landslides per area
    assert weight(iv.weights, "坡度类", 2) == pytest.approx(math.log((4 / 5) / (3 / 8)))    # 'steep' sorts after 'gentle'
    assert weight(iv.weights, "坡度类", 1) == pytest.approx(math.log((1 / 5) / (5 / 8)))
    assert weight(iv.weights, "elev", 1) == pytest.approx(math.log((0.5 / 5) / (3 / 8)))
    assert weight(iv.weights, "elev", 2) == pytest.approx(math.log((5 / 5) / (5 / 8)))
    res = gpd.read_file(out)
    assert res["susc_index"][0] == pytest.approx(math.log(32 / 15) + math.log(1.6), abs=1e-6)
    assert set(res["hazard_class"]) <= {1, 2, 3, 4} and "坡度类" in res.columns and "n" in res.columns
    # honesty: the AUC of the written index equals AUC_SUCCESS
    assert auc(res["n"] > 0, res["susc_index"]) == iv.auc_success
    fr = unit_susceptibility(src, ["坡度类", "elev"], "n", str(tmp_path / "fr.gpkg"), n_classes=2, folds=2,
                             method="frequency_ratio")
    assert weight(fr.weights, "坡度类", 2) == pytest.approx(32 / 15)
    assert weight(fr.weights, "elev", 1) == 0.0


# --- Ecuador reference data ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ecuador_runs(engine, shared_data, tmp_path_factory):
    from riskmap.risk_plugin.susceptibility import landslide_susceptibility
    dem, pts = ecuador(shared_data)
    out = tmp_path_factory.mktemp("ecuador")
    runs = {}
    for m in METHODS:
        r = landslide_susceptibility(dem, pts, str(out / f"{m}.tif"), str(out / f"{m}_z.tif"), str(out / f"{m}.xlsx"),
                                     presence_field="landslide", method=m)
        runs[m] = (r, out / f"{m}.tif", out / f"{m}_z.tif")
    return runs


@pytest.mark.parametrize("method", METHODS)
def test_ecuador_auc_above_chance_and_honest(ecuador_runs, shared_data, method):
    """Measured (seed 42, 5 folds): prediction AUC IV 0.814, FR 0.824, logistic 0.806; success 0.857 / 0.857 / 0.906."""
    import geopandas as gpd
    from sklearn.metrics import roc_auc_score
    r, index_path, zones_path = ecuador_runs[method]
    assert r.auc_prediction > 0.75 and len(r.fold_aucs) == 5 and min(r.fold_aucs) > 0.65
    assert r.auc_success >= r.auc_prediction
    pts = gpd.read_file(ecuador(shared_data)[1])
    idx, nodata = sample_raster(str(index_path), pts.geometry.x, pts.geometry.y)
    assert not np.any(idx == nodata)
    assert roc_auc_score(pts["landslide"], idx) == r.auc_success
    zones, _ = sample_raster(str(zones_path), pts.geometry.x, pts.geometry.y)
    # zones rise with the index, and landslides concentrate in the upper zones
    assert np.all(np.diff([idx[zones == z].max() for z in (1, 2, 3, 4)]) > 0)
    assert np.mean(zones[pts["landslide"] == 1] >= 3) > 0.8
    assert r.zones["面积占比 area_pct"].sum() == pytest.approx(100.0)


def test_drawn_absences_reproducible_and_samples_honest(engine, shared_data, tmp_path):
    """Landslides only: absences are drawn 1:1 from the seed; same seed = same result; the samples
    layer reproduces AUC_SUCCESS from OUTPUT_INDEX."""
    import geopandas as gpd
    from sklearn.metrics import roc_auc_score
    from riskmap.risk_plugin.susceptibility import landslide_susceptibility
    dem, pts = ecuador(shared_data)
    only = gpd.read_file(pts)
    only = only[only["landslide"] == 1][["geometry"]]
    only.to_file(tmp_path / "slides.gpkg")
    a = landslide_susceptibility(dem, str(tmp_path / "slides.gpkg"), str(tmp_path / "a.tif"), None, None,
                                 out_samples=str(tmp_path / "s.gpkg"), seed=7)
    b = landslide_susceptibility(dem, str(tmp_path / "slides.gpkg"), str(tmp_path / "b.tif"), None, None, seed=7)
    c = landslide_susceptibility(dem, str(tmp_path / "slides.gpkg"), str(tmp_path / "c.tif"), None, None, seed=8)
    assert (a.auc_success, a.auc_prediction) == (b.auc_success, b.auc_prediction)
    assert a.auc_prediction != c.auc_prediction
    assert a.n_presence == 175 and a.n_absence == 175
    s = gpd.read_file(tmp_path / "s.gpkg")
    assert s["drawn"].sum() == 175 and set(s["fold"]) == {1, 2, 3, 4, 5}
    idx, _ = sample_raster(str(tmp_path / "a.tif"), s.geometry.x, s.geometry.y)
    assert roc_auc_score(s["presence"], idx) == a.auc_success
    assert a.auc_prediction > 0.7


def test_polygon_inventory_keeps_polygons_in_one_fold(engine, shared_data, tmp_path):
    import geopandas as gpd
    from riskmap.risk_plugin.susceptibility import landslide_susceptibility
    dem, pts = ecuador(shared_data)
    g = gpd.read_file(pts)
    g["geometry"] = g.buffer(15.0)                       # ~7 cells per polygon
    g.to_file(tmp_path / "poly.gpkg")
    r = landslide_susceptibility(dem, str(tmp_path / "poly.gpkg"), str(tmp_path / "i.tif"), str(tmp_path / "z.tif"),
                                 None, presence_field="landslide", out_samples=str(tmp_path / "s.gpkg"))
    s = gpd.read_file(tmp_path / "s.gpkg")
    assert r.n_presence > 5 * 175 and len(s) == r.n_presence + r.n_absence
    # every polygon's cells fall in one fold (polygons that overlap no other one)
    overlaps = gpd.sjoin(g[["geometry"]], g[["geometry"]], predicate="intersects").groupby(level=0).size()
    alone = g[overlaps.reindex(g.index).to_numpy() == 1][["geometry"]]
    cells = gpd.sjoin(s, alone, predicate="within")
    assert len(cells) > 1000
    assert cells.groupby("index_right")["fold"].nunique().max() == 1
    assert r.auc_prediction > 0.7


def test_cancel_leaves_nothing(engine, shared_data, tmp_path):
    from riskmap.risk_plugin.errors import Cancelled
    from riskmap.risk_plugin.progress import Progress
    from riskmap.risk_plugin.susceptibility import landslide_susceptibility
    dem, pts = ecuador(shared_data)
    calls = {"n": 0}

    def cancel():                     # about 40 checks happen before the index is written: cancel while writing
        calls["n"] += 1
        return calls["n"] > 45

    with pytest.raises(Cancelled):
        landslide_susceptibility(dem, pts, str(tmp_path / "i.tif"), str(tmp_path / "z.tif"), str(tmp_path / "r.csv"),
                                 block_size=128, progress=Progress(is_canceled=cancel))
    assert calls["n"] > 45 and list(tmp_path.iterdir()) == []


def test_geographic_dem_is_refused(engine, alg, tmp_path):
    from qgis.core import QgsProcessingException
    from riskmap.risk_plugin.errors import ValidationError
    from riskmap.risk_plugin.susceptibility import landslide_susceptibility
    dem = write_tif(tmp_path / "geo_dem.tif", np.full((20, 20), 500, np.float32), cell=0.0001, crs="EPSG:4490",
                    x0=108.8, y0=29.5)
    import shapely
    inv = write_gpkg(tmp_path / "inv.gpkg", {"landslide": [1]}, [shapely.Point(108.8005, 29.4995)], crs="EPSG:4490")
    with pytest.raises(ValidationError) as err:
        landslide_susceptibility(dem, inv, str(tmp_path / "i.tif"))
    text = str(err.value)
    assert "geo_dem.tif" in text and "不是以米为单位的投影坐标系" in text and "not a projected CRS in metres" in text
    with pytest.raises(QgsProcessingException, match="not a projected CRS in metres"):
        alg("riskmap:landslidesusceptibility", {"DEM": dem, "INVENTORY": inv, "OUTPUT_INDEX": str(tmp_path / "i.tif"),
                                                "OUTPUT_ZONES": str(tmp_path / "z.tif"),
                                                "OUTPUT_REPORT": str(tmp_path / "r.csv")})
    assert not (tmp_path / "i.tif").exists()


# --- algorithms ----------------------------------------------------------------------------------------------
def test_processing_run_with_extra_factors(alg, shared_data, tmp_path):
    """Categorical raster on another grid (20 m), categorical polygons and a line layer, logistic."""
    import geopandas as gpd
    import pandas as pd
    import rasterio
    import shapely
    dem, pts = ecuador(shared_data)
    with rasterio.open(dem) as src:
        b = src.bounds
        z = src.read(1, out_shape=(src.height // 2, src.width // 2), masked=True).filled(np.nan)
        crs = src.crs
    bands = np.digitize(z, np.nanpercentile(z, [33, 66])).astype(np.int16) + 1
    bands[np.isnan(z)] = -1
    write_tif(tmp_path / "bands.tif", bands, cell=20.0, crs=crs, nodata=-1, x0=b.left, y0=b.top)
    mid = (b.left + b.right) / 2
    write_gpkg(tmp_path / "geo.gpkg", {"岩性": ["砂岩", "页岩"]},
               [shapely.box(b.left, b.bottom, mid, b.top), shapely.box(mid, b.bottom, b.right, b.top)], crs=crs)
    write_gpkg(tmp_path / "roads.gpkg", {"name": ["a"]},
               [shapely.LineString([(b.left, b.bottom), (b.right, b.top)])], crs=crs)
    res = alg("riskmap:landslidesusceptibility", {
        "DEM": dem, "INVENTORY": pts, "PRESENCE_FIELD": "landslide", "METHOD": 2, "FOLDS": 4, "BREAKS": 2,
        "CATEGORICAL_RASTERS": [str(tmp_path / "bands.tif")], "CATEGORICAL_POLYGONS": str(tmp_path / "geo.gpkg"),
        "CATEGORICAL_FIELD": "岩性", "DISTANCE_LINES": [str(tmp_path / "roads.gpkg")],
        "OUTPUT_INDEX": str(tmp_path / "i.tif"), "OUTPUT_ZONES": str(tmp_path / "z.tif"),
        "OUTPUT_REPORT": str(tmp_path / "r.xlsx")})
    assert 0.75 < res["AUC_PREDICTION"] < res["AUC_SUCCESS"] <= 1.0
    weights = pd.read_excel(tmp_path / "r.xlsx", sheet_name="weights")
    assert {"bands", "geo", "dist_roads", "slope"} <= set(weights["因子 factor"])
    assert set(weights[weights["因子 factor"] == "geo"]["分级 range"]) == {"砂岩", "页岩"}
    assert {"1", "2", "3"} <= set(weights[weights["因子 factor"] == "bands"]["分级 range"])
    # success-rate cut-offs: the very-high zone holds at least half of the landslides, the top three 95 %
    zones = pd.read_excel(tmp_path / "r.xlsx", sheet_name="zones").set_index("分区 zone")
    assert zones.loc[4, "滑坡占比 landslide_pct"] >= 50 and zones.loc[[2, 3, 4], "滑坡占比 landslide_pct"].sum() >= 95
    g = gpd.read_file(pts)
    idx, _ = sample_raster(str(tmp_path / "i.tif"), g.geometry.x, g.geometry.y)
    from sklearn.metrics import roc_auc_score
    assert roc_auc_score(g["landslide"], idx) == res["AUC_SUCCESS"]


def test_qgis_process_matches_the_engine(qgis_process, ecuador_runs, shared_data, tmp_path):
    dem, pts = ecuador(shared_data)
    code, results, _ = qgis_process.run("riskmap:landslidesusceptibility", {
        "DEM": dem, "INVENTORY": pts, "PRESENCE_FIELD": "landslide", "OUTPUT_INDEX": str(tmp_path / "i.tif"),
        "OUTPUT_ZONES": str(tmp_path / "z.tif"), "OUTPUT_REPORT": str(tmp_path / "r.csv")})
    assert code == 0
    # the default METHOD=auto keeps the best prediction AUC on the same folds: frequency ratio here
    assert results["METHOD_USED"] == "frequency_ratio"
    r = ecuador_runs["frequency_ratio"][0]
    assert float(results["AUC_SUCCESS"]) == pytest.approx(r.auc_success, abs=1e-12)
    assert float(results["AUC_PREDICTION"]) == pytest.approx(r.auc_prediction, abs=1e-12)
    assert (tmp_path / "z.tif").exists() and (tmp_path / "r.csv").exists()


def test_unitsusceptibility_algorithm(alg, shared_data, tmp_path):
    """Square 200 m units over the Ecuador DEM with mean slope and elevation; landslides counted per unit."""
    import geopandas as gpd
    import rasterio
    import shapely
    from sklearn.metrics import roc_auc_score
    from riskmap.risk_plugin import terrain as T
    dem, pts = ecuador(shared_data)
    with rasterio.open(dem) as src:
        z = src.read(1, masked=True).astype(np.float32).filled(np.nan)
        t, crs = src.transform, src.crs
    slope = T.slope_deg(z, 10.0)
    k = 20
    h, w = (z.shape[0] // k) * k, (z.shape[1] // k) * k
    mean = lambda a: np.nanmean(a[:h, :w].reshape(h // k, k, w // k, k), axis=(1, 3)).ravel()
    rows, cols = np.divmod(np.arange((h // k) * (w // k)), w // k)
    boxes = [shapely.box(*(t * (c * k, (r + 1) * k)), *(t * ((c + 1) * k, r * k))) for r, c in zip(rows, cols)]
    units = gpd.GeoDataFrame({"slope_mean": mean(slope), "elev": mean(z)}, geometry=boxes, crs=crs)
    g = gpd.read_file(pts)
    hits = gpd.sjoin(g[g["landslide"] == 1], units, predicate="within")
    units["滑坡数"] = np.bincount(hits["index_right"], minlength=len(units))
    units = units[units["slope_mean"].notna()]
    units.to_file(tmp_path / "units.gpkg")
    res = alg("riskmap:unitsusceptibility", {"UNITS": str(tmp_path / "units.gpkg"),
                                             "FACTOR_FIELDS": ["slope_mean", "elev"], "FOLDS": 5,
                                             "OUTPUT": str(tmp_path / "out.gpkg"), "OUTPUT_REPORT": str(tmp_path / "u.csv")})
    out = gpd.read_file(tmp_path / "out.gpkg")
    assert len(out) == len(units) and set(out["hazard_class"]) == {1, 2, 3, 4}
    assert roc_auc_score(out["滑坡数"] > 0, out["susc_index"]) == res["AUC_SUCCESS"]
    assert res["AUC_PREDICTION"] > 0.6


def test_jenks_matches_mapclassify_and_zones_follow_breaks(engine):
    import mapclassify
    from riskmap.risk_plugin.susceptibility.zoning import classify, jenks_breaks, zone_breaks
    rng = np.random.default_rng(5)
    for v in (rng.gamma(2.0, 1.0, 300), np.round(rng.normal(size=400), 1)):
        np.testing.assert_allclose(jenks_breaks(v, 4), mapclassify.FisherJenks(v, k=4).bins[:-1])
    # a value equal to a break belongs to the lower zone; the highest index is zone 4
    assert classify(np.array([0.0, 1.0, 1.5, 2.0, 9.0], np.float32), [1.0, 2.0, 3.0]).tolist() == [1, 1, 2, 2, 4]
    # success-rate cut-offs: zone 4 holds >= 50 % of the landslides, zones 3-4 >= 80 %, 2-4 >= 95 %
    pres = np.arange(20, dtype=np.float32)
    b = zone_breaks("success", pres, presence_index=pres)
    z = classify(pres, b)
    assert (z == 4).sum() == 10 and (z >= 3).sum() == 16 and (z >= 2).sum() == 19


def test_results_do_not_depend_on_threads_or_blocks(engine, shared_data, tmp_path):
    """One thread and 1024² blocks vs two threads and 20 blocks of 96²: the same outputs (drawn
    absences included: every draw is seeded by SEED and the block, not by the thread)."""
    import rasterio
    from riskmap.risk_plugin.susceptibility import landslide_susceptibility
    dem, pts = ecuador(shared_data)
    runs = []
    import geopandas as gpd
    only = gpd.read_file(pts)
    only[only["landslide"] == 1][["geometry"]].to_file(tmp_path / "slides.gpkg")
    for workers, block in ((1, 1024), (2, 96)):
        out = tmp_path / f"w{workers}"
        out.mkdir()
        r = landslide_susceptibility(dem, str(tmp_path / "slides.gpkg"), str(out / "i.tif"), str(out / "z.tif"), None, workers=workers,
                                     block_size=block)
        with rasterio.open(out / "i.tif") as a, rasterio.open(out / "z.tif") as b:
            runs.append((r.auc_success, r.auc_prediction, a.read(1), b.read(1)))
    assert runs[0][:2] == runs[1][:2]
    np.testing.assert_array_equal(runs[0][2], runs[1][2])
    np.testing.assert_array_equal(runs[0][3], runs[1][3])


def test_demo_county_landslides_fall_in_the_two_highest_zones(engine, demo_county, tmp_path):
    """Measured on the 8 km / 20 m demo county (30 landslides): 100 % in 高 + 极高 (65 % of the area) with the
    defaults."""
    import geopandas as gpd
    from riskmap.risk_plugin.susceptibility import landslide_susceptibility
    r = landslide_susceptibility(demo_county["dem"], demo_county["landslide_inventory"], str(tmp_path / "i.tif"),
                                 str(tmp_path / "z.tif"), None)
    inv = gpd.read_file(demo_county["landslide_inventory"])
    slides = inv[inv["landslide"] == 1]
    zones, _ = sample_raster(str(tmp_path / "z.tif"), slides.geometry.x, slides.geometry.y)
    share = float(np.mean(zones >= 3))
    assert share > 0.5 and share == pytest.approx(r.share_in_top_zones())
    # landslides are denser there than on average: their share beats the zones' share of the area
    assert share > r.zones[r.zones["分区 zone"] >= 3]["面积占比 area_pct"].sum() / 100


def test_bench_runs_at_small_size(tmp_path):
    """`make bench` section at 2 km (the real size is 100 km; never in tests)."""
    import os
    import re
    import sys
    from pathlib import Path
    repo = Path(__file__).resolve().parent.parent
    env = dict(os.environ, RISKMAP_BENCH_KM="2")
    subprocess.run([sys.executable, "-m", "bench.run", "--only", "susceptibility", "--out", str(tmp_path / "B.md"),
                    "--work", str(tmp_path / "work"), "--results", str(tmp_path / "results")], cwd=repo, env=env, check=True,
                   capture_output=True, timeout=300)
    text = (tmp_path / "B.md").read_text(encoding="utf-8")
    assert "200 × 200 = 40,000 cells" in text                # 2 km at 10 m
    gdal_s = float(re.search(r"\| `gdaldem slope dem.tif slope.tif -q` \| ([\d.]+) \|", text).group(1))
    ratio = float(re.search(r"\*\*([\d.]+)×\*\*", text).group(1))
    wall = float(re.search(r"imports\) \| ([\d.]+) \|", text).group(1))
    assert gdal_s > 0 and wall / (gdal_s + 0.0005) - 0.05 <= ratio <= wall / (gdal_s - 0.0005) + 0.05   # 3 decimals
    assert (tmp_path / "work" / "susceptibility_2km" / "susc_zones.tif").exists()


def test_zones_load_styled_by_hazard_classes(riskmap, tiny, tmp_path):
    """As QGIS shows it: zones 1..4 in the official colours with 低 … 极高 labels; units by hazard_class."""
    import processing
    import shapely
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject
    from riskmap.risk_plugin.classes import class_table
    project = QgsProject.instance()
    project.clear()
    context = QgsProcessingContext()
    context.setProject(project)
    processing.runAndLoadResults("riskmap:landslidesusceptibility", {
        "DEM": tiny["dem"], "INVENTORY": tiny["inv"], "CATEGORICAL_RASTERS": [tiny["lith"]], "DEM_FACTORS": [0],
        "N_CLASSES": 2, "FOLDS": 2, "OUTPUT_INDEX": str(tmp_path / "i.tif"), "OUTPUT_ZONES": str(tmp_path / "z.tif"),
        "OUTPUT_REPORT": str(tmp_path / "r.csv")}, feedback=QgsProcessingFeedback(), context=context)
    zones = [l for l in project.mapLayers().values() if l.source().endswith("z.tif")][0]
    expected = {c["value"]: c for c in class_table("hazard_classes")["classes"] if c["value"] in (1, 2, 3, 4)}
    got = {c.value: c for c in zones.renderer().classes()}
    assert set(got) >= {1, 2, 3, 4}
    for v, c in expected.items():
        assert got[v].color.name().upper() == c["color"].upper() and got[v].label.startswith(c["zh"])
    boxes = [shapely.box(X0 + i * 200, Y0, X0 + i * 200 + 100, Y0 + 100) for i in range(8)]
    units = write_gpkg(tmp_path / "u.gpkg", {"s": [1.0, 2, 3, 4, 5, 6, 7, 8], "n": [0, 0, 0, 1, 0, 2, 3, 1]}, boxes)
    processing.runAndLoadResults("riskmap:unitsusceptibility", {
        "UNITS": units, "FACTOR_FIELDS": ["s"], "LANDSLIDE_FIELD": "n", "FOLDS": 2, "N_CLASSES": 2,
        "OUTPUT": str(tmp_path / "uo.gpkg")}, feedback=QgsProcessingFeedback(), context=context)
    lay = [l for l in project.mapLayers().values() if "uo.gpkg" in l.source()][0]
    assert lay.renderer().classAttribute() == "hazard_class"
    cats = {str(c.value()): c for c in lay.renderer().categories()}     # the stored style keeps values as text
    assert cats["4"].symbol().color().name().upper() == expected[4]["color"].upper()
    project.clear()
