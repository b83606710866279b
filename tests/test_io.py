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


def test_a_failed_run_takes_back_every_output_and_restores_what_it_replaced(tmp_path):
    import pytest
    from riskmap.risk_plugin.io import write_table
    from riskmap.risk_plugin.outputs import output_transaction
    import pandas as pd
    old = tmp_path / "table.csv"
    old.write_text("older\n")
    with pytest.raises(RuntimeError):
        with output_transaction():
            write_vector(_layer(10), tmp_path / "new" / "a.gpkg")
            write_table(pd.DataFrame({"x": [1]}), old)
            assert (tmp_path / "new" / "a.gpkg").exists() and old.read_text() != "older\n"   # readable meanwhile
            raise RuntimeError("the third output failed")
    assert old.read_text() == "older\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]        # the folder it made is gone too
    with output_transaction():
        write_table(pd.DataFrame({"x": [2]}), old)
    assert old.read_text().strip().splitlines()[-1] == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_an_unwritable_folder_is_an_output_error_naming_it(tmp_path):
    import pytest
    from riskmap.risk_plugin.io import OutputError
    with pytest.raises(OutputError) as err:
        write_vector(_layer(5), "/sys/riskmap-nowhere/out.gpkg")
    assert "/sys/riskmap-nowhere/out.gpkg" in str(err.value) and "permission denied" in str(err.value)


def test_fid_attribute_columns_survive_a_geopackage_write(tmp_path):
    from riskmap.risk_plugin.notices import collecting
    gdf = _layer(6)
    gdf["fid"] = ["a", "a", "b", "b", "c", "c"]       # text and duplicated: cannot be the GeoPackage key
    gdf["FID"] = 7
    said = []
    with collecting(said.append):
        back = read_vector(write_vector(gdf, tmp_path / "f.gpkg"))
    assert list(back["fid_1"]) == ["a", "a", "b", "b", "c", "c"] and list(back["fid_2"]) == [7] * 6
    assert len(said) == 1 and "fid_1" in said[0] and "fid_2" in said[0]


def test_formula_text_is_neutralised_in_csv_and_kept_as_text_in_xlsx(tmp_path):
    import csv
    import openpyxl
    import pandas as pd
    from riskmap.risk_plugin.io import write_table
    df = pd.DataFrame({"名称": ["=1+1", "@A1", "-2", "-x", "龙潭镇", "+3+4"], "n": [1, 2, 3, 4, 5, 6]})
    write_table(df, tmp_path / "t.csv")
    rows = list(csv.reader((tmp_path / "t.csv").open(encoding="utf-8-sig")))
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'@A1", "-2", "'-x", "龙潭镇", "'+3+4"]   # '-2' is a number
    write_table(df, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    cells = [ws.cell(row=r, column=1) for r in range(2, 8)]
    assert [c.value for c in cells] == list(df["名称"]) and {c.data_type for c in cells} == {"s"}
