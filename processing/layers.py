"""File paths for layers handed to the engine (the engine reads files, never QGIS layers)."""
import os
import tempfile

from qgis.core import QgsProcessingUtils, QgsRasterLayer, QgsVectorFileWriter, QgsVectorLayer


def vector_file(layer, context, name="layer"):
    """A path the engine can read for a vector layer: its own file when it is a plain OGR layer
    without a subset filter, else a GeoPackage copy in the Processing temp folder."""
    if layer is None:
        return None
    source = layer.source()
    if layer.providerType() == "ogr" and "|subset=" not in source and os.path.exists(source.split("|")[0]):
        return source
    path = os.path.join(QgsProcessingUtils.tempFolder(), f"{name}_{next(tempfile._get_candidate_names())}.gpkg")
    opts = QgsVectorFileWriter.SaveVectorOptions()
    opts.driverName = "GPKG"
    err = QgsVectorFileWriter.writeAsVectorFormatV2(layer, path, context.transformContext(), opts)
    if err[0] != QgsVectorFileWriter.NoError:
        raise RuntimeError(f"cannot export {layer.name()}: {err}")
    return path


def layer_file(layer, context, name="layer"):
    """Raster: its source; vector: :func:`vector_file`."""
    if isinstance(layer, QgsRasterLayer):
        return layer.source()
    if isinstance(layer, QgsVectorLayer):
        return vector_file(layer, context, name)
    return None


def split_list(text, n):
    """'a, b' → ['a', 'b', None …] padded to n (empty items → None)."""
    items = [t.strip() or None for t in (text or "").split(",")] if text else []
    return (items + [None] * n)[:n]
