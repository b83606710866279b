from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingOutputString,
                       QgsProcessingParameterBoolean, QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterMapLayer,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer, QgsProcessingParameterString,
                       QgsProcessingParameterVectorDestination)

from ...risk_plugin.definitions import shelters as D
from ...risk_plugin.shelter_run import shelter_coverage
from ..base import RiskMapAlgorithm
from ..shelter_params import CatchmentStyle, add_class_params, class_param_help, demand_source, read_class_params

NUMERIC = {
    "POPULATION_TOTAL": "总人数 / Total people",
    "POPULATION_WITHIN_REACH": "服务距离内人数 / People within a shelter's service distance",
    "POPULATION_SERVED": "已安置人数 / People served",
    "POPULATION_UNSERVED": "未安置人数 / People unserved",
    "SHELTERS_UNSNAPPED": "距道路过远的场所数 / Shelters too far from any road",
    "DEMAND_UNSNAPPED": "距道路过远的需求单元数 / Demand units too far from any road",
    "COMPONENTS_WITHOUT_SHELTER": "无场所的路网连通分量数 / Network components with people but no shelter",
    "SHELTERS_IN_HAZARD": "位于危险区的场所数 / Shelters in hazard zones",
    "SHELTERS_OVER_DEMANDED": "超负荷场所数 / Over-demanded shelters",
}


