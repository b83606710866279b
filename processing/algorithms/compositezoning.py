from qgis.core import (QgsProcessing, QgsProcessingException, QgsProcessingOutputNumber,
                       QgsProcessingParameterCrs, QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterString,
                       QgsProcessingParameterVectorDestination, QgsProcessingUtils, QgsRasterLayer, QgsVectorLayer)

from ...risk_plugin.composite import composite_zoning
from ...risk_plugin.definitions import composite as D
from ..base import RiskMapAlgorithm


class CompositeZoningAlgorithm(RiskMapAlgorithm):
    ALG_ID = "compositezoning"
    NAME_ZH, NAME_EN = "综合危险性区划", "Composite hazard zoning"
    GROUP_ID, GROUP_ZH, GROUP_EN = "hazard", "危险性区划", "Hazard zoning"
    ORDER = 90
    HAZARDS, HAZARD_FIELD, HAZARD_MAPPING, CELL_SIZE = "HAZARDS", "HAZARD_FIELD", "HAZARD_MAPPING", "CELL_SIZE"
    METHOD, WEIGHTS, WEIGHTED_BREAKS, RESAMPLING = "METHOD", "WEIGHTS", "WEIGHTED_BREAKS", "RESAMPLING"
    UNITS, TARGET_CRS = "UNITS", "TARGET_CRS"
    OUTPUT, OUTPUT_TABLE, OUTPUT_UNITS = "OUTPUT", "OUTPUT_TABLE", "OUTPUT_UNITS"
    HELP = (
        "把多个单灾种危险性等级图层 (栅格或面) 放到同一网格上, 逐像元取最高等级 (就高) 或加权平均, 得到 4 级综合危险性区划; "
        "给出乡镇/村单元时, 统计各单元各级面积与主导等级。<br>"
        "Puts any set of hazard class layers (rasters or polygons, classes 0..4, 4 highest) on one grid and combines "
        "them per cell, by the highest class (default) or a weighted mean, into a four-class composite; with "
        "townships or villages as UNITS, tabulates the area per class and the dominant class of each unit.<br><br>"
        "<b>HAZARDS</b>: class rasters (output of floodhazard, firehazard, susceptibility zones …; nodata = 0) and/or "
        "polygon layers with a class field. <b>HAZARD_FIELD</b> (default: a field named hazard_class, 危险性等级, 易发性等级, "
        "区划等级 …): the class field of the polygon layers; <b>HAZARD_MAPPING</b> (optional, e.g. 高=3; 中=2; 低=1): text "
        "values to classes.<br>"
        f"<b>CELL_SIZE</b> (default 0 = the finest input raster's cell, else {D.CELL_SIZE:g} m): grid cell in metres.<br>"
        "<b>METHOD</b> (default max): max = the highest class of any hazard (就高原则: a place is as hazardous as its "
        "worst hazard); weighted = Σ wᵢ·classᵢ / Σ wᵢ cut at WEIGHTED_BREAKS.<br>"
        "<b>WEIGHTS</b> (weighted only; default equal): one weight per layer, in the order of HAZARDS.<br>"
        f"<b>WEIGHTED_BREAKS</b> (default {','.join(f'{b:g}' for b in D.WEIGHTED_BREAKS)}): class k holds a mean in "
        "(break k, break k+1] (rounding to the nearest class).<br>"
        "<b>RESAMPLING</b> (default max): max keeps a high-class patch narrower than a cell (polygons burned with all "
        "touched cells); nearest takes the class at the cell centre.<br>"
        "<b>UNITS</b> (optional): townships or villages (名称, 行政区划代码). <b>TARGET_CRS</b> (optional): grid CRS in "
        "metres (default: the first layer's CRS if metric, else its CGCS2000 Gauss-Krüger zone).<br>"
        "<b>OUTPUT</b>: composite class raster (uint8 0..4), styled by 'hazard_classes'. <b>OUTPUT_TABLE</b> "
        "(CSV/XLSX) and <b>OUTPUT_UNITS</b> (polygons): per unit area_km2, class0_km2 … class4_km2, class1_pct … "
        "class4_pct, dominant_class (largest area among classes 1..4, ties to the higher; 0 if none), max_class.<br>"
        "Numeric outputs <b>AREA_KM2_1</b> … <b>AREA_KM2_4</b> (km² per class) and <b>CELL_SIZE_M</b> (the cell used).")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterMultipleLayers(self.HAZARDS, "危险性等级图层 / Hazard class layers",
                                                               QgsProcessing.TypeMapLayer))
        self.addParameter(QgsProcessingParameterString(self.HAZARD_FIELD, "等级字段 (面图层) / Class field (polygons)",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterNumber(self.CELL_SIZE, "像元大小 (m, 0 = 自动) / Cell size (m, 0 = auto)",
                                                       QgsProcessingParameterNumber.Double, 0.0, minValue=0))
        self.addParameter(QgsProcessingParameterEnum(self.METHOD, "组合方法 / Method",
                                                     options=["取最高等级 / maximum", "加权平均 / weighted mean"], defaultValue=0))
        self.addParameter(QgsProcessingParameterString(self.WEIGHTS, "权重 (按图层顺序) / Weights (layer order)", optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(self.UNITS, "统计单元 (乡镇/村) / Units (townships/villages)",
                                                              [QgsProcessing.TypeVectorPolygon], optional=True))
        advanced = [
            QgsProcessingParameterString(self.HAZARD_MAPPING, "文字值→等级 / Text value → class", optional=True),
            QgsProcessingParameterString(self.WEIGHTED_BREAKS, "加权分级界限 / Weighted-mean breaks",
                                         defaultValue=",".join(f"{b:g}" for b in D.WEIGHTED_BREAKS)),
            QgsProcessingParameterEnum(self.RESAMPLING, "重采样 / Resampling",
                                       options=["最高 / max", "最邻近 / nearest"], defaultValue=0),
            QgsProcessingParameterCrs(self.TARGET_CRS, "网格坐标系 / Grid CRS", optional=True),
        ]
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "综合危险性区划 / Composite hazard zoning"))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_TABLE, "单元统计表 / Unit table", "Excel (*.xlsx);;CSV (*.csv)", optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_UNITS, "单元区划 / Units with dominant class", QgsProcessing.TypeVectorPolygon,
            optional=True, createByDefault=False))
        for k in range(1, 5):
            self.addOutput(QgsProcessingOutputNumber(f"AREA_KM2_{k}", f"{k} 级面积 (km²) / Area of class {k} (km²)"))
        self.addOutput(QgsProcessingOutputNumber("CELL_SIZE_M", "像元大小 (m) / Cell size used (m)"))

    def _hazards(self, parameters, context, feedback):
        out = []
        for i, layer in enumerate(self.parameterAsLayerList(parameters, self.HAZARDS, context)):
            if isinstance(layer, QgsRasterLayer):
                out.append(("raster", layer.source()))
            elif isinstance(layer, QgsVectorLayer):
                path, name = QgsProcessingUtils.convertToCompatibleFormatAndLayerName(
                    layer, False, f"hazard{i}", ["gpkg", "shp"], "gpkg", context, feedback)
                out.append(("vector", f"{path}|layername={name}" if name else path))
            else:
                raise QgsProcessingException(f"[{layer.name()}] 不是栅格或矢量图层 / is neither a raster nor a vector layer")
        return out

    def execute(self, parameters, context, feedback, progress):
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        table = self.parameterAsFileOutput(parameters, self.OUTPUT_TABLE, context) or None
        units_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_UNITS, context) or None
        units = self.vector_path(parameters, self.UNITS, context, feedback)
        crs = self.parameterAsCrs(parameters, self.TARGET_CRS, context)
        result = composite_zoning(
            self._hazards(parameters, context, feedback), output,
            method=D.METHODS[self.parameterAsEnum(parameters, self.METHOD, context)],
            weights=self.parameterAsString(parameters, self.WEIGHTS, context) or None,
            cell_size=self.parameterAsDouble(parameters, self.CELL_SIZE, context),
            units=units, output_table=table if units else None, output_units=units_out if units else None,
            hazard_field=self.parameterAsString(parameters, self.HAZARD_FIELD, context) or None,
            hazard_mapping=self.parameterAsString(parameters, self.HAZARD_MAPPING, context) or None,
            resampling=D.RESAMPLINGS[self.parameterAsEnum(parameters, self.RESAMPLING, context)],
            weighted_breaks=self.parameterAsString(parameters, self.WEIGHTED_BREAKS, context) or D.WEIGHTED_BREAKS,
            work_crs=crs.toWkt() if crs.isValid() else None, progress=progress)
        if (table or units_out) and not units:
            feedback.pushWarning("未给出 UNITS, 不生成单元统计 / no UNITS given: no unit table or polygons written")
        self.style_on_load(context, output, "hazard_classes")
        self.style_on_load(context, result["output_units"], "hazard_classes", field="dominant_class")
        outputs = {self.OUTPUT: output, self.OUTPUT_TABLE: result["output_table"], self.OUTPUT_UNITS: result["output_units"]}
        outputs.update({f"AREA_KM2_{k}": result["areas_km2"][k] for k in range(1, 5)})
        outputs["CELL_SIZE_M"] = result["cell_size"]
        return outputs
