from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingOutputString,
                       QgsProcessingParameterDefinition, QgsProcessingParameterEnum, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterField, QgsProcessingParameterFileDestination, QgsProcessingParameterMapLayer,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString,
                       QgsProcessingParameterVectorDestination)

from ...risk_plugin.definitions import reach as D
from ...risk_plugin.reach_run import response_reach
from ..base import RiskMapAlgorithm
from ..reach_params import ROADS_HELP, add_road_params, read_road_params, speed_help
from ..shelter_params import demand_source

GROUP_KEYS = {"forces": "FORCES", "rescue": "RESCUE", "fire": "FIRE", "hospital": "HOSPITAL", "depot": "DEPOT"}


def numeric_outputs():
    out = {"POPULATION_TOTAL": "总人数 / Total people"}
    for g, key in GROUP_KEYS.items():
        for i in range(1, D.MAX_THRESHOLDS + 1):
            out[f"SHARE_{key}_{i}"] = f"{D.GROUP_ZH[g]} 第{i}档内覆盖率 / {D.GROUP_EN[g]}: share reached within threshold {i}"
        out[f"UNREACHED_{key}"] = f"{D.GROUP_ZH[g]} 末档外人数 / {D.GROUP_EN[g]}: people beyond the last threshold"
    for i in range(1, D.MAX_THRESHOLDS + 1):
        out[f"VILLAGES_UNREACHED_{i}"] = f"第{i}档内未全部到达的村 / Villages not fully reached within threshold {i}"
    out.update({"VILLAGES_GAP": "目标时间内未全覆盖的村 / Villages not fully reached within the target time",
                "VILLAGES_CUT_OFF": "断路后成孤岛的村 / Villages cut off when hazard zones close their roads",
                "PEOPLE_CUT_OFF": "断路后失联人数 / People cut off", "DISPLACED": "转移安置人数 / Displaced people",
                "TOWNSHIPS_SHORT_OF_SUPPLIES": "物资不足的乡镇 / Townships short of supplies",
                "FACILITIES_UNSNAPPED": "距道路过远的设施 / Facilities too far from any road",
                "DEMAND_UNSNAPPED": "距道路过远的需求单元 / Demand units too far from any road"})
    return out


NUMERIC = numeric_outputs()
BAND_CHOICES = [[g] for g in D.GROUPS] + [list(D.GROUPS)]


