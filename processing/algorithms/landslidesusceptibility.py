from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterDefinition,
                       QgsProcessingParameterEnum, QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterMultipleLayers,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString,
                       QgsProcessingParameterVectorDestination, QgsProcessingUtils, QgsVectorFileWriter,
                       QgsCoordinateTransformContext, QgsProcessingOutputString)

from ...risk_plugin import paramtext
from ...risk_plugin.definitions import susceptibility as D
from ...risk_plugin.susceptibility import landslide_susceptibility
from ..base import RiskMapAlgorithm

METHOD_LABELS = ["信息量法 / Information value", "频率比 / Frequency ratio", "逻辑回归 / Logistic regression",
                 "自动: 交叉验证选优 / Auto: best by cross-validation"]            # order = D.METHODS
BREAK_LABELS = ["自然断点 / Natural breaks (Jenks)", "分位数 (等面积) / Quantiles (equal area)",
                "成功率曲线 / Success-rate curve cut-offs"]
FACTOR_LABELS = {"elevation": "高程 / Elevation", "slope": "坡度 / Slope", "aspect": "坡向 / Aspect",
                 "plan_curvature": "平面曲率 / Plan curvature", "profile_curvature": "剖面曲率 / Profile curvature",
                 "relief": "地形起伏度 / Local relief", "twi": "地形湿度指数 / TWI",
                 "stream_distance": "距河道距离 / Distance to streams"}


def _joined(values):
    return ",".join(f"{v:g}" for v in values)


def layer_file(layer, context, feedback):
    """A file the engine can read for a layer from a multiple-layer parameter: file-based layers as
    they are, memory or database layers exported to a temporary GeoPackage."""
    if layer is None:
        return None
    if layer.type() != layer.VectorLayer or layer.providerType() == "ogr":
        return layer.source()
    path = QgsProcessingUtils.generateTempFilename(f"{layer.name() or 'layer'}.gpkg")
    opts = QgsVectorFileWriter.SaveVectorOptions()
    opts.driverName = "GPKG"
    QgsVectorFileWriter.writeAsVectorFormatV3(layer, path, QgsCoordinateTransformContext(), opts)
    feedback.pushInfo(f"[{layer.name()}] 已导出到 / exported to {path}")
    return path


