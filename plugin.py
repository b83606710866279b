"""The plugin object: Processing provider, menu "风险图 / Risk maps" and toolbar button."""
from qgis.core import Qgis, QgsApplication, QgsMessageLog

from . import dependencies

MENU = "风险图 / Risk maps"


class RiskMapPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.actions, self.separators, self.toolbar, self.button = [], [], None, None
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
            self.show_missing()
            return
        from qgis.PyQt.QtGui import QIcon
        from qgis.PyQt.QtWidgets import QAction, QMenu, QToolButton
        from .processing import workflow
        from .processing.provider import ICON, algorithm_classes
        menu = QMenu(MENU, self.iface.mainWindow())
        stage = None
        for cls in algorithm_classes():     # workflow order: data → hazards → exposure and risk → shelters → briefing
            if cls.GROUP_ID != stage:
                stage = cls.GROUP_ID
                menu.addSection(workflow.group_name(cls))
                if self.actions:            # a separator between stages in the Plugins menu
                    sep = QAction(self.iface.mainWindow())
                    sep.setSeparator(True)
                    self.iface.addPluginToMenu(MENU, sep)
                    self.separators.append(sep)
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

    def show_missing(self):
        """The missing packages and the full install command in the message bar, with a dialog to copy it."""
        from qgis.PyQt.QtWidgets import QPushButton
        bar = self.iface.messageBar()
        text = dependencies.message(self.missing)
        item = bar.createMessage("风险图 / Risk maps", text)
        button = QPushButton("安装命令 / Install command", item)
        button.setObjectName("riskmap_install_help")
        button.clicked.connect(self.install_dialog)
        item.layout().addWidget(button)
        bar.pushWidget(item, Qgis.Critical, 0)

    def install_dialog(self):
        """The install command in a selectable text box with a Copy button (not modal: QGIS stays usable)."""
        from qgis.PyQt.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QPlainTextEdit, QPushButton,
                                         QVBoxLayout)
        dlg = QDialog(self.iface.mainWindow())
        dlg.setObjectName("riskmap_install_dialog")
        dlg.setWindowTitle("风险图: 安装依赖 / Risk maps: install the Python packages")
        box = QPlainTextEdit(dependencies.details(self.missing))
        box.setReadOnly(True)
        box.setMinimumSize(720, 220)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        copy = QPushButton("复制命令 / Copy command")
        copy.setObjectName("riskmap_copy_command")
        copy.clicked.connect(lambda: QApplication.clipboard().setText(dependencies.install_command(self.missing)))
        buttons.addButton(copy, QDialogButtonBox.ActionRole)
        buttons.rejected.connect(dlg.close)
        layout = QVBoxLayout(dlg)
        layout.addWidget(box)
        layout.addWidget(buttons)
        dlg.show()
        self.install_help = dlg
        return dlg

    def open_dialog(self, alg_id):
        import processing
        processing.execAlgorithmDialog(alg_id)

    def unload(self):
        for action in self.actions + self.separators:
            self.iface.removePluginMenu(MENU, action)
        self.actions, self.separators = [], []
        if self.toolbar is not None:
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