class ResponseReachAlgorithm(RiskMapAlgorithm):
    ALG_ID = "responsereach"
    NAME_ZH, NAME_EN = "救援与物资到达时间", "Rescue and supply reach"
    GROUP_ID, GROUP_ZH, GROUP_EN = "shelters", "应急避难与救援", "Shelters and response"
    ORDER = 30
    FACILITIES, TYPE_FIELD, DEMAND, DEMAND_FIELD = "FACILITIES", "TYPE_FIELD", "DEMAND", "DEMAND_FIELD"
    UNITS, UNIT_FIELD, PARENT_FIELD = "UNITS", "UNIT_FIELD", "PARENT_FIELD"
    THRESHOLDS, TARGET, HAZARD_ZONES, HAZARD_SPEED_FACTOR = "THRESHOLDS", "TARGET", "HAZARD_ZONES", "HAZARD_SPEED_FACTOR"
    CUT_OFF_SHARE, DISPLACED, DISPLACED_FIELD = "CUT_OFF_SHARE", "DISPLACED", "DISPLACED_FIELD"
    DISPLACED_HAZARD, DISPLACED_MIN_CLASS, DISPLACED_SHARE = "DISPLACED_HAZARD", "DISPLACED_MIN_CLASS", "DISPLACED_SHARE"
    SUPPLY_DAYS, SUPPLY_TIME, ISOCHRONE_CELL, BANDS_GROUP = "SUPPLY_DAYS", "SUPPLY_TIME", "ISOCHRONE_CELL", "BANDS_GROUP"
    OUTPUT_DEMAND, OUTPUT_UNITS, OUTPUT_TABLE = "OUTPUT_DEMAND", "OUTPUT_UNITS", "OUTPUT_TABLE"
    OUTPUT_BANDS, OUTPUT_FACILITIES, OUTPUT_SUPPLY = "OUTPUT_BANDS", "OUTPUT_FACILITIES", "OUTPUT_SUPPLY"
    HELP = (
        "救援队、消防站、医院和物资储备库沿道路到达每栋建筑 (或人口格网)、每个村和乡镇要多少分钟; 15/30/60 分钟等时圈; "
        "各档内未到达的人和村、各乡镇覆盖率; 灾害范围封路后成为孤岛的村; 储备物资可保障转移安置人员几天。<br>"
        "How many minutes by road from the nearest rescue team, fire station, hospital and supply depot to every building "
        "(or population cell), village and township; isochrone bands; the people and villages not reached within each "
        "threshold and the share reached per township (覆盖率); the villages cut off when hazard zones close their roads; "
        "and how many days the depots' stock lasts the displaced people of each township.<br><br>"
        "<b>FACILITIES</b>: points or polygons with <b>TYPE_FIELD</b> (default 类型/类别): 救援队 / 应急救援队, 消防站 / 消防救援站 / "
        "专职消防队, 医院 / 卫生院 / 急救站, 物资储备库 / 储备点 (data_schemas/response_facilities.json). Depots may hold stock: "
        "饮用水 (L), 食品 (kg), 帐篷 (顶), 折叠床 (张). Times are computed for rescue forces (救援队 + 消防站), each type, "
        "hospitals and depots, each from the nearest facility of the group (one multi-source Dijkstra per group).<br>"
        "<b>DEMAND</b>: population raster (people per cell), buildings or village points/polygons with <b>DEMAND_FIELD</b> "
        "(default 居住人数/人口/人数).<br>" + ROADS_HELP + speed_help() + "<br>"
        f"<b>THRESHOLDS</b> (default {','.join(f'{t:g}' for t in D.THRESHOLDS_MIN)} min; up to {D.MAX_THRESHOLDS}): reach "
        f"bands. <b>TARGET</b> (default {D.TARGET_MIN:g} min, the '30 分钟应急救援圈' of many plans): villages with people "
        "not reached by rescue forces within it are gaps (covered_pct, gap).<br>"
        "<b>HAZARD_ZONES</b> (optional, polygons: flood extents, landslide threat zones): roads inside run at speed × "
        f"<b>HAZARD_SPEED_FACTOR</b> (default {D.HAZARD_SPEED_FACTOR:g}: about 10 cm of water halves the speed, Pregnolato "
        "et al. 2017 depth–disruption function); a second run closes them (no traffic at 30 cm): a village is cut off "
        f"when at least <b>CUT_OFF_SHARE</b> (default {D.CUT_OFF_SHARE:g}) of its people lose every facility they reached.<br>"
        "<b>Supplies</b> (depots): displaced people from <b>DISPLACED</b> (earthquake/flood result polygons per village or "
        "township with <b>DISPLACED_FIELD</b>), else <b>DISPLACED_HAZARD</b> (hazard class raster: people in class ≥ "
        f"<b>DISPLACED_MIN_CLASS</b>, default {D.DISPLACED_MIN_CLASS}), else <b>DISPLACED_SHARE</b> of everybody (default "
        f"{D.DISPLACED_SHARE:g} = not assessed). Each displaced person draws on the nearest depot within <b>SUPPLY_TIME</b> "
        f"(default {D.SUPPLY_TIME_MIN:g} min = 10 h, 《“十四五”国家综合防灾减灾规划》); a depot's stock is shared in "
        "proportion; depots within <b>POOL_MINUTES</b> (default " f"{D.POOL_MINUTES:g} min) of each other are one pool (a county "
        "depot and a township point in the same town). Per-capita needs (advanced): " + "; ".join(
            f"<b>NEED_{i.upper()}</b> {D.PER_CAPITA_DAY.get(i, D.PEOPLE_PER_UNIT.get(i)):g} "
            f"{'/人·日' if D.CONSUMABLE[i] else '人/' + D.ITEM_UNIT[i]} ({D.NEED_SOURCE[i]})" for i in D.ITEMS) +
        f". <b>SUPPLY_DAYS</b> (default {D.SUPPLY_TARGET_DAYS:g} d, the end of the temporary sheltering period, GB "
        "51143-2015): townships with fewer days of water or food, or tents/beds for fewer than all, are short.<br>"
        f"<b>ISOCHRONE_CELL</b> (default {D.ISOCHRONE_CELL:g} m): grid of the band polygons; <b>BANDS_GROUP</b> "
        "(default rescue forces; or one type, or all): whose bands are drawn.<br>"
        "<b>OUTPUT_DEMAND</b>: people with minutes per group (t_forces, t_rescue, t_fire, t_hospital, t_depot), nearest "
        "facility, band, t_closed and cut_off (with hazard zones), displaced. <b>OUTPUT_UNITS</b>: villages with people, "
        "people and % reached per group and threshold, unreached, mean/max minutes, covered_pct, gap, people_cut_off, "
        "cut_off. <b>OUTPUT_TABLE</b>: the same for villages, townships and the total (CSV/XLSX). <b>OUTPUT_BANDS</b>: "
        "isochrone polygons per group and band (minutes = upper bound, people, area). <b>OUTPUT_FACILITIES</b>: snapping, "
        "in a hazard zone, people for whom it is the nearest, days of stock. <b>OUTPUT_SUPPLY</b>: per township "
        "displaced, supply and days / share per item, below_target.<br>"
        "Numeric outputs: <b>POPULATION_TOTAL</b>, <b>SHARE_&lt;GROUP&gt;_&lt;i&gt;</b> (GROUP = FORCES, RESCUE, FIRE, "
        "HOSPITAL, DEPOT; i = 1…5 for the thresholds given), <b>UNREACHED_&lt;GROUP&gt;</b>, <b>VILLAGES_UNREACHED_&lt;i&gt;</b> "
        "(villages with people not reached by rescue forces within threshold i), <b>VILLAGES_GAP</b>, "
        "<b>VILLAGES_CUT_OFF</b>, <b>PEOPLE_CUT_OFF</b>, <b>DISPLACED</b>, <b>TOWNSHIPS_SHORT_OF_SUPPLIES</b>, "
        "<b>FACILITIES_UNSNAPPED</b>, <b>DEMAND_UNSNAPPED</b>.")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.FACILITIES, "救援力量与储备库 / Response facilities",
            [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField(self.TYPE_FIELD, "类型字段 / Type field",
                                                      parentLayerParameterName=self.FACILITIES, optional=True))
        self.addParameter(QgsProcessingParameterMapLayer(
            self.DEMAND, "需求: 人口栅格 / 建筑 / 村 / Demand: population raster, buildings or villages"))
        self.addParameter(QgsProcessingParameterString(self.DEMAND_FIELD, "人数字段 (矢量需求) / People field (vector demand)",
                                                       optional=True))
        add_road_params(self)
        self.addParameter(QgsProcessingParameterFeatureSource(self.UNITS, "村 (含所属乡镇) / Villages (with township)",
                                                              [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterField(self.UNIT_FIELD, "村名字段 / Village name field",
                                                      parentLayerParameterName=self.UNITS, optional=True))
        self.addParameter(QgsProcessingParameterField(self.PARENT_FIELD, "所属乡镇字段 / Township field",
                                                      parentLayerParameterName=self.UNITS, optional=True))
        self.addParameter(QgsProcessingParameterString(self.THRESHOLDS, "时间档 (分钟) / Thresholds (minutes)",
                                                       defaultValue=",".join(f"{t:g}" for t in D.THRESHOLDS_MIN)))
        self.addParameter(QgsProcessingParameterNumber(self.TARGET, "目标时间 (分钟) / Target (minutes)",
                                                       QgsProcessingParameterNumber.Double, D.TARGET_MIN, minValue=0.1))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.HAZARD_ZONES, "灾害范围 (淹没区、威胁范围) / Hazard zones (flood extents, threat zones)",
            QgsProcessing.TypeVectorPolygon, optional=True))
        self.addParameter(QgsProcessingParameterNumber(self.HAZARD_SPEED_FACTOR,
                                                       "灾害范围内车速系数 / Speed factor inside hazard zones",
                                                       QgsProcessingParameterNumber.Double, D.HAZARD_SPEED_FACTOR,
                                                       minValue=0.01, maxValue=1.0))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.DISPLACED, "转移安置人数 (分村/乡镇结果) / Displaced people (per village or township)",
            [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterField(self.DISPLACED_FIELD, "转移安置人数字段 / Displaced-people field",
                                                      parentLayerParameterName=self.DISPLACED, optional=True,
                                                      type=QgsProcessingParameterField.Numeric))
        self.addParameter(QgsProcessingParameterRasterLayer(self.DISPLACED_HAZARD,
                                                            "危险性等级栅格 (转移范围) / Hazard class raster (who is displaced)",
                                                            optional=True))
        self.addParameter(QgsProcessingParameterNumber(self.DISPLACED_MIN_CLASS, "转移等级下限 / Displaced from class",
                                                       QgsProcessingParameterNumber.Integer, D.DISPLACED_MIN_CLASS,
                                                       minValue=1, maxValue=4))
        self.addParameter(QgsProcessingParameterNumber(self.DISPLACED_SHARE, "转移安置比例 / Displaced share",
                                                       QgsProcessingParameterNumber.Double, D.DISPLACED_SHARE,
                                                       minValue=0.0, maxValue=1.0))
        adv = [QgsProcessingParameterNumber(self.CUT_OFF_SHARE, "孤岛判定比例 / Cut-off share",
                                            QgsProcessingParameterNumber.Double, D.CUT_OFF_SHARE, minValue=0.01,
                                            maxValue=1.0),
               QgsProcessingParameterNumber("NEED_WATER", "人均饮用水 (L/日) / Water per person per day (L)",
                                            QgsProcessingParameterNumber.Double, D.PER_CAPITA_DAY["water"], minValue=0.01),
               QgsProcessingParameterNumber("NEED_FOOD", "人均食品 (kg/日) / Food per person per day (kg)",
                                            QgsProcessingParameterNumber.Double, D.PER_CAPITA_DAY["food"], minValue=0.01),
               QgsProcessingParameterNumber("NEED_TENTS", "每顶帐篷安置人数 / People per tent",
                                            QgsProcessingParameterNumber.Double, D.PEOPLE_PER_UNIT["tents"], minValue=0.01),
               QgsProcessingParameterNumber("NEED_BEDS", "每张床安置人数 / People per bed",
                                            QgsProcessingParameterNumber.Double, D.PEOPLE_PER_UNIT["beds"], minValue=0.01),
               QgsProcessingParameterNumber(self.SUPPLY_DAYS, "物资保障目标 (天) / Supply target (days)",
                                            QgsProcessingParameterNumber.Double, D.SUPPLY_TARGET_DAYS, minValue=0.1),
               QgsProcessingParameterNumber(self.SUPPLY_TIME, "物资送达时限 (分钟) / Supply time limit (minutes)",
                                            QgsProcessingParameterNumber.Double, D.SUPPLY_TIME_MIN, minValue=1.0),
               QgsProcessingParameterNumber("POOL_MINUTES", "同地储备库合并 (分钟) / Depots pooled within (minutes)",
                                            QgsProcessingParameterNumber.Double, D.POOL_MINUTES, minValue=0.0),
               QgsProcessingParameterNumber(self.ISOCHRONE_CELL, "等时圈网格 (m) / Isochrone cell (m)",
                                            QgsProcessingParameterNumber.Double, D.ISOCHRONE_CELL, minValue=1.0),
               QgsProcessingParameterEnum(self.BANDS_GROUP, "等时圈对象 / Isochrones of", defaultValue=0,
                                          options=[f"{D.GROUP_ZH[g]} / {D.GROUP_EN[g]}" for g in D.GROUPS]
                                          + ["全部 / all"])]
        for p in adv:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT_DEMAND, "救援到达时间 (人) / Rescue travel time (people)",
                                                                  QgsProcessing.TypeVectorPoint))
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT_UNITS, "分村救援到达 / Rescue reach per village",
                                                                  QgsProcessing.TypeVectorPolygon, optional=True,
                                                                  createByDefault=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_TABLE, "分村/乡镇统计表 / Per-village and township table", "Excel (*.xlsx);;CSV (*.csv)",
            optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT_BANDS, "救援到达等时圈 / Rescue-reach isochrone bands",
                                                                  QgsProcessing.TypeVectorPolygon, optional=True,
                                                                  createByDefault=False))
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT_FACILITIES, "救援力量与储备库 / Response facilities",
                                                                  QgsProcessing.TypeVectorPoint, optional=True,
                                                                  createByDefault=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_SUPPLY, "物资保障表 / Supply table", "Excel (*.xlsx);;CSV (*.csv)", optional=True,
            createByDefault=False))
        for key, label in NUMERIC.items():
            self.addOutput(QgsProcessingOutputNumber(key, label))
        self.addOutput(QgsProcessingOutputString("REPORT", "摘要 / Summary"))

    def execute(self, parameters, context, feedback, progress):
        field = lambda name: self.parameterAsString(parameters, name, context) or None  # noqa: E731
        num = lambda name: self.parameterAsDouble(parameters, name, context)  # noqa: E731
        out = {k: (self.parameterAsOutputLayer(parameters, k, context) or None)
               for k in (self.OUTPUT_DEMAND, self.OUTPUT_UNITS, self.OUTPUT_BANDS, self.OUTPUT_FACILITIES)}
        for k in (self.OUTPUT_TABLE, self.OUTPUT_SUPPLY):
            out[k] = self.parameterAsFileOutput(parameters, k, context) or None
        zones = [lay.source() for lay in (self.parameterAsLayerList(parameters, self.HAZARD_ZONES, context) or [])]
        r = response_reach(
            self.vector_path(parameters, self.FACILITIES, context, feedback),
            demand_source(self, parameters, self.DEMAND, context, feedback),
            self.vector_path(parameters, "ROADS", context, feedback),
            units=self.vector_path(parameters, self.UNITS, context, feedback), demand_field=field(self.DEMAND_FIELD),
            type_field=field(self.TYPE_FIELD), unit_field=field(self.UNIT_FIELD), parent_field=field(self.PARENT_FIELD),
            thresholds=self.parameterAsString(parameters, self.THRESHOLDS, context), target=num(self.TARGET),
            hazard_zones=zones, hazard_factor=num(self.HAZARD_SPEED_FACTOR), cut_off_share=num(self.CUT_OFF_SHARE),
            displaced=self.vector_path(parameters, self.DISPLACED, context, feedback),
            displaced_field=field(self.DISPLACED_FIELD),
            displaced_hazard=self.raster_path(parameters, self.DISPLACED_HAZARD, context),
            displaced_min_class=self.parameterAsInt(parameters, self.DISPLACED_MIN_CLASS, context),
            displaced_share=num(self.DISPLACED_SHARE),
            per_day={"water": num("NEED_WATER"), "food": num("NEED_FOOD")},
            people_per_unit={"tents": num("NEED_TENTS"), "beds": num("NEED_BEDS")},
            supply_days=num(self.SUPPLY_DAYS), supply_time=num(self.SUPPLY_TIME), pool_minutes=num("POOL_MINUTES"),
            isochrone_cell=num(self.ISOCHRONE_CELL), bands_groups=BAND_CHOICES[
                self.parameterAsEnum(parameters, self.BANDS_GROUP, context)], output_demand=out[self.OUTPUT_DEMAND],
            output_units=out[self.OUTPUT_UNITS], output_table=out[self.OUTPUT_TABLE], output_bands=out[self.OUTPUT_BANDS],
            output_facilities=out[self.OUTPUT_FACILITIES], output_supply=out[self.OUTPUT_SUPPLY], progress=progress,
            **read_road_params(self, parameters, context))
        written = r["outputs"]
        self.style_on_load(context, out[self.OUTPUT_DEMAND], "reach_bands", field="minutes",
                           name="救援力量到达时间 / Travel time of rescue forces")
        self.style_on_load(context, out[self.OUTPUT_UNITS], "coverage_pct", field="covered_pct",
                           name="分村救援到达 / Rescue reach per village")
        self.style_on_load(context, out[self.OUTPUT_BANDS], "reach_bands", field="minutes",
                           name="救援到达等时圈 / Rescue-reach isochrone bands")
        self.style_on_load(context, out[self.OUTPUT_FACILITIES], "facility_types", field="facility_type",
                           name="救援力量与储备库 / Response facilities")
        results = dict(out)
        for k, key in ((self.OUTPUT_TABLE, "table"), (self.OUTPUT_SUPPLY, "supply")):
            if key not in written:
                results[k] = None
        total = r["population_total"]
        results["POPULATION_TOTAL"] = total
        for g, key in GROUP_KEYS.items():
            shares = r["share"].get(g, [])
            for i in range(1, D.MAX_THRESHOLDS + 1):
                results[f"SHARE_{key}_{i}"] = shares[i - 1] if i <= len(shares) else None
            results[f"UNREACHED_{key}"] = r["unreached"].get(g)
        for i in range(1, D.MAX_THRESHOLDS + 1):
            vu = r["villages_unreached"]
            results[f"VILLAGES_UNREACHED_{i}"] = vu[i - 1] if i <= len(vu) else None
        results.update({"VILLAGES_GAP": r["villages_gap"], "VILLAGES_CUT_OFF": r["villages_cut_off"],
                        "PEOPLE_CUT_OFF": r["people_cut_off"], "DISPLACED": r["displaced_total"],
                        "TOWNSHIPS_SHORT_OF_SUPPLIES": r["townships_below_supply"],
                        "FACILITIES_UNSNAPPED": len(r["facilities_unsnapped"]), "DEMAND_UNSNAPPED": r["demand_unsnapped"]})
        lines = [f"{D.GROUP_ZH[g]} / {D.GROUP_EN[g]}: " + ", ".join(
            f"{t:g} min {100 * s:.1f}%" for t, s in zip(r["thresholds"], r["share"][g]) if s is not None)
            for g in r["groups"]]
        lines.append(f"villages with gaps (target {r['target']:g} min): {r['villages_gap']}; cut off: "
                     f"{r['villages_cut_off']} ({r['people_cut_off']:.0f} people); displaced {r['displaced_total']:.0f}; "
                     f"townships short of supplies: {r['townships_below_supply']}")
        report = "\n".join(lines)
        feedback.pushInfo(report)
        results["REPORT"] = report
        return results
