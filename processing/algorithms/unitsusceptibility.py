from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingOutputString, QgsProcessingParameterDefinition,
                       QgsProcessingParameterEnum, QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterNumber,
                       QgsProcessingParameterString, QgsProcessingParameterVectorDestination)

from ...risk_plugin import paramtext
from ...risk_plugin.definitions import susceptibility as D
from ...risk_plugin.susceptibility import unit_susceptibility
from ..base import RiskMapAlgorithm
from .landslidesusceptibility import BREAK_LABELS, METHOD_LABELS, _joined

RULE_LABELS = ["自动 (按字段判断) / Auto (from the field)", "有无: 有滑坡单元占比 ÷ 单元占比 / Presence: share of units",
               "滑坡数: 滑坡占比 ÷ 面积占比 / Count: landslides per area", "滑坡面积: 滑坡面积占比 ÷ 面积占比 / Area: failed area per area"]


class UnitSusceptibilityAlgorithm(RiskMapAlgorithm):
    ALG_ID = "unitsusceptibility"
    NAME_ZH, NAME_EN = "滑坡易发性评价 (斜坡单元)", "Landslide susceptibility (mapping units)"
    GROUP_ID, GROUP_ZH, GROUP_EN = "hazard", "危险性区划", "Hazard zoning"
    ORDER = 20
    UNITS, FACTOR_FIELDS, CATEGORICAL_FIELDS, LANDSLIDE_FIELD = "UNITS", "FACTOR_FIELDS", "CATEGORICAL_FIELDS", "LANDSLIDE_FIELD"
    LANDSLIDE_AREA_FIELD, UNIT_RULE = "LANDSLIDE_AREA_FIELD", "UNIT_RULE"
    METHOD, FOLDS, BREAKS, SEED, N_CLASSES, SUCCESS_CUTOFFS = "METHOD", "FOLDS", "BREAKS", "SEED", "N_CLASSES", "SUCCESS_CUTOFFS"
    OUTPUT, OUTPUT_REPORT = "OUTPUT", "OUTPUT_REPORT"
    HELP = (
        "在斜坡单元 (或任何已带因子字段的面) 上用信息量法、频率比法或逻辑回归 (默认自动: 同折交叉验证取最优) 评价滑坡易发性, "
        "每个单元得到指数和极高/高/中/低易发分区, 并给出成功率 AUC 与 k 折交叉验证的预测 AUC。统计规则随滑坡字段而定: "
        "0/1 字段按单元计 (有滑坡单元占比 ÷ 单元占比), 滑坡数按面积计 (滑坡密度), 滑坡面积按面积计; 日志与报告写明所用规则; 模型较弱或不可靠时说明原因与对策。<br>"
        "Landslide susceptibility on slope units or any polygons that already carry factor fields, by information value "
        "(信息量法), frequency ratio or logistic regression (default auto: the best on the same cross-validation folds). "
        "Every unit gets an index and a zone (4 极高/very high … 1 低/low); success and cross-validated prediction AUCs. "
        "What IV and FR count follows the landslide field: a 0/1 field counts units, a count counts landslides per "
        "area, a failed area is compared with class area; the log and the report say which rule was used.<br><br>"
        "<b>UNITS</b>: polygons. <b>FACTOR_FIELDS</b>: the factor fields. Numeric fields are cut into N_CLASSES "
        f"(default {D.N_CLASSES}) area-weighted quantile classes; text fields, and numeric fields listed in "
        "<b>CATEGORICAL_FIELDS</b> (e.g. a lithology code), are categories; an empty value is the class 'no data'.<br>"
        "<b>LANDSLIDE_FIELD</b>: landslides per unit, a count or 1/0 (a field named 滑坡数 / landslides / landslide is "
        "used when none is named). <b>LANDSLIDE_AREA_FIELD</b> (optional): failed area per unit, m² (alone, it also marks "
        "the units with landslides). Units with a landslide are positives for the AUCs and logistic regression.<br>"
        "<b>UNIT_RULE</b> (default 0 auto): what N_i and S_i of IV and FR are. 1 presence: N_i units with a landslide, "
        "S_i units of class i (each unit one trial, Carrara et al. 1991). 2 count: N_i landslides, S_i area of class i "
        "(landslide density, the definition of FR and IV). 3 area: N_i failed area, S_i area of class i. Auto: "
        "LANDSLIDE_AREA_FIELD given → area; a 0/1 field → presence; whole numbers → count; fractions stop with a "
        "message.<br>"
        "<b>METHOD</b> (default 3 auto): 0 I = ln((N_i/N)/(S_i/S)) summed over factors (殷坤龙 & 晏同珍 1988; an empty "
        f"class counts {D.EMPTY_CLASS_COUNT:g}); 1 frequency ratio (N_i/N)/(S_i/S) summed (Lee & Pradhan 2007); 2 "
        f"logistic regression of landslide > 0 on one-hot classes, L2 C = {D.LOGISTIC_C:g} (Ayalew & Yamagishi 2005); "
        "3 auto: the three on the same folds, the highest mean prediction AUC kept. The log and the report's first "
        "sheet always compare the three.<br>"
        f"<b>可靠性 / reliability</b>: prediction AUC < {D.WEAK_AUC:g} or fold SD > {D.FOLD_SD_MAX:g} → unreliable "
        f"(不可靠); < {D.ACCEPTABLE_AUC:g} → weak (较弱); the log and the report say why (too few landslides, a factor "
        "with one class, units too large relative to the landslides, over-fitting …) and what to try.<br>"
        f"<b>FOLDS</b> (default {D.FOLDS}): stratified k-fold cross-validation over units for AUC_PREDICTION (mean of "
        f"the folds). <b>SEED</b> (default {D.SEED}): folds and the natural-breaks sample.<br>"
        "<b>BREAKS</b> (default natural): Jenks natural breaks of the unit indices, area-weighted quantiles (four "
        "equal-area zones), or success-rate-curve cut-offs: the highest-index units holding SUCCESS_CUTOFFS (default "
        f"{_joined(D.SUCCESS_CUTOFFS)}) of the landslides are 极高, then 高, 中, the rest 低.<br>"
        "<b>OUTPUT</b>: the units with <i>susc_index</i>, <i>hazard_class</i> (1..4) and <i>zone_label</i>, styled by "
        "styles/classes.json 'hazard_classes'. <b>OUTPUT_REPORT</b> (optional, CSV or XLSX): method comparison (first "
        "sheet), reliability, summary (rule and why), weights per factor class, units / landslides / area per zone.<br>"
        "Outputs <b>AUC_SUCCESS</b> (fitted on all units; equals the AUC of <i>susc_index</i> in OUTPUT), "
        "<b>AUC_PREDICTION</b> (cross-validated), <b>METHOD_USED</b>, <b>UNIT_RULE_USED</b> and <b>RELIABLE</b> (1/0). "
        "Sources: risk_plugin/definitions/susceptibility.py.")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFeatureSource(self.UNITS, "评价单元 / Mapping units",
                                                              [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField(self.FACTOR_FIELDS, "因子字段 / Factor fields",
                                                      parentLayerParameterName=self.UNITS, allowMultiple=True))
        self.addParameter(QgsProcessingParameterField(self.CATEGORICAL_FIELDS, "按类别处理的字段 / Fields taken as categories",
                                                      parentLayerParameterName=self.UNITS, allowMultiple=True,
                                                      optional=True))
        self.addParameter(QgsProcessingParameterField(self.LANDSLIDE_FIELD, "滑坡数字段 / Landslide field (count or 1/0)",
                                                      parentLayerParameterName=self.UNITS,
                                                      type=QgsProcessingParameterField.Numeric, optional=True))
        self.addParameter(QgsProcessingParameterField(self.LANDSLIDE_AREA_FIELD,
                                                      "滑坡面积字段 (m², 可选) / Failed-area field (m², optional)",
                                                      parentLayerParameterName=self.UNITS,
                                                      type=QgsProcessingParameterField.Numeric, optional=True))
        self.addParameter(QgsProcessingParameterEnum(self.UNIT_RULE, "统计规则 / Unit rule", options=RULE_LABELS,
                                                     defaultValue=D.UNIT_RULES.index(D.UNIT_RULE)))
        self.addParameter(QgsProcessingParameterEnum(self.METHOD, "方法 / Method", options=METHOD_LABELS,
                                                     defaultValue=D.METHODS.index(D.METHOD)))
        self.addParameter(QgsProcessingParameterNumber(self.FOLDS, "交叉验证折数 / Cross-validation folds",
                                                       QgsProcessingParameterNumber.Integer, D.FOLDS, minValue=2,
                                                       maxValue=20))
        self.addParameter(QgsProcessingParameterEnum(self.BREAKS, "分区方法 / Zone breaks", options=BREAK_LABELS,
                                                     defaultValue=D.BREAKS.index(D.BREAK_METHOD)))
        self.addParameter(QgsProcessingParameterNumber(self.SEED, "随机种子 / Random seed",
                                                       QgsProcessingParameterNumber.Integer, D.SEED, minValue=0))
        advanced = [
            QgsProcessingParameterNumber(self.N_CLASSES, "数值因子分级数 / Classes per numeric factor",
                                         QgsProcessingParameterNumber.Integer, D.N_CLASSES, minValue=2, maxValue=50),
            QgsProcessingParameterString(self.SUCCESS_CUTOFFS, "成功率曲线分界 (滑坡比例) / Success-rate cut-offs (landslide shares)",
                                         defaultValue=_joined(D.SUCCESS_CUTOFFS)),
        ]
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT, "易发性分区单元 / Units with susceptibility",
                                                                  QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT_REPORT, "评价报告 / Report",
                                                                "CSV (*.csv);;Excel (*.xlsx)", optional=True,
                                                                createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber("AUC_SUCCESS", "成功率 AUC / Success AUC"))
        self.addOutput(QgsProcessingOutputNumber("AUC_PREDICTION", "预测率 AUC (交叉验证) / Prediction AUC (cross-validated)"))
        self.addOutput(QgsProcessingOutputString("METHOD_USED", "所用方法 / Method used"))
        self.addOutput(QgsProcessingOutputString("UNIT_RULE_USED", "所用统计规则 / Unit rule used"))
        self.addOutput(QgsProcessingOutputNumber("RELIABLE", "分区可靠 (1/0) / Zoning reliable (1/0)"))

    def run(self, parameters, context, feedback, progress):
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        report = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context) or None
        result = unit_susceptibility(
            self.vector_path(parameters, self.UNITS, context, feedback),
            self.parameterAsFields(parameters, self.FACTOR_FIELDS, context),
            self.parameterAsString(parameters, self.LANDSLIDE_FIELD, context) or None,
            output,
            categorical_fields=self.parameterAsFields(parameters, self.CATEGORICAL_FIELDS, context),
            method=D.METHODS[self.parameterAsEnum(parameters, self.METHOD, context)],
            folds=self.parameterAsInt(parameters, self.FOLDS, context),
            breaks=D.BREAKS[self.parameterAsEnum(parameters, self.BREAKS, context)],
            seed=self.parameterAsInt(parameters, self.SEED, context),
            n_classes=self.parameterAsInt(parameters, self.N_CLASSES, context),
            success_cutoffs=paramtext.numbers(self.parameterAsString(parameters, self.SUCCESS_CUTOFFS, context),
                                              self.SUCCESS_CUTOFFS, count=3, ascending=True),
            unit_rule=D.UNIT_RULES[self.parameterAsEnum(parameters, self.UNIT_RULE, context)],
            landslide_area_field=self.parameterAsString(parameters, self.LANDSLIDE_AREA_FIELD, context) or None,
            out_report=report, progress=progress)
        feedback.pushInfo(f"METHOD_USED = {result.method}, UNIT_RULE_USED = {result.rule}, AUC_SUCCESS = "
                          f"{result.auc_success:.4f}, AUC_PREDICTION = {result.auc_prediction:.4f}")
        self.style_on_load(context, output, "hazard_classes", field="hazard_class",
                           name="易发性分区单元 / Susceptibility units")
        return {self.OUTPUT: output, self.OUTPUT_REPORT: result.outputs.get("report"),
                "AUC_SUCCESS": result.auc_success, "AUC_PREDICTION": result.auc_prediction, "METHOD_USED": result.method,
                "UNIT_RULE_USED": result.rule, "RELIABLE": int(result.verdict.reliable)}
