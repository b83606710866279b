"""QGIS renderers for any riskmap layer, recognised the way the web map recognises it.

The engine decides *which* class table styles a layer (risk_plugin.webmap_layers.recognise: by field
and values, then by layer name); this module turns that into a QGIS renderer with the colours and
labels of styles/classes.json. Text values (险情等级 = "大型") are matched to classes like numbers, so
a layer styles correctly whatever its values are written as.
"""
from pathlib import Path

from qgis.core import (QgsCategorizedSymbolRenderer, QgsColorRampShader, QgsFillSymbol, QgsGraduatedSymbolRenderer,
                       QgsLineSymbol, QgsMarkerSymbol, QgsPalettedRasterRenderer, QgsRasterLayer, QgsRasterRange, QgsRasterShader,
                       QgsRendererCategory, QgsRendererRange, QgsSingleBandPseudoColorRenderer,
                       QgsSingleSymbolRenderer, QgsVectorLayer, QgsWkbTypes)
from qgis.PyQt.QtGui import QColor

from ..risk_plugin import classes as cl
from .styling import qcolor
from ..risk_plugin.definitions import webmap as D
from ..risk_plugin.webmap_layers import (Styling, continuous_classes, raster_sample, recognise,
                                         recognise_raster)


def symbol(geometry_type, color, fill_alpha=200, outline=True):
    if geometry_type == QgsWkbTypes.PointGeometry:
        return QgsMarkerSymbol.createSimple({"name": "circle", "color": qcolor(color).name(), "size": "2.6",
                                             "outline_color": "#333333", "outline_width": "0.25"})
    if geometry_type == QgsWkbTypes.LineGeometry:
        return QgsLineSymbol.createSimple({"line_color": qcolor(color).name(), "line_width": "0.6"})
    sym = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": "80,80,80,160", "outline_width": "0.1",
                                      "outline_style": "solid" if outline else "no"})
    sym.setColor(qcolor(color, fill_alpha))
    return sym


def recognise_layer(layer):
    """The engine's Styling for a QGIS layer."""
    if isinstance(layer, QgsRasterLayer):
        return recognise_raster(f"{layer.name()} {Path(layer.source()).stem}", raster_sample(layer.source(), 250_000))
    fields = [f.name() for f in layer.fields()]
    return recognise(fields, f"{layer.name()} {Path(layer.source().split('|')[0]).stem}",
                     lambda c: list(layer.uniqueValues(layer.fields().indexOf(c), 1000)))


def _vector_classes(layer, style):
    table = cl.class_table(style.key)
    gtype = layer.geometryType()
    # a grid of thousands of cells: no cell outlines (they grey the map out at township scale and bloat the PDF)
    outline = layer.featureCount() <= D.OUTLINE_MAX_FEATURES
    if cl.is_range_table(table):
        ranges, lower = [], -1e12
        for c in table["classes"]:
            upper = 1e12 if c["max"] is None else float(c["max"])
            ranges.append(QgsRendererRange(lower, upper, symbol(gtype, c["color"], outline=outline), cl.label(c)))
            lower = upper
        return QgsGraduatedSymbolRenderer(style.field, ranges)
    values = list(layer.uniqueValues(layer.fields().indexOf(style.field)))
    idx = cl.match_classes(table, values)
    cats = [(int(i), v) for i, v in zip(idx, values) if i >= 0]
    # the classes the data lack are listed too, so the legend is the whole table (and a value added later draws
    # right); a text field (险情等级 = "大型") gets only the spellings it has
    numeric = all(isinstance(v, (int, float)) for v in values if v is not None)
    present = {i for i, _ in cats}
    cats += [(i, c["value"]) for i, c in enumerate(table["classes"])
             if i not in present and (numeric or not isinstance(c["value"], (int, float)))]
    seen, categories = set(), []
    for i, value in sorted(cats, key=lambda t: t[0]):
        c = table["classes"][i]
        label = cl.label(c) if i not in seen else f"{cl.label(c)} ({value})"
        seen.add(i)
        categories.append(QgsRendererCategory(value, symbol(gtype, c["color"], outline=outline), label))
    if (idx < 0).any():
        categories.append(QgsRendererCategory(None, symbol(gtype, "#999999", outline=outline), "未分类 / Unclassified"))
    return QgsCategorizedSymbolRenderer(style.field, categories)


