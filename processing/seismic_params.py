"""Parameters shared by riskmap:seismichazard and riskmap:earthquakeimpact: the hazard (a PGA or
intensity layer, or a scenario earthquake) and the reporting units. Declaration, help text and
reading only; no analysis here."""
from qgis.core import (QgsCoordinateReferenceSystem, QgsProcessing, QgsProcessingParameterBoolean,
                       QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField, QgsProcessingParameterMapLayer,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber, QgsProcessingParameterPoint,
                       QgsProcessingParameterString)

from ..risk_plugin.definitions import seismic as D
from ..risk_plugin.exposure import UnitSpec
from ..risk_plugin.seismic.field import Conversion
from .layers import layer_file, split_list, vector_file

MEASURE_LABELS = ["自动 (全部 ≤ 2 为 PGA) / auto (PGA when every value <= 2)", "烈度 / intensity", "峰值加速度 PGA / PGA"]
PGA_UNIT_LABELS = ["g", "m/s²", "gal (cm/s²)"]
PGA_UNIT_KEYS = ["g", "m/s2", "gal"]
PGA_RULE_LABELS = ["GB 18306-2015 表 G.1 (分档) / GB 18306 bands", "GB/T 17742-2020 仪器烈度公式 / GB/T 17742 formula"]
ROUNDING_LABELS = ["向下取整 (等震线, VII 度区 = 7 ≤ I < 8) / floor (isoseismal zones)",
                   "四舍五入 ((m−0.5, m+0.5], PAGER/InaSAFE) / nearest", "相邻烈度间线性插值 / interpolate"]
ATTENUATION_KEYS = list(D.ATTENUATION)
ATTENUATION_LABELS = [f"{D.ATTENUATION_LABELS[k][0]} / {D.ATTENUATION_LABELS[k][1]}" for k in ATTENUATION_KEYS]

HAZARD_HELP = (
    "<b>HAZARD</b>: the seismic hazard as a raster (PGA or intensity per cell; nodata = not covered) or polygons "
    "(a GB 18306-2015 ground-motion zoning with PGA such as 0.10/0.15g and optionally the characteristic period, or "
    "intensity zones VI … X written 7, Ⅶ, VII度, 烈度7; '<Ⅵ' and '≥0.40g' are understood). "
    "<b>PGA_FIELD</b> / <b>INTENSITY_FIELD</b> / <b>PERIOD_FIELD</b> (default: a field named 地震动峰值加速度/峰值加速度/PGA, "
    "烈度/地震烈度, 反应谱特征周期/特征周期/Tg). "
    f"<b>MEASURE</b> (advanced, default auto: PGA when every value is <= {D.AUTO_PGA_MAX_G:g}, else intensity; "
    "polygons with a PGA field are PGA). <b>PGA_UNIT</b> (advanced, default g; m/s², gal). "
    "<b>PGA_RULE</b> (advanced, default GB 18306-2015 表 G.1: [0.04, 0.09) g → VI, [0.09, 0.19) → VII, [0.19, 0.38) → VIII, "
    "[0.38, 0.75) → IX, ≥ 0.75 → X; or the GB/T 17742-2020 instrumental intensity I = 3.17·lg(PGA m/s²) + 6.59). "
    f"<b>SITE_CLASS</b> (default {D.SITE_CLASS}): the II-class PGA is multiplied by Fa of GB 18306-2015 for site classes "
    "I0/I1/III/IV (interpolated between 0.05g … 0.40g). The characteristic period is carried to the outputs; the "
    "intensity-based damage model does not use it.<br>"
    "Or a scenario earthquake instead of HAZARD: <b>EPICENTRE</b> (a point, e.g. <i>577600,3265000 [EPSG:4545]</i>), "
    f"<b>MAGNITUDE</b> (Ms, {D.MAGNITUDE_RANGE[0]:g}–{D.MAGNITUDE_RANGE[1]:g}), <b>DEPTH</b> (km, default 10; checked "
    f"against the shallow-crustal range {D.DEPTH_RANGE_KM[0]:g}–{D.DEPTH_RANGE_KM[1]:g} km of the relations, which use "
    "epicentral distance: the depth does not enter them), <b>ATTENUATION</b> (default 中强地震活动区 of 俞言祥等 2013, the "
    "relation of GB 18306-2015 for central and southern China: I = 5.8410 + 1.0710·M − 3.6570·lg(Ra + 15) along the long "
    "axis, 3.9440 + 1.0710·M − 2.8450·lg(Rb + 7) along the short axis; also the eastern, Xinjiang and Qinghai-Tibet "
    "relations of 2013 and the western/eastern relations of 汪素云等 2000), <b>STRIKE</b> (long-axis azimuth, degrees from "
    "north; default −1 = the strike of the nearest fault in <b>FAULTS</b> within 50 km, else north). The site "
    "intensity is that of the elliptical isoseismal through it.<br>"
    "<b>UNITS</b>: townships and villages (one or more polygon layers); <b>NAME_FIELDS</b>, <b>CODE_FIELDS</b>, "
    "<b>PARENT_FIELDS</b>: comma-separated, one per layer (default: found by 名称, 行政区划代码, 上级代码).<br>"
    "<b>ROUNDING</b> (advanced, default floor): a continuous intensity → its degree: floor (the isoseismal convention "
    "of Chinese intensity maps), nearest (PAGER/InaSAFE MMI bins), or interpolate (rates interpolated between degrees).")


