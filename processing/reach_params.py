"""Road-network parameters shared by riskmap:responsereach and riskmap:responsesiting (declaration,
reading and help text). No analysis here."""
from qgis.core import (QgsProcessing, QgsProcessingParameterBoolean, QgsProcessingParameterDefinition,
                       QgsProcessingParameterEnum, QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterNumber, QgsProcessingParameterString)

from ..risk_plugin.definitions import reach as D
from ..risk_plugin.definitions import shelters as SD


def speed_help():
    """HTML: each class's speed parameter, default and source."""
    rows = [f"<b>SPEED_{c.upper()}</b> ({D.CLASS_ZH[c]} / {D.CLASS_EN[c]}, default {D.SPEED_KMH[c]:g} km/h): "
            f"{D.SPEED_SOURCE[c]}" for c in D.ROAD_CLASSES]
    return "<br>".join(rows)


ROADS_HELP = (
    "<b>ROADS</b>: road lines; lines join at shared vertices (NODING to join at every crossing). <b>CLASS_FIELD</b> "
    "(default 道路等级/行政等级/技术等级/TYPE/highway): 高速, 国道, 省道, 县道, 乡道, 村道, 城市道路 (also 一级…四级 公路, "
    "等外, 机耕道, English names and OSM highway tags); each class has a speed (below). A value no class knows stops the "
    "run with its name, unless <b>EXTRA_SPEEDS</b> gives it ('机耕道=15; 专用公路=40'). <b>SPEED_FIELD</b> (km/h, optional) "
    "wins where it holds a positive number. <b>DEFAULT_SPEED</b> (default "
    f"{D.DEFAULT_SPEED_KMH:g} km/h, JTG B01-2014 四级公路 upper design speed): roads with an empty class. "
    "<b>DIRECTION_FIELD</b> (optional): one-way roads, values yes/-1/no (OSM), FT/TF/B/N, 正向/反向/双向/禁行 or 1/-1/0; "
    "the graph is then directed (forward = the direction the line is digitised in).<br>"
    "Facilities and people join the nearest road within <b>MAX_SNAP</b> (default "
    f"{D.MAX_SNAP:g} m); the off-road part is walked at <b>WALK_SPEED</b> (default {D.WALK_SPEED_KMH:g} km/h = 1.2 m/s, "
    "HCM 2010 / MUTCD 2009 §4E.06) and counted. Places farther from every road are reported and count as not reached.<br>"
    "Speeds per class (advanced):<br>")


def add_road_params(alg, roads="ROADS"):
    """ROADS, its fields, and the advanced speed / snapping parameters."""
    alg.addParameter(QgsProcessingParameterFeatureSource(roads, "道路 / Roads", [QgsProcessing.TypeVectorLine]))
    alg.addParameter(QgsProcessingParameterField("CLASS_FIELD", "道路等级字段 / Road class field",
                                                 parentLayerParameterName=roads, optional=True))
    for name, label in (("SPEED_FIELD", "车速字段 (km/h) / Speed field (km/h)"),
                        ("DIRECTION_FIELD", "单行方向字段 / One-way direction field")):
        alg.addParameter(QgsProcessingParameterField(name, label, parentLayerParameterName=roads, optional=True))
    params = []
    for c in D.ROAD_CLASSES:
        params.append(QgsProcessingParameterNumber(
            f"SPEED_{c.upper()}", f"车速 (km/h): {D.CLASS_ZH[c]} / Speed (km/h): {D.CLASS_EN[c]}",
            QgsProcessingParameterNumber.Double, D.SPEED_KMH[c], minValue=0.0))
    params.append(QgsProcessingParameterString("EXTRA_SPEEDS", "其他等级车速 (如 机耕道=15) / Other classes (e.g. 机耕道=15)",
                                               optional=True))
    params.append(QgsProcessingParameterNumber("DEFAULT_SPEED", "无等级道路车速 (km/h) / Speed of roads without a class",
                                               QgsProcessingParameterNumber.Double, D.DEFAULT_SPEED_KMH, minValue=0.1))
    params.append(QgsProcessingParameterNumber("WALK_SPEED", "步行速度 (km/h) / Walking speed (km/h)",
                                               QgsProcessingParameterNumber.Double, D.WALK_SPEED_KMH, minValue=0.1))
    params.append(QgsProcessingParameterNumber("MAX_SNAP", "最大吸附距离 (m) / Max snap distance (m)",
                                               QgsProcessingParameterNumber.Double, D.MAX_SNAP, minValue=0.1))
    params.append(QgsProcessingParameterEnum("NODING", "路网连接方式 / Road noding", options=[
        "共享节点 (同 QGIS, OSM) / shared vertices (as QGIS, OSM)", "所有交叉点 / every crossing"],
        defaultValue=SD.NODINGS.index(SD.NODING)))
    params.append(QgsProcessingParameterBoolean("REPAIR", "修复无效几何 / Repair invalid geometry", defaultValue=False))
    for p in params:
        p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        alg.addParameter(p)


def read_road_params(alg, parameters, context):
    field = lambda name: alg.parameterAsString(parameters, name, context) or None  # noqa: E731
    return {"class_field": field("CLASS_FIELD"), "speed_field": field("SPEED_FIELD"),
            "direction_field": field("DIRECTION_FIELD"),
            "speeds": {c: alg.parameterAsDouble(parameters, f"SPEED_{c.upper()}", context) for c in D.ROAD_CLASSES},
            "extra": alg.parameterAsString(parameters, "EXTRA_SPEEDS", context) or None,
            "default_speed": alg.parameterAsDouble(parameters, "DEFAULT_SPEED", context),
            "walk_speed": alg.parameterAsDouble(parameters, "WALK_SPEED", context),
            "max_snap": alg.parameterAsDouble(parameters, "MAX_SNAP", context),
            "noding": SD.NODINGS[alg.parameterAsEnum(parameters, "NODING", context)],
            "repair": alg.parameterAsBool(parameters, "REPAIR", context)}
