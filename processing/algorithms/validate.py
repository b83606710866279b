from qgis.core import (QgsProcessingParameterBoolean, QgsProcessingParameterEnum,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterMapLayer,
                       QgsProcessingParameterVectorDestination, QgsProcessingOutputNumber)

from ...risk_plugin.validation import schema_kinds, validate_source
from ..base import RiskMapAlgorithm

KINDS = schema_kinds()


class ValidateAlgorithm(RiskMapAlgorithm):
    ALG_ID = "validate"
    NAME_ZH, NAME_EN = "检查输入图层", "Validate input layer"
    ORDER = 20  # GROUP_ID data (the default)
    INPUT, KIND, REPAIR, OUTPUT_REPORT, OUTPUT_REPAIRED = "INPUT", "KIND", "REPAIR", "OUTPUT_REPORT", "OUTPUT_REPAIRED"
    HELP = ("检查一个输入图层是否符合其数据规范 (data_schemas/): 字段及别名、类型、允许值、CRS、几何、空图层。"
            "一次列出全部问题, 指明图层、字段、要素与处理办法。<br>"
            "Checks one input layer against its schema in data_schemas/: fields and aliases, types, allowed values, CRS, "
            "geometry, empty layers. Lists every problem at once, naming layer, field, features and the fix.<br><br>"
            "<b>INPUT</b>: layer (vector or raster). <b>KIND</b>: schema: " + ", ".join(KINDS) + ". "
            "<b>REPAIR</b> (default false): repair invalid geometries into OUTPUT_REPAIRED (the input is never modified).<br>"
            "<b>OUTPUT_REPORT</b>: CSV/XLSX of problems. <b>OUTPUT_REPAIRED</b>: normalised (and repaired) copy.<br>"
            "Numeric output <b>PROBLEMS</b>: number of problems (0 = valid).")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterMapLayer(self.INPUT, "输入图层 / Input layer"))
        self.addParameter(QgsProcessingParameterEnum(self.KIND, "数据规范 / Schema", options=KINDS, defaultValue=KINDS[0],
                                                     usesStaticStrings=True))
        self.addParameter(QgsProcessingParameterBoolean(self.REPAIR, "修复无效几何 / Repair invalid geometry", defaultValue=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_REPORT, "问题清单 / Problem report", "CSV (*.csv);;Excel (*.xlsx)"))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_REPAIRED, "规范化副本 / Normalised copy", optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber("PROBLEMS", "问题数 / Number of problems"))

    def execute(self, parameters, context, feedback, progress):
        layer = self.parameterAsLayer(parameters, self.INPUT, context)
        kind = self.parameterAsEnumString(parameters, self.KIND, context)
        report = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context)
        repaired = self.parameterAsOutputLayer(parameters, self.OUTPUT_REPAIRED, context) or None
        problems = validate_source(layer.source(), kind, label=layer.name(),
                                   repair=self.parameterAsBool(parameters, self.REPAIR, context),
                                   repaired_path=repaired, report_path=report)
        for p in problems:
            feedback.reportError(str(p))
        if not problems:
            feedback.pushInfo(f"[{layer.name()}] 通过检查 / passed validation ({kind})")
        progress.set(100)
        return {self.OUTPUT_REPORT: report, self.OUTPUT_REPAIRED: repaired, "PROBLEMS": len(problems)}
