"""Outputs carry their style: a GeoPackage output has its riskmap style as the layer's default in layer_styles, a
GeoTIFF output a .qml beside it, written before the file moves into place. Checked the way a technician meets
the files: a bare QgsVectorLayer / QgsRasterLayer (as the browser adds them), after processing.run and after
qgis_process."""
import json
import sqlite3
from pathlib import Path

import pytest

from conftest import REPO

TABLES = json.loads((REPO / "styles" / "classes.json").read_text(encoding="utf-8"))


def _expected(key):
    return {str(c["value"]): (f"{c['zh']} / {c['en']}", c["color"][:7].lower()) for c in TABLES[key]["classes"]}


def _vector_classes(path):
    from qgis.core import QgsVectorLayer
    layer = QgsVectorLayer(str(path), "bare", "ogr")
    assert layer.isValid()
    r = layer.renderer()
    if r.type() == "categorizedSymbol":
        return r.type(), r.classAttribute(), {str(c.value()): (c.label(), c.symbol().color().name())
                                              for c in r.categories() if c.value() not in (None, "")}
    return r.type(), getattr(r, "classAttribute", lambda: None)(), {}


def _raster_classes(path):
    from qgis.core import QgsRasterLayer
    layer = QgsRasterLayer(str(path), "bare")
    assert layer.isValid()
    r = layer.renderer()
    return r.type(), {str(int(c.value)): (c.label, c.color.name()) for c in r.classes()} if r.type() == "paletted" else {}


def _default_styles(gpkg):
    with sqlite3.connect(gpkg) as db:
        return db.execute("select f_table_name, styleName, useAsDefault from layer_styles").fetchall()


def test_the_hook_runs_on_the_complete_file_before_it_moves_into_place(engine, tmp_path):
    import geopandas as gpd
    import shapely
    from riskmap.risk_plugin.io import on_output, write_vector
    seen = []

    def hook(tmp, final):
        seen.append((Path(tmp).exists(), Path(final).exists(), len(gpd.read_file(tmp))))
        Path(tmp).with_suffix(".qml").write_text("<qgis/>")      # a sidecar written by the hook moves along
    gdf = gpd.GeoDataFrame({"v": [1, 2]}, geometry=shapely.points([0, 1], [0, 1]), crs="EPSG:4545")
    with on_output(hook):
        write_vector(gdf, tmp_path / "a.gpkg")
    write_vector(gdf, tmp_path / "b.gpkg")                        # outside the block: no hook
    assert seen == [(True, False, 2)]
    assert (tmp_path / "a.qml").exists() and not (tmp_path / "b.qml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gpkg", "a.qml", "b.gpkg"]


@pytest.fixture(scope="module")
def outputs(alg, demo_county, tmp_path_factory):
    d = tmp_path_factory.mktemp("stored")
    flood = alg("riskmap:floodhazard", {"ZONES": demo_county["flood_zones"], "OUTPUT": str(d / "flood_rp.tif"),
                                        "OUTPUT_ZONES": str(d / "flood_rp.gpkg")})
    risk = alg("riskmap:fourcolorrisk", {"HAZARD": flood["OUTPUT"], "POPULATION": demo_county["population"],
                                         "BUILDINGS": demo_county["buildings"], "TOWNSHIPS": demo_county["townships"],
                                         "SUPPORT": 0, "CELL_SIZE": 200, "OUTPUT": str(d / "fourcolor_grid.gpkg")})
    return {"flood": flood["OUTPUT"], "zones": flood["OUTPUT_ZONES"], "risk": risk["OUTPUT"]}


def test_geopackage_output_opens_in_the_four_official_colours(outputs):
    kind, field, classes = _vector_classes(outputs["risk"])
    assert kind == "categorizedSymbol" and field == "risk_level"
    expected = _expected("risk_levels")
    assert classes and {k: expected[k] for k in classes} == classes
    assert _default_styles(outputs["risk"]) == [("fourcolor_grid", "riskmap", 1)]


def test_raster_output_has_its_qml_and_opens_in_the_hazard_colours(outputs):
    qml = Path(outputs["flood"]).with_suffix(".qml")
    assert qml.exists() and "paletted" in qml.read_text(encoding="utf-8")
    kind, classes = _raster_classes(outputs["flood"])
    expected = _expected("hazard_classes")
    assert kind == "paletted" and classes
    for value, (label, color) in classes.items():
        assert (label, color) == expected[value]
    kind, field, classes = _vector_classes(outputs["zones"])
    assert kind == "categorizedSymbol" and field == "hazard_class"
    assert all(classes[k] == expected[k] for k in classes)


def test_styles_are_stored_when_run_through_qgis_process(qgis_process, demo_county, tmp_path):
    out = tmp_path / "qp"
    _, res, _ = qgis_process.run("riskmap:hazardpointthreat", {
        "POINTS": demo_county["geohazard_points"], "BUILDINGS": demo_county["buildings"],
        "POPULATION": demo_county["population"], "OUTPUT_POINTS": str(out / "threat_points.gpkg"),
        "OUTPUT_ZONES": str(out / "threat_zones.gpkg")})
    expected = _expected("danger_levels")
    for key in ("OUTPUT_POINTS", "OUTPUT_ZONES"):
        kind, field, classes = _vector_classes(res[key])
        assert kind == "categorizedSymbol" and field == "danger_level"
        assert classes and all(classes[k] == expected[k] for k in classes)
    _, res, _ = qgis_process.run("riskmap:floodhazard", {"DEPTH": demo_county["flood_depth_100"],
                                                          "OUTPUT": str(out / "flood.tif")})
    kind, classes = _raster_classes(res["OUTPUT"])
    assert kind == "paletted" and all(classes[k] == _expected("hazard_classes")[k] for k in classes)


def test_a_style_that_cannot_be_written_costs_a_warning_not_the_data(riskmap, tmp_path):
    from qgis.core import QgsProcessingFeedback
    from riskmap.processing.styling import store_style

    class Recording(QgsProcessingFeedback):
        warnings = []

        def pushWarning(self, text):  # noqa: N802
            self.warnings.append(text)
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"not a geopackage")
    assert store_style(str(broken), str(tmp_path / "out.gpkg"), Recording()) == 0
    assert Recording.warnings and "out.gpkg" in Recording.warnings[0]
    assert broken.read_bytes() == b"not a geopackage"