class LandslideSusceptibilityAlgorithm(RiskMapAlgorithm):
    ALG_ID = "landslidesusceptibility"
    NAME_ZH, NAME_EN = "滑坡易发性评价 (栅格)", "Landslide susceptibility (grid)"
    GROUP_ID, GROUP_ZH, GROUP_EN = "hazard", "危险性区划", "Hazard zoning"
    ORDER = 10
    DEM, INVENTORY, PRESENCE_FIELD, SEED = "DEM", "INVENTORY", "PRESENCE_FIELD", "SEED"
    CATEGORICAL_RASTERS, CATEGORICAL_POLYGONS, CATEGORICAL_FIELD = "CATEGORICAL_RASTERS", "CATEGORICAL_POLYGONS", "CATEGORICAL_FIELD"
    DISTANCE_LINES, METHOD, FOLDS, BREAKS = "DISTANCE_LINES", "METHOD", "FOLDS", "BREAKS"
    N_CLASSES, DEM_FACTORS, RELIEF_WINDOW, STREAM_AREA = "N_CLASSES", "DEM_FACTORS", "RELIEF_WINDOW", "STREAM_AREA"
    SUCCESS_CUTOFFS, ABSENCE_RATIO = "SUCCESS_CUTOFFS", "ABSENCE_RATIO"
    OUTPUT_INDEX, OUTPUT_ZONES, OUTPUT_REPORT, OUTPUT_SAMPLES = "OUTPUT_INDEX", "OUTPUT_ZONES", "OUTPUT_REPORT", "OUTPUT_SAMPLES"
    HELP = (
        "用信息量法、频率比法或逻辑回归 (默认自动: 三者同折交叉验证, 取预测 AUC 最高者), 由 DEM 派生因子 (高程、坡度、坡向、平面/剖面曲率、地形起伏度、地形湿度指数、"
        "距河道距离) 及可选的分类栅格/面 (岩性、土地覆盖) 与距线距离 (河流、道路、断层) 评价滑坡易发性, 输出连续指数和 "
        "极高/高/中/低易发 4 个分区, 并给出成功率 AUC 与 k 折交叉验证的预测 AUC; 模型较弱时在日志和报告中说明原因与对策。<br>"
        "Landslide susceptibility on the DEM grid by information value (信息量法), frequency ratio or logistic "
        "regression (default auto: all three cross-validated on the same folds, the best prediction AUC kept), from DEM-derived factors (elevation, slope, aspect, plan/profile curvature, local relief, TWI, "
        "distance to derived streams) and optional categorical rasters/polygons (lithology, land cover) and distance-to-line "
        "factors (rivers, roads, faults). Outputs a continuous index, four zones (4 极高/very high … 1 低/low), a report, "
        "and the success AUC (fitted on all samples) and the k-fold cross-validated prediction AUC. Computed block by "
        "block: memory stays bounded on large DEMs.<br><br>"
        "<b>DEM</b>: elevation (m) in a projected CRS in metres (a geographic DEM is refused: reproject it first). "
        "Sets the output grid and CRS.<br>"
        "<b>INVENTORY</b>: landslide points or polygons. <b>PRESENCE_FIELD</b> (optional): 1 = landslide, 0 = surveyed "
        "non-landslide; a field named landslide / 是否滑坡 / presence is used when none is named. Without such a field, "
        f"non-landslide cells are drawn at random among valid cells without landslides, ABSENCE_RATIO (default "
        f"{D.ABSENCE_RATIO:g}) per landslide cell (balanced sample).<br>"
        f"<b>SEED</b> (default {D.SEED}): seed of every random draw (absences, folds, samples for breaks): same inputs + "
        "same seed = same outputs.<br>"
        "<b>CATEGORICAL_RASTERS</b>: integer class rasters, resampled (nearest) onto the DEM grid; nodata is its own "
        "class. <b>CATEGORICAL_POLYGONS</b> + <b>CATEGORICAL_FIELD</b>: class polygons; cells outside every polygon form "
        "the class 'no data'. <b>DISTANCE_LINES</b>: line layers; each gives a distance factor (m).<br>"
        "<b>METHOD</b> (default 3 auto): 0 信息量 I = ln((N_i/N)/(S_i/S)) summed over factors (殷坤龙 & 晏同珍 "
        "1988); a class without landslides counts "
        f"{D.EMPTY_CLASS_COUNT:g} landslide (Haldane correction). 1 frequency ratio FR = (N_i/N)/(S_i/S) summed (Lee & "
        f"Pradhan 2007). 2 logistic regression on one-hot classes, L2 C = {D.LOGISTIC_C:g} (Ayalew & Yamagishi 2005); "
        "the index is the probability. 3 auto (自动): the three on the same folds, the highest mean prediction AUC "
        "kept (Brenning 2005). Every run writes the three methods' AUCs (success, prediction, fold spread) to the log "
        "and to the report's first sheet.<br>"
        f"<b>可靠性 / reliability</b>: a prediction AUC below {D.WEAK_AUC:g} or folds whose AUCs differ by more than "
        f"SD {D.FOLD_SD_MAX:g} make the zoning unreliable (不可靠); below {D.ACCEPTABLE_AUC:g} it is weak (较弱). The log "
        "and the report then say why (too few landslides for the classes, a factor with one class, over-fitting …) "
        "and what to try.<br>"
        f"<b>FOLDS</b> (default {D.FOLDS}): stratified k-fold cross-validation for AUC_PREDICTION (mean of the folds; "
        "cells of one inventory polygon stay in one fold).<br>"
        "<b>BREAKS</b> (default natural): zone breaks by Jenks natural breaks (mapclassify Fisher–Jenks on a seeded "
        "random sample of cells), equal-area quantiles, or success-rate-curve cut-offs: the highest-index area holding "
        f"SUCCESS_CUTOFFS (default {_joined(D.SUCCESS_CUTOFFS)}) of the landslides is 极高, then 高, 中, the rest 低.<br>"
        f"Advanced: <b>N_CLASSES</b> (default {D.N_CLASSES}) quantile classes per continuous factor; <b>DEM_FACTORS</b> "
        f"(default all); <b>RELIEF_WINDOW</b> (default {D.RELIEF_WINDOW_M:g} m) square window of the local relief; "
        f"<b>STREAM_AREA</b> (default {D.STREAM_AREA_M2:g} m²) drainage area of a stream cell (channel heads, Montgomery "
        "& Dietrich 1988). Sources: risk_plugin/definitions/susceptibility.py.<br>"
        "<b>OUTPUT_INDEX</b>: index (float32, nodata −9999). <b>OUTPUT_ZONES</b>: zones 1..4 (uint8, 0 = nodata), styled "
        "by styles/classes.json 'hazard_classes'. <b>OUTPUT_REPORT</b> (CSV or XLSX): method comparison (first sheet), "
        "reliability, summary, weight, area % and landslide % of every factor class, area % and landslide % of every "
        "zone. <b>OUTPUT_SAMPLES</b> (optional): the landslide / non-landslide samples with their fold and index.<br>"
        "Outputs <b>AUC_SUCCESS</b> (model fitted on all samples; equals the AUC of OUTPUT_INDEX sampled at the "
        "samples), <b>AUC_PREDICTION</b> (cross-validated), <b>METHOD_USED</b> (the method kept) and <b>RELIABLE</b> "
        "(1, or 0 when the zoning is unreliable).")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterRasterLayer(self.DEM, "数字高程模型 / DEM"))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.INVENTORY, "滑坡编录 / Landslide inventory",
            [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField(
            self.PRESENCE_FIELD, "是否滑坡字段 (1/0) / Presence field (1/0)", parentLayerParameterName=self.INVENTORY,
            type=QgsProcessingParameterField.Numeric, optional=True))
        self.addParameter(QgsProcessingParameterEnum(self.METHOD, "方法 / Method", options=METHOD_LABELS,
                                                     defaultValue=D.METHODS.index(D.METHOD)))
        self.addParameter(QgsProcessingParameterNumber(self.FOLDS, "交叉验证折数 / Cross-validation folds",
                                                       QgsProcessingParameterNumber.Integer, D.FOLDS, minValue=2,
                                                       maxValue=20))
        self.addParameter(QgsProcessingParameterEnum(self.BREAKS, "分区方法 / Zone breaks", options=BREAK_LABELS,
                                                     defaultValue=D.BREAKS.index(D.BREAK_METHOD)))
        self.addParameter(QgsProcessingParameterNumber(self.SEED, "随机种子 / Random seed",
                                                       QgsProcessingParameterNumber.Integer, D.SEED, minValue=0))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.CATEGORICAL_RASTERS, "分类因子栅格 (岩性、土地覆盖) / Categorical factor rasters", QgsProcessing.TypeRaster,
            optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.CATEGORICAL_POLYGONS, "分类因子面 / Categorical factor polygons", [QgsProcessing.TypeVectorPolygon],
            optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.CATEGORICAL_FIELD, "类别字段 / Category field", parentLayerParameterName=self.CATEGORICAL_POLYGONS,
            optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.DISTANCE_LINES, "距离因子线 (河流、道路、断层) / Lines for distance factors", QgsProcessing.TypeVectorLine,
            optional=True))
        advanced = [
            QgsProcessingParameterNumber(self.N_CLASSES, "连续因子分级数 / Classes per continuous factor",
                                         QgsProcessingParameterNumber.Integer, D.N_CLASSES, minValue=2, maxValue=50),
            QgsProcessingParameterEnum(self.DEM_FACTORS, "DEM 派生因子 / DEM-derived factors",
                                       options=[FACTOR_LABELS[f] for f in D.DEM_FACTORS], allowMultiple=True,
                                       defaultValue=list(range(len(D.DEM_FACTORS))), optional=True),
            QgsProcessingParameterNumber(self.RELIEF_WINDOW, "地形起伏度窗口 (m) / Relief window (m)",
                                         QgsProcessingParameterNumber.Double, D.RELIEF_WINDOW_M, minValue=0),
            QgsProcessingParameterNumber(self.STREAM_AREA, "河道汇水面积阈值 (m²) / Stream drainage area (m²)",
                                         QgsProcessingParameterNumber.Double, D.STREAM_AREA_M2, minValue=0),
            QgsProcessingParameterString(self.SUCCESS_CUTOFFS, "成功率曲线分界 (滑坡比例) / Success-rate cut-offs (landslide shares)",
                                         defaultValue=_joined(D.SUCCESS_CUTOFFS)),
            QgsProcessingParameterNumber(self.ABSENCE_RATIO, "非滑坡/滑坡样本比 / Absences per landslide",
                                         QgsProcessingParameterNumber.Double, D.ABSENCE_RATIO, minValue=0.01),
        ]
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_INDEX, "易发性指数 / Susceptibility index"))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_ZONES, "易发性分区 / Susceptibility zones"))
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT_REPORT, "评价报告 / Report",
                                                                "CSV (*.csv);;Excel (*.xlsx)"))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_SAMPLES, "样本点 / Samples", QgsProcessing.TypeVectorPoint, optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber("AUC_SUCCESS", "成功率 AUC / Success AUC"))
        self.addOutput(QgsProcessingOutputNumber("AUC_PREDICTION", "预测率 AUC (交叉验证) / Prediction AUC (cross-validated)"))
        self.addOutput(QgsProcessingOutputString("METHOD_USED", "所用方法 / Method used"))
        self.addOutput(QgsProcessingOutputNumber("RELIABLE", "分区可靠 (1/0) / Zoning reliable (1/0)"))

    def run(self, parameters, context, feedback, progress):
        out_index = self.parameterAsOutputLayer(parameters, self.OUTPUT_INDEX, context)
        out_zones = self.parameterAsOutputLayer(parameters, self.OUTPUT_ZONES, context)
        out_report = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context)
        out_samples = self.parameterAsOutputLayer(parameters, self.OUTPUT_SAMPLES, context) or None
        rasters = [layer_file(l, context, feedback)
                   for l in self.parameterAsLayerList(parameters, self.CATEGORICAL_RASTERS, context)]
        lines = [layer_file(l, context, feedback)
                 for l in self.parameterAsLayerList(parameters, self.DISTANCE_LINES, context)]
        factors = [D.DEM_FACTORS[i] for i in self.parameterAsEnums(parameters, self.DEM_FACTORS, context)]
        result = landslide_susceptibility(
            self.raster_path(parameters, self.DEM, context),
            self.vector_path(parameters, self.INVENTORY, context, feedback),
            out_index, out_zones, out_report,
            presence_field=self.parameterAsString(parameters, self.PRESENCE_FIELD, context) or None,
            method=D.METHODS[self.parameterAsEnum(parameters, self.METHOD, context)],
            folds=self.parameterAsInt(parameters, self.FOLDS, context),
            breaks=D.BREAKS[self.parameterAsEnum(parameters, self.BREAKS, context)],
            seed=self.parameterAsInt(parameters, self.SEED, context),
            categorical_rasters=rasters,
            categorical_polygons=self.vector_path(parameters, self.CATEGORICAL_POLYGONS, context, feedback),
            categorical_field=self.parameterAsString(parameters, self.CATEGORICAL_FIELD, context) or None,
            distance_lines=lines, out_samples=out_samples, progress=progress,
            n_classes=self.parameterAsInt(parameters, self.N_CLASSES, context),
            dem_factors=tuple(factors) if factors else D.DEM_FACTORS,
            relief_window_m=self.parameterAsDouble(parameters, self.RELIEF_WINDOW, context),
            stream_area_m2=self.parameterAsDouble(parameters, self.STREAM_AREA, context),
            success_cutoffs=paramtext.numbers(self.parameterAsString(parameters, self.SUCCESS_CUTOFFS, context),
                                              self.SUCCESS_CUTOFFS, count=3, ascending=True),
            absence_ratio=self.parameterAsDouble(parameters, self.ABSENCE_RATIO, context))
        feedback.pushInfo(f"METHOD_USED = {result.method}, AUC_SUCCESS = {result.auc_success:.4f}, AUC_PREDICTION = "
                          f"{result.auc_prediction:.4f} (folds: {', '.join(f'{a:.3f}' for a in result.fold_aucs)})")
        self.style_on_load(context, out_zones, "hazard_classes", name="易发性分区 / Susceptibility zones")
        return {self.OUTPUT_INDEX: out_index, self.OUTPUT_ZONES: out_zones, self.OUTPUT_REPORT: result.outputs.get("report"),
                self.OUTPUT_SAMPLES: result.outputs.get("samples"), "AUC_SUCCESS": result.auc_success,
                "AUC_PREDICTION": result.auc_prediction, "METHOD_USED": result.method,
                "RELIABLE": int(result.verdict.reliable)}
