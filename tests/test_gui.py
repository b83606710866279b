"""The plugin's menu and toolbar, and its message when dependencies are missing."""
from riskmap import dependencies
from riskmap.plugin import MENU, RiskMapPlugin


def test_menu_and_toolbar_open_every_algorithm_in_workflow_order(qgis_iface, riskmap, monkeypatch):
    from qgis.core import QgsApplication
    from riskmap.processing import workflow
    removed = []
    # pytest-qgis's interface double lacks removePluginMenu; record the calls instead
    monkeypatch.setattr(qgis_iface, "removePluginMenu", lambda menu, action: removed.append(action.objectName()),
                        raising=False)
    plugin = RiskMapPlugin(qgis_iface)
    plugin.provider = QgsApplication.processingRegistry().providerById("riskmap")  # already registered
    plugin.missing = []
    plugin.initProcessing = lambda: None
    plugin.initGui()
    ids = [a.objectName() for a in plugin.actions]
    provider_ids = {a.id() for a in plugin.provider.algorithms()}
    assert set(ids) == provider_ids
    # workflow order: the stages in order, and within a stage by each algorithm's ORDER
    algs = {a.id(): a for a in plugin.provider.algorithms()}
    stages = [workflow.BY_ID[algs[i].groupId()].number for i in ids if algs[i].groupId() in workflow.BY_ID]
    assert stages == sorted(stages) and stages[0] == 1 and stages[-1] == len(workflow.STAGES)
    assert ids.index("riskmap:democounty") < ids.index("riskmap:validate") < ids.index("riskmap:floodhazard") \
        < ids.index("riskmap:compositezoning") < ids.index("riskmap:fourcolorrisk") \
        < ids.index("riskmap:sheltercoverage") < ids.index("riskmap:webmap")
    menu_actions = [a for a in plugin.button.menu().actions() if not a.isSeparator()]
    assert plugin.button.menu().title() == MENU and [a.objectName() for a in menu_actions] == ids
    assert len(plugin.separators) == len(set(stages)) - 1
    plugin.provider = None
    plugin.unload()
    assert plugin.actions == [] and set(removed) == set(ids) | {""}


def test_missing_dependency_shows_the_whole_command_and_a_copy_button(qgis_iface, monkeypatch):
    from qgis.gui import QgsMessageBar
    from qgis.PyQt.QtWidgets import QApplication, QPlainTextEdit, QPushButton
    monkeypatch.setitem(dependencies.REQUIRED, "no_such_module_xyz", "no-such-package")
    bar = QgsMessageBar()       # a real message bar (the interface double's records text only)
    monkeypatch.setattr(qgis_iface, "messageBar", lambda: bar)
    plugin = RiskMapPlugin(qgis_iface)
    assert plugin.missing == ["no-such-package"]
    plugin.initGui()            # must not raise
    assert plugin.provider is None
    (item,) = bar.items()
    command = dependencies.install_command(["no-such-package"])
    assert "no-such-package" in item.text() and command in item.text()
    item.findChild(QPushButton, "riskmap_install_help").click()
    dlg = plugin.install_help
    text = dlg.findChild(QPlainTextEdit).toPlainText()
    assert command in text and "no-such-package" in text and "README.md" in text
    dlg.findChild(QPushButton, "riskmap_copy_command").click()
    assert QApplication.clipboard().text() == command
    dlg.close()


def test_install_command_fits_the_platform():
    names = ["rasterio", "folium"]
    debian = dependencies.install_command(names, "debian")
    assert debian.startswith("sudo make -C ") and " debs && make -C " in debian and debian.endswith(" venv")
    assert str(dependencies.HERE) in debian
    windows = dependencies.install_command(names, "windows")
    assert windows == "python -m pip install --user rasterio folium"
    assert "OSGeo4W Shell" in dependencies.details(names, "windows")
    assert "sudo" not in windows and "make" not in windows


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
