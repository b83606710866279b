import shutil
import tempfile
from pathlib import Path

from qgis.core import (QgsExpressionContextUtils, QgsFeature, QgsFeedback, QgsField, QgsFillSymbol, QgsLayoutExporter,
                       QgsLayoutItemMap, QgsLayoutItemPage, QgsLayoutTableColumn, QgsMapLayerLegendUtils, QgsPalLayerSettings,
                       QgsProcessing,
                       QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingOutputNumber,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterFolderDestination,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber, QgsProcessingParameterString,
                       QgsPrintLayout, QgsProject, QgsRasterLayer, QgsReadWriteContext, QgsRenderContext, QgsRuleBasedRenderer,
                       QgsTextBufferSettings, QgsTextFormat, QgsVectorLayer, QgsVectorLayerSimpleLabeling,
                       QgsConditionalStyle, QgsCoordinateReferenceSystem, QgsWkbTypes)
from qgis.PyQt.QtCore import QVariant, Qt
from qgis.PyQt.QtGui import QColor, QFont
from qgis.PyQt.QtXml import QDomDocument

from ...risk_plugin import classes as cl
from ...risk_plugin.atlas import coverage_names, load_coverage, township_summary
from ...risk_plugin.crs import is_metric, working_crs
from ...risk_plugin.definitions import webmap as D
from ...risk_plugin.errors import Cancelled
from ...risk_plugin.io import atomic_path
from ...risk_plugin.outputs import place, retire
from ..base import RiskMapAlgorithm
from ..fonts import pdf_family
from ..layer_styles import layer_title, qcolor, style_layer

STYLES = Path(__file__).resolve().parent.parent.parent / "styles"
TEMPLATE = STYLES / "atlas.qpt"
FONT = "Noto Sans CJK SC"
DEFAULT_TITLE = "乡镇自然灾害风险图 / Township natural-hazard risk map"
DRAW_ORDER = {"point": 0, "line": 1, "boundary": 2, "polygon": 3, "raster": 4}


def _order_key(layer, style):
    if isinstance(layer, QgsRasterLayer):
        return DRAW_ORDER["raster"]
    gtype = layer.geometryType()
    if gtype == QgsWkbTypes.PointGeometry:
        return DRAW_ORDER["point"]
    if gtype == QgsWkbTypes.LineGeometry:
        return DRAW_ORDER["line"]
    return DRAW_ORDER["boundary"] if style.key in ("townships", "villages") and style.kind == "base" else DRAW_ORDER["polygon"]


def _part(feedback, start, end):
    """A QgsFeedback for the layout exporter: its page-by-page progress reported as start..end % of the run, and the
    run's cancel passed on (the exporter stops between pages)."""
    part = QgsFeedback()
    part.progressChanged.connect(lambda p: feedback.setProgress(start + (end - start) * p / 100.0))
    feedback.canceled.connect(part.cancel)
    if feedback.isCanceled():
        part.cancel()
    return part


def _font(size, bold=False, family=FONT):
    f = QFont(family)
    f.setPointSizeF(size)
    f.setBold(bold)
    return f


