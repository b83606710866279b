from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterDefinition,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterString)

from ...risk_plugin.definitions import fire as D
from ...risk_plugin.fire import fire_hazard
from ..base import RiskMapAlgorithm


def _pairs(table):
    return ", ".join(f"{k}={v:g}" for k, v in table.items())


def _joined(values):
    return ",".join(f"{v:g}" for v in values)


class FireHazardAlgorithm(RiskMapAlgorithm):
    ALG_ID = "firehazard"
    NAME_ZH, NAME_EN = "森林火灾危险性分级", "Forest-fire hazard classes"
    GROUP_ID, GROUP_ZH, GROUP_EN = "hazard", "危险性区划", "Hazard zoning"
    ORDER = 40
    DEM, FOREST, FOREST_FIELD = "DEM", "FOREST", "FOREST_FIELD"
    SETTLEMENTS, ROADS, GRAVES, FARMLAND, FIRE_HISTORY = "SETTLEMENTS", "ROADS", "GRAVES", "FARMLAND", "FIRE_HISTORY"
    FLAMMABILITY, CLASS_BREAKS, WEIGHTS, IGNITION_REACH = "FLAMMABILITY", "CLASS_BREAKS", "WEIGHTS", "IGNITION_REACH"
    SLOPE_BREAKS, SLOPE_SCORES, ASPECT_PEAK = "SLOPE_BREAKS", "SLOPE_SCORES", "ASPECT_PEAK"
    HISTORY_RADIUS, HISTORY_SATURATION = "HISTORY_RADIUS", "HISTORY_SATURATION"
    OUTPUT, OUTPUT_INDEX = "OUTPUT", "OUTPUT_INDEX"
    HELP = (
        "在 DEM 网格上按林分燃烧性、坡度、坡向、人为火源压力 (居民点、道路、坟墓、农田) 与历史火点计算森林火灾危险性指数, "
        "分为 4 级 (1 低 … 4 极高; 0 非林地)。<br>"
        "Forest-fire hazard on the DEM grid from stand flammability, slope, aspect, ignition pressure (settlements, "
        "roads, graves, farmland) and past fires: a weighted index in [0, 1] cut into four classes (1 low … 4 very high; "
        "0 = not forest).<br><br>"
        "<b>DEM</b>: elevation (m) in a projected CRS in metres; sets the output grid. <b>FOREST</b>: forest polygons "
        "(schema forest_cover: 林分类型 针叶林/阔叶林/针阔混交林/竹林/灌木林/经济林); <b>FOREST_FIELD</b> if named otherwise.<br>"
        "<b>SETTLEMENTS</b>: buildings or residential areas (居民点), not administrative village boundaries; "
        "<b>ROADS</b>: road lines; at least one of the two is needed. <b>GRAVES</b>, <b>FARMLAND</b> (optional): further "
        "ignition sources. <b>FIRE_HISTORY</b> (optional): past fire points.<br>"
        f"<b>FLAMMABILITY</b> (default {_pairs(D.FLAMMABILITY)}): score per type, from the stand flammability grades "
        "(易燃/可燃/难燃) of 《全国森林火险区划等级》LY/T 1063-2008; list only the types to change (Chinese names work).<br>"
        f"<b>CLASS_BREAKS</b> (default {_joined(D.CLASS_BREAKS)}): index breaks between classes 1|2, 2|3, 3|4; class k+1 "
        "holds index in (break k, break k+1]. Fixed, so classes compare between counties.<br>"
        f"<b>WEIGHTS</b> (default {_pairs(D.WEIGHTS)}): factor weights (AHP range of Chinese county studies: fuel and "
        "human ignition first); missing factors drop out and the rest are rescaled.<br>"
        f"<b>IGNITION_REACH</b> (default {_pairs(D.IGNITION_REACH_M)} m): each source scores 1 − distance/reach; sources "
        "combine as 1 − Π(1 − s). Over 95 % of forest fires in China are lit by people; likelihood falls off within about "
        "1 km of settlements and roads (Guo et al. 2016, Applied Geography 66).<br>"
        f"<b>SLOPE_BREAKS</b> (default {_joined(D.SLOPE_BREAKS_DEG)}°) and <b>SLOPE_SCORES</b> (default "
        f"{_joined(D.SLOPE_SCORES)}): steeper slopes spread fire faster (Rothermel 1972).<br>"
        f"<b>ASPECT_PEAK</b> (default {D.ASPECT_PEAK_DEG:g}°): aspect score 0.5 + 0.5·cos(aspect − peak), SSW driest; "
        f"flat (< {D.FLAT_DEG:g}°) scores 0.5.<br>"
        f"<b>HISTORY_RADIUS</b> (default {D.HISTORY_RADIUS_M:g} m) and <b>HISTORY_SATURATION</b> (default "
        f"{D.HISTORY_SATURATION:g}): history score = min(fires within radius / saturation, 1).<br>"
        "<b>OUTPUT</b>: class raster (uint8; 255 = DEM nodata), styled by 'hazard_classes'. <b>OUTPUT_INDEX</b> "
        "(optional): the index (float32, NaN outside forest).<br>"
        "Numeric outputs <b>AREA_KM2_1</b> … <b>AREA_KM2_4</b> (km² per class) and <b>FOREST_KM2</b>.")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterRasterLayer(self.DEM, "数字高程模型 / DEM"))
        self.addParameter(QgsProcessingParameterFeatureSource(self.FOREST, "森林 (林分类型) / Forest (stand type)",
                                                              [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField(self.FOREST_FIELD, "林分类型字段 / Forest-type field",
                                                      parentLayerParameterName=self.FOREST, optional=True))
        any_geom = [QgsProcessing.TypeVectorAnyGeometry]
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.SETTLEMENTS, "居民点/建筑 / Settlements or buildings",
            [QgsProcessing.TypeVectorPolygon, QgsProcessing.TypeVectorPoint], optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(self.ROADS, "道路 / Roads", [QgsProcessing.TypeVectorLine],
                                                              optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(self.GRAVES, "坟墓 / Graves", any_geom, optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(self.FARMLAND, "农田 / Farmland",
                                                              [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.FIRE_HISTORY, "历史火点 / Past fires", [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon],
            optional=True))
        self.addParameter(QgsProcessingParameterString(self.FLAMMABILITY, "林分燃烧性 (0..1) / Flammability (0..1)",
                                                       defaultValue=_pairs(D.FLAMMABILITY)))
        self.addParameter(QgsProcessingParameterString(self.CLASS_BREAKS, "分级界限 / Class breaks",
                                                       defaultValue=_joined(D.CLASS_BREAKS)))
        advanced = [
            QgsProcessingParameterString(self.WEIGHTS, "因子权重 / Factor weights", defaultValue=_pairs(D.WEIGHTS)),
            QgsProcessingParameterString(self.IGNITION_REACH, "火源影响距离 (m) / Ignition reach (m)",
                                         defaultValue=_pairs(D.IGNITION_REACH_M)),
            QgsProcessingParameterString(self.SLOPE_BREAKS, "坡度分级 (°) / Slope breaks (°)",
                                         defaultValue=_joined(D.SLOPE_BREAKS_DEG)),
            QgsProcessingParameterString(self.SLOPE_SCORES, "坡度得分 / Slope scores", defaultValue=_joined(D.SLOPE_SCORES)),
            QgsProcessingParameterNumber(self.ASPECT_PEAK, "最干燥坡向 (°) / Driest aspect (°)",
                                         QgsProcessingParameterNumber.Double, D.ASPECT_PEAK_DEG, minValue=0, maxValue=360),
            QgsProcessingParameterNumber(self.HISTORY_RADIUS, "历史火点半径 (m) / Fire-history radius (m)",
                                         QgsProcessingParameterNumber.Double, D.HISTORY_RADIUS_M, minValue=1),
            QgsProcessingParameterNumber(self.HISTORY_SATURATION, "历史火点饱和数 / Fire-history saturation",
                                         QgsProcessingParameterNumber.Double, D.HISTORY_SATURATION, minValue=0.1),
        ]
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "森林火灾危险性等级 / Forest-fire hazard classes"))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT_INDEX, "森林火灾危险性指数 / Forest-fire hazard index", optional=True, createByDefault=False))
        for k in range(1, 5):
            self.addOutput(QgsProcessingOutputNumber(f"AREA_KM2_{k}", f"{k} 级面积 (km²) / Area of class {k} (km²)"))
        self.addOutput(QgsProcessingOutputNumber("FOREST_KM2", "林地面积 (km²) / Forest area (km²)"))

    def execute(self, parameters, context, feedback, progress):
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        index = self.parameterAsOutputLayer(parameters, self.OUTPUT_INDEX, context) or None
        vec = lambda name: self.vector_path(parameters, name, context, feedback)  # noqa: E731
        text = lambda name: self.parameterAsString(parameters, name, context)  # noqa: E731
        result = fire_hazard(
            self.raster_path(parameters, self.DEM, context), vec(self.FOREST), output, output_index=index,
            settlements=vec(self.SETTLEMENTS), roads=vec(self.ROADS), graves=vec(self.GRAVES),
            farmland=vec(self.FARMLAND), fire_history=vec(self.FIRE_HISTORY),
            forest_field=text(self.FOREST_FIELD) or None, flammability=text(self.FLAMMABILITY),
            weights=text(self.WEIGHTS), ignition_reach=text(self.IGNITION_REACH), class_breaks=text(self.CLASS_BREAKS),
            slope_breaks=text(self.SLOPE_BREAKS), slope_scores=text(self.SLOPE_SCORES),
            aspect_peak=self.parameterAsDouble(parameters, self.ASPECT_PEAK, context),
            history_radius=self.parameterAsDouble(parameters, self.HISTORY_RADIUS, context),
            history_saturation=self.parameterAsDouble(parameters, self.HISTORY_SATURATION, context),
            progress=progress)
        feedback.pushInfo("因子与权重 / factors and weights: " +
                          ", ".join(f"{k}={w:.3f}" for k, w in result["weights"].items()))
        self.style_on_load(context, output, "hazard_classes")
        outputs = {self.OUTPUT: output, self.OUTPUT_INDEX: index}
        outputs.update({f"AREA_KM2_{k}": result["areas_km2"][k] for k in range(1, 5)})
        outputs["FOREST_KM2"] = sum(result["areas_km2"].values())
        return outputs
