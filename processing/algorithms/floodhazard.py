from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterDefinition,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterString, QgsProcessingParameterVectorDestination)

from ...risk_plugin.definitions import flood as D
from ...risk_plugin.flood import flood_hazard
from ..base import RiskMapAlgorithm

BREAKS_TEXT = ",".join(f"{b:g}" for b in D.DEPTH_BREAKS)
RP_TEXT = ",".join(f"{t:g}:{c}" for t, c in D.RETURN_PERIOD_CLASSES)


class FloodHazardAlgorithm(RiskMapAlgorithm):
    ALG_ID = "floodhazard"
    NAME_ZH, NAME_EN = "洪水危险性分级", "Flood hazard classes"
    GROUP_ID, GROUP_ZH, GROUP_EN = "hazard", "危险性区划", "Hazard zoning"
    ORDER = 30
    DEPTH, DEPTH_BREAKS, ZONES, RETURN_PERIOD_FIELD = "DEPTH", "DEPTH_BREAKS", "ZONES", "RETURN_PERIOD_FIELD"
    RETURN_PERIOD_CLASSES, CELL_SIZE, OUTPUT, OUTPUT_ZONES = "RETURN_PERIOD_CLASSES", "CELL_SIZE", "OUTPUT", "OUTPUT_ZONES"
    HELP = (
        "把洪水淹没水深栅格或不同重现期的淹没区划分为 4 级危险性 (1 低 … 4 极高, 0 无)。<br>"
        "Classifies a flood depth raster, or flood zones of given return periods, into four hazard classes "
        "(1 low … 4 very high; 0 none).<br><br>"
        "<b>DEPTH</b>: water depth raster (m; nodata or ≤ 0 = dry), read block by block; the output keeps its grid and CRS.<br>"
        f"<b>DEPTH_BREAKS</b> (default {BREAKS_TEXT}): four ascending depths (m). Class 0 = depth ≤ first break; class k = "
        "depth in (break k, break k+1]; class 4 = above the last break. Source: the depth legend steps of "
        "《洪水风险图编制导则》SL 483-2017 (0.5/1.0/2.0/3.0 m), the 2–3 m and > 3 m steps merged into class 4.<br>"
        "<b>ZONES</b>: flood zone polygons instead of DEPTH; nested zones are fine (the highest class wins).<br>"
        "<b>RETURN_PERIOD_FIELD</b> (default: a field named 重现期 / return_period / RP / T): return period in years.<br>"
        f"<b>RETURN_PERIOD_CLASSES</b> (default {RP_TEXT}): upper return period:class; a zone takes the class of the "
        "first upper bound ≥ its return period, 0 beyond the last. Reasoning: 《防洪标准》GB 50201-2014 protects rural "
        "land to 10–20, towns to 20–50, cities to 50–100+ years.<br>"
        f"<b>CELL_SIZE</b> (default {D.ZONE_CELL_SIZE:g} m, zones only): raster cell in the metric working CRS "
        "(the zones' CRS if metric, else the CGCS2000 Gauss-Krüger zone).<br>"
        "<b>OUTPUT</b>: class raster (uint8), styled by styles/classes.json 'hazard_classes'. "
        "<b>OUTPUT_ZONES</b> (zones only, optional): one polygon per class, non-overlapping, in the zones' CRS.<br>"
        "Numeric outputs <b>AREA_KM2_1</b> … <b>AREA_KM2_4</b>: area per class (km²; geodesic per row for a "
        "geographic raster, exact polygon areas for zones).")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterRasterLayer(self.DEPTH, "淹没水深 / Flood depth (m)", optional=True))
        self.addParameter(QgsProcessingParameterString(self.DEPTH_BREAKS, "水深分级界限 (m) / Depth breaks (m)",
                                                       defaultValue=BREAKS_TEXT))
        self.addParameter(QgsProcessingParameterFeatureSource(self.ZONES, "淹没区 (按重现期) / Flood zones by return period",
                                                              [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterField(self.RETURN_PERIOD_FIELD, "重现期字段 / Return-period field",
                                                      parentLayerParameterName=self.ZONES, optional=True,
                                                      type=QgsProcessingParameterField.Numeric))
        advanced = [
            QgsProcessingParameterString(self.RETURN_PERIOD_CLASSES, "重现期:等级 / Return period:class",
                                         defaultValue=RP_TEXT),
            QgsProcessingParameterNumber(self.CELL_SIZE, "像元大小 (m, 仅淹没区) / Cell size (m, zones only)",
                                         QgsProcessingParameterNumber.Double, D.ZONE_CELL_SIZE, minValue=0.01),
        ]
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "洪水危险性等级 / Flood hazard classes"))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_ZONES, "洪水危险性分区面 / Flood hazard polygons", QgsProcessing.TypeVectorPolygon,
            optional=True, createByDefault=False))
        for k in range(1, 5):
            self.addOutput(QgsProcessingOutputNumber(f"AREA_KM2_{k}", f"{k} 级面积 (km²) / Area of class {k} (km²)"))

    def execute(self, parameters, context, feedback, progress):
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        zones_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_ZONES, context) or None
        result = flood_hazard(
            output,
            depth=self.raster_path(parameters, self.DEPTH, context),
            zones=self.vector_path(parameters, self.ZONES, context, feedback),
            depth_breaks=self.parameterAsString(parameters, self.DEPTH_BREAKS, context),
            return_period_field=self.parameterAsString(parameters, self.RETURN_PERIOD_FIELD, context) or None,
            return_period_classes=self.parameterAsString(parameters, self.RETURN_PERIOD_CLASSES, context),
            cell_size=self.parameterAsDouble(parameters, self.CELL_SIZE, context),
            output_zones=zones_out, progress=progress)
        self.style_on_load(context, output, "hazard_classes")
        self.style_on_load(context, result["output_zones"], "hazard_classes", field="hazard_class")
        outputs = {self.OUTPUT: output, self.OUTPUT_ZONES: result["output_zones"]}
        outputs.update({f"AREA_KM2_{k}": result["areas_km2"][k] for k in range(1, 5)})
        return outputs
