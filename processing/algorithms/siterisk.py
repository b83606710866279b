from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterDefinition,
                       QgsProcessingParameterEnum, QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterString, QgsProcessingParameterVectorDestination)

from ...risk_plugin.definitions import siterisk as D
from ...risk_plugin.siterisk import run_siterisk
from ..base import RiskMapAlgorithm

METHODS = ["LS 风险矩阵 (R = L × S) / LS risk matrix", "LEC 作业条件危险性 (D = L × E × C) / LEC method"]
NUMBERS = [("SITES", "场所数 / Sites")] + [(f"SITES_LEVEL_{k}", f"{zh} / Sites at level {k}") for k, zh in
                                          zip(range(1, 5), ("重大风险场所", "较大风险场所", "一般风险场所", "低风险场所"))]


def _joined(values):
    return ",".join(f"{v:g}" for v in values)


class SiteRiskAlgorithm(RiskMapAlgorithm):
    ALG_ID = "siterisk"
    NAME_ZH, NAME_EN = "企业/场所安全风险四色图", "Site risk levels (LS / LEC)"
    GROUP_ID, GROUP_ZH, GROUP_EN = "risk", "风险评估", "Risk assessment"
    ORDER = 30
    SITES, METHOD, L_FIELD, S_FIELD, E_FIELD, C_FIELD = "SITES", "METHOD", "L_FIELD", "S_FIELD", "E_FIELD", "C_FIELD"
    LS_BREAKS, LEC_BREAKS, OUTPUT = "LS_BREAKS", "LEC_BREAKS", "OUTPUT"
    HELP = (
        "按 LS 风险矩阵法或 LEC 作业条件危险性评价法为企业、场所评定安全风险等级, 红橙黄蓝四色 (双重预防机制)。<br>"
        "Grades the work-safety risk of enterprises and sites by the LS risk matrix or the LEC method into the "
        "four colours of the dual-prevention mechanism.<br><br>"
        "<b>SITES</b>: points or polygons (schema sites: 名称, 行业, L, S, lec_L, lec_E, lec_C).<br>"
        "<b>METHOD</b> (default LS): LS: R = L × S, L and S integers 1–5. LEC: D = L × E × C with the usual scales "
        "L 0.1–10, E 0.5–10, C 1–100 (other values are accepted and reported).<br>"
        "<b>L_FIELD</b>, <b>S_FIELD</b> (LS) / <b>L_FIELD</b>, <b>E_FIELD</b>, <b>C_FIELD</b> (LEC): default by name "
        "(L, S / lec_L, lec_E, lec_C).<br>"
        f"<b>LS_BREAKS</b> (default {_joined(D.LS_BREAKS)}): lower bounds of levels 1, 2, 3, inclusive: R 20–25 重大, "
        "15–16 较大, 9–12 一般, 1–8 低, the 5 × 5 matrix of 双重预防 guidance (安委办〔2016〕11号; provincial "
        "standards such as DB37/T 2882-2016; GB/T 27921-2011).<br>"
        f"<b>LEC_BREAKS</b> (default {_joined(D.LEC_BREAKS)}): D > 320 重大 (极其危险), 160–320 较大 (高度危险), "
        "70–160 一般 (显著危险), < 70 低, after Graham & Kinney (1971) as taught in Chinese safety evaluation; "
        "bounds inclusive (D = 70 is 一般; 160 and 320 cannot occur on the standard scales).<br>"
        "<b>OUTPUT</b>: the sites with method, score, risk_level, risk_zh, risk_en, color (styles/classes.json "
        "'risk_levels'), loaded in the four colours.<br>"
        "Numeric outputs: " + ", ".join(f"<b>{k}</b>" for k, _ in NUMBERS) + ".")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.SITES, "企业/场所 / Sites", [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterEnum(self.METHOD, "评价方法 / Method", options=METHODS, defaultValue=0))
        for name, label in ((self.L_FIELD, "可能性 L 字段 / Likelihood L field"), (self.S_FIELD, "严重性 S 字段 (LS) / Severity S field"),
                            (self.E_FIELD, "暴露频率 E 字段 (LEC) / Exposure E field"), (self.C_FIELD, "后果 C 字段 (LEC) / Consequence C field")):
            self.addParameter(QgsProcessingParameterField(name, label, parentLayerParameterName=self.SITES, optional=True,
                                                          type=QgsProcessingParameterField.Numeric))
        for name, label, default in ((self.LS_BREAKS, "LS 分级下限 (1,2,3 级) / LS level bounds", D.LS_BREAKS),
                                     (self.LEC_BREAKS, "LEC 分级下限 (1,2,3 级) / LEC level bounds", D.LEC_BREAKS)):
            p = QgsProcessingParameterString(name, label, defaultValue=_joined(default))
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT, "场所风险等级 / Site risk levels"))
        for key, label in NUMBERS:
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def execute(self, parameters, context, feedback, progress):
        p, c = parameters, context
        output = self.parameterAsOutputLayer(p, self.OUTPUT, c)
        result = run_siterisk(
            self.vector_path(p, self.SITES, c, feedback), method=D.METHODS[self.parameterAsEnum(p, self.METHOD, c)],
            l_field=self.parameterAsString(p, self.L_FIELD, c) or None,
            s_field=self.parameterAsString(p, self.S_FIELD, c) or None,
            e_field=self.parameterAsString(p, self.E_FIELD, c) or None,
            c_field=self.parameterAsString(p, self.C_FIELD, c) or None,
            ls_breaks=self.parameterAsString(p, self.LS_BREAKS, c), lec_breaks=self.parameterAsString(p, self.LEC_BREAKS, c),
            output=output, progress=progress)
        self.style_on_load(context, output, "risk_levels", field="risk_level")
        out = {self.OUTPUT: output}
        out.update({k: result[k] for k, _ in NUMBERS})
        return out
