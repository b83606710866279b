"""Progress that moves: the long algorithms report through their whole run, writing included, and never go back.
(How long the silences last is measured by tools/progress_gaps.py, never asserted here.)"""
import pytest


def recording():
    from qgis.core import QgsProcessingFeedback

    class Recording(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.events = []
            self.progressChanged.connect(lambda p: self.events.append(("progress", float(p))))

        def pushInfo(self, text):  # noqa: N802 (QGIS API)
            self.events.append(("info", str(text)))
            super().pushInfo(text)
    return Recording()


def run(alg_id, params):
    import processing
    from qgis.core import QgsProcessingContext
    feedback = recording()
    processing.run(alg_id, params, context=QgsProcessingContext(), feedback=feedback)
    values = [v for kind, v in feedback.events if kind == "progress"]
    infos = [v for kind, v in feedback.events if kind == "info"]
    return values, infos, feedback.events


@pytest.fixture(scope="module")
def hazard(alg, demo_county, tmp_path_factory):
    d = tmp_path_factory.mktemp("progress")
    return alg("riskmap:floodhazard", {"DEPTH": demo_county["flood_depth_100"],
                                       "OUTPUT": str(d / "flood.tif")})["OUTPUT"], d


def test_fourcolorrisk_reports_reading_counting_and_writing(riskmap, demo_county, hazard, monkeypatch):
    from riskmap.risk_plugin import io
    monkeypatch.setattr(io, "WRITE_CHUNK", 2_000)    # the test county's 6 400 cells in chunks, as a county's 360 000
    path, d = hazard
    values, infos, events = run("riskmap:fourcolorrisk", {
        "HAZARD": path, "POPULATION": demo_county["population"], "BUILDINGS": demo_county["buildings"],
        "TOWNSHIPS": demo_county["townships"], "SUPPORT": 0, "CELL_SIZE": 100, "OUTPUT": str(d / "fc.gpkg"),
        "OUTPUT_TABLE": str(d / "fc.xlsx")})
    assert values == sorted(values) and values[-1] == 100.0
    assert events[0] == ("info", "读取并检查输入图层 / reading and checking the inputs")     # at once, not after the reading
    writing = next(i for i, (kind, v) in enumerate(events) if kind == "info" and "writing" in v)
    during = [v for kind, v in events[writing:] if kind == "progress" and v < 100]
    assert len(during) >= 4 and 93 <= min(during) and max(during) < 100     # the writing moves, chunk by chunk
    assert len(set(values)) >= 10


def test_printatlas_reports_page_by_page(riskmap, demo_county, hazard):
    path, d = hazard
    values, infos, _ = run("riskmap:printatlas", {"COVERAGE": demo_county["townships"], "LAYERS": [path],
                                                  "OUTPUT_PDF": str(d / "atlas.pdf"), "OUTPUT_PNG_DIR": str(d / "png")})
    import geopandas as gpd
    pages = len(gpd.read_file(demo_county["townships"]))
    assert values == sorted(values) and values[-1] == 100.0
    assert any("PDF" in m for m in infos) and any("PNG" in m for m in infos)
    assert len([v for v in values if 20 < v < 70]) >= pages - 1        # the PDF pages, one by one
    assert len([v for v in values if 70 < v < 100]) >= pages - 1       # the PNG pages


def test_webmap_reports_each_layer(riskmap, demo_county, hazard):
    path, d = hazard
    layers = [path, demo_county["townships"], demo_county["roads"], demo_county["buildings"]]
    values, infos, _ = run("riskmap:webmap", {"LAYERS": layers, "OUTPUT": str(d / "map.html")})
    assert values == sorted(values) and values[-1] == 100.0
    assert [m.split(":")[0] for m in infos if m.startswith("图层 / layer")] == [
        f"图层 / layer {i}/{len(layers)}" for i in range(1, len(layers) + 1)]
    assert len([v for v in values if v < 80]) >= 3 * len(layers)       # within each layer, not only between