class PrintAtlasAlgorithm(RiskMapAlgorithm):
    ALG_ID = "printatlas"
    NAME_ZH, NAME_EN = "乡镇风险图集 (打印)", "Township atlas (print)"
    GROUP_ID, GROUP_ZH, GROUP_EN = "briefing", "汇报成果", "Briefing outputs"
    ORDER = 30
    COVERAGE, NAME_FIELD, LAYERS, SUMMARY, PEOPLE_FIELD = "COVERAGE", "NAME_FIELD", "LAYERS", "SUMMARY", "PEOPLE_FIELD"
    TITLE, SOURCE, DATE, DPI = "TITLE", "SOURCE", "DATE", "DPI"
    OUTPUT_PDF, OUTPUT_PNG_DIR = "OUTPUT_PDF", "OUTPUT_PNG_DIR"
    HELP = (
        "用打印布局模板 styles/atlas.qpt 为每个乡镇出一页图 (QGIS 图集): 标题、主图、图例、比例尺、指北针、日期、数据来源、"
        "坐标系说明、位置索引图, 以及本乡镇分等级人口表。输出 PDF (一页一乡镇) 和每页 PNG。图层按字段自动配色 "
        "(与网页地图、QGIS 相同, 来自 styles/classes.json)。<br>"
        "One page per township (QGIS atlas over COVERAGE) from the print-layout template styles/atlas.qpt: title, main "
        "map, legend, scale bar, north arrow, date, data source, CRS note, inset locator map, and a table of people per "
        "risk level in the township. Output: one PDF (a page per township) and a PNG per page. Layers are styled by "
        "their fields, as in the web map (styles/classes.json).<br><br>"
        "<b>COVERAGE</b>: township polygons (one page each). <b>NAME_FIELD</b> (default: the schema's name field: "
        "名称 / name / 乡镇 …). <b>LAYERS</b>: layers drawn on the main map (class layers, boundaries, points, rasters). "
        "<b>SUMMARY</b> (optional): a riskmap:fourcolorrisk output (features with risk_level and people) or a "
        "riskmap:exposure OUTPUT_UNITS layer (pop_c0…pop_c4): its people are summed per township (polygons split by "
        "area share, points by location); <b>PEOPLE_FIELD</b> (default: people / population / 人口 …). "
        "<b>TITLE</b> (default: " + DEFAULT_TITLE + "), <b>SOURCE</b>: data source line. "
        "<b>DATE</b>: date on the pages (default today). "
        f"<b>DPI</b> (default {D.ATLAS_DPI}): resolution of the PNGs and of rasters in the PDF.<br>"
        "<b>OUTPUT_PDF</b>: the atlas PDF. <b>OUTPUT_PNG_DIR</b> (optional): folder of page_001.png …<br>"
        "Numeric outputs <b>PAGES</b> (= townships) and <b>PEOPLE_OUTSIDE</b> (summary people outside every township).")

    def flags(self):
        # layouts render on the main thread (print layouts are not thread-safe in the QGIS GUI)
        return super().flags() | QgsProcessingAlgorithm.FlagNoThreading

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFeatureSource(self.COVERAGE, "乡镇 (每页一个) / Townships (one page each)",
                                                              [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField(self.NAME_FIELD, "乡镇名称字段 / Township name field",
                                                      parentLayerParameterName=self.COVERAGE, optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(self.LAYERS, "主图图层 / Layers on the map",
                                                               QgsProcessing.TypeMapLayer, optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(self.SUMMARY, "分等级人口来源 / People-per-level source",
                                                              [QgsProcessing.TypeVector], optional=True))
        self.addParameter(QgsProcessingParameterField(self.PEOPLE_FIELD, "人口字段 / People field",
                                                      parentLayerParameterName=self.SUMMARY, optional=True))
        self.addParameter(QgsProcessingParameterString(self.TITLE, "标题 / Title", defaultValue=DEFAULT_TITLE))
        self.addParameter(QgsProcessingParameterString(self.SOURCE, "数据来源 / Data source", defaultValue="",
                                                       optional=True))
        date = QgsProcessingParameterString(self.DATE, "制图日期 / Date (默认今天 / default today)", defaultValue="",
                                            optional=True)
        date.setFlags(date.flags() | date.FlagAdvanced)
        self.addParameter(date)
        dpi = QgsProcessingParameterNumber(self.DPI, "分辨率 / DPI", QgsProcessingParameterNumber.Integer,
                                           D.ATLAS_DPI, minValue=50, maxValue=600)
        dpi.setFlags(dpi.flags() | dpi.FlagAdvanced)
        self.addParameter(dpi)
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT_PDF, "图集 PDF / Atlas PDF", "PDF (*.pdf)"))
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT_PNG_DIR, "每页 PNG 目录 / PNG folder",
                                                                  optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber("PAGES", "页数 / Pages"))
        self.addOutput(QgsProcessingOutputNumber("PEOPLE_OUTSIDE", "乡镇外人口 / People outside townships"))

    # --- run ---------------------------------------------------------------------------------------------
    def run(self, parameters, context, feedback, progress):
        cov_path = self.vector_path(parameters, self.COVERAGE, context, feedback)
        summary_path = self.vector_path(parameters, self.SUMMARY, context, feedback)
        name_field = self.parameterAsString(parameters, self.NAME_FIELD, context) or None
        people_field = self.parameterAsString(parameters, self.PEOPLE_FIELD, context) or None
        title = self.parameterAsString(parameters, self.TITLE, context) or DEFAULT_TITLE
        source = self.parameterAsString(parameters, self.SOURCE, context) or "—"
        dpi = self.parameterAsInt(parameters, self.DPI, context)
        date = self.parameterAsString(parameters, self.DATE, context) or None
        pdf = self.parameterAsFileOutput(parameters, self.OUTPUT_PDF, context)
        png_dir = self.parameterAsString(parameters, self.OUTPUT_PNG_DIR, context) or None

        # engine: names, CRS, and the people-per-level table (no analysis in this file)
        cov_gdf = load_coverage(cov_path, name_field)
        name_col = coverage_names(cov_gdf, name_field)
        map_crs = cov_gdf.crs if is_metric(cov_gdf.crs) else working_crs(cov_gdf.crs, cov_gdf.total_bounds)
        summary = township_summary(cov_gdf, summary_path, name_col, people_field) if summary_path else None
        if summary is not None and summary.outside > 0.5:
            feedback.pushWarning(f"{summary.outside:.0f} 人在所有乡镇之外, 未计入各页 / people outside every township "
                                 "are not in any page's table")
        progress.set(10)

        project = QgsProject()
        crs = QgsCoordinateReferenceSystem(f"EPSG:{map_crs.to_epsg()}") if map_crs.to_epsg() else \
            QgsCoordinateReferenceSystem.fromWkt(map_crs.to_wkt())
        project.setCrs(crs)
        coverage = QgsVectorLayer(cov_path, "乡镇 / Townships", "ogr")
        if not coverage.isValid():
            raise QgsProcessingException(f"cannot open {cov_path}")
        styled = []
        for layer in self.parameterAsLayerList(parameters, self.LAYERS, context):
            copy = layer.clone()
            style = style_layer(copy)
            feedback.pushInfo(f"[{layer.name()}] {style.kind}: {style.key}" + (f" ({style.field})" if style.field else ""))
            styled.append((_order_key(copy, style), len(styled), copy, style))
        styled = [(lay, style) for _, _, lay, style in sorted(styled, key=lambda t: (t[0], t[1]))]
        layers = [lay for lay, _ in styled]
        for lay in layers:
            project.addMapLayer(lay, False)
        self._style_coverage(coverage, name_col, pdf_family(FONT, feedback.pushWarning))
        locator = coverage.clone()
        locator.setName("位置 / Location")
        self._style_locator(locator)
        project.addMapLayer(coverage, False)
        project.addMapLayer(locator, False)
        table_layer = self._summary_layer(summary) if summary is not None else None
        if table_layer is not None:
            project.addMapLayer(table_layer, False)

        # the same font, copied so that the PDF's text extracts as the characters drawn (processing/fonts.py)
        family = pdf_family(FONT, feedback.pushWarning)
        layout = self._layout(project, family)
        QgsExpressionContextUtils.setLayoutVariable(layout, "riskmap_title", title)
        names = [str(v) for v in cov_gdf[name_col].dropna()]
        self._fit_title(layout.itemById("title"), f"{title}  ·  {max(names, key=len) if names else ''}")
        QgsExpressionContextUtils.setLayoutVariable(layout, "riskmap_source", source)
        QgsExpressionContextUtils.setLayoutVariable(layout, "riskmap_date", date)
        QgsExpressionContextUtils.setLayoutVariable(layout, "riskmap_crs", f"{crs.authid()} · {crs.description()}")
        QgsExpressionContextUtils.setLayoutVariable(layout, "riskmap_summary_title",
                                                    summary.title().replace(" / ", "\n", 1) if summary is not None else "")
        main, inset = layout.itemById("main_map"), layout.itemById("inset_map")
        main.setCrs(crs)
        main.setLayers([coverage] + layers)
        main.setKeepLayerSet(True)
        main.setAtlasDriven(True)
        main.setAtlasScalingMode(QgsLayoutItemMap.Auto)
        main.setAtlasMargin(0.08)
        inset.setCrs(crs)
        inset.setLayers([locator])
        inset.setKeepLayerSet(True)
        inset.setExtent(self._fit(coverage.extent(), inset.rect().width(), inset.rect().height(), 1.08))
        self._legend(layout, coverage, styled)
        self._table(layout, table_layer)

        atlas = layout.atlas()
        atlas.setCoverageLayer(coverage)
        atlas.setPageNameExpression(f'"{name_col}"')
        atlas.setFilenameExpression("'page_' || lpad(to_string(@atlas_featurenumber), 3, '0')")
        atlas.setEnabled(True)
        n_pages = coverage.featureCount()
        progress.set(20)

        settings = QgsLayoutExporter.PdfExportSettings()
        settings.dpi = dpi
        settings.rasterizeWholeImage = False
        settings.textRenderFormat = QgsRenderContext.TextFormatAlwaysText   # searchable, selectable text
        feedback.pushInfo(f"导出 {n_pages} 页 PDF / exporting {n_pages} PDF pages")
        with atomic_path(pdf) as tmp:
            result, error = QgsLayoutExporter.exportToPdf(atlas, tmp, settings, _part(feedback, 20, 70 if png_dir else 100))
            if result == QgsLayoutExporter.Canceled or feedback.isCanceled():
                raise Cancelled("已取消 / Cancelled")
            if result != QgsLayoutExporter.Success:
                raise QgsProcessingException(f"PDF 导出失败 / PDF export failed: {error}")
        progress.set(70)
        if png_dir:
            feedback.pushInfo(f"导出 {n_pages} 页 PNG / exporting {n_pages} PNG pages")
            self._export_pngs(atlas, png_dir, dpi, _part(feedback, 70, 100))
        progress.set(100)
        return {self.OUTPUT_PDF: pdf, self.OUTPUT_PNG_DIR: png_dir, "PAGES": n_pages,
                "PEOPLE_OUTSIDE": round(summary.outside, 3) if summary is not None else 0.0}

    # --- pieces ----------------------------------------------------------------------------------------
    @staticmethod
    def _layout(project, family=FONT):
        layout = QgsPrintLayout(project)
        doc = QDomDocument()
        text = TEMPLATE.read_text(encoding="utf-8").replace('file="north_arrow.svg"',
                                                            f'file="{STYLES / "north_arrow.svg"}"')
        text = text.replace(f'"{FONT}"', f'"{family}"').replace(f'"{FONT},', f'"{family},')
        doc.setContent(text)
        _, ok = layout.loadFromTemplate(doc, QgsReadWriteContext())
        if not ok:
            raise QgsProcessingException(f"cannot load the layout template {TEMPLATE}")
        missing = [i for i in ("main_map", "inset_map", "legend", "scalebar", "north_arrow", "title")
                   if layout.itemById(i) is None]
        if missing:
            raise QgsProcessingException(f"template {TEMPLATE} lacks items {missing}")
        page = layout.pageCollection().page(0)
        page.setPageSize("A4", QgsLayoutItemPage.Landscape)
        return layout

    @staticmethod
    def _fit(extent, width, height, scale):
        """``extent`` grown by ``scale`` and padded to the item's aspect ratio (setExtent would resize the item;
        zoomToExtent cannot work from a template map whose stored extent is empty)."""
        from qgis.core import QgsRectangle
        cx, cy = extent.center().x(), extent.center().y()
        w, h = extent.width() * scale, extent.height() * scale
        if w / h < width / height:
            w = h * width / height
        else:
            h = w * height / width
        return QgsRectangle(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)

    @staticmethod
    def _fit_title(item, text, smallest=11.0):
        """The title's font made smaller (not below ``smallest`` pt) until the longest page's title fits on one line."""
        from qgis.PyQt.QtGui import QFontMetricsF
        font = QFont(item.font())
        size = font.pointSizeF()
        probe = QFont(font)
        probe.setPixelSize(100)
        em = QFontMetricsF(probe).horizontalAdvance(text) / 100.0        # the text's width in font sizes
        width_mm = item.rect().width() * 0.97
        fit = width_mm / (em * 25.4 / 72.0) if em > 0 else size
        if fit < size:
            font.setPointSizeF(max(smallest, fit))
            item.setFont(font)

    @staticmethod
    def _style_coverage(layer, name_col, family=FONT):
        """The atlas township: bold outline; the others: veiled, so the page's township stands out."""
        st = cl.base_style("townships")
        root = QgsRuleBasedRenderer.Rule(None)
        this = QgsFillSymbol.createSimple({"color": "0,0,0,0", "outline_color": st["outline"],
                                           "outline_width": str(st["width_mm"] * 1.5)})
        other = QgsFillSymbol.createSimple({"color": "255,255,255,150", "outline_color": "#555555",
                                            "outline_width": str(st["width_mm"] * 0.6)})
        root.appendChild(QgsRuleBasedRenderer.Rule(this, 0, 0, "$id = @atlas_featureid", "本乡镇 / This township"))
        root.appendChild(QgsRuleBasedRenderer.Rule(other, 0, 0, "$id <> @atlas_featureid",
                                                   "其他乡镇 / Other townships"))
        layer.setRenderer(QgsRuleBasedRenderer(root))
        pal = QgsPalLayerSettings()
        pal.fieldName = name_col
        fmt = QgsTextFormat()
        fmt.setFont(_font(10, True, family))
        fmt.setSize(10)
        buf = QgsTextBufferSettings()
        buf.setEnabled(True)
        buf.setSize(0.8)
        buf.setColor(QColor("white"))
        fmt.setBuffer(buf)
        pal.setFormat(fmt)
        pal.placement = QgsPalLayerSettings.OverPoint
        layer.setLabeling(QgsVectorLayerSimpleLabeling(pal))
        layer.setLabelsEnabled(True)

    @staticmethod
    def _style_locator(layer):
        root = QgsRuleBasedRenderer.Rule(None)
        this = QgsFillSymbol.createSimple({"color": "#E31A1C", "outline_color": "#333333", "outline_width": "0.2"})
        other = QgsFillSymbol.createSimple({"color": "#E8E8E8", "outline_color": "#888888", "outline_width": "0.15"})
        root.appendChild(QgsRuleBasedRenderer.Rule(this, 0, 0, "$id = @atlas_featureid", "本乡镇 / This township"))
        root.appendChild(QgsRuleBasedRenderer.Rule(other, 0, 0, "$id <> @atlas_featureid", "其他 / Others"))
        layer.setRenderer(QgsRuleBasedRenderer(root))

    @staticmethod
    def _summary_layer(summary):
        """A table layer of the engine's per-township rows, with each level's colour as its cell background."""
        layer = QgsVectorLayer("None", "summary", "memory")
        pr = layer.dataProvider()
        pr.addAttributes([QgsField("unit", QVariant.LongLong), QgsField("level", QVariant.String),
                          QgsField("people", QVariant.LongLong), QgsField("share", QVariant.Double)])
        layer.updateFields()
        feats = []
        for unit, rows in summary.long.groupby("unit", sort=False):    # whole persons, rows add up (atlas.py)
            total = int(rows["persons"].sum())
            values = [(label, persons, share) for label, persons, share
                      in rows[["class", "persons", "share"]].itertuples(index=False, name=None)]
            values.append(("合计 / Total", total, 100.0 if total > 0 else 0.0))
            for label, persons, share in values:
                f = QgsFeature(layer.fields())
                f.setAttributes([int(unit), label, int(persons), round(float(share), 1)])
                feats.append(f)
        pr.addFeatures(feats)
        colors = summary.long.drop_duplicates("class").set_index("class")["color"].to_dict()
        styles = []
        for label, color in colors.items():
            st = QgsConditionalStyle(f"\"level\" = '{label}'")
            bg = qcolor(color)
            st.setBackgroundColor(bg)
            st.setTextColor(QColor("white") if bg.lightness() < 110 else QColor("black"))
            styles.append(st)
        layer.conditionalStyles().setRowStyles(styles)
        return layer

    @staticmethod
    def _table(layout, table_layer):
        frame = next((i for i in layout.items() if getattr(i, "id", lambda: "")() == "summary_table"), None)
        title = layout.itemById("summary_title")
        if frame is None:
            return
        table = frame.multiFrame()
        if table_layer is None:
            layout.removeMultiFrame(table)
            if title is not None:
                layout.removeLayoutItem(title)
            return
        table.setVectorLayer(table_layer)
        cols = []
        for attr, heading, width in (("level", "等级 / Level", 40), ("people", "人数 / People", 22),
                                     ("share", "占比 % / Share", 18)):
            c = QgsLayoutTableColumn(heading)
            c.setAttribute(attr)
            c.setWidth(width)
            cols.append(c)
        table.setColumns(cols)
        table.setFilterFeatures(True)
        table.setFeatureFilter('"unit" = @atlas_featureid')
        table.setMaximumNumberOfFeatures(20)
        table.setUseConditionalStyling(True)
        table.refresh()

    @staticmethod
    def _legend(layout, coverage, styled):
        """Legend entries named by the layers' titles, the same as in the web map (risk_plugin.titles)."""
        legend = layout.itemById("legend")
        legend.setAutoUpdateModel(False)
        root = legend.model().rootGroup()
        root.removeAllChildren()
        root.addLayer(coverage)
        for lay, style in styled:
            node = root.addLayer(lay)
            # '~' is the legend's wrap character: the Chinese and the English title go on two lines
            node.setName(layer_title(lay, style).replace(" / ", " /~", 1))
        legend.setWrapString("~")
        model = legend.model()
        for node in root.findLayers():   # a ramp's first legend line is the band name ("Band 1 (Gray)"): drop it
            if isinstance(node.layer(), QgsRasterLayer):
                nodes = model.layerLegendNodes(node)
                if len(nodes) > 1 and str(nodes[0].data(Qt.DisplayRole)).startswith("Band "):
                    QgsMapLayerLegendUtils.setLegendNodeOrder(node, list(range(1, len(nodes))))
                    model.refreshLayerLegend(node)
        legend.refresh()

    @staticmethod
    def _export_pngs(atlas, png_dir, dpi, feedback=None):
        """PNGs into a temporary folder beside png_dir, then moved in: no half-written set of pages."""
        out = Path(png_dir)
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".riskmap-atlas-", dir=out))
        try:
            settings = QgsLayoutExporter.ImageExportSettings()
            settings.dpi = dpi
            result, error = QgsLayoutExporter.exportToImage(atlas, str(tmp / "page"), "png", settings, feedback)
            if result == QgsLayoutExporter.Canceled or (feedback is not None and feedback.isCanceled()):
                raise Cancelled("已取消 / Cancelled")
            if result != QgsLayoutExporter.Success:
                raise QgsProcessingException(f"PNG 导出失败 / PNG export failed: {error}")
            for old in out.glob("page_*.png"):
                retire(old)
            for f in sorted(tmp.glob("*.png")):
                place(f, out / f.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
