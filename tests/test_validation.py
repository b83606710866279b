"""Validation names layer, field, feature and fix, reports every problem at once, and never touches inputs."""
import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from riskmap.risk_plugin.errors import ValidationError
from riskmap.risk_plugin.inputs import RasterInput, VectorInput, check_rasters, load_vectors
from riskmap.risk_plugin.io import dbf_encoding, read_vector
from riskmap.risk_plugin.validation import check_vector, schema_kinds, validate_source


def _points(n=3, **cols):
    return gpd.GeoDataFrame(cols, geometry=shapely.points(np.arange(n) * 100.0, np.zeros(n)), crs="EPSG:4545")


def test_every_schema_is_valid_and_bilingual():
    from riskmap.risk_plugin.validation import load_schema
    kinds = schema_kinds()
    assert {"geohazard_points", "flood_zones", "flood_depth", "forest_cover", "townships", "villages", "buildings",
            "population", "facilities", "shelters", "roads", "dem"} <= set(kinds)
    for kind in kinds:
        schema = load_schema(kind)
        for f in schema.get("fields", []):
            assert f["zh"] and f["en"]


def test_gbk_shapefile_without_cpg_reads_chinese(tmp_path):
    gdf = _points(2, 名称=["龙潭镇滑坡", "石门乡崩塌"], 灾害类型=["滑坡", "崩塌"])
    shp = tmp_path / "gbk.shp"
    gpkg = tmp_path / "utf8.gpkg"
    gdf.to_file(gpkg)
    import subprocess  # ogr2ogr recodes the attributes to GBK (code page 936), as Chinese survey offices ship them
    subprocess.run(["ogr2ogr", "-lco", "ENCODING=CP936", str(shp), str(gpkg)], check=True)
    assert "龙潭镇滑坡".encode("gbk") in shp.with_suffix(".dbf").read_bytes()
    cpg = shp.with_suffix(".cpg")
    if cpg.exists():
        cpg.unlink()
    assert dbf_encoding(shp) == "GB18030"
    back = read_vector(shp)
    assert list(back["名称"]) == ["龙潭镇滑坡", "石门乡崩塌"]


def test_all_problems_reported_at_once_with_layer_field_feature():
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])
    gdf = gpd.GeoDataFrame({"名称": ["a", "b", "c"], "类别": ["紧急", "帐篷", "固定-短期"],
                            "有效面积": ["500", "abc", "-3"]},
                           geometry=[shapely.box(0, 0, 5, 5), bowtie, None], crs=None)
    gdf.index = [11, 12, 13]
    out, problems, _ = check_vector(gdf, "shelters", "shelters.gpkg")
    text = "\n".join(map(str, problems))
    assert len(problems) == 6, text          # no CRS, null geom, invalid geom, non-numeric, negative, bad class
    assert "shelters.gpkg" in text and "帐篷" in text and "'类别'" in text
    by_en = {p.en.split(" ")[0]: p for p in problems}
    invalid = [p for p in problems if "invalid geometry" in p.en][0]
    assert invalid.features == [12] and "fixgeometries" in invalid.fix_en
    assert [p for p in problems if "null" in p.en][0].features == [13]
    assert [p for p in problems if "below" in p.en][0].features == [13]
    assert [p for p in problems if "numeric" in p.en][0].features == [12]
    assert out.loc[11, "shelter_class"] == "emergency"


def test_missing_field_suggests_the_misspelled_one():
    gdf = _points(2, 统一编号=["1", "2"], 名称=["a", "b"], 灾害类型=["滑坡", "landslide"], 规模等级=["小型", "中型"],
                  威胁人术=[3, 4])
    _, problems, _ = check_vector(gdf, "geohazard_points", "points.shp")
    assert len(problems) == 1
    assert "威胁人数" in problems[0].zh and "威胁人术" in problems[0].zh


