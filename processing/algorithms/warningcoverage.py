from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterBoolean,
                       QgsProcessingParameterDefinition, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterField, QgsProcessingParameterFileDestination, QgsProcessingParameterMapLayer,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer, QgsProcessingParameterString,
                       QgsProcessingParameterVectorDestination)

from ...risk_plugin.definitions import warning as D
from ...risk_plugin.warning_run import warning_coverage
from ..base import RiskMapAlgorithm
from ..shelter_params import demand_source

NUMERIC = {
    "POPULATION_TOTAL": "总人数 / Total people", "POPULATION_COVERED": "预警覆盖人数 / People covered",
    "COVERED_SHARE": "预警覆盖率 / Share covered", "POPULATION_BLOCKED": "因地形遮挡未覆盖 / People lost to terrain",
    "VILLAGES_BELOW_TARGET": "低于目标的村 / Villages below the target",
    "TOWNSHIPS_BELOW_TARGET": "低于目标的乡镇 / Townships below the target", "DEVICES": "预警设施数 / Devices",
    "POINTS": "隐患点数 / Geohazard points", "POINTS_MONITORED": "有监测的隐患点 / Points monitored",
    "MONITORED_SHARE": "隐患点监测率 / Share of points monitored",
    "PEOPLE_UNMONITORED": "无监测隐患点威胁人数 / People at unmonitored points",
}


