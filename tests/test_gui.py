"""The plugin's menu and toolbar, and its message when dependencies are missing."""
from riskmap import dependencies
from riskmap.plugin import MENU, RiskMapPlugin


def test_menu_and_toolbar_open_every_algorithm(qgis_iface, riskmap, monkeypatch):
    from qgis.core import QgsApplication
    removed = []
    # pytest-qgis's interface double lacks removePluginMenu; record the calls instead
    monkeypatch.setattr(qgis_iface, "removePluginMenu", lambda menu, action: removed.append(action.objectName()),
                        raising=False)
    plugin = RiskMapPlugin(qgis_iface)
    plugin.provider = QgsApplication.processingRegistry().providerById("riskmap")  # already registered
    plugin.missing = []
    plugin.initProcessing = lambda: None
    plugin.initGui()
    ids = {a.objectName() for a in plugin.actions}
    provider_ids = {a.id() for a in plugin.provider.algorithms()}
    assert ids == provider_ids
    assert plugin.button.menu().title() == MENU and len(plugin.button.menu().actions()) == len(ids)
    plugin.provider = None
    plugin.unload()
    assert plugin.actions == [] and set(removed) == ids


def test_missing_dependency_gives_message_not_traceback(qgis_iface, monkeypatch):
    monkeypatch.setitem(dependencies.REQUIRED, "no_such_module_xyz", "no-such-package")
    plugin = RiskMapPlugin(qgis_iface)
    assert plugin.missing == ["no-such-package"]
    from qgis.core import Qgis
    bar = qgis_iface.messageBar()
    before = len(bar.get_messages(Qgis.Critical))
    plugin.initGui()            # must not raise
    messages = bar.get_messages(Qgis.Critical)[before:]
    assert len(messages) == 1
    text = messages[0]
    assert "no-such-package" in text and "make setup" in text and "requirements.txt" in text
    assert plugin.provider is None


def test_styles_come_from_classes_json(riskmap, tmp_path):
    """Renderers carry the official colours and labels of styles/classes.json, ranges included."""
    import json
    import geopandas as gpd
    import shapely
    from qgis.core import QgsVectorLayer
    from riskmap.processing.styling import apply_style
    from conftest import REPO
    table = json.loads((REPO / "styles" / "classes.json").read_text(encoding="utf-8"))
    path = tmp_path / "s.gpkg"
    gpd.GeoDataFrame({"risk_level": [1, 2, 3, 4], "utilisation": [0.5, 0.9, 1.5, 0.1]},
                     geometry=shapely.buffer(shapely.points(range(4), [0] * 4), 0.4), crs="EPSG:4545").to_file(path)
    layer = QgsVectorLayer(str(path), "s", "ogr")
    apply_style(layer, "risk_levels")
    cats = layer.renderer().categories()
    assert [c.label() for c in cats] == ["重大风险 / Major risk", "较大风险 / Considerable risk",
                                         "一般风险 / General risk", "低风险 / Low risk"]
    assert [c.symbol().color().name().upper() for c in cats] == [c["color"] for c in table["risk_levels"]["classes"]]
    apply_style(layer, "shelter_utilisation", field="utilisation")
    r = layer.renderer()
    picked = [r.legendKeyForValue(v) for v in (0.5, 0.9, 1.5)]
    assert len(set(picked)) == 3
    assert r.rangeForValue(1.5).label().startswith("超员")


def test_transparent_class_colour_is_read_in_css_order(riskmap):
    from riskmap.processing.styling import qcolor
    none = qcolor("#FFFFFF00")          # hazard class 0 "无 / None": transparent white, not opaque yellow
    assert (none.red(), none.green(), none.blue(), none.alpha()) == (255, 255, 255, 0)
    assert qcolor("#FF9900").alpha() == 255