def add_hazard_params(alg, advanced_scenario=False):
    """HAZARD, its fields, the conversion, the scenario and the units."""
    alg.addParameter(QgsProcessingParameterMapLayer(
        "HAZARD", "地震危险性 (PGA/烈度 栅格或区划面) / Seismic hazard (PGA or intensity raster or zones)",
        types=[QgsProcessing.TypeRaster, QgsProcessing.TypeVectorPolygon], optional=True))
    alg.addParameter(QgsProcessingParameterPoint("EPICENTRE", "设定地震震中 / Scenario epicentre", optional=True))
    alg.addParameter(QgsProcessingParameterNumber("MAGNITUDE", "震级 Ms / Magnitude Ms", QgsProcessingParameterNumber.Double,
                                                  None, optional=True, minValue=0.0, maxValue=9.5))
    alg.addParameter(QgsProcessingParameterNumber("DEPTH", "震源深度 (km) / Focal depth (km)", QgsProcessingParameterNumber.Double,
                                                  10.0, minValue=0.0, maxValue=700.0))
    alg.addParameter(QgsProcessingParameterEnum("ATTENUATION", "烈度衰减关系 / Intensity attenuation relation",
                                                options=ATTENUATION_LABELS, defaultValue=ATTENUATION_KEYS.index(D.ATTENUATION_DEFAULT)))
    alg.addParameter(QgsProcessingParameterFeatureSource("FAULTS", "断层 (定长轴方向) / Faults (long-axis direction)",
                                                         [QgsProcessing.TypeVectorLine], optional=True))
    alg.addParameter(QgsProcessingParameterMultipleLayers(
        "UNITS", "统计单元 (乡镇、村…) / Reporting units (townships, villages …)", QgsProcessing.TypeVectorPolygon, optional=True))
    alg.addParameter(QgsProcessingParameterEnum("SITE_CLASS", "场地类别 / Site class", options=list(D.SITE_CLASSES),
                                                defaultValue=D.SITE_CLASSES.index(D.SITE_CLASS)))
    advanced = [
        QgsProcessingParameterNumber("STRIKE", "长轴方位 (°, −1 = 由断层) / Long-axis azimuth (°, −1 = from faults)",
                                     QgsProcessingParameterNumber.Double, -1.0, minValue=-1.0, maxValue=360.0),
        QgsProcessingParameterField("PGA_FIELD", "峰值加速度字段 / PGA field", parentLayerParameterName="HAZARD", optional=True),
        QgsProcessingParameterField("INTENSITY_FIELD", "烈度字段 / Intensity field", parentLayerParameterName="HAZARD", optional=True),
        QgsProcessingParameterField("PERIOD_FIELD", "特征周期字段 / Characteristic-period field", parentLayerParameterName="HAZARD",
                                    optional=True),
        QgsProcessingParameterEnum("MEASURE", "危险性数值含义 / What the hazard values are", options=MEASURE_LABELS, defaultValue=0),
        QgsProcessingParameterEnum("PGA_UNIT", "PGA 单位 / PGA unit", options=PGA_UNIT_LABELS, defaultValue=0),
        QgsProcessingParameterEnum("PGA_RULE", "PGA→烈度 / PGA to intensity", options=PGA_RULE_LABELS,
                                   defaultValue=D.PGA_RULES.index(D.PGA_RULE)),
        QgsProcessingParameterEnum("ROUNDING", "烈度取整 / Intensity to degree", options=ROUNDING_LABELS,
                                   defaultValue=D.ROUNDINGS.index(D.ROUNDING)),
        QgsProcessingParameterString("NAME_FIELDS", "名称字段 (逗号分隔) / Name fields (comma-separated)", optional=True,
                                     defaultValue=""),
        QgsProcessingParameterString("CODE_FIELDS", "代码字段 (逗号分隔) / Code fields (comma-separated)", optional=True,
                                     defaultValue=""),
        QgsProcessingParameterString("PARENT_FIELDS", "上级代码字段 (逗号分隔) / Parent-code fields", optional=True,
                                     defaultValue=""),
        QgsProcessingParameterBoolean("REPAIR", "修复无效几何 / Repair invalid geometry", defaultValue=False),
    ]
    for p in advanced:
        p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        alg.addParameter(p)


