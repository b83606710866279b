from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterBoolean,
                       QgsProcessingParameterEnum, QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterMapLayer,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer, QgsProcessingParameterString,
                       QgsProcessingParameterVectorDestination)

from ...risk_plugin.definitions import shelters as D
from ...risk_plugin.shelter_run import shelter_siting
from ..base import RiskMapAlgorithm
from ..shelter_params import CLASS_LABEL, add_class_params, class_param_help, demand_source, read_class_params


class ShelterSitingAlgorithm(RiskMapAlgorithm):
    ALG_ID = "sheltersiting"
    NAME_ZH, NAME_EN = "避难场所选址", "Shelter siting"
    GROUP_ID, GROUP_ZH, GROUP_EN = "shelters", "应急避难", "Shelters"
    ORDER = 20
    CANDIDATES, CANDIDATE_AREA_FIELD, K, CANDIDATE_CLASS = "CANDIDATES", "CANDIDATE_AREA_FIELD", "K", "CANDIDATE_CLASS"
    DEMAND, DEMAND_FIELD, SHELTERS, CLASS_FIELD = "DEMAND", "DEMAND_FIELD", "SHELTERS", "CLASS_FIELD"
    AREA_FIELD, CAPACITY_FIELD, ROADS, MAX_SNAP = "AREA_FIELD", "CAPACITY_FIELD", "ROADS", "MAX_SNAP"
    METHOD, ALLOCATION, HAZARD, HAZARD_MIN_CLASS = "METHOD", "ALLOCATION", "HAZARD", "HAZARD_MIN_CLASS"
    INCLUDE_HAZARDOUS, OUTPUT, OUTPUT_CURVE = "INCLUDE_HAZARDOUS", "OUTPUT", "OUTPUT_CURVE"
    HELP = (
        "从候选场址 (学校、广场、公园、体育场、停车场) 中选出最能增加安置人数的 K 处, 按顺序列出每处新增安置人数和覆盖曲线。<br>"
        "Chooses the K candidate sites (schools, squares, parks, stadiums, car parks) that most increase the people "
        "served, in order, with the people each adds and the coverage curve k = 1..K.<br><br>"
        "<b>CANDIDATES</b>: points or polygons with <b>CANDIDATE_AREA_FIELD</b> (default 有效面积, m²). "
        "<b>CANDIDATE_CLASS</b> (default 紧急 emergency): class the new sites would have, which sets their per-capita "
        "area and service distance (below).<br>"
        "<b>K</b> (default 5): sites to choose. <b>DEMAND</b>, <b>DEMAND_FIELD</b>, <b>ROADS</b>, <b>MAX_SNAP</b>, "
        "<b>ALLOCATION</b>: as in riskmap:sheltercoverage. <b>SHELTERS</b> (optional, with CLASS_FIELD, AREA_FIELD, "
        "CAPACITY_FIELD): existing shelters, which serve people first.<br>"
        "<b>METHOD</b>: 'greedy' (default): greedy maximal covering with capacity: at each step the candidate with the "
        "most still-unserved people within its service distance (capped by its capacity) is added, then everybody is "
        "re-allocated and the real gain recorded; stops early when no candidate adds anyone. 'exact': also solves the "
        "maximal covering problem with capacities exactly for each k (mixed-integer programme, HiGHS through "
        f"scipy.optimize.milp; flow-optimal assignment) when there are at most {D.EXACT_MAX_PAIRS:,} person–site pairs, "
        "and reports the optimum beside the greedy curve.<br>"
        f"<b>HAZARD</b> (optional) and <b>HAZARD_MIN_CLASS</b> (default {D.HAZARD_MIN_CLASS}): candidates in a cell of "
        "that class or higher are not chosen (GB 50413-2007 §8.2.6) unless <b>INCLUDE_HAZARDOUS</b> is set.<br>"
        "Per class (advanced):<br>" + class_param_help() + "<br>"
        "<b>OUTPUT</b>: chosen sites in order (rank, capacity, people_added, served_total). <b>OUTPUT_CURVE</b>: "
        "CSV/XLSX coverage curve (k, site, people added, people served, share).<br>"
        "Numeric outputs: <b>POPULATION_TOTAL</b>, <b>SERVED_BEFORE</b>, <b>SERVED_AFTER</b>, <b>SITES_CHOSEN</b>, "
        "<b>CANDIDATES_EXCLUDED_HAZARD</b>.")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.CANDIDATES, "候选场址 / Candidate sites", [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField(
            self.CANDIDATE_AREA_FIELD, "候选有效面积字段 (m²) / Candidate effective area field (m²)",
            parentLayerParameterName=self.CANDIDATES, optional=True, type=QgsProcessingParameterField.Numeric))
        self.addParameter(QgsProcessingParameterNumber(self.K, "新建场所数 K / Sites to choose K",
                                                       QgsProcessingParameterNumber.Integer, 5, minValue=1))
        self.addParameter(QgsProcessingParameterEnum(self.CANDIDATE_CLASS, "新场所类别 / Class of new sites",
                                                     options=[CLASS_LABEL[c] for c in D.CLASSES],
                                                     defaultValue=D.CLASSES.index(D.CANDIDATE_CLASS)))
        self.addParameter(QgsProcessingParameterMapLayer(
            self.DEMAND, "需求: 人口栅格 / 建筑 / 村 / Demand: population raster, buildings or villages"))
        self.addParameter(QgsProcessingParameterString(self.DEMAND_FIELD, "人数字段 (矢量需求) / People field (vector demand)",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.SHELTERS, "现有避难场所 / Existing shelters", [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon],
            optional=True))
        self.addParameter(QgsProcessingParameterField(self.CLASS_FIELD, "类别字段 / Class field",
                                                      parentLayerParameterName=self.SHELTERS, optional=True))
        self.addParameter(QgsProcessingParameterField(self.AREA_FIELD, "有效面积字段 (m²) / Effective area field (m²)",
                                                      parentLayerParameterName=self.SHELTERS, optional=True,
                                                      type=QgsProcessingParameterField.Numeric))
        self.addParameter(QgsProcessingParameterField(self.CAPACITY_FIELD, "容量字段 (人) / Capacity field (people)",
                                                      parentLayerParameterName=self.SHELTERS, optional=True,
                                                      type=QgsProcessingParameterField.Numeric))
        self.addParameter(QgsProcessingParameterFeatureSource(self.ROADS, "道路 / Roads",
                                                              [QgsProcessing.TypeVectorLine], optional=True))
        self.addParameter(QgsProcessingParameterNumber(self.MAX_SNAP, "最大吸附距离 (m) / Max snap distance (m)",
                                                       QgsProcessingParameterNumber.Double, D.MAX_SNAP, minValue=0.1))
        self.addParameter(QgsProcessingParameterEnum(self.METHOD, "方法 / Method", options=[
            "贪心最大覆盖 / greedy maximal covering", "精确 (混合整数规划) / exact (MILP)"],
            defaultValue=D.SITING_METHODS.index(D.SITING_METHOD)))
        self.addParameter(QgsProcessingParameterEnum(self.ALLOCATION, "分配规则 / Allocation rule", options=[
            "就近有余量 / nearest with room", "均衡 (最小费用流) / balanced (min-cost flow)"],
            defaultValue=D.ALLOCATIONS.index(D.ALLOCATION)))
        self.addParameter(QgsProcessingParameterRasterLayer(self.HAZARD, "危险性等级栅格 / Hazard class raster",
                                                            optional=True))
        self.addParameter(QgsProcessingParameterNumber(self.HAZARD_MIN_CLASS, "危险等级下限 / Exclude from hazard class",
                                                       QgsProcessingParameterNumber.Integer, D.HAZARD_MIN_CLASS,
                                                       minValue=1, maxValue=4))
        self.addParameter(QgsProcessingParameterBoolean(self.INCLUDE_HAZARDOUS,
                                                        "允许危险区内候选 / Allow candidates in hazard zones",
                                                        defaultValue=not D.EXCLUDE_HAZARDOUS_CANDIDATES))
        add_class_params(self)
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT, "建议新建避难场所 / Proposed shelter sites"))
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT_CURVE, "覆盖曲线 / Coverage curve",
                                                                "CSV (*.csv);;Excel (*.xlsx)"))
        for key, label in (("POPULATION_TOTAL", "总人数 / Total people"),
                           ("SERVED_BEFORE", "选址前已安置 / Served before"),
                           ("SERVED_AFTER", "选址后已安置 / Served after"),
                           ("SITES_CHOSEN", "选出场所数 / Sites chosen"),
                           ("CANDIDATES_EXCLUDED_HAZARD", "因危险区排除的候选数 / Candidates excluded (hazard)")):
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def execute(self, parameters, context, feedback, progress):
        field = lambda name: self.parameterAsString(parameters, name, context) or None  # noqa: E731
        out = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        curve = self.parameterAsFileOutput(parameters, self.OUTPUT_CURVE, context)
        r = shelter_siting(
            self.vector_path(parameters, self.CANDIDATES, context, feedback),
            demand_source(self, parameters, self.DEMAND, context, feedback),
            self.parameterAsInt(parameters, self.K, context),
            shelters=self.vector_path(parameters, self.SHELTERS, context, feedback),
            roads=self.vector_path(parameters, self.ROADS, context, feedback),
            demand_field=field(self.DEMAND_FIELD), candidate_area_field=field(self.CANDIDATE_AREA_FIELD),
            candidate_class=D.CLASSES[self.parameterAsEnum(parameters, self.CANDIDATE_CLASS, context)],
            class_field=field(self.CLASS_FIELD), area_field=field(self.AREA_FIELD),
            capacity_field=field(self.CAPACITY_FIELD),
            max_snap=self.parameterAsDouble(parameters, self.MAX_SNAP, context),
            method=D.SITING_METHODS[self.parameterAsEnum(parameters, self.METHOD, context)],
            allocation=D.ALLOCATIONS[self.parameterAsEnum(parameters, self.ALLOCATION, context)],
            hazard=self.raster_path(parameters, self.HAZARD, context),
            hazard_min_class=self.parameterAsInt(parameters, self.HAZARD_MIN_CLASS, context),
            include_hazardous=self.parameterAsBool(parameters, self.INCLUDE_HAZARDOUS, context),
            output=out, output_curve=curve, progress=progress, **read_class_params(self, parameters, context))
        for row in r["curve"].itertuples():
            feedback.pushInfo(f"k={row.k}: {row.site}  +{row.people_added:.0f} → {row.served_total:.0f}")
        self.style_on_load(context, out, "shelter_classes", field="shelter_class", name="建议新建避难场所 / Proposed shelter sites")
        return {self.OUTPUT: out, self.OUTPUT_CURVE: curve, "POPULATION_TOTAL": r["population_total"],
                "SERVED_BEFORE": r["served_before"], "SERVED_AFTER": r["served_after"],
                "SITES_CHOSEN": r["sites_chosen"], "CANDIDATES_EXCLUDED_HAZARD": r["candidates_excluded_hazard"]}
