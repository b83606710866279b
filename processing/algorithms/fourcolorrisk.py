from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterBoolean,
                       QgsProcessingParameterCrs, QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterMapLayer,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer, QgsProcessingParameterString,
                       QgsProcessingParameterVectorDestination)

from ...risk_plugin.definitions import exposure as E
from ...risk_plugin.definitions import fourcolor as D
from ...risk_plugin.exposure import UnitSpec
from ...risk_plugin.fourcolor import run_fourcolor
from ..base import RiskMapAlgorithm
from ..fields import layer_field_parameter
from ..layers import layer_file
from ..stacking import load_styled
from .exposure import BUILDING_RULES, CELL_RULES, POP_UNITS

MATRIX_TEXT = "; ".join(",".join(str(v) for v in row) for row in D.MATRIX)
SUPPORTS = ["规则网格 / regular grid", "行政单元 (村/乡镇) / admin units (villages or townships)"]


def _joined(values):
    return ",".join(f"{v:g}" for v in values)


NUMBERS = [(f"PEOPLE_LEVEL_{k}", f"{zh}人口 / People at level {k}") for k, zh in
           zip(range(1, 5), ("重大风险", "较大风险", "一般风险", "低风险"))] + \
          [(f"BUILDINGS_LEVEL_{k}", f"{k} 级建筑 / Buildings at level {k}") for k in range(1, 5)] + \
          [(f"AREA_KM2_LEVEL_{k}", f"{k} 级面积 (km²) / Area at level {k} (km²)") for k in range(1, 5)] + \
          [("SUPPORTS", "评估图斑数 / Number of supports")]


