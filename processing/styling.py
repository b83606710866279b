"""QGIS renderers built from styles/classes.json, applied when outputs load and stored with them."""
import contextlib
import json
from pathlib import Path

from qgis.core import (QgsCategorizedSymbolRenderer, QgsFillSymbol, QgsLineSymbol, QgsMarkerSymbol,
                       QgsPalettedRasterRenderer, QgsProcessingLayerPostProcessorInterface,
                       QgsRendererCategory, QgsSymbol, QgsWkbTypes, QgsVectorLayer, QgsRasterLayer)
from qgis.PyQt.QtGui import QColor

STYLES = Path(__file__).resolve().parent.parent / "styles"


def qcolor(color, alpha=None):
    """'#RRGGBB' or '#RRGGBBAA' (CSS order, as in classes.json; Qt would read 8 digits as #AARRGGBB)."""
    c = color.lstrip("#")
    q = QColor(int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), int(c[6:8], 16) if len(c) == 8 else 255)
    if alpha is not None and q.alpha() == 255:
        q.setAlpha(int(alpha))
    return q


def classes(key):
    """The class table for ``key`` ('risk_levels', 'hazard_classes', …) from styles/classes.json."""
    return json.loads((STYLES / "classes.json").read_text(encoding="utf-8"))[key]


def base_style(key):
    return json.loads((STYLES / "classes.json").read_text(encoding="utf-8"))["base_layers"][key]


def _symbol(geometry_type, color):
    sym = QgsSymbol.defaultSymbol(geometry_type)
    sym.setColor(qcolor(color))
    if geometry_type == QgsWkbTypes.PolygonGeometry:
        sym.symbolLayer(0).setStrokeColor(QColor("#404040"))
        sym.symbolLayer(0).setStrokeWidth(0.1)
    return sym


def graduated(layer, table, field):
    """Range classes (each with 'max'; None = no upper bound) as a graduated renderer."""
    from qgis.core import QgsGraduatedSymbolRenderer, QgsRendererRange
    ranges, low = [], float("-inf")
    for c in table["classes"]:
        high = float("inf") if c["max"] is None else float(c["max"])
        ranges.append(QgsRendererRange(max(low, -1e300), min(high, 1e300), _symbol(layer.geometryType(), c["color"]),
                                       f"{c['zh']} / {c['en']}"))
        low = high
    return QgsGraduatedSymbolRenderer(field, ranges)


def categorized(layer, key, field=None):
    """Categorized renderer with the official colours and 中文 / English labels (graduated for range tables)."""
    table = classes(key)
    field = field or table["field"]
    if any("max" in c for c in table["classes"]):
        return graduated(layer, table, field)
    cats = [QgsRendererCategory(c["value"], _symbol(layer.geometryType(), c["color"]),
                                f"{c['zh']} / {c['en']}") for c in table["classes"]]
    return QgsCategorizedSymbolRenderer(field, cats)


def paletted(layer, key):
    table = classes(key)
    entries = [QgsPalettedRasterRenderer.Class(int(c["value"]), qcolor(c["color"]), f"{c['zh']} / {c['en']}")
               for c in table["classes"] if isinstance(c["value"], int)]
    return QgsPalettedRasterRenderer(layer.dataProvider(), 1, entries)


def outline(layer, key):
    """Boundary-only style for townships and villages, drawn on top."""
    st = base_style(key)
    sym = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": st["outline"],
                                      "outline_width": str(st["width_mm"])})
    from qgis.core import QgsSingleSymbolRenderer
    return QgsSingleSymbolRenderer(sym)


def stored_style(layer):
    """Load the style stored with the file (store_style below) as the layer's style; False when it has none."""
    if isinstance(layer, QgsVectorLayer) and not layer.dataProvider().isSaveAndLoadStyleToDatabaseSupported():
        return False
    _, ok = layer.loadDefaultStyle()
    return bool(ok)


def apply_style(layer, key, field=None):
    """Style a loaded layer by class table ``key`` (or a base layer key)."""
    if isinstance(layer, QgsRasterLayer):
        layer.setRenderer(paletted(layer, key))
    elif isinstance(layer, QgsVectorLayer):
        if key in ("townships", "villages"):
            layer.setRenderer(outline(layer, key))
        else:
            layer.setRenderer(categorized(layer, key, field))
    layer.triggerRepaint()


class StylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Applies a class style when Processing loads an output layer."""
    _keep = []  # QGIS holds only a raw pointer: keep instances alive

    def __init__(self, key, field=None):
        super().__init__()
        self.key, self.field = key, field

    def postProcessLayer(self, layer, context, feedback):
        if not stored_style(layer):     # the style the file carries, as when the layer is added by hand
            apply_style(layer, self.key, self.field)

    @classmethod
    def create(cls, key, field=None):
        inst = cls(key, field)
        cls._keep.append(inst)
        return inst


# --- styles stored with the outputs ------------------------------------------------------------------------------
VECTOR_STYLED = (".gpkg",)
RASTER_STYLED = (".tif", ".tiff")
STYLE_NAME = "riskmap"


def store_style(tmp_path, final_path, feedback=None, title=None):
    """Store the riskmap style (and ``title``) in a just-written output, before it moves into place
    (risk_plugin.io.on_output).

    GeoPackage: every layer gets its style as the default in the file's layer_styles table (what QGIS loads when
    the layer is added by hand, from the browser or by another program's QGIS). GeoTIFF: a .qml beside it, which
    QGIS loads as the raster's default style. The renderer is processing/layer_styles.py's, from
    styles/classes.json, recognised the way the web map and the atlas recognise the layer; a layer with no riskmap
    style ('other') keeps QGIS's default. Returns the number of styles written. A style that cannot be written is
    reported as a warning and never costs the data. ``title`` (bilingual, e.g. the output parameter's description)
    is what risk_plugin.titles reads for the web map and the atlas: gpkg_contents.identifier, or the TITLE tag."""
    ext = Path(final_path).suffix.lower()
    if ext not in VECTOR_STYLED + RASTER_STYLED:
        return 0
    try:
        if title:
            _stamp_title(tmp_path, ext, title)
        return _store_raster(tmp_path, title) if ext in RASTER_STYLED else _store_vector(tmp_path, title)
    except Exception as exc:  # noqa: BLE001 - the output is complete; only its style is missing
        if feedback is not None:
            feedback.pushWarning(f"[{Path(final_path).name}] 样式未能写入 / style not stored: {exc}")
        return 0


def _stamp_title(path, ext, title):
    if ext in RASTER_STYLED:
        import rasterio
        with rasterio.open(path, "r+") as dst:
            dst.update_tags(TITLE=title)
        return
    import sqlite3
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("update gpkg_contents set identifier = ? where data_type in ('features', 'tiles', '2d-gridded-coverage')"
                   " and table_name not in ('layer_styles', 'qgis_projects')", (title,))
        db.commit()


def _store_vector(path, title=None):
    import pyogrio
    from ..risk_plugin.aliases import label as field_label
    from .layer_styles import style_layer
    written = 0
    for name, _ in pyogrio.list_layers(path):
        # recognised by its fields, then by its title and name ("服务范围 / Catchments"), as the web map does
        layer = QgsVectorLayer(f"{path}|layername={name}", f"{title} {name}" if title else name, "ogr")
        if not layer.isValid():
            continue
        style = style_layer(layer)
        if style.kind == "base" and style.key == "other":
            continue
        for i, f in enumerate(layer.fields()):       # the attribute table and identify results read by alias too
            alias = field_label(f.name())
            if alias:
                layer.setFieldAlias(i, alias)
        error = layer.saveStyleToDatabase(STYLE_NAME, f"riskmap: {style.kind} {style.key}", True, "")
        if error:
            raise RuntimeError(error)
        written += 1
        del layer           # release the file before it is moved (Windows)
    return written


def _store_raster(path, title=None):
    from .layer_styles import style_layer
    layer = QgsRasterLayer(path, f"{title} {Path(path).stem}" if title else Path(path).stem)
    if not layer.isValid():
        return 0
    style_layer(layer)
    qml = str(Path(path).with_suffix(".qml"))
    message, ok = layer.saveNamedStyle(qml)
    del layer
    if not ok:
        raise RuntimeError(message)
    return 1
