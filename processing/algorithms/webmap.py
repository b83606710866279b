from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterEnum,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterMultipleLayers,
                       QgsProcessingParameterNumber, QgsProcessingParameterString, QgsProcessingUtils,
                       QgsRasterLayer, QgsVectorFileWriter, QgsVectorLayer)

from ...risk_plugin.definitions import webmap as D
from ...risk_plugin.webmap import DEFAULT_TITLE, export_webmap
from ..base import RiskMapAlgorithm

BASEMAP_LABELS = ["无 (离线) / None (offline)", "OpenStreetMap (联网 / online)", "天地图 / Tianditu (联网 / online, key)"]


def layer_file(layer, context, feedback):
    """A file the engine can read for a map layer; memory, filtered or non-OGR vectors are written to a GPKG."""
    if isinstance(layer, QgsRasterLayer):
        return layer.source()
    if isinstance(layer, QgsVectorLayer):
        if layer.providerType() == "ogr" and not layer.subsetString():
            return layer.source()
        path = QgsProcessingUtils.generateTempFilename(f"webmap_{layer.id()}.gpkg", context)
        opts = QgsVectorFileWriter.SaveVectorOptions()
        opts.driverName = "GPKG"
        err = QgsVectorFileWriter.writeAsVectorFormatV2(layer, path, context.transformContext(), opts)
        if err[0] != QgsVectorFileWriter.NoError:
            feedback.reportError(f"[{layer.name()}] 无法导出 / cannot export: {err[1]}")
            return None
        return path
    return None


