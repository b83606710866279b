"""Dialog widget for processing/fields.py: the fields of a parent layer that may be a raster.

Imported by the Processing dialog only (never by qgis_process): it needs QGIS's own processing.gui.
"""
from processing.gui.wrappers import DIALOG_BATCH, DIALOG_STANDARD, WidgetWrapper
from qgis.core import (QgsMapLayer, QgsProcessingContext, QgsProcessingFeatureSourceDefinition, QgsProcessingUtils,
                       QgsProject, QgsVectorLayer)
from qgis.PyQt.QtWidgets import QComboBox

RASTER_TIP = "栅格没有字段, 无需填写 / a raster has no fields: leave empty"


class LayerFieldWrapper(WidgetWrapper):
    """An editable combo box listing the fields of the layer chosen in parameter ``parent``."""

    def __init__(self, param, dialog, row=0, col=0, parent=None, **kwargs):
        self.parent_name = parent
        self.context = QgsProcessingContext()
        self.context.setProject(QgsProject.instance())
        super().__init__(param, dialog, row, col, **kwargs)

    def createWidget(self):  # noqa: N802 (QGIS API)
        combo = QComboBox()
        combo.setEditable(True)
        combo.setMinimumContentsLength(18)
        combo.lineEdit().setPlaceholderText("自动识别 / found by alias")
        return combo

    def postInitialize(self, wrappers):  # noqa: N802 (QGIS API)
        if self.dialogType not in (DIALOG_STANDARD, DIALOG_BATCH):
            return
        for wrapper in wrappers:
            if wrapper.parameterDefinition().name() == self.parent_name:
                self.parent_changed(wrapper)
                wrapper.widgetValueHasChanged.connect(self.parent_changed)
                break

    def layer_of(self, value):
        """The vector layer a parent value names, or None (a raster, nothing, or an unreadable source)."""
        if isinstance(value, QgsProcessingFeatureSourceDefinition):
            value = value.source.staticValue()
        if isinstance(value, str) and value:
            value = QgsProject.instance().mapLayer(value) or QgsProcessingUtils.mapLayerFromString(value, self.context)
        if isinstance(value, QgsMapLayer) and isinstance(value, QgsVectorLayer) and value.isValid():
            return value
        return None

    def parent_changed(self, wrapper):
        layer = self.layer_of(wrapper.parameterValue())
        current = self.value()
        self.widget.clear()
        self.widget.addItem("")
        if layer is None:
            self.widget.setEnabled(False)
            self.widget.setToolTip(RASTER_TIP)
            return
        self.widget.setEnabled(True)
        self.widget.setToolTip(self.parameterDefinition().description())
        self.widget.addItems([f.name() for f in layer.fields()])
        self.setValue(current)

    def setValue(self, value):  # noqa: N802 (QGIS API)
        if hasattr(value, "staticValue"):       # the modeler hands over a child parameter source
            value = value.staticValue()
        self.widget.setEditText("" if value is None else str(value))

    def value(self):
        text = self.widget.currentText().strip()
        return text or None
