from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterDefinition,
                       QgsProcessingParameterEnum, QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer, QgsProcessingParameterString,
                       QgsProcessingParameterVectorDestination)

from ...risk_plugin.definitions import threat as D
from ...risk_plugin.threat import hazard_point_threat
from ..base import RiskMapAlgorithm

RADII_TEXT = "; ".join(f"{k}=" + ",".join(f"{r:g}" for r in v) for k, v in D.THREAT_RADIUS_M.items())
NUMBERS = (("POINTS", "隐患点数 / Points"), ("POINTS_FLAGGED", "人数不符的隐患点 / Points flagged"),
           ("LEVEL_CHANGED", "险情等级变化的隐患点 / Points whose danger level changed"),
           ("PEOPLE_THREATENED", "受威胁人数 (合计, 不重复) / People threatened (union)"),
           ("HOUSEHOLDS_THREATENED", "受威胁户数 (合计) / Households threatened (union)"),
           ("BUILDINGS_THREATENED", "受威胁建筑 (合计) / Buildings threatened (union)"))


def _joined(values):
    return ",".join(f"{v:g}" for v in values)


class HazardPointThreatAlgorithm(RiskMapAlgorithm):
    ALG_ID = "hazardpointthreat"
    NAME_ZH, NAME_EN = "隐患点威胁范围与险情等级", "Geohazard point threat and danger level"
    GROUP_ID, GROUP_ZH, GROUP_EN = "hazard", "危险性区划", "Hazard zoning"
    ORDER = 50
    POINTS, BUILDINGS, POPULATION, POPULATION_UNIT = "POINTS", "BUILDINGS", "POPULATION", "POPULATION_UNIT"
    RADII, RADIUS_FIELD, TOLERANCE, MIN_DIFFERENCE = "RADII", "RADIUS_FIELD", "TOLERANCE", "MIN_DIFFERENCE"
    HOUSEHOLD_SIZE, DANGER_PEOPLE, DANGER_PROPERTY = "HOUSEHOLD_SIZE", "DANGER_PEOPLE", "DANGER_PROPERTY"
    OUTPUT_POINTS, OUTPUT_ZONES = "OUTPUT_POINTS", "OUTPUT_ZONES"
    HELP = (
        "按灾害类型与规模为每个地质灾害隐患点划定威胁范围, 统计范围内的建筑、户数与人数, 按国家分级标准核定险情等级, "
        "并标出调查威胁人数与计算值不符的隐患点。<br>"
        "Draws a threat zone around each surveyed geohazard point (radius by hazard type and scale), counts the "
        "buildings, households and people inside, grades 险情等级 by the national standard and flags points whose "
        "surveyed 威胁人数 disagrees with the count.<br><br>"
        "<b>POINTS</b>: geohazard points (schema geohazard_points: 统一编号, 名称, 灾害类型, 规模等级, 威胁人数, 威胁财产 (万元) …).<br>"
        "<b>BUILDINGS</b> (optional): building polygons or points with 居住人数 and/or 户数; a building counts when it "
        "touches a zone. <b>POPULATION</b> (optional): population raster, summed area-weighted over the zone. "
        "At least one is needed; with both, people come from buildings and the raster sum is reported beside it.<br>"
        "<b>POPULATION_UNIT</b> (default 0 = people per cell; 1 = per km², 2 = per m², as riskmap:exposure).<br>"
        f"<b>RADII</b> (default {RADII_TEXT}): radius (m) for small, medium, large, giant scale per hazard type; list "
        "only the types to change. Engineering defaults (no standard fixes them): landslides from the Corominas (1996) "
        "reach angle for the DZ/T 0218 volume classes, rockfall from the shadow angle (Evans & Hungr 1993), debris flows "
        "cover their fan. <b>RADIUS_FIELD</b> (optional): surveyed 威胁范围 radius (m) per point, used where > 0.<br>"
        f"<b>TOLERANCE</b> (default {D.TOLERANCE:g}) and <b>MIN_DIFFERENCE</b> (default {D.MIN_DIFFERENCE:g} people): a point is "
        "flagged when |surveyed − computed| > max(TOLERANCE × surveyed, MIN_DIFFERENCE) (registered vs resident people "
        "differ by a third or more in counties with much migrant work).<br>"
        f"<b>HOUSEHOLD_SIZE</b> (default {D.HOUSEHOLD_SIZE:g}, 第七次全国人口普查 2020): people per household where only one of "
        "residents/households is known.<br>"
        f"<b>DANGER_PEOPLE</b> (default {_joined(D.DANGER_PEOPLE)}) and <b>DANGER_PROPERTY</b> (default "
        f"{_joined(D.DANGER_PROPERTY_WAN)} 万元): lower bounds of 特大型, 大型, 中型 by people and by property, from "
        "《国家突发地质灾害应急预案》(2006): 特大型 ≥ 1000 人 或 ≥ 1 亿元, 大型 500–999 人 或 5000 万–1 亿元, "
        "中型 100–499 人 或 500 万–5000 万元, 小型 below both; the more severe level wins.<br>"
        "<b>OUTPUT_POINTS</b>: the points with radius_m, buildings_calc, households_calc, people_calc, people_raster, "
        "people_diff, flagged, danger_level (1 特大型 … 4 小型, red/orange/yellow/blue), danger_zh, danger_survey, "
        "level_changed. <b>OUTPUT_ZONES</b>: the threat circles with the same figures.<br>"
        "Numeric outputs: " + ", ".join(f"<b>{k}</b>" for k, _ in NUMBERS) + " (totals count each building or "
        "person once, however many zones overlap).")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFeatureSource(self.POINTS, "地质灾害隐患点 / Geohazard points",
                                                              [QgsProcessing.TypeVectorPoint]))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.BUILDINGS, "建筑物 / Buildings", [QgsProcessing.TypeVectorPolygon, QgsProcessing.TypeVectorPoint], optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(self.POPULATION, "人口栅格 / Population raster", optional=True))
        self.addParameter(QgsProcessingParameterString(self.RADII, "威胁半径 (m): 类型=小,中,大,特大 / Threat radii (m)",
                                                       defaultValue=RADII_TEXT))
        self.addParameter(QgsProcessingParameterField(self.RADIUS_FIELD, "调查威胁半径字段 (m) / Surveyed radius field (m)",
                                                      parentLayerParameterName=self.POINTS, optional=True,
                                                      type=QgsProcessingParameterField.Numeric))
        self.addParameter(QgsProcessingParameterNumber(self.TOLERANCE, "人数容差 (比例) / Tolerance (fraction of surveyed)",
                                                       QgsProcessingParameterNumber.Double, D.TOLERANCE, minValue=0))
        advanced = [
            QgsProcessingParameterEnum(self.POPULATION_UNIT, "人口栅格单位 / Population unit",
                                       options=["人/像元 / people per cell", "人/km² / people per km²", "人/m² / people per m²"],
                                       defaultValue=0),
            QgsProcessingParameterNumber(self.MIN_DIFFERENCE, "最小人数差 / Minimum difference (people)",
                                         QgsProcessingParameterNumber.Double, D.MIN_DIFFERENCE, minValue=0),
            QgsProcessingParameterNumber(self.HOUSEHOLD_SIZE, "户均人数 / People per household",
                                         QgsProcessingParameterNumber.Double, D.HOUSEHOLD_SIZE, minValue=0.1),
            QgsProcessingParameterString(self.DANGER_PEOPLE, "险情分级人数界限 / Danger-level people bounds",
                                         defaultValue=_joined(D.DANGER_PEOPLE)),
            QgsProcessingParameterString(self.DANGER_PROPERTY, "险情分级财产界限 (万元) / Danger-level property bounds (10⁴ yuan)",
                                         defaultValue=_joined(D.DANGER_PROPERTY_WAN)),
        ]
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_POINTS, "隐患点险情 / Points with danger level", QgsProcessing.TypeVectorPoint))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_ZONES, "威胁范围 / Threat zones", QgsProcessing.TypeVectorPolygon))
        for key, label in NUMBERS:
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def execute(self, parameters, context, feedback, progress):
        points_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_POINTS, context)
        zones_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_ZONES, context) or None
        result = hazard_point_threat(
            self.vector_path(parameters, self.POINTS, context, feedback), points_out, output_zones=zones_out,
            buildings=self.vector_path(parameters, self.BUILDINGS, context, feedback),
            population=self.raster_path(parameters, self.POPULATION, context),
            population_unit=D.POPULATION_UNITS[self.parameterAsEnum(parameters, self.POPULATION_UNIT, context)],
            radii=self.parameterAsString(parameters, self.RADII, context),
            radius_field=self.parameterAsString(parameters, self.RADIUS_FIELD, context) or None,
            household_size=self.parameterAsDouble(parameters, self.HOUSEHOLD_SIZE, context),
            tolerance=self.parameterAsDouble(parameters, self.TOLERANCE, context),
            min_difference=self.parameterAsDouble(parameters, self.MIN_DIFFERENCE, context),
            people_bounds=self.parameterAsString(parameters, self.DANGER_PEOPLE, context),
            property_bounds=self.parameterAsString(parameters, self.DANGER_PROPERTY, context),
            progress=progress)
        self.style_on_load(context, points_out, "danger_levels", field="danger_level")
        self.style_on_load(context, zones_out, "danger_levels", field="danger_level")
        return {self.OUTPUT_POINTS: points_out, self.OUTPUT_ZONES: zones_out,
                "POINTS": result["points"], "POINTS_FLAGGED": result["points_flagged"],
                "LEVEL_CHANGED": result["level_changed"], "PEOPLE_THREATENED": result["people_threatened"],
                "HOUSEHOLDS_THREATENED": result["households_threatened"],
                "BUILDINGS_THREATENED": result["buildings_threatened"]}
