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