def _vector_base(layer, key):
    st = cl.base_style(key)
    gtype = layer.geometryType()
    if key in ("townships", "villages") and gtype == QgsWkbTypes.PolygonGeometry:
        sym = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": st["outline"],
                                          "outline_width": str(st["width_mm"]),
                                          "outline_style": "solid" if key == "townships" else "dash"})
        return QgsSingleSymbolRenderer(sym)
    if gtype == QgsWkbTypes.LineGeometry:
        return QgsSingleSymbolRenderer(QgsLineSymbol.createSimple(
            {"line_color": st.get("color", "#666666"), "line_width": str(st.get("width_mm", 0.4))}))
    if key == "other":
        return None     # keep the layer's own style
    alpha = int(255 * st.get("fill_opacity", 0.5))
    if gtype == QgsWkbTypes.PolygonGeometry and "outline" in st:      # catchments: light fill, dashed outline
        sym = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": st["outline"], "outline_width": "0.4",
                                          "outline_style": "dash" if st.get("dash") else "solid"})
        sym.setColor(qcolor(st.get("color", st["outline"]), alpha))
        return QgsSingleSymbolRenderer(sym)
    return QgsSingleSymbolRenderer(symbol(gtype, st.get("color", "#666666"), alpha))


def _raster(layer, style):
    if style.kind == "classes":
        table = cl.class_table(style.key)
        entries = [QgsPalettedRasterRenderer.Class(int(c["value"]), qcolor(c["color"]), cl.label(c))
                   for c in table["classes"] if isinstance(c["value"], int)]
        return QgsPalettedRasterRenderer(layer.dataProvider(), 1, entries)
    breaks, colors, zero_none = continuous_classes(raster_sample(layer.source()))
    if breaks is None:
        return None
    items = [QgsColorRampShader.ColorRampItem(float(breaks[i + 1]), qcolor(colors[i]),
                                              f"{breaks[i]:.3g} – {breaks[i + 1]:.3g}") for i in range(len(colors))]
    if zero_none:   # 0 means "none" (dry land, no people): not drawn, as in the web map
        layer.dataProvider().setUserNoDataValue(1, [QgsRasterRange(0.0, 0.0)])
    ramp = QgsColorRampShader(float(breaks[0]), float(breaks[-1]))
    ramp.setColorRampType(QgsColorRampShader.Discrete)
    ramp.setColorRampItemList(items)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    return QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)


def layer_title(layer, style=None):
    """The layer's human bilingual title, as the web map gives it (risk_plugin.titles): stamped in the file, the
    user's own layer name, or what the layer is; a four-colour layer says what it counts on."""
    from ..risk_plugin.titles import layer_title as title
    if isinstance(layer, QgsRasterLayer):
        return title(layer.source(), style, layer.name())
    fields = [f.name() for f in layer.fields()]
    area = [layer.maximumValue(fields.index("area_km2"))] if "area_km2" in fields else None
    codes = list(layer.uniqueValues(fields.index("unit_code"), 5000)) if "unit_code" in fields else None
    return title(layer.source(), style, layer.name(), fields, area, codes)


def style_layer(layer):
    """Give ``layer`` its riskmap style; returns the Styling used (a layer of kind 'other' keeps its own)."""
    style = recognise_layer(layer)
    renderer = None
    if isinstance(layer, QgsRasterLayer):
        renderer = _raster(layer, style)
    elif isinstance(layer, QgsVectorLayer):
        renderer = _vector_classes(layer, style) if style.kind == "classes" else _vector_base(layer, style.key)
    if renderer is not None:
        layer.setRenderer(renderer)
        if isinstance(layer, QgsRasterLayer):
            layer.renderer().setOpacity(0.75)
    layer.triggerRepaint()
    return style


__all__ = ["style_layer", "recognise_layer", "layer_title", "qcolor", "symbol", "Styling"]
