"""Writing outputs: readable back, with a spatial index, and no temporary files left."""
import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from riskmap.risk_plugin.io import read_vector, write_vector


def _layer(n=2000):
    rng = np.random.default_rng(3)
    return gpd.GeoDataFrame({"名称": [f"点{i}" for i in range(n)], "v": rng.random(n)},
                            geometry=shapely.points(rng.random(n) * 1e4, rng.random(n) * 1e4), crs=4545)


def test_gpkg_round_trips_with_its_spatial_index_and_replaces_an_older_file(tmp_path):
    gdf = _layer()
    for part in (gdf.iloc[:500], gdf):          # the second write replaces the first
        path = write_vector(part, tmp_path / "out.gpkg")
        back = read_vector(path)
        assert len(back) == len(part) and list(back["名称"][:3]) == ["点0", "点1", "点2"]
        np.testing.assert_allclose(shapely.get_coordinates(back.geometry.values),
                                   shapely.get_coordinates(part.geometry.values))
        # the R-tree is there and answers a bounding-box read
        box = (0, 0, 5000, 5000)
        inside = shapely.contains_xy(shapely.box(*box), *shapely.get_coordinates(part.geometry.values).T).sum()
        assert len(pyogrio.read_dataframe(path, bbox=box)) == inside
        assert pyogrio.read_info(path)["capabilities"]["fast_spatial_filter"]
    assert [p.name for p in tmp_path.iterdir()] == ["out.gpkg"]   # no temporary files left
