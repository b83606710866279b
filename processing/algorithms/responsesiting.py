from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterEnum,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterMapLayer, QgsProcessingParameterNumber,
                       QgsProcessingParameterString, QgsProcessingParameterVectorDestination)

from ...risk_plugin.definitions import reach as D
from ...risk_plugin.definitions import shelters as SD
from ...risk_plugin.reach_run import response_siting
from ..base import RiskMapAlgorithm
from ..reach_params import ROADS_HELP, add_road_params, read_road_params, speed_help
from ..shelter_params import demand_source

GROUPS = list(D.GROUPS)


class ResponseSitingAlgorithm(RiskMapAlgorithm):
    ALG_ID = "responsesiting"
    NAME_ZH, NAME_EN = "救援队与储备点选址", "Siting the next rescue team or depot"
    GROUP_ID, GROUP_ZH, GROUP_EN = "shelters", "应急避难与救援", "Shelters and response"
    ORDER = 40
    CANDIDATES, DEMAND, DEMAND_FIELD, FACILITIES, TYPE_FIELD = "CANDIDATES", "DEMAND", "DEMAND_FIELD", "FACILITIES", "TYPE_FIELD"
    GROUP, MINUTES, K, METHOD, OUTPUT, OUTPUT_CURVE = "GROUP", "MINUTES", "K", "METHOD", "OUTPUT", "OUTPUT_CURVE"
    HELP = (
        "新的救援队、消防站、医疗点或物资储备点应建在哪里: 从候选站点中依次选出最能增加“目标时间内可到达人数”的 K 处, 给出覆盖曲线。"
        "与避难场所选址同一引擎 (最大覆盖, 贪心或精确), 按行车时间计。<br>"
        "Where the next rescue team, fire station, medical point or supply depot should go: the K candidate sites that most "
        "increase the people reached within the target time, in order, with the coverage curve. The same engine as shelter "
        "siting (maximal covering, greedy or exact), on travel time.<br><br>"
        "<b>CANDIDATES</b>: points or polygons (name optional). <b>DEMAND</b>, <b>DEMAND_FIELD</b>: as in "
        "riskmap:responsereach. <b>FACILITIES</b> (optional) with <b>TYPE_FIELD</b>: the existing ones of the group reach "
        "people first.<br>"
        "<b>GROUP</b> (default rescue forces): what is sited: rescue forces (救援队 + 消防站), rescue teams, fire stations, "
        "hospitals or depots. <b>MINUTES</b> (default "
        f"{D.SITING_MINUTES:g}): the target time. <b>K</b> (default {D.SITING_K}). <b>METHOD</b>: 'greedy' (default): "
        "at each step the candidate that reaches the most people not yet reached within MINUTES; 'exact': also the "
        "optimum for each k by mixed-integer programming (HiGHS, scipy.optimize.milp) when there are at most "
        f"{SD.EXACT_MAX_PAIRS:,} candidate–person pairs.<br>" + ROADS_HELP + speed_help() + "<br>"
        "<b>OUTPUT</b>: chosen sites in order (rank, people_added, reached_total). <b>OUTPUT_CURVE</b>: CSV/XLSX coverage "
        "curve (k, site, people added, people reached, share).<br>"
        "Numeric outputs: <b>POPULATION_TOTAL</b>, <b>REACHED_BEFORE</b>, <b>REACHED_AFTER</b>, <b>SITES_CHOSEN</b>, "
        "<b>CANDIDATES_UNSNAPPED</b>.")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.CANDIDATES, "候选站点 / Candidate sites", [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterMapLayer(
            self.DEMAND, "需求: 人口栅格 / 建筑 / 村 / Demand: population raster, buildings or villages"))
        self.addParameter(QgsProcessingParameterString(self.DEMAND_FIELD, "人数字段 (矢量需求) / People field (vector demand)",
                                                       optional=True))
        add_road_params(self)
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.FACILITIES, "现有救援力量与储备库 / Existing facilities",
            [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterField(self.TYPE_FIELD, "类型字段 / Type field",
                                                      parentLayerParameterName=self.FACILITIES, optional=True))
        self.addParameter(QgsProcessingParameterEnum(
            self.GROUP, "选址对象 / What to site", options=[f"{D.GROUP_ZH[g]} / {D.GROUP_EN[g]}" for g in GROUPS],
            defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(self.MINUTES, "目标时间 (分钟) / Target (minutes)",
                                                       QgsProcessingParameterNumber.Double, D.SITING_MINUTES, minValue=0.1))
        self.addParameter(QgsProcessingParameterNumber(self.K, "新建数 K / Sites to choose K",
                                                       QgsProcessingParameterNumber.Integer, D.SITING_K, minValue=1))
        self.addParameter(QgsProcessingParameterEnum(self.METHOD, "方法 / Method", options=[
            "贪心最大覆盖 / greedy maximal covering", "精确 (混合整数规划) / exact (MILP)"],
            defaultValue=SD.SITING_METHODS.index(SD.SITING_METHOD)))
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT, "建议新建救援站点 / Proposed response sites",
                                                                  QgsProcessing.TypeVectorPoint))
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT_CURVE, "覆盖曲线 / Coverage curve",
                                                                "CSV (*.csv);;Excel (*.xlsx)"))
        for key, label in (("POPULATION_TOTAL", "总人数 / Total people"),
                           ("REACHED_BEFORE", "选址前可到达 / Reached before"),
                           ("REACHED_AFTER", "选址后可到达 / Reached after"),
                           ("SITES_CHOSEN", "选出站点数 / Sites chosen"),
                           ("CANDIDATES_UNSNAPPED", "距道路过远的候选 / Candidates too far from any road")):
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def execute(self, parameters, context, feedback, progress):
        out = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        curve = self.parameterAsFileOutput(parameters, self.OUTPUT_CURVE, context)
        r = response_siting(
            self.vector_path(parameters, self.CANDIDATES, context, feedback),
            demand_source(self, parameters, self.DEMAND, context, feedback),
            self.vector_path(parameters, "ROADS", context, feedback),
            group=GROUPS[self.parameterAsEnum(parameters, self.GROUP, context)],
            k=self.parameterAsInt(parameters, self.K, context),
            minutes=self.parameterAsDouble(parameters, self.MINUTES, context),
            facilities=self.vector_path(parameters, self.FACILITIES, context, feedback),
            demand_field=self.parameterAsString(parameters, self.DEMAND_FIELD, context) or None,
            type_field=self.parameterAsString(parameters, self.TYPE_FIELD, context) or None,
            method=SD.SITING_METHODS[self.parameterAsEnum(parameters, self.METHOD, context)],
            output=out, output_curve=curve, progress=progress, **read_road_params(self, parameters, context))
        for row in r["curve"].itertuples():
            feedback.pushInfo(f"k={row.k}: {row.site}  +{row.people_added:.0f} → {row.reached_total:.0f}")
        self.style_on_load(context, out, "facility_types", field="facility_type", name="建议新建救援站点 / Proposed response sites")
        return {self.OUTPUT: out, self.OUTPUT_CURVE: curve, "POPULATION_TOTAL": r["population_total"],
                "REACHED_BEFORE": r["reached_before"], "REACHED_AFTER": r["reached_after"],
                "SITES_CHOSEN": r["sites_chosen"], "CANDIDATES_UNSNAPPED": r["candidates_unsnapped"]}