def test_duplicate_ids_and_empty_layer():
    dup = _points(3, 行政区划代码=["1", "1", "2"], 名称=["a", "b", "c"])
    dup.geometry = shapely.buffer(dup.geometry.values, 10)
    _, problems, _ = check_vector(dup, "townships", "t")
    assert len(problems) == 1 and problems[0].features == [0, 1]
    empty = dup.iloc[:0]
    _, problems, _ = check_vector(empty, "townships", "t")
    assert len(problems) == 1 and "empty" in problems[0].en


def test_repair_only_when_asked_and_input_untouched(tmp_path):
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])
    src = tmp_path / "forest.gpkg"
    gpd.GeoDataFrame({"林分类型": ["针叶林"]}, geometry=[bowtie], crs="EPSG:4545").to_file(src)
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    problems = validate_source(src, "forest_cover")
    assert len(problems) == 1
    repaired = tmp_path / "fixed.gpkg"
    problems = validate_source(src, "forest_cover", repair=True, repaired_path=repaired, report_path=tmp_path / "r.csv")
    assert problems == []
    fixed = gpd.read_file(repaired)
    assert fixed.is_valid.all() and fixed.area.sum() == pytest.approx(50.0)
    assert fixed["forest_type"].iloc[0] == "conifer"
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before


def _tif(path, transform, crs="EPSG:4545", data=None):
    data = np.ones((4, 4), "float32") if data is None else data
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=-9999) as dst:
        dst.write(data, 1)
    return str(path)


def test_rasters_that_do_not_align_and_geographic_dem(tmp_path):
    a = _tif(tmp_path / "a.tif", from_origin(0, 40, 10, 10))
    b = _tif(tmp_path / "b.tif", from_origin(5, 40, 10, 10))
    with pytest.raises(ValidationError) as err:
        check_rasters([RasterInput("hazard", a, "flood_depth"), RasterInput("population", b, "population")],
                      aligned=["hazard", "population"])
    assert "population" in str(err.value) and "warpreproject" in str(err.value)
    geo = _tif(tmp_path / "g.tif", from_origin(108, 30, 0.0001, 0.0001), crs="EPSG:4490")
    with pytest.raises(ValidationError) as err:
        check_rasters([RasterInput("dem", geo, "dem")])
    assert "EPSG:4545" in str(err.value)
    nod = _tif(tmp_path / "n.tif", from_origin(0, 40, 10, 10), data=np.full((4, 4), -9999, "float32"))
    with pytest.raises(ValidationError, match="nodata everywhere"):
        check_rasters([RasterInput("population", nod, "population")])


def test_load_vectors_collects_problems_across_layers(tmp_path):
    t = tmp_path / "t.gpkg"
    _points(2, 名称=["a", "b"]).to_file(t)
    with pytest.raises(ValidationError) as err:
        load_vectors([VectorInput("townships", str(t), "townships"),
                      VectorInput("roads", None, "roads"),
                      VectorInput("villages", str(tmp_path / "missing.gpkg"), "villages")])
    problems = err.value.problems
    assert len(problems) == 4   # geometry type, missing code, roads not given, file missing
    assert any("missing.gpkg" in str(p) for p in problems)


def test_validate_algorithm_processing_and_qgis_process(alg, qgis_process, demo_county, tmp_path):
    res = alg("riskmap:validate", {"INPUT": demo_county["geohazard_points"], "KIND": "geohazard_points",
                                   "OUTPUT_REPORT": str(tmp_path / "ok.csv")})
    assert res["PROBLEMS"] == 0
    bad = tmp_path / "bad.gpkg"
    g = read_vector(demo_county["geohazard_points"]).iloc[:5].copy()
    g.loc[g.index[0], "灾害类型"] = "火山"
    g = g.drop(columns=["威胁人数"])
    g.to_file(bad)
    kinds = schema_kinds()
    rc, results, out = qgis_process.run("riskmap:validate", {"INPUT": str(bad), "KIND": "geohazard_points",
                                                             "OUTPUT_REPORT": str(tmp_path / "bad.csv")})
    assert results["PROBLEMS"] == 2
    import pandas as pd
    report = pd.read_csv(tmp_path / "bad.csv")
    assert len(report) == 2 and report["problem"].str.contains("火山").any()


