"""QGIS renderers built from styles/classes.json, applied when outputs load."""
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
        apply_style(layer, self.key, self.field)

    @classmethod
    def create(cls, key, field=None):
        inst = cls(key, field)
        cls._keep.append(inst)
        return inst
