"""Render an overview map of the demo county to PNG with QGIS's own map renderer."""
from pathlib import Path

from qgis.core import (QgsCoordinateReferenceSystem, QgsHillshadeRenderer, QgsMapRendererParallelJob,
                       QgsMapSettings, QgsPalLayerSettings, QgsRasterLayer, QgsSingleSymbolRenderer,
                       QgsFillSymbol, QgsLineSymbol, QgsTextFormat, QgsVectorLayer,
                       QgsVectorLayerSimpleLabeling, QgsColorRampShader, QgsRasterShader,
                       QgsSingleBandPseudoColorRenderer, QgsTextBufferSettings)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor, QFont

from ..risk_plugin.outputs import place
from .styling import base_style


def _vector(path, name):
    layer = QgsVectorLayer(str(path), name, "ogr")
    if not layer.isValid():
        raise RuntimeError(f"cannot load {path}")
    return layer


def _line(layer, color, width):
    layer.setRenderer(QgsSingleSymbolRenderer(QgsLineSymbol.createSimple(
        {"line_color": color, "line_width": str(width), "capstyle": "round"})))
    return layer


def _fill(layer, color, outline="0,0,0,0", width=0.0):
    layer.setRenderer(QgsSingleSymbolRenderer(QgsFillSymbol.createSimple(
        {"color": color, "outline_color": outline, "outline_width": str(width)})))
    return layer


def _labels(layer, field, size=11, bold=True):
    fmt = QgsTextFormat()
    fmt.setFont(QFont("Noto Sans CJK SC", size, QFont.Bold if bold else QFont.Normal))
    fmt.setSize(size)
    buf = QgsTextBufferSettings()
    buf.setEnabled(True)
    buf.setSize(1.0)
    buf.setColor(QColor("white"))
    fmt.setBuffer(buf)
    settings = QgsPalLayerSettings()
    settings.fieldName = field
    settings.setFormat(fmt)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)


def overview_layers(paths):
    """Styled layers, top first: townships, villages, roads, buildings, rivers, floods, terrain."""
    dem = QgsRasterLayer(str(paths["dem"]), "DEM")
    hill = QgsRasterLayer(str(paths["dem"]), "hillshade")
    hill.setRenderer(QgsHillshadeRenderer(hill.dataProvider(), 1, 315, 45))
    hill.renderer().setOpacity(0.45)
    stats = dem.dataProvider().bandStatistics(1)
    ramp = [(0.0, "#4d8c57"), (0.35, "#a9c46c"), (0.65, "#d9c58b"), (1.0, "#b38b6d")]
    items = [QgsColorRampShader.ColorRampItem(stats.minimumValue + f * (stats.maximumValue - stats.minimumValue),
                                              QColor(c)) for f, c in ramp]
    shader_fn = QgsColorRampShader()
    shader_fn.setColorRampItemList(items)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(shader_fn)
    dem.setRenderer(QgsSingleBandPseudoColorRenderer(dem.dataProvider(), 1, shader))
    floods = _fill(_vector(paths["flood_zones"], "flood"), "80,150,230,90")
    rivers = _line(_vector(paths["rivers"], "rivers"), base_style("rivers")["color"], 0.35)
    roads = _line(_vector(paths["roads"], "roads"), base_style("roads")["color"], 0.45)
    bldg = _fill(_vector(paths["buildings"], "buildings"), "120,20,20,255", "120,20,20,255", 0.35)
    villages = _fill(_vector(paths["villages"], "villages"), "0,0,0,0", base_style("villages")["outline"],
                     base_style("villages")["width_mm"])
    towns = _fill(_vector(paths["townships"], "townships"), "0,0,0,0", base_style("townships")["outline"],
                  base_style("townships")["width_mm"])
    _labels(towns, "名称", 12)
    _labels(villages, "名称", 6, bold=False)
    return [towns, villages, roads, bldg, rivers, floods, hill, dem]


def render_png(layers, png_path, extent=None, size_px=1600, crs=None):
    """Render ``layers`` (top first) to a PNG, square, ``size_px`` wide."""
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setBackgroundColor(QColor("white"))
    settings.setOutputSize(QSize(size_px, size_px))
    settings.setOutputDpi(150)
    settings.setDestinationCrs(crs or layers[0].crs() or QgsCoordinateReferenceSystem("EPSG:4545"))
    settings.setExtent(extent or layers[0].extent())
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    Path(png_path).parent.mkdir(parents=True, exist_ok=True)
    tmp = str(png_path) + ".part.png"
    if not image.save(tmp, "PNG"):
        raise RuntimeError(f"could not write {png_path}")
    place(tmp, png_path)
    return str(png_path)


def render_overview(paths, png_path, size_px=1600):
    layers = overview_layers(paths)
    return render_png(layers, png_path, extent=layers[0].extent(), size_px=size_px)