def test_shapefile_truncated_and_case_changed_names_are_matched():
    from riskmap.risk_plugin.validation import match_fields, truncations
    assert truncations("行政区划代码") == {"行政区划代", "行政区"}     # GBK keeps 5 characters, UTF-8 3
    specs = [{"name": "code", "aliases": ["行政区划代码"]}, {"name": "name", "aliases": ["名称"]},
             {"name": "slope_mean", "aliases": []}]
    found = match_fields(["行政区", "名称", "SLOPE_MEAN"], specs)
    assert found == {"code": ("行政区", "truncated"), "name": ("名称", "name"), "slope_mean": ("SLOPE_MEAN", "name")}
    # two fields cut to the same prefix: neither is guessed
    twins = [{"name": "a", "aliases": ["行政区划代码"]}, {"name": "b", "aliases": ["行政区划名称"]}]
    assert match_fields(["行政区"], twins) == {}


def test_numbers_written_as_text_are_read_as_numbers():
    import pandas as pd
    from riskmap.risk_plugin.validation import parse_numbers
    values = pd.Series(["1,234", "１２３", " 12.5 ", "约30", None, "1,23"], dtype=object)
    num, n = parse_numbers(values)
    assert n == 2                         # " 12.5 " pandas reads by itself
    assert num.tolist()[:3] == [1234.0, 123.0, 12.5] and pd.isna(num[3]) and pd.isna(num[4]) and pd.isna(num[5])


def test_metres_under_a_geographic_crs_are_refused_before_any_work(tmp_path):
    gdf = _points(3).set_crs(4490, allow_override=True)
    gdf = gdf.set_geometry(shapely.points(571600 + np.arange(3) * 100.0, np.full(3, 3271000.0)))
    _, problems, _ = check_vector(gdf, "facilities", "设施.gpkg")
    assert any("EPSG:4490" in p.en and "metres" in p.en and "EPSG:4545" in p.fix_en for p in problems)
    path = tmp_path / "m.tif"
    _tif(path, from_origin(571600, 3271000, 10, 10), crs="EPSG:4490")
    problems = __import__("riskmap.risk_plugin.validation", fromlist=["x"]).check_raster(str(path), "dem", "m.tif")
    assert any("outside the range of degrees" in p.en for p in problems)


def test_a_utf8_cpg_over_gbk_bytes_is_read_as_gbk(tmp_path):
    import subprocess
    from riskmap.risk_plugin.notices import collecting
    gdf = _points(2, 名称=["龙潭镇", "石门乡"])
    gdf.to_file(tmp_path / "u.gpkg")
    shp = tmp_path / "g.shp"
    subprocess.run(["ogr2ogr", "-lco", "ENCODING=CP936", str(shp), str(tmp_path / "u.gpkg")], check=True)
    shp.with_suffix(".cpg").write_text("UTF-8")
    said = []
    with collecting(said.append):
        assert list(read_vector(shp)["名称"]) == ["龙潭镇", "石门乡"]
    assert len(said) == 1 and "g.cpg" in said[0] and "GB18030" in said[0]


def test_output_fields_of_the_response_and_earthquake_algorithms_have_bilingual_aliases(riskmap):
    """Pattern aliases name the group and the threshold a field holds; people fields read as whole persons."""
    from riskmap.risk_plugin import aliases
    assert aliases.label("forces_30min") == "救援力量 30 分钟内到达人口 / People reached by response forces in 30 min"
    assert aliases.alias("forces_30min")["persons"] is True
    assert aliases.label("depot_mean_min") == "物资储备库平均到达时间 (分钟) / Mean travel time of supply depots (min)"
    assert aliases.label("bld_c4") == "危险性极高区建筑 / Buildings in hazard class Very high"
    assert aliases.label("fac_school_exposed") == "危险区内学校 / Schools in hazard zones"
    assert aliases.label("police_30min") is None                   # not a group riskmap writes
    assert aliases.alias("eq_risk_zh") is aliases.HIDDEN           # the class label says it
    assert aliases.readable(aliases.alias("deaths"), [0.4, 2.5]) == [0, 3]
