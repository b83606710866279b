"""The plugin object: Processing provider, menu "风险图 / Risk maps" and toolbar button."""
from qgis.core import Qgis, QgsApplication, QgsMessageLog

from . import dependencies

MENU = "风险图 / Risk maps"


class RiskMapPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.actions, self.toolbar, self.button = [], None, None
        dependencies.add_project_site()
        self.missing = dependencies.missing()

    def initProcessing(self):  # noqa: N802
        """Register the provider; called by QGIS and by qgis_process (no GUI)."""
        if self.missing:
            QgsMessageLog.logMessage(dependencies.message(self.missing), "riskmap", Qgis.Critical)
            return
        from qgis.PyQt.QtCore import QCoreApplication
        from .processing.guards import quiet_gdal_for_batch
        from .processing.provider import RiskMapProvider
        quiet_gdal_for_batch(QCoreApplication.arguments())
        self.provider = RiskMapProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()
        if self.missing:
            self.iface.messageBar().pushMessage("风险图 / Risk maps", dependencies.message(self.missing),
                                                level=Qgis.Critical, duration=0)
            return
        from qgis.PyQt.QtGui import QIcon
        from qgis.PyQt.QtWidgets import QAction, QMenu, QToolButton
        from .processing.provider import ICON, algorithm_classes
        menu = QMenu(MENU, self.iface.mainWindow())
        for cls in algorithm_classes():
            alg = cls()
            action = QAction(QIcon(ICON), alg.displayName(), self.iface.mainWindow())
            action.setObjectName(f"riskmap:{alg.name()}")
            action.triggered.connect(lambda _=False, a=f"riskmap:{alg.name()}": self.open_dialog(a))
            self.iface.addPluginToMenu(MENU, action)
            menu.addAction(action)
            self.actions.append(action)
        self.toolbar = self.iface.addToolBar(MENU)
        self.toolbar.setObjectName("riskmap_toolbar")
        self.button = QToolButton()
        self.button.setIcon(QIcon(ICON))
        self.button.setToolTip(MENU)
        self.button.setMenu(menu)
        self.button.setPopupMode(QToolButton.InstantPopup)
        self.toolbar.addWidget(self.button)
        self.menu = menu

    def open_dialog(self, alg_id):
        import processing
        processing.execAlgorithmDialog(alg_id)

    def unload(self):
        for action in self.actions:
            self.iface.removePluginMenu(MENU, action)
        self.actions = []
        if self.toolbar is not None:
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