class WebMapAlgorithm(RiskMapAlgorithm):
    ALG_ID = "webmap"
    NAME_ZH, NAME_EN = "离线网页地图", "Offline web map"
    GROUP_ID, GROUP_ZH, GROUP_EN = "briefing", "汇报成果", "Briefing outputs"
    ORDER = 20
    LAYERS, TITLE, SOURCE, BASEMAP, TIANDITU_KEY = "LAYERS", "TITLE", "SOURCE", "BASEMAP", "TIANDITU_KEY"
    SIMPLIFY_TOLERANCE, DATE, OUTPUT = "SIMPLIFY_TOLERANCE", "DATE", "OUTPUT"
    BASEMAPS = D.BASEMAPS
    HELP = (
        "把风险图成果导出为一个独立的 HTML 网页地图 (folium / Leaflet 1.9.4 全部内嵌), 断网可用: 会议室笔记本、内网均可打开。"
        "图层按字段自动配色 (与 QGIS 相同, 来自 styles/classes.json): risk_level 四色风险, hazard_class 危险性分区, "
        "险情等级 danger_level, 避难场所利用率 utilisation / 类别, 是否安置 served; 乡镇、村界、道路、河流按图层名识别。"
        "页面含标题、日期、数据来源、图例 (中英文)、图层控制、比例尺, 点击要素弹出主要属性 (全部按文本显示, 已转义)。<br>"
        "Exports results as one self-contained HTML web map (folium / Leaflet 1.9.4 inlined) that works with no network. "
        "Layers are styled by their fields with the same colours as in QGIS (styles/classes.json): risk_level (four-color), "
        "hazard_class, danger_level, shelter utilisation / class, served; townships, villages, roads, rivers by layer name. "
        "The page has title, date, data source, a bilingual legend, a layer control, a scale bar and popups with the key "
        "attributes (always shown as text: every value is escaped).<br><br>"
        "<b>LAYERS</b>: vector layers and rasters (image overlays; whole numbers 0..4 are classes, anything else a "
        "colour ramp). Point layers of more than 5000 points, and hazard rasters under a four-colour layer, start "
        "switched off (all layers are in the layer control). A class layer of more than 20000 polygons is dissolved "
        "by class and township, people summed. "
        "<b>TITLE</b> (default: " + DEFAULT_TITLE + "). <b>SOURCE</b>: data source line (default empty). "
        "<b>DATE</b>: date on the page (default today). "
        "<b>BASEMAP</b> (default none = fully offline): none / OpenStreetMap / Tianditu (天地图, CGCS2000 lon/lat 'c' "
        "tiles; needs <b>TIANDITU_KEY</b>, a browser key from console.tianditu.gov.cn). GCJ-02 basemaps (Amap/Gaode) are not "
        "offered: they shift WGS 84 / CGCS2000 data by 100–700 m (docs/webmap-basemaps.md). "
        f"<b>SIMPLIFY_TOLERANCE</b> (m, default {D.SIMPLIFY_TOLERANCE_M:g}: below one screen pixel at zoom 14): "
        "Douglas-Peucker on lines and polygons, and the coarsest raster cell; 0 = no simplification.<br>"
        "<b>OUTPUT</b>: the HTML file. Numeric outputs <b>FEATURES</b> (features written) and <b>SIZE_MB</b>.")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterMultipleLayers(self.LAYERS, "图层 / Layers", QgsProcessing.TypeMapLayer))
        self.addParameter(QgsProcessingParameterString(self.TITLE, "标题 / Title", defaultValue=DEFAULT_TITLE))
        self.addParameter(QgsProcessingParameterString(self.SOURCE, "数据来源 / Data source", defaultValue="", optional=True))
        self.addParameter(QgsProcessingParameterEnum(self.BASEMAP, "底图 / Basemap", options=BASEMAP_LABELS, defaultValue=0))
        self.addParameter(QgsProcessingParameterString(self.TIANDITU_KEY, "天地图密钥 / Tianditu key (tk)", defaultValue="",
                                                       optional=True))
        tol = QgsProcessingParameterNumber(self.SIMPLIFY_TOLERANCE, "简化容差 (米) / Simplification tolerance (m)",
                                           QgsProcessingParameterNumber.Double, D.SIMPLIFY_TOLERANCE_M, minValue=0.0)
        tol.setFlags(tol.flags() | tol.FlagAdvanced)
        self.addParameter(tol)
        date = QgsProcessingParameterString(self.DATE, "制图日期 / Date (默认今天 / default today)", defaultValue="",
                                            optional=True)
        date.setFlags(date.flags() | date.FlagAdvanced)
        self.addParameter(date)
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT, "网页地图 / Web map", "HTML (*.html)"))
        self.addOutput(QgsProcessingOutputNumber("FEATURES", "要素数 / Features"))
        self.addOutput(QgsProcessingOutputNumber("SIZE_MB", "文件大小 (MB) / File size (MB)"))

    def run(self, parameters, context, feedback, progress):
        layers = []
        for layer in self.parameterAsLayerList(parameters, self.LAYERS, context):
            path = layer_file(layer, context, feedback)
            if path:
                layers.append((path, layer.name()))
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        result = export_webmap(
            layers, output,
            title=self.parameterAsString(parameters, self.TITLE, context) or DEFAULT_TITLE,
            source=self.parameterAsString(parameters, self.SOURCE, context),
            basemap=self.BASEMAPS[self.parameterAsEnum(parameters, self.BASEMAP, context)],
            tianditu_key=self.parameterAsString(parameters, self.TIANDITU_KEY, context),
            simplify_tolerance=self.parameterAsDouble(parameters, self.SIMPLIFY_TOLERANCE, context),
            date=self.parameterAsString(parameters, self.DATE, context) or None,
            progress=progress)
        for lay in result["layers"]:
            feedback.pushInfo(f"[{lay['name']}] {lay['kind']} · {lay['style']} · "
                              f"{lay.get('features', 'x'.join(map(str, lay.get('size', []))))}")
        size_mb = round(result["size_bytes"] / 1e6, 2)
        feedback.pushInfo(f"网页地图 / Web map: {output} ({size_mb} MB)")
        return {self.OUTPUT: output, "FEATURES": result["features"], "SIZE_MB": size_mb}
