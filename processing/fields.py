"""A field parameter whose parent may be a raster or a vector layer.

QGIS 3.22's own field widget (QgsProcessingFieldWidgetWrapper::setParentLayerWrapperValue) crashes QGIS with
signal 11 when its parent parameter holds a raster, which a QgsProcessingParameterMapLayer preselects as soon as
a raster is in the project. Such a field is therefore declared as a string parameter (same name, same values in
batch: a field name) and shown by processing/field_widget.py: a combo box of the parent's fields when it is a
vector layer, empty and disabled for a raster.
"""
from qgis.core import QgsProcessingParameterString

WRAPPER = __name__.rsplit(".", 1)[0] + ".field_widget.LayerFieldWrapper"


def layer_field_parameter(name, description, parent, optional=True):
    """A string parameter holding a field name of the layer in parameter ``parent`` (vector or raster)."""
    param = QgsProcessingParameterString(name, description, optional=optional)
    param.setMetadata({"widget_wrapper": {"class": WRAPPER, "parent": parent}})
    return param