def _s(alg, parameters, name, context):
    return alg.parameterAsString(parameters, name, context) or None


def read_hazard_params(alg, parameters, context, feedback):
    """Keyword arguments for the engine's hazard and units."""
    p, c = parameters, context
    hazard_layer = alg.parameterAsLayer(p, "HAZARD", c)
    epicentre = None
    if p.get("EPICENTRE") not in (None, ""):
        crs = alg.parameterAsPointCrs(p, "EPICENTRE", c)
        pt = alg.parameterAsPoint(p, "EPICENTRE", c, crs)
        if not crs.isValid():
            crs = context.project().crs() if context.project() else QgsCoordinateReferenceSystem()
        epicentre = (pt.x(), pt.y(), crs.toWkt() if crs.isValid() else None)
    magnitude = alg.parameterAsDouble(p, "MAGNITUDE", c) if p.get("MAGNITUDE") not in (None, "") else None
    strike = alg.parameterAsDouble(p, "STRIKE", c)
    units_layers = alg.parameterAsLayerList(p, "UNITS", c) or []
    n = len(units_layers)
    names = split_list(alg.parameterAsString(p, "NAME_FIELDS", c), n)
    codes = split_list(alg.parameterAsString(p, "CODE_FIELDS", c), n)
    parents = split_list(alg.parameterAsString(p, "PARENT_FIELDS", c), n)
    units = [UnitSpec(vector_file(lyr, c, f"units{i}"), names[i], codes[i], parents[i], lyr.name())
             for i, lyr in enumerate(units_layers)]
    conv = Conversion(measure=D.MEASURES[alg.parameterAsEnum(p, "MEASURE", c)],
                      pga_unit=PGA_UNIT_KEYS[alg.parameterAsEnum(p, "PGA_UNIT", c)],
                      pga_rule=D.PGA_RULES[alg.parameterAsEnum(p, "PGA_RULE", c)],
                      site_class=D.SITE_CLASSES[alg.parameterAsEnum(p, "SITE_CLASS", c)])
    return {"hazard": layer_file(hazard_layer, c, "hazard") if hazard_layer is not None else None, "conv": conv,
            "pga_field": _s(alg, p, "PGA_FIELD", c), "intensity_field": _s(alg, p, "INTENSITY_FIELD", c),
            "period_field": _s(alg, p, "PERIOD_FIELD", c), "epicentre": epicentre, "magnitude": magnitude,
            "depth": alg.parameterAsDouble(p, "DEPTH", c),
            "attenuation_key": ATTENUATION_KEYS[alg.parameterAsEnum(p, "ATTENUATION", c)],
            "strike": strike if strike >= 0 else None,
            "faults": alg.vector_path(p, "FAULTS", c, feedback), "units": units,
            "rounding": D.ROUNDINGS[alg.parameterAsEnum(p, "ROUNDING", c)],
            "repair": alg.parameterAsBool(p, "REPAIR", c)}
