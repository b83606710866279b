"""One process holds QGIS and every engine library; qgis_process exits cleanly beside them."""
import numpy as np


def test_one_process_qgis_native_and_engine_libraries(alg, tmp_path):
    import geopandas as gpd
    import rasterio
    import shapely
    from rasterio.transform import from_origin
    from qgis.core import QgsRasterLayer, QgsVectorLayer
    import folium  # noqa: F401
    import pyproj
    import scipy  # noqa: F401

    # engine libraries write GeoPackage and GeoTIFF ...
    gpkg = tmp_path / "pts.gpkg"
    gpd.GeoDataFrame({"名称": ["甲", "乙"]}, geometry=shapely.points([[0, 0], [100, 0]]), crs="EPSG:4545").to_file(gpkg)
    tif = tmp_path / "r.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=4, height=3, count=1, dtype="float32", crs="EPSG:4545",
                       transform=from_origin(0, 30, 10, 10)) as dst:
        dst.write(np.arange(12, dtype="float32").reshape(3, 4), 1)
    # ... QGIS reads them and runs a native algorithm on them ...
    assert QgsRasterLayer(str(tif), "r").dataProvider().bandStatistics(1).sum == 66
    res = alg("native:buffer", {"INPUT": str(gpkg), "DISTANCE": 10, "SEGMENTS": 16, "OUTPUT": str(tmp_path / "buf.gpkg")})
    layer = QgsVectorLayer(res["OUTPUT"], "buf", "ogr")
    assert layer.featureCount() == 2
    # ... and the engine reads QGIS's output back
    back = gpd.read_file(res["OUTPUT"])
    assert back.area.sum() == pytest_approx(2 * np.pi * 100, rel=0.01)
    assert sorted(back["名称"]) == ["乙", "甲"]
    assert pyproj.CRS(back.crs).to_epsg() == 4545
    assert np.__version__.startswith("1.")


def pytest_approx(v, rel):
    import pytest
    return pytest.approx(v, rel=rel)


def test_qgis_process_runs_engine_and_exits_zero(qgis_process, tmp_path):
    rc, results, out = qgis_process.run("riskmap:democounty", {
        "SIZE_KM": 4, "CELL_SIZE": 20, "TOWNSHIPS": 2, "VILLAGES_PER_TOWNSHIP": 3, "BUILDINGS_PER_VILLAGE": 100,
        "SEED": 3, "OUTPUT_FOLDER": str(tmp_path / "c")})
    assert rc == 0
    assert results["TOWNSHIPS"] == 2 and results["VILLAGES"] == 6
    assert results["RESIDENTS"] > 0
    assert (tmp_path / "c" / "dem.tif").exists()