class ShelterCoverageAlgorithm(RiskMapAlgorithm):
    ALG_ID = "sheltercoverage"
    NAME_ZH, NAME_EN = "避难场所覆盖与容量", "Shelter coverage and capacity"
    GROUP_ID, GROUP_ZH, GROUP_EN = "shelters", "应急避难", "Shelters"
    ORDER = 10
    SHELTERS, CLASS_FIELD, AREA_FIELD, CAPACITY_FIELD = "SHELTERS", "CLASS_FIELD", "AREA_FIELD", "CAPACITY_FIELD"
    DEMAND, DEMAND_FIELD, ROADS, MAX_SNAP = "DEMAND", "DEMAND_FIELD", "ROADS", "MAX_SNAP"
    ALLOCATION, HAZARD, HAZARD_MIN_CLASS, EXCLUDE_HAZARDOUS = "ALLOCATION", "HAZARD", "HAZARD_MIN_CLASS", "EXCLUDE_HAZARDOUS"
    UNITS, UNIT_FIELD, PARENT_FIELD, CATCHMENT_WIDTH = "UNITS", "UNIT_FIELD", "PARENT_FIELD", "CATCHMENT_WIDTH"
    OUTPUT_SHELTERS, OUTPUT_DEMAND = "OUTPUT_SHELTERS", "OUTPUT_DEMAND"
    OUTPUT_UNITS, OUTPUT_CATCHMENTS = "OUTPUT_UNITS", "OUTPUT_CATCHMENTS"
    HELP = (
        "谁能在步行距离内到达避难场所、到达的场所是否有容量、哪些村被遗漏、哪些场所本身位于危险区。<br>"
        "Who can reach a shelter on foot and in time, whether the shelters they reach have room for them, "
        "which villages are left out, and which shelters stand in hazard zones.<br><br>"
        "<b>SHELTERS</b>: points or polygons. <b>CLASS_FIELD</b> (default: 类别/class): 紧急 / 固定-短期 / 固定-中期 / "
        "固定-长期 / 中心. <b>AREA_FIELD</b> (default: 有效面积, m²) or <b>CAPACITY_FIELD</b> (default: 容量, people; "
        "used where filled). Capacity = effective area ÷ per-capita area of the class.<br>"
        "<b>DEMAND</b>: a population raster (people per cell), buildings, or village points/polygons with "
        "<b>DEMAND_FIELD</b> (default: 居住人数/人口/人数/population); polygons count at their point on surface.<br>"
        "<b>ROADS</b> (optional): walking distance along the network; lines join at shared vertices (as QGIS's network "
        "analysis; NODING to join at every crossing). Shelters and demand snap to the nearest road within "
        f"<b>MAX_SNAP</b> (default {D.MAX_SNAP:g} m, a project choice: about 4 min on foot) and the snap distance is "
        "counted. Shelters and demand that cannot snap, and every network component with people but no shelter, are "
        "reported by name and count (log and outputs). Without ROADS the distance is straight-line.<br>"
        "<b>ALLOCATION</b>: 'nearest' (default): people go to the nearest shelter that still has room, within its service "
        "distance; pairs are served in order of increasing walking distance over the whole area, so nobody is turned away "
        "in favour of someone who lives farther away. 'balanced': the most people served, then the least total walking "
        "(min-cost flow solved by HiGHS, scipy.optimize.linprog).<br>"
        "<b>HAZARD</b> (optional): hazard class raster 0..4. Shelters whose cells reach <b>HAZARD_MIN_CLASS</b> "
        f"(default {D.HAZARD_MIN_CLASS}, 高; GB 50413-2007 §8.2.6: no shelter on land unsuited to it) are flagged; "
        "<b>EXCLUDE_HAZARDOUS</b> (default false) also leaves them out of the allocation.<br>"
        "<b>UNITS</b> (optional): village or township polygons; <b>UNIT_FIELD</b> (default 名称/name) and "
        "<b>PARENT_FIELD</b> (default 乡镇) give a per-village and per-township table.<br>"
        "Per class (advanced):<br>" + class_param_help() + "<br>"
        "<b>UNIFORM_PER_CAPITA</b> (optional): one per-capita area for every class; 1.5 = GB 21734-2008 §5.4 "
        "(人均居住面积应大于 1.5 m²), the ratio of one real county inventory (302,100 m² for 201,400 people).<br>"
        f"<b>CATCHMENT_WIDTH</b> (default {D.CATCHMENT_WIDTH:g} m, display only): reachable roads are buffered by it.<br>"
        "<b>OUTPUT_SHELTERS</b>: capacity, service distance, hazard class, people within reach, first-choice people, "
        "assigned people, utilisation, over_demanded (first-choice people exceed capacity). <b>OUTPUT_DEMAND</b>: "
        "points with people, status (served / partly_served / shelters_full / out_of_reach / no_shelter_on_network / "
        "unsnapped), nearest shelter and distance, assigned shelter, served and unserved people. <b>OUTPUT_UNITS</b>: "
        "CSV/XLSX per village and township: people, within reach, served, unserved. <b>OUTPUT_CATCHMENTS</b>: service "
        "area polygon per shelter along the network (circle without roads).<br>"
        "Numeric outputs: " + ", ".join(f"<b>{k}</b>" for k in NUMERIC) + ".")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.SHELTERS, "避难场所 / Shelters", [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField(self.CLASS_FIELD, "类别字段 / Class field",
                                                      parentLayerParameterName=self.SHELTERS, optional=True))
        self.addParameter(QgsProcessingParameterField(self.AREA_FIELD, "有效面积字段 (m²) / Effective area field (m²)",
                                                      parentLayerParameterName=self.SHELTERS, optional=True,
                                                      type=QgsProcessingParameterField.Numeric))
        self.addParameter(QgsProcessingParameterField(self.CAPACITY_FIELD, "容量字段 (人) / Capacity field (people)",
                                                      parentLayerParameterName=self.SHELTERS, optional=True,
                                                      type=QgsProcessingParameterField.Numeric))
        self.addParameter(QgsProcessingParameterMapLayer(
            self.DEMAND, "需求: 人口栅格 / 建筑 / 村 / Demand: population raster, buildings or villages"))
        self.addParameter(QgsProcessingParameterString(self.DEMAND_FIELD, "人数字段 (矢量需求) / People field (vector demand)",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(self.ROADS, "道路 / Roads",
                                                              [QgsProcessing.TypeVectorLine], optional=True))
        self.addParameter(QgsProcessingParameterNumber(self.MAX_SNAP, "最大吸附距离 (m) / Max snap distance (m)",
                                                       QgsProcessingParameterNumber.Double, D.MAX_SNAP, minValue=0.1))
        self.addParameter(QgsProcessingParameterEnum(self.ALLOCATION, "分配规则 / Allocation rule", options=[
            "就近有余量 / nearest with room", "均衡 (最小费用流) / balanced (min-cost flow)"],
            defaultValue=D.ALLOCATIONS.index(D.ALLOCATION)))
        self.addParameter(QgsProcessingParameterRasterLayer(self.HAZARD, "危险性等级栅格 / Hazard class raster",
                                                            optional=True))
        self.addParameter(QgsProcessingParameterNumber(self.HAZARD_MIN_CLASS, "危险等级下限 / Flag from hazard class",
                                                       QgsProcessingParameterNumber.Integer, D.HAZARD_MIN_CLASS,
                                                       minValue=1, maxValue=4))
        self.addParameter(QgsProcessingParameterBoolean(self.EXCLUDE_HAZARDOUS,
                                                        "排除危险区内场所 / Exclude shelters in hazard zones",
                                                        defaultValue=D.EXCLUDE_HAZARDOUS))
        self.addParameter(QgsProcessingParameterFeatureSource(self.UNITS, "统计单元 (村/乡镇) / Units (villages/townships)",
                                                              [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterField(self.UNIT_FIELD, "单元名称字段 / Unit name field",
                                                      parentLayerParameterName=self.UNITS, optional=True))
        self.addParameter(QgsProcessingParameterField(self.PARENT_FIELD, "所属乡镇字段 / Township field",
                                                      parentLayerParameterName=self.UNITS, optional=True))
        add_class_params(self)
        width = QgsProcessingParameterNumber(self.CATCHMENT_WIDTH, "服务范围缓冲宽度 (m) / Catchment width (m)",
                                             QgsProcessingParameterNumber.Double, D.CATCHMENT_WIDTH, minValue=0.1)
        width.setFlags(width.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(width)
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT_SHELTERS, "避难场所容量与利用 / Shelter capacity and use"))
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT_DEMAND, "避难需求安置情况 / Shelter demand served",
                                                                  QgsProcessing.TypeVectorPoint))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_UNITS, "分村/乡镇统计表 / Per-unit table", "CSV (*.csv);;Excel (*.xlsx)", optional=True,
            createByDefault=False))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_CATCHMENTS, "避难场所服务范围 / Shelter catchments", QgsProcessing.TypeVectorPolygon, optional=True))
        for key, label in NUMERIC.items():
            self.addOutput(QgsProcessingOutputNumber(key, label))
        self.addOutput(QgsProcessingOutputString("REPORT", "未覆盖说明 / What is left out"))

    def execute(self, parameters, context, feedback, progress):
        field = lambda name: self.parameterAsString(parameters, name, context) or None  # noqa: E731
        out_sh = self.parameterAsOutputLayer(parameters, self.OUTPUT_SHELTERS, context)
        out_dem = self.parameterAsOutputLayer(parameters, self.OUTPUT_DEMAND, context)
        out_units = self.parameterAsFileOutput(parameters, self.OUTPUT_UNITS, context) or None
        out_c = self.parameterAsOutputLayer(parameters, self.OUTPUT_CATCHMENTS, context) or None
        units = self.vector_path(parameters, self.UNITS, context, feedback)
        r = shelter_coverage(
            self.vector_path(parameters, self.SHELTERS, context, feedback),
            demand_source(self, parameters, self.DEMAND, context, feedback),
            roads=self.vector_path(parameters, self.ROADS, context, feedback),
            demand_field=field(self.DEMAND_FIELD), class_field=field(self.CLASS_FIELD),
            area_field=field(self.AREA_FIELD), capacity_field=field(self.CAPACITY_FIELD),
            max_snap=self.parameterAsDouble(parameters, self.MAX_SNAP, context),
            allocation=D.ALLOCATIONS[self.parameterAsEnum(parameters, self.ALLOCATION, context)],
            hazard=self.raster_path(parameters, self.HAZARD, context),
            hazard_min_class=self.parameterAsInt(parameters, self.HAZARD_MIN_CLASS, context),
            exclude_hazardous=self.parameterAsBool(parameters, self.EXCLUDE_HAZARDOUS, context),
            units=units, unit_field=field(self.UNIT_FIELD), parent_field=field(self.PARENT_FIELD),
            catchment_width=self.parameterAsDouble(parameters, self.CATCHMENT_WIDTH, context),
            output_shelters=out_sh, output_demand=out_dem, output_units=out_units if units else None,
            output_catchments=out_c, progress=progress, **read_class_params(self, parameters, context))
        if out_units and not units:
            feedback.pushWarning("未提供 UNITS, 不输出分单元统计表 / no UNITS given: no per-unit table written")
            out_units = None
        self.style_on_load(context, out_sh, "shelter_utilisation", field="utilisation",
                           name="避难场所利用率 / Shelter utilisation")
        self.style_on_load(context, out_dem, "service_status", field="served", name="安置情况 / Demand served")
        CatchmentStyle.attach(context, out_c, name="避难场所服务范围 / Shelter catchments")
        comps = r.get("components_without_shelter")
        report = (f"served {r['population_served']:.0f} / {r['population_total']:.0f}; "
                  f"unsnapped shelters: {len(r.get('shelters_unsnapped', []))}; "
                  f"unsnapped demand units: {r.get('demand_unsnapped', 0)}; "
                  f"components without shelter: {0 if comps is None else len(comps)}; "
                  f"shelters in hazard: {len(r['hazardous_shelters'])}; over-demanded: {len(r['over_demanded'])}")
        feedback.pushInfo(report)
        return {self.OUTPUT_SHELTERS: out_sh, self.OUTPUT_DEMAND: out_dem, self.OUTPUT_UNITS: out_units,
                self.OUTPUT_CATCHMENTS: out_c,
                "POPULATION_TOTAL": r["population_total"], "POPULATION_WITHIN_REACH": r["population_within_reach"],
                "POPULATION_SERVED": r["population_served"], "POPULATION_UNSERVED": r["population_unserved"],
                "SHELTERS_UNSNAPPED": len(r.get("shelters_unsnapped", [])),
                "DEMAND_UNSNAPPED": r.get("demand_unsnapped", 0),
                "COMPONENTS_WITHOUT_SHELTER": 0 if comps is None else len(comps),
                "SHELTERS_IN_HAZARD": len(r["hazardous_shelters"]), "SHELTERS_OVER_DEMANDED": len(r["over_demanded"]),
                "REPORT": report}
