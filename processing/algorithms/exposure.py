from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterBoolean,
                       QgsProcessingParameterCrs, QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterMapLayer,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString,
                       QgsProcessingParameterVectorDestination)

from ...risk_plugin.definitions import exposure as D
from ...risk_plugin.exposure import UnitSpec, run_exposure
from ..base import RiskMapAlgorithm
from ..fields import layer_field_parameter
from ..layers import layer_file, split_list, vector_file

POP_UNITS = ["人/像元 / people per cell", "人/km² / people per km²", "人/m² / people per m²"]
CELL_RULES = ["像元中心 / cell centre", "所有接触像元 / all touched", "精确面积比例 / exact fraction"]
BUILDING_RULES = ["质心 / centroid", "接触的最高等级 / highest class touched"]
NUMBERS = (("POPULATION_TOTAL", "单元内总人口 / People in the units"),
           ("POPULATION_EXPOSED", "受威胁人口 (等级≥1) / People exposed (class ≥ 1)"),
           ("BUILDINGS_TOTAL", "单元内建筑 / Buildings in the units"),
           ("BUILDINGS_EXPOSED", "受威胁建筑 (等级≥1) / Buildings exposed (class ≥ 1)"),
           ("FACILITIES_EXPOSED", "受威胁重点设施 / Key facilities exposed"),
           ("POPULATION_RASTER_TOTAL", "人口栅格总人口 / Population raster total"))