class FourColorRiskAlgorithm(RiskMapAlgorithm):
    ALG_ID = "fourcolorrisk"
    NAME_ZH, NAME_EN = "自然灾害风险四色图", "Four-color risk map"
    GROUP_ID, GROUP_ZH, GROUP_EN = "risk", "风险评估", "Risk assessment"
    ORDER = 20
    HAZARD, HAZARD_FIELD, HAZARD_MAPPING = "HAZARD", "HAZARD_FIELD", "HAZARD_MAPPING"
    POPULATION, POPULATION_UNIT, BUILDINGS, RESIDENTS_FIELD = "POPULATION", "POPULATION_UNIT", "BUILDINGS", "RESIDENTS_FIELD"
    FACILITIES, FACILITY_TYPE_FIELD = "FACILITIES", "FACILITY_TYPE_FIELD"
    TOWNSHIPS, TOWNSHIP_NAME_FIELD, TOWNSHIP_CODE_FIELD = "TOWNSHIPS", "TOWNSHIP_NAME_FIELD", "TOWNSHIP_CODE_FIELD"
    UNITS, UNIT_NAME_FIELD, UNIT_CODE_FIELD, UNIT_PARENT_FIELD = "UNITS", "UNIT_NAME_FIELD", "UNIT_CODE_FIELD", "UNIT_PARENT_FIELD"
    SUPPORT, CELL_SIZE, RISK_MATRIX = "SUPPORT", "CELL_SIZE", "RISK_MATRIX"
    PEOPLE_BREAKS, BUILDING_BREAKS, FACILITY_MIN_EXPOSURE = "PEOPLE_BREAKS", "BUILDING_BREAKS", "FACILITY_MIN_EXPOSURE"
    VULNERABILITY, VULNERABILITY_RAISE = "VULNERABILITY", "VULNERABILITY_RAISE"
    CELL_RULE, BUILDING_RULE, MAX_CELL, REPAIR, OUTPUT_CRS = "CELL_RULE", "BUILDING_RULE", "MAX_CELL", "REPAIR", "OUTPUT_CRS"
    OUTPUT, OUTPUT_TABLE = "OUTPUT", "OUTPUT_TABLE"
    HELP = (
        "由危险性等级与暴露度 (人口、建筑、学校/医院/养老院) 经风险矩阵得到风险等级 1 重大 (红)、2 较大 (橙)、3 一般 (黄)、"
        "4 低 (蓝), 可按规则网格或村/乡镇评估, 并按乡镇统计各级面积、人口与建筑。<br>"
        "Risk level 1 major (red), 2 considerable (orange), 3 general (yellow), 4 low (blue) from hazard class × "
        "exposure (people, buildings, schools / hospitals / elderly homes) through a risk matrix, on a regular grid "
        "or on villages / townships, with area, people and buildings per level per township.<br><br>"
        "<b>HAZARD</b>, <b>HAZARD_FIELD</b>, <b>HAZARD_MAPPING</b>, <b>POPULATION</b> (required), "
        "<b>POPULATION_UNIT</b>, <b>BUILDINGS</b>, <b>FACILITIES</b>, <b>CELL_RULE</b>, <b>BUILDING_RULE</b>: as "
        "riskmap:exposure, which does the counting.<br>"
        "<b>SUPPORT</b> (default grid): <b>CELL_SIZE</b> (default 100 m, 50–1000 m: the 万米单元网格 of "
        "GB/T 30428.1-2013 网格化管理), clipped to TOWNSHIPS; or <b>UNITS</b> (villages or townships).<br>"
        "<b>TOWNSHIPS</b> (optional): township polygons; every support gets its township (grid pieces by "
        "clipping, units by parent code or location); loaded with the township outline style on top of the map.<br>"
        "How a support is graded: for each hazard class c present in it, exposure class E_c = the highest class "
        "of (people in class c per km² of the support: <b>PEOPLE_BREAKS</b>, default " + _joined(D.PEOPLE_BREAKS) +
        "), (buildings in class c per km²: <b>BUILDING_BREAKS</b>, default " + _joined(D.BUILDING_BREAKS) +
        "), and at least <b>FACILITY_MIN_EXPOSURE</b> (default " + str(D.FACILITY_MIN_EXPOSURE) + ") where a school, "
        "hospital or elderly home lies in class c. Level = <b>RISK_MATRIX</b>[c][E_c]; the support takes the most "
        "severe level over its classes; class 0 is 低. A value equal to a break falls in the upper class. "
        "Breaks: 100/km² ≈ national mean density (七普 2020), 5 000/km² ≈ built-up land (GB 50188-2007: "
        "80–140 m² per person); buildings = people ÷ 3.3 residents per dwelling; facilities: people who cannot "
        "evacuate alone (重要承灾体, 第一次全国自然灾害综合风险普查). Project defaults: calibrate locally.<br>"
        "<b>RISK_MATRIX</b> (default <i>" + MATRIX_TEXT + "</i>): 4 rows = hazard 1 低 … 4 极高, 4 columns = exposure "
        "1 … 4, entries = level 1 重大 … 4 低. The default bands R = H × E as the GB/T 27921-2011 (ISO 31010) / LS "
        "risk matrix: R ≥ 12 重大, 8–9 较大, 4–6 一般, 1–3 低.<br>"
        "<b>VULNERABILITY</b> (optional raster, 0 robust … 1 fragile): an area mean ≥ <b>VULNERABILITY_RAISE</b> "
        "(default 0.667, the upper tercile) raises the level one step; it never lowers one.<br>"
        "<b>OUTPUT</b>: risk polygons with risk_level, risk_zh, risk_en, color (styles/classes.json "
        "'risk_levels'), hazard_class and exposure_class (decisive), people, buildings, schools, hospitals, "
        "elderly_homes, area_km2, township_code, township_name; loaded with the four official colours and the "
        "legend 重大风险 / 较大风险 / 一般风险 / 低风险. <b>OUTPUT_TABLE</b>: area, people, buildings per level per "
        "township and for the county (CSV or XLSX).<br>"
        "Numeric outputs: " + ", ".join(f"<b>{k}</b>" for k, _ in NUMBERS) + ".")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterMapLayer(
            self.HAZARD, "危险性等级 (栅格或面) / Hazard classes (raster or polygons)",
            types=[QgsProcessing.TypeRaster, QgsProcessing.TypeVectorPolygon]))
        self.addParameter(layer_field_parameter(self.HAZARD_FIELD, "危险性字段 (面) / Hazard field (polygons)",
                                                self.HAZARD))
        self.addParameter(QgsProcessingParameterString(self.HAZARD_MAPPING, "文字→等级映射 / Text→class mapping",
                                                       optional=True, defaultValue=""))
        self.addParameter(QgsProcessingParameterRasterLayer(self.POPULATION, "人口栅格 / Population raster"))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.BUILDINGS, "建筑物 / Buildings", [QgsProcessing.TypeVectorPolygon, QgsProcessing.TypeVectorPoint], optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.FACILITIES, "重点设施 (学校/医院/养老院) / Key facilities",
            [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.TOWNSHIPS, "乡镇/街道 / Townships", [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterEnum(self.SUPPORT, "评估单元 / Support", options=SUPPORTS, defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(
            self.CELL_SIZE, "网格大小 (m) / Grid cell size (m)", QgsProcessingParameterNumber.Double, D.CELL_SIZE,
            minValue=D.CELL_SIZE_RANGE[0], maxValue=D.CELL_SIZE_RANGE[1]))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.UNITS, "村/乡镇 (按行政单元时) / Villages or townships (admin-unit support)",
            [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterString(self.RISK_MATRIX, "风险矩阵 (行: 危险性 1..4; 列: 暴露度 1..4) / Risk matrix",
                                                       defaultValue=MATRIX_TEXT))
        self.addParameter(QgsProcessingParameterRasterLayer(self.VULNERABILITY, "脆弱性 (0–1) / Vulnerability (0–1)",
                                                            optional=True))
        advanced = [
            QgsProcessingParameterString(self.PEOPLE_BREAKS, "人口密度分级 (人/km²) / People per km² breaks",
                                         defaultValue=_joined(D.PEOPLE_BREAKS)),
            QgsProcessingParameterString(self.BUILDING_BREAKS, "建筑密度分级 (栋/km²) / Buildings per km² breaks",
                                         defaultValue=_joined(D.BUILDING_BREAKS)),
            QgsProcessingParameterNumber(self.FACILITY_MIN_EXPOSURE, "有重点设施时最低暴露度 / Minimum exposure with key facilities",
                                         QgsProcessingParameterNumber.Integer, D.FACILITY_MIN_EXPOSURE, minValue=1, maxValue=4),
            QgsProcessingParameterNumber(self.VULNERABILITY_RAISE, "脆弱性升级阈值 / Vulnerability raising threshold",
                                         QgsProcessingParameterNumber.Double, round(D.VULNERABILITY_RAISE, 3)),
            QgsProcessingParameterEnum(self.POPULATION_UNIT, "人口栅格单位 / Population unit", options=POP_UNITS, defaultValue=0),
            QgsProcessingParameterField(self.RESIDENTS_FIELD, "居住人数字段 / Residents field",
                                        parentLayerParameterName=self.BUILDINGS, optional=True,
                                        type=QgsProcessingParameterField.Numeric),
            QgsProcessingParameterField(self.FACILITY_TYPE_FIELD, "设施类型字段 / Facility type field",
                                        parentLayerParameterName=self.FACILITIES, optional=True),
            QgsProcessingParameterField(self.TOWNSHIP_NAME_FIELD, "乡镇名称字段 / Township name field",
                                        parentLayerParameterName=self.TOWNSHIPS, optional=True),
            QgsProcessingParameterField(self.TOWNSHIP_CODE_FIELD, "乡镇代码字段 / Township code field",
                                        parentLayerParameterName=self.TOWNSHIPS, optional=True),
            QgsProcessingParameterField(self.UNIT_NAME_FIELD, "单元名称字段 / Unit name field",
                                        parentLayerParameterName=self.UNITS, optional=True),
            QgsProcessingParameterField(self.UNIT_CODE_FIELD, "单元代码字段 / Unit code field",
                                        parentLayerParameterName=self.UNITS, optional=True),
            QgsProcessingParameterField(self.UNIT_PARENT_FIELD, "上级 (乡镇) 代码字段 / Parent (township) code field",
                                        parentLayerParameterName=self.UNITS, optional=True),
            QgsProcessingParameterEnum(self.CELL_RULE, "像元计数规则 / Cell rule", options=CELL_RULES, defaultValue=0),
            QgsProcessingParameterEnum(self.BUILDING_RULE, "建筑计数规则 / Building rule", options=BUILDING_RULES, defaultValue=0),
            QgsProcessingParameterNumber(self.MAX_CELL, "最大子像元 (m, 0=自动) / Largest sub-cell (m, 0 = auto)",
                                         QgsProcessingParameterNumber.Double, 0.0, minValue=0.0),
            QgsProcessingParameterBoolean(self.REPAIR, "修复无效几何 / Repair invalid geometry", defaultValue=False),
            QgsProcessingParameterCrs(self.OUTPUT_CRS, "输出坐标系 / Output CRS", optional=True),
        ]
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT, "风险四色图 / Four-color risk map",
                                                                  QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_TABLE, "乡镇风险统计表 / Risk per township", "Excel (*.xlsx);;CSV (*.csv)", optional=True,
            createByDefault=True))
        for key, label in NUMBERS:
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def _s(self, parameters, name, context):
        return self.parameterAsString(parameters, name, context) or None

    def execute(self, parameters, context, feedback, progress):
        p, c = parameters, context
        townships = self.vector_path(p, self.TOWNSHIPS, c, feedback)
        units = self.vector_path(p, self.UNITS, c, feedback)
        out_crs = self.parameterAsCrs(p, self.OUTPUT_CRS, c)
        output = self.parameterAsOutputLayer(p, self.OUTPUT, c)
        table = self.parameterAsFileOutput(p, self.OUTPUT_TABLE, c) or None
        result = run_fourcolor(
            hazard=layer_file(self.parameterAsLayer(p, self.HAZARD, c), c, "hazard"),
            population=self.raster_path(p, self.POPULATION, c),
            buildings=self.vector_path(p, self.BUILDINGS, c, feedback),
            facilities=self.vector_path(p, self.FACILITIES, c, feedback),
            townships=UnitSpec(townships, self._s(p, self.TOWNSHIP_NAME_FIELD, c), self._s(p, self.TOWNSHIP_CODE_FIELD, c))
            if townships else None,
            units=UnitSpec(units, self._s(p, self.UNIT_NAME_FIELD, c), self._s(p, self.UNIT_CODE_FIELD, c),
                           self._s(p, self.UNIT_PARENT_FIELD, c)) if units else None,
            support=D.SUPPORTS[self.parameterAsEnum(p, self.SUPPORT, c)],
            cell_size=self.parameterAsDouble(p, self.CELL_SIZE, c),
            hazard_field=self._s(p, self.HAZARD_FIELD, c), hazard_mapping=self._s(p, self.HAZARD_MAPPING, c),
            population_unit=E.POPULATION_UNITS[self.parameterAsEnum(p, self.POPULATION_UNIT, c)],
            residents_field=self._s(p, self.RESIDENTS_FIELD, c),
            facility_type_field=self._s(p, self.FACILITY_TYPE_FIELD, c),
            matrix=self.parameterAsString(p, self.RISK_MATRIX, c),
            people_breaks=self.parameterAsString(p, self.PEOPLE_BREAKS, c),
            building_breaks=self.parameterAsString(p, self.BUILDING_BREAKS, c),
            facility_min=self.parameterAsInt(p, self.FACILITY_MIN_EXPOSURE, c),
            vulnerability=self.raster_path(p, self.VULNERABILITY, c),
            vulnerability_raise=self.parameterAsDouble(p, self.VULNERABILITY_RAISE, c),
            cell_rule=E.CELL_RULES[self.parameterAsEnum(p, self.CELL_RULE, c)],
            building_rule=E.BUILDING_RULES[self.parameterAsEnum(p, self.BUILDING_RULE, c)],
            max_cell_m=self.parameterAsDouble(p, self.MAX_CELL, c) or None,
            output=output, output_table=table, output_crs=out_crs.toWkt() if out_crs.isValid() else None,
            repair=self.parameterAsBool(p, self.REPAIR, c), progress=progress)
        if context.willLoadLayerOnCompletion(output):
            load_styled(context, output, "risk_levels", "风险四色图 / Four-color risk map", field="risk_level")
            if townships:
                load_styled(context, townships, "townships", "乡镇界 / Township boundaries", on_top=True)
        for k in range(1, 5):
            feedback.pushInfo(f"{NUMBERS[k - 1][1]}: {result[f'PEOPLE_LEVEL_{k}']:,.0f}")
        out = {self.OUTPUT: output, self.OUTPUT_TABLE: table}
        out.update({k: result[k] for k, _ in NUMBERS})
        return out