class WarningCoverageAlgorithm(RiskMapAlgorithm):
    ALG_ID = "warningcoverage"
    NAME_ZH, NAME_EN = "预警覆盖与隐患点监测", "Warning coverage and geohazard monitoring"
    GROUP_ID, GROUP_ZH, GROUP_EN = "shelters", "应急避难与救援", "Shelters and response"
    ORDER = 50
    DEVICES, TYPE_FIELD, RADIUS_FIELD, DEMAND, DEMAND_FIELD = "DEVICES", "TYPE_FIELD", "RADIUS_FIELD", "DEMAND", "DEMAND_FIELD"
    UNITS, UNIT_FIELD, PARENT_FIELD, RADII, HEIGHTS = "UNITS", "UNIT_FIELD", "PARENT_FIELD", "RADII", "HEIGHTS"
    DEM, TERRAIN_LOSS_DB, RECEIVER_HEIGHT, TARGET = "DEM", "TERRAIN_LOSS_DB", "RECEIVER_HEIGHT", "TARGET"
    GEOHAZARD_POINTS, MONITORING, THREAT_RADII, THREAT_RADIUS_FIELD = ("GEOHAZARD_POINTS", "MONITORING", "THREAT_RADII",
                                                                        "THREAT_RADIUS_FIELD")
    MIN_DEVICES, COVERAGE_CELL = "MIN_DEVICES", "COVERAGE_CELL"
    OUTPUT_DEMAND, OUTPUT_UNITS, OUTPUT_TABLE = "OUTPUT_DEMAND", "OUTPUT_UNITS", "OUTPUT_TABLE"
    OUTPUT_COVERAGE, OUTPUT_POINTS = "OUTPUT_COVERAGE", "OUTPUT_POINTS"
    HELP = (
        "警报器和应急广播 (高音喇叭) 能让多少人听到预警: 按村、乡镇对照 95% 的目标, 列出低于目标的村; 可用 DEM 计算地形遮挡 "
        "(喇叭高度到人耳的通视)。同时统计隐患点监测率: 威胁范围内有监测设备的隐患点, 以及无监测隐患点威胁的人数。<br>"
        "Who hears a siren or an emergency-broadcast loudspeaker: people covered per village and township against the 95 % "
        "target, the villages below it; optionally terrain blocking on a DEM (line of sight from the horn to the ear). "
        "Also the monitored share of geohazard points (a monitoring device inside the threat zone) and the people at "
        "unmonitored points.<br><br>"
        "<b>DEVICES</b>: points with <b>TYPE_FIELD</b> (default 类型): 警报器 / 电声警报器 (siren), 应急广播 / 高音喇叭 / 大喇叭 / 村村响 "
        "(loudspeaker); optional 安装高度 (m) and 有效半径 (m), or <b>RADIUS_FIELD</b>.<br>"
        "Audible radius by type, <b>RADII</b> ('siren=690; loudspeaker=172'): " + "; ".join(
            f"{k} {D.AUDIBLE_RADIUS_M[k]:g} m ({D.RADIUS_SOURCE[k]})" for k in D.DEVICE_TYPES) +
        ". The rule of FEMA CPG 1-17: rated level at 30.5 m, −10 dB per doubling of distance, effective range to the "
        "70 dB contour.<br>"
        "<b>DEM</b> (optional, metres): a listener with terrain above the straight line from the horn (mounting height; "
        "<b>HEIGHTS</b> default " + ", ".join(f"{k}={v:g} m" for k, v in D.DEFAULT_HEIGHT_M.items()) +
        f") to the ear (<b>RECEIVER_HEIGHT</b>, default {D.RECEIVER_HEIGHT_M:g} m) hears it only within the radius shrunk "
        f"by <b>TERRAIN_LOSS_DB</b> (default {D.TERRAIN_LOSS_DB:g} dB, the single-diffraction cap of ISO 9613-2 §7.4: "
        "radius ÷ 4; 999 = blocked means not heard). The line is sampled every DEM cell, all pairs at once.<br>"
        f"<b>TARGET</b> (default {D.TARGET_SHARE:g}): share of people to cover (the plans' 95 %). Every person counts once, "
        "however many devices they hear.<br>"
        "<b>DEMAND</b>: population raster, buildings or villages (people field <b>DEMAND_FIELD</b>). <b>UNITS</b>: villages "
        "with their township (<b>UNIT_FIELD</b>, <b>PARENT_FIELD</b>).<br>"
        "<b>GEOHAZARD_POINTS</b> (optional) and <b>MONITORING</b> (monitoring device points): a point is monitored when at "
        f"least <b>MIN_DEVICES</b> (default {D.MIN_DEVICES}) devices lie in its threat zone, radius by type and scale as in "
        "riskmap:hazardpointthreat (<b>THREAT_RADII</b>, <b>THREAT_RADIUS_FIELD</b> for the surveyed radius).<br>"
        "<b>OUTPUT_DEMAND</b>: people with covered, devices_heard, nearest_device, nearest_m, blocked (in range but behind "
        "terrain). <b>OUTPUT_UNITS</b>: villages with people, covered, uncovered, covered_pct, below_target. "
        "<b>OUTPUT_TABLE</b>: villages, townships and total. <b>OUTPUT_COVERAGE</b>: audible area per device type "
        f"(circles; with a DEM, cells of <b>COVERAGE_CELL</b> m, default {D.COVERAGE_CELL:g}, heard). "
        "<b>OUTPUT_POINTS</b>: geohazard points with devices_in_zone and monitored.<br>"
        "Numeric outputs: " + ", ".join(f"<b>{k}</b>" for k in NUMERIC) + ".")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFeatureSource(self.DEVICES, "预警设施 / Warning devices",
                                                              [QgsProcessing.TypeVectorPoint]))
        self.addParameter(QgsProcessingParameterField(self.TYPE_FIELD, "类型字段 / Type field",
                                                      parentLayerParameterName=self.DEVICES, optional=True))
        self.addParameter(QgsProcessingParameterMapLayer(
            self.DEMAND, "需求: 人口栅格 / 建筑 / 村 / Demand: population raster, buildings or villages"))
        self.addParameter(QgsProcessingParameterString(self.DEMAND_FIELD, "人数字段 (矢量需求) / People field (vector demand)",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(self.UNITS, "村 (含所属乡镇) / Villages (with township)",
                                                              [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterField(self.UNIT_FIELD, "村名字段 / Village name field",
                                                      parentLayerParameterName=self.UNITS, optional=True))
        self.addParameter(QgsProcessingParameterField(self.PARENT_FIELD, "所属乡镇字段 / Township field",
                                                      parentLayerParameterName=self.UNITS, optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(self.DEM, "数字高程模型 (地形遮挡) / DEM (terrain blocking)",
                                                            optional=True))
        self.addParameter(QgsProcessingParameterNumber(self.TARGET, "目标覆盖率 / Target share",
                                                       QgsProcessingParameterNumber.Double, D.TARGET_SHARE,
                                                       minValue=0.01, maxValue=1.0))
        self.addParameter(QgsProcessingParameterFeatureSource(self.GEOHAZARD_POINTS, "地质灾害隐患点 / Geohazard points",
                                                              [QgsProcessing.TypeVectorPoint], optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(self.MONITORING, "监测设备 / Monitoring devices",
                                                              [QgsProcessing.TypeVectorPoint], optional=True))
        adv = [QgsProcessingParameterField(self.RADIUS_FIELD, "有效半径字段 (m) / Audible radius field (m)",
                                           parentLayerParameterName=self.DEVICES, optional=True,
                                           type=QgsProcessingParameterField.Numeric),
               QgsProcessingParameterString(self.RADII, "各类有效半径 (m) / Audible radius by type (m)",
                                            defaultValue="; ".join(f"{k}={v:g}" for k, v in D.AUDIBLE_RADIUS_M.items())),
               QgsProcessingParameterString(self.HEIGHTS, "各类安装高度 (m) / Mounting height by type (m)",
                                            defaultValue="; ".join(f"{k}={v:g}" for k, v in D.DEFAULT_HEIGHT_M.items())),
               QgsProcessingParameterNumber(self.TERRAIN_LOSS_DB, "地形遮挡衰减 (dB) / Terrain loss (dB)",
                                            QgsProcessingParameterNumber.Double, D.TERRAIN_LOSS_DB, minValue=0.0),
               QgsProcessingParameterNumber(self.RECEIVER_HEIGHT, "听者高度 (m) / Ear height (m)",
                                            QgsProcessingParameterNumber.Double, D.RECEIVER_HEIGHT_M, minValue=0.0),
               QgsProcessingParameterString(self.THREAT_RADII, "威胁半径 (m, 同 hazardpointthreat) / Threat radii (m)",
                                            optional=True),
               QgsProcessingParameterField(self.THREAT_RADIUS_FIELD, "威胁半径字段 (m) / Threat radius field (m)",
                                           parentLayerParameterName=self.GEOHAZARD_POINTS, optional=True),
               QgsProcessingParameterNumber(self.MIN_DEVICES, "每点最少监测设备数 / Devices needed per point",
                                            QgsProcessingParameterNumber.Integer, D.MIN_DEVICES, minValue=1),
               QgsProcessingParameterNumber(self.COVERAGE_CELL, "可听范围网格 (m) / Audible-area cell (m)",
                                            QgsProcessingParameterNumber.Double, D.COVERAGE_CELL, minValue=1.0),
               QgsProcessingParameterBoolean("REPAIR", "修复无效几何 / Repair invalid geometry", defaultValue=False)]
        for p in adv:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT_DEMAND, "预警覆盖 (人) / Warning coverage (people)",
                                                                  QgsProcessing.TypeVectorPoint))
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT_UNITS, "分村预警覆盖率 / Warning coverage per village",
                                                                  QgsProcessing.TypeVectorPolygon, optional=True,
                                                                  createByDefault=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_TABLE, "分村/乡镇统计表 / Per-village and township table", "Excel (*.xlsx);;CSV (*.csv)",
            optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT_COVERAGE, "预警设施可听范围 / Audible area of warning devices",
                                                                  QgsProcessing.TypeVectorPolygon, optional=True,
                                                                  createByDefault=False))
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT_POINTS, "隐患点监测 / Geohazard point monitoring",
                                                                  QgsProcessing.TypeVectorPoint, optional=True,
                                                                  createByDefault=False))
        for key, label in NUMERIC.items():
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def execute(self, parameters, context, feedback, progress):
        field = lambda name: self.parameterAsString(parameters, name, context) or None  # noqa: E731
        out = {k: (self.parameterAsOutputLayer(parameters, k, context) or None)
               for k in (self.OUTPUT_DEMAND, self.OUTPUT_UNITS, self.OUTPUT_COVERAGE, self.OUTPUT_POINTS)}
        out[self.OUTPUT_TABLE] = self.parameterAsFileOutput(parameters, self.OUTPUT_TABLE, context) or None
        points = self.vector_path(parameters, self.GEOHAZARD_POINTS, context, feedback)
        r = warning_coverage(
            self.vector_path(parameters, self.DEVICES, context, feedback),
            demand_source(self, parameters, self.DEMAND, context, feedback),
            units=self.vector_path(parameters, self.UNITS, context, feedback), demand_field=field(self.DEMAND_FIELD),
            type_field=field(self.TYPE_FIELD), unit_field=field(self.UNIT_FIELD), parent_field=field(self.PARENT_FIELD),
            radii=field(self.RADII), radius_field=field(self.RADIUS_FIELD), heights=field(self.HEIGHTS),
            dem=self.raster_path(parameters, self.DEM, context),
            terrain_loss_db=self.parameterAsDouble(parameters, self.TERRAIN_LOSS_DB, context),
            receiver_height=self.parameterAsDouble(parameters, self.RECEIVER_HEIGHT, context),
            target=self.parameterAsDouble(parameters, self.TARGET, context), geohazard_points=points,
            monitoring=self.vector_path(parameters, self.MONITORING, context, feedback),
            threat_radii=field(self.THREAT_RADII), threat_radius_field=field(self.THREAT_RADIUS_FIELD),
            min_devices=self.parameterAsInt(parameters, self.MIN_DEVICES, context),
            coverage_cell=self.parameterAsDouble(parameters, self.COVERAGE_CELL, context),
            output_demand=out[self.OUTPUT_DEMAND], output_units=out[self.OUTPUT_UNITS],
            output_table=out[self.OUTPUT_TABLE], output_coverage=out[self.OUTPUT_COVERAGE],
            output_points=out[self.OUTPUT_POINTS], repair=self.parameterAsBool(parameters, "REPAIR", context),
            progress=progress)
        written = r["outputs"]
        self.style_on_load(context, out[self.OUTPUT_DEMAND], "warning_status", field="covered",
                           name="预警覆盖 / Warning coverage")
        self.style_on_load(context, out[self.OUTPUT_UNITS], "coverage_pct", field="covered_pct",
                           name="分村预警覆盖率 / Warning coverage per village")
        self.style_on_load(context, out[self.OUTPUT_COVERAGE], "warning_devices", field="device_type",
                           name="预警设施可听范围 / Audible area of warning devices")
        self.style_on_load(context, out[self.OUTPUT_POINTS], "monitoring_status", field="monitored",
                           name="隐患点监测 / Geohazard monitoring")
        results = dict(out)
        for k, key in ((self.OUTPUT_COVERAGE, "coverage"), (self.OUTPUT_POINTS, "points")):
            if key not in written:
                results[k] = None
        results.update({
            "POPULATION_TOTAL": r["population_total"], "POPULATION_COVERED": r["population_covered"],
            "COVERED_SHARE": r["covered_share"], "POPULATION_BLOCKED": r["population_blocked"],
            "VILLAGES_BELOW_TARGET": r["villages_below_target"], "TOWNSHIPS_BELOW_TARGET": r["townships_below_target"],
            "DEVICES": r["devices"], "POINTS": r["points"], "POINTS_MONITORED": r["points_monitored"],
            "MONITORED_SHARE": r["monitored_share"], "PEOPLE_UNMONITORED": r["people_unmonitored"]})
        return results