class ExposureAlgorithm(RiskMapAlgorithm):
    ALG_ID = "exposure"
    NAME_ZH, NAME_EN = "承灾体暴露度统计", "Exposure per township and village"
    GROUP_ID, GROUP_ZH, GROUP_EN = "risk", "风险评估", "Risk assessment"
    ORDER = 10
    HAZARD, HAZARD_FIELD, HAZARD_MAPPING = "HAZARD", "HAZARD_FIELD", "HAZARD_MAPPING"
    POPULATION, POPULATION_UNIT = "POPULATION", "POPULATION_UNIT"
    BUILDINGS, RESIDENTS_FIELD, BUILDING_RULE = "BUILDINGS", "RESIDENTS_FIELD", "BUILDING_RULE"
    FACILITIES, FACILITY_TYPE_FIELD, FACILITY_NAME_FIELD = "FACILITIES", "FACILITY_TYPE_FIELD", "FACILITY_NAME_FIELD"
    UNITS, NAME_FIELDS, CODE_FIELDS, PARENT_FIELDS = "UNITS", "NAME_FIELDS", "CODE_FIELDS", "PARENT_FIELDS"
    CELL_RULE, MAX_CELL, REPAIR, OUTPUT_CRS = "CELL_RULE", "MAX_CELL", "REPAIR", "OUTPUT_CRS"
    OUTPUT_UNITS, OUTPUT_TABLE = "OUTPUT_UNITS", "OUTPUT_TABLE"
    HELP = (
        "统计每个乡镇、村 (统计单元) 内各危险性等级中的人口、建筑与学校/医院/养老院。<br>"
        "Counts people, buildings and schools / hospitals / elderly homes per hazard class in every township and "
        "village (reporting unit).<br><br>"
        "<b>HAZARD</b>: hazard class raster (0 none, 1 low … 4 very high, e.g. riskmap:floodhazard or "
        "riskmap:compositezoning output; depth rasters must be classified first) or hazard polygons.<br>"
        "<b>HAZARD_FIELD</b> (polygons): the field holding the class or a text value. "
        "<b>HAZARD_MAPPING</b> (default empty): text→class pairs, case-insensitive, e.g. <i>yes=3; no=0</i> "
        "(YES, yes and Yes are one value). Empty: values must be classes 0..4 or labels 低/中/高/极高. "
        "Every unmapped value is reported with its features.<br>"
        "<b>POPULATION</b>: population raster; <b>POPULATION_UNIT</b> (default people per cell; or per km², per m² "
        "→ multiplied by the true cell area, geodesic for geographic rasters). The raster is never warped: "
        "cells are split into equal sub-cells no larger than the hazard cell and boundaries are projected onto "
        "them, so the per-unit totals plus the people outside every unit equal the raster total.<br>"
        "<b>BUILDINGS</b>: footprints or points; <b>RESIDENTS_FIELD</b> (default: 居住人数/常住人口/人口) adds "
        "residents per class. <b>BUILDING_RULE</b> (default centroid: the class at the centroid, as the "
        "QGIS-native Centroids + Count points in polygon chain; or highest class touched, conservative). "
        "Either way a building counts once, in the unit holding its centroid.<br>"
        "<b>FACILITIES</b>: points with a type field (<b>FACILITY_TYPE_FIELD</b>, default 类型: 学校/幼儿园 → "
        "school, 医院/卫生院 → hospital, 养老院/敬老院 → elderly home).<br>"
        "<b>UNITS</b>: one or more polygon layers (e.g. townships and villages). <b>NAME_FIELDS</b>, "
        "<b>CODE_FIELDS</b>, <b>PARENT_FIELDS</b>: comma-separated, one per layer in order; empty = found by alias "
        "(名称, 行政区划代码, 上级代码). Without UNITS everything is counted as one area.<br>"
        "<b>CELL_RULE</b> (default cell centre, as QGIS Zonal statistics): raster cells against polygons. "
        "All touched: hazard polygons give a cell the highest class touching it; a cell touched by several units "
        "still counts once. Exact fraction: people split by the exact share of each cell inside each polygon "
        "(computed with Green's theorem on the clipped polygon edges, numpy-vectorised).<br>"
        "<b>MAX_CELL</b> (advanced, default 0 = the hazard raster's cell): largest sub-cell (m). "
        "<b>REPAIR</b> (default false): repair invalid geometries in memory instead of stopping. "
        "<b>OUTPUT_CRS</b> (default: CRS of the first UNITS layer).<br>"
        "<b>OUTPUT_UNITS</b>: every unit of every level (field <i>level</i>) with pop_c0…pop_c4, pop_exposed, "
        "bld_*, res_*, fac_* and per facility type. <b>OUTPUT_TABLE</b>: the same as CSV (one header row "
        "'中文 English') or XLSX (one sheet per level), with a row for people outside every unit.<br>"
        "Numeric outputs (over the first level's units): " + ", ".join(f"<b>{k}</b>" for k, _ in NUMBERS) +
        " (exposed = class ≥ 1; None when the input is not given).")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterMapLayer(
            self.HAZARD, "危险性等级 (栅格或面) / Hazard classes (raster or polygons)",
            types=[QgsProcessing.TypeRaster, QgsProcessing.TypeVectorPolygon]))
        self.addParameter(layer_field_parameter(self.HAZARD_FIELD, "危险性字段 (面) / Hazard field (polygons)",
                                                self.HAZARD))
        self.addParameter(QgsProcessingParameterString(self.HAZARD_MAPPING, "文字→等级映射 / Text→class mapping (yes=3; no=0)",
                                                       optional=True, defaultValue=""))
        self.addParameter(QgsProcessingParameterRasterLayer(self.POPULATION, "人口栅格 / Population raster", optional=True))
        self.addParameter(QgsProcessingParameterEnum(self.POPULATION_UNIT, "人口栅格单位 / Population unit",
                                                     options=POP_UNITS, defaultValue=0))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.BUILDINGS, "建筑物 / Buildings", [QgsProcessing.TypeVectorPolygon, QgsProcessing.TypeVectorPoint], optional=True))
        self.addParameter(QgsProcessingParameterField(self.RESIDENTS_FIELD, "居住人数字段 / Residents field",
                                                      parentLayerParameterName=self.BUILDINGS, optional=True,
                                                      type=QgsProcessingParameterField.Numeric))
        self.addParameter(QgsProcessingParameterEnum(self.BUILDING_RULE, "建筑计数规则 / Building rule",
                                                     options=BUILDING_RULES, defaultValue=0))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.FACILITIES, "重点设施 (学校/医院/养老院) / Key facilities", [QgsProcessing.TypeVectorPoint,
                                                                        QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterField(self.FACILITY_TYPE_FIELD, "设施类型字段 / Facility type field",
                                                      parentLayerParameterName=self.FACILITIES, optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.UNITS, "统计单元 (乡镇、村…) / Reporting units (townships, villages …)",
            QgsProcessing.TypeVectorPolygon, optional=True))
        self.addParameter(QgsProcessingParameterString(self.NAME_FIELDS, "名称字段 (逗号分隔) / Name fields (comma-separated)",
                                                       optional=True, defaultValue=""))
        self.addParameter(QgsProcessingParameterString(self.CODE_FIELDS, "代码字段 (逗号分隔) / Code fields (comma-separated)",
                                                       optional=True, defaultValue=""))
        self.addParameter(QgsProcessingParameterEnum(self.CELL_RULE, "像元计数规则 / Cell rule",
                                                     options=CELL_RULES, defaultValue=0))
        advanced = [
            QgsProcessingParameterString(self.PARENT_FIELDS, "上级代码字段 (逗号分隔) / Parent-code fields",
                                         optional=True, defaultValue=""),
            QgsProcessingParameterField(self.FACILITY_NAME_FIELD, "设施名称字段 / Facility name field",
                                        parentLayerParameterName=self.FACILITIES, optional=True),
            QgsProcessingParameterNumber(self.MAX_CELL, "最大子像元 (m, 0=危险性栅格像元) / Largest sub-cell (m, 0 = hazard cell)",
                                         QgsProcessingParameterNumber.Double, 0.0, minValue=0.0),
            QgsProcessingParameterBoolean(self.REPAIR, "修复无效几何 / Repair invalid geometry", defaultValue=False),
            QgsProcessingParameterCrs(self.OUTPUT_CRS, "输出坐标系 / Output CRS", optional=True),
        ]
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_UNITS, "暴露度 (统计单元) / Exposure per unit", QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_TABLE, "暴露度统计表 / Exposure table", "Excel (*.xlsx);;CSV (*.csv)", optional=True,
            createByDefault=True))
        for key, label in NUMBERS:
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def execute(self, parameters, context, feedback, progress):
        hazard_layer = self.parameterAsLayer(parameters, self.HAZARD, context)
        units_layers = self.parameterAsLayerList(parameters, self.UNITS, context) or []
        n = len(units_layers)
        names = split_list(self.parameterAsString(parameters, self.NAME_FIELDS, context), n)
        codes = split_list(self.parameterAsString(parameters, self.CODE_FIELDS, context), n)
        parents = split_list(self.parameterAsString(parameters, self.PARENT_FIELDS, context), n)
        units = [UnitSpec(vector_file(lyr, context, f"units{i}"), names[i], codes[i], parents[i], lyr.name())
                 for i, lyr in enumerate(units_layers)]
        out_crs = self.parameterAsCrs(parameters, self.OUTPUT_CRS, context)
        output_units = self.parameterAsOutputLayer(parameters, self.OUTPUT_UNITS, context)
        output_table = self.parameterAsFileOutput(parameters, self.OUTPUT_TABLE, context) or None
        result = run_exposure(
            hazard=layer_file(hazard_layer, context, "hazard"),
            hazard_field=self.parameterAsString(parameters, self.HAZARD_FIELD, context) or None,
            hazard_mapping=self.parameterAsString(parameters, self.HAZARD_MAPPING, context),
            population=self.raster_path(parameters, self.POPULATION, context),
            population_unit=D.POPULATION_UNITS[self.parameterAsEnum(parameters, self.POPULATION_UNIT, context)],
            buildings=self.vector_path(parameters, self.BUILDINGS, context, feedback),
            residents_field=self.parameterAsString(parameters, self.RESIDENTS_FIELD, context) or None,
            facilities=self.vector_path(parameters, self.FACILITIES, context, feedback),
            facility_type_field=self.parameterAsString(parameters, self.FACILITY_TYPE_FIELD, context) or None,
            facility_name_field=self.parameterAsString(parameters, self.FACILITY_NAME_FIELD, context) or None,
            units=units,
            cell_rule=D.CELL_RULES[self.parameterAsEnum(parameters, self.CELL_RULE, context)],
            building_rule=D.BUILDING_RULES[self.parameterAsEnum(parameters, self.BUILDING_RULE, context)],
            max_cell_m=self.parameterAsDouble(parameters, self.MAX_CELL, context) or None,
            output_units=output_units, output_table=output_table,
            output_crs=out_crs.toWkt() if out_crs.isValid() else None,
            repair=self.parameterAsBool(parameters, self.REPAIR, context), progress=progress)
        out = {self.OUTPUT_UNITS: output_units, self.OUTPUT_TABLE: output_table}
        out.update({k: result.get(k) for k, _ in NUMBERS})
        for k, label in NUMBERS:
            if result.get(k) is not None:
                feedback.pushInfo(f"{label}: {result[k]:,.1f}")
        return out
