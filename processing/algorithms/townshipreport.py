from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterDefinition,
                       QgsProcessingParameterMultipleLayers,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterFolderDestination,
                       QgsProcessingParameterNumber)

from ...risk_plugin.definitions import report as D
from ...risk_plugin.exposure import UnitSpec
from ...risk_plugin.report import run_township_report
from ..base import RiskMapAlgorithm
from ..layers import vector_file

NUMBERS = (("TOWNSHIPS", "乡镇数 (工作表) / Townships (sheets)"),
           ("VILLAGES_LEVEL_1", "重大风险村 / Villages at level 1"),
           ("GEOHAZARD_POINTS", "隐患点 / Geohazard points"),
           ("PEOPLE_THREATENED", "隐患点威胁人数合计 / People threatened by the points (sum)"),
           ("FACILITIES_ALERT", "红橙区重点设施 / Key facilities in red or orange zones"))


class TownshipReportAlgorithm(RiskMapAlgorithm):
    ALG_ID = "townshipreport"
    NAME_ZH, NAME_EN = "乡镇风险报表", "Township risk report"
    GROUP_ID, GROUP_ZH, GROUP_EN = "briefing", "汇报成果", "Briefing outputs"
    ORDER = 10
    TOWNSHIPS, RISK, VILLAGES, GEOHAZARDS, FACILITIES = "TOWNSHIPS", "RISK", "VILLAGES", "GEOHAZARDS", "FACILITIES"
    RISK_OTHER = "RISK_OTHER"
    ALERT_LEVEL, TOWNSHIP_NAME_FIELD, TOWNSHIP_CODE_FIELD = "ALERT_LEVEL", "TOWNSHIP_NAME_FIELD", "TOWNSHIP_CODE_FIELD"
    VILLAGE_NAME_FIELD, VILLAGE_CODE_FIELD, VILLAGE_PARENT_FIELD = "VILLAGE_NAME_FIELD", "VILLAGE_CODE_FIELD", "VILLAGE_PARENT_FIELD"
    OUTPUT, OUTPUT_CSV = "OUTPUT", "OUTPUT_CSV"
    HELP = (
        "每个乡镇一张工作表: 各风险等级的人口、建筑与面积; 村(社区)按风险排序; 地质灾害隐患点及威胁户数、人数; "
        "红色、橙色风险区内的学校、医院、养老院。输出中文表头的 XLSX 与 CSV。<br>"
        "One sheet per township: people, buildings and area per risk level; villages ranked by risk; geohazard "
        "points with threatened households and people; schools, hospitals and elderly homes in red or orange "
        "zones. XLSX with Chinese (and English) headers, plus CSV.<br><br>"
        "<b>TOWNSHIPS</b>: township polygons (名称, 行政区划代码).<br>"
        "<b>RISK</b>: a riskmap:fourcolorrisk output (risk_level, people, buildings, area_km2, township_code; "
        "on an admin-unit support also unit_code / unit_name).<br>"
        "<b>VILLAGES</b> (optional): village polygons to rank. Without them, a RISK made on villages is ranked "
        "directly. On a grid RISK the villages' people are apportioned from the grid pieces by area share "
        f"(pieces with less than {D.MIN_SHARE:.0%} of their area in a village are left out).<br>"
        "<b>GEOHAZARDS</b> (optional): the OUTPUT_POINTS of riskmap:hazardpointthreat (households_calc, "
        "people_calc, danger_zh are used), or the surveyed points (威胁户数, 威胁人数, 险情等级); the column "
        "人数来源 says which.<br>"
        "<b>FACILITIES</b> (optional): schools, hospitals, elderly homes (类型); 所在村 is their village (from VILLAGES, or from "
        "RISK made on villages).<br>"
        "<b>RISK_OTHER</b> (optional): the same county's four-colour map on another support (e.g. the 100 m grid beside "
        "the villages). The sheet 口径对照 sets the people per level per township of each support side by side: the totals "
        "agree, the levels differ, because a grid cell has one level and a village puts all its people at its most severe "
        "level.<br>"
        "每个数字说明其口径 (按村或按网格), 人数为整人 (最大余数法, 乡镇合计守恒); 汇总表有全县合计, 各节有合计行; 列宽、冻结表头、"
        "筛选、数字格式、四色底色、A4 横向打印并重复标题行。 / Every table says what it counts on (villages or grid cells); "
        "people are whole persons (largest remainder, township totals conserved); the summary has the county total and "
        "every section its total row; widths, frozen headers, filters, number formats, the four colours, A4 landscape "
        "print with the title rows repeated.<br>"
        f"<b>ALERT_LEVEL</b> (advanced, default {D.ALERT_LEVEL}): facilities are listed in zones of this level or "
        "more severe (2 = red and orange, the levels controlled at county / township level under 安委办〔2016〕11号).<br>"
        "<b>OUTPUT</b>: XLSX: a summary sheet and one sheet per township. <b>OUTPUT_CSV</b>: folder with "
        "township_summary.csv, people_by_level.csv, villages_ranked.csv, geohazard_points.csv, "
        "facilities_red_orange.csv (UTF-8 with BOM).<br>"
        "Numeric outputs: " + ", ".join(f"<b>{k}</b>" for k, _ in NUMBERS) + " (None when the input is not given).")

    def initAlgorithm(self, config=None):
        poly, point = [QgsProcessing.TypeVectorPolygon], [QgsProcessing.TypeVectorPoint]
        self.addParameter(QgsProcessingParameterFeatureSource(self.TOWNSHIPS, "乡镇/街道 / Townships", poly))
        self.addParameter(QgsProcessingParameterFeatureSource(self.RISK, "风险四色图 / Four-color risk map", poly))
        self.addParameter(QgsProcessingParameterFeatureSource(self.VILLAGES, "村/社区 / Villages", poly, optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(self.GEOHAZARDS, "地质灾害隐患点 / Geohazard points", point,
                                                              optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.FACILITIES, "重点设施 / Key facilities", point + poly, optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.RISK_OTHER, "其他口径的四色图 (对照, 如网格) / Four-colour maps on other supports (to reconcile, e.g. the grid)",
            QgsProcessing.TypeVectorPolygon, optional=True))
        advanced = [QgsProcessingParameterNumber(self.ALERT_LEVEL, "列出设施的风险等级上限 / Alert level",
                                                 QgsProcessingParameterNumber.Integer, D.ALERT_LEVEL, minValue=1, maxValue=4)]
        for name, label, parent in ((self.TOWNSHIP_NAME_FIELD, "乡镇名称字段 / Township name field", self.TOWNSHIPS),
                                    (self.TOWNSHIP_CODE_FIELD, "乡镇代码字段 / Township code field", self.TOWNSHIPS),
                                    (self.VILLAGE_NAME_FIELD, "村名称字段 / Village name field", self.VILLAGES),
                                    (self.VILLAGE_CODE_FIELD, "村代码字段 / Village code field", self.VILLAGES),
                                    (self.VILLAGE_PARENT_FIELD, "村上级代码字段 / Village parent-code field", self.VILLAGES)):
            advanced.append(QgsProcessingParameterField(name, label, parentLayerParameterName=parent, optional=True))
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT, "乡镇风险报表 / Township report (XLSX)",
                                                                "Excel (*.xlsx)"))
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT_CSV, "CSV 表格文件夹 / CSV folder",
                                                                  optional=True))
        for key, label in NUMBERS:
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def _s(self, p, name, c):
        return self.parameterAsString(p, name, c) or None

    def execute(self, parameters, context, feedback, progress):
        p, c = parameters, context
        villages = self.vector_path(p, self.VILLAGES, c, feedback)
        output = self.parameterAsFileOutput(p, self.OUTPUT, c)
        csv_dir = self.parameterAsString(p, self.OUTPUT_CSV, c) or None
        if csv_dir:
            csv_dir = self.parameterAsFileOutput(p, self.OUTPUT_CSV, c)
        result = run_township_report(
            townships=UnitSpec(self.vector_path(p, self.TOWNSHIPS, c, feedback), self._s(p, self.TOWNSHIP_NAME_FIELD, c),
                               self._s(p, self.TOWNSHIP_CODE_FIELD, c)),
            risk=self.vector_path(p, self.RISK, c, feedback),
            villages=UnitSpec(villages, self._s(p, self.VILLAGE_NAME_FIELD, c), self._s(p, self.VILLAGE_CODE_FIELD, c),
                              self._s(p, self.VILLAGE_PARENT_FIELD, c)) if villages else None,
            geohazards=self.vector_path(p, self.GEOHAZARDS, c, feedback),
            facilities=self.vector_path(p, self.FACILITIES, c, feedback),
            alert_level=self.parameterAsInt(p, self.ALERT_LEVEL, c), output_xlsx=output, output_csv_dir=csv_dir,
            other_risk=[vector_file(lyr, c, f"other{i}") for i, lyr in
                        enumerate(self.parameterAsLayerList(p, self.RISK_OTHER, c) or [])],
            progress=progress)
        out = {self.OUTPUT: output, self.OUTPUT_CSV: csv_dir}
        out.update({k: result[k] for k, _ in NUMBERS})
        return out
