from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterCrs,
                       QgsProcessingParameterDefinition, QgsProcessingParameterEnum,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterField, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString,
                       QgsProcessingParameterVectorDestination)

from ...risk_plugin.definitions import seismic as D
from ...risk_plugin.seismic import earthquake_impact
from ..base import RiskMapAlgorithm
from ..seismic_params import HAZARD_HELP, add_hazard_params, read_hazard_params

NUMBERS = [
    ("BUILDINGS", "建筑数 / Buildings"), ("RESIDENTS", "居住人数 / Residents"),
    ("BUILDINGS_OUTSIDE_HAZARD", "危险性图层外建筑 / Buildings outside the hazard"),
    ("BUILDINGS_COLLAPSE", "预期毁坏建筑 / Expected collapsed buildings"),
    ("BUILDINGS_EXTENSIVE", "预期严重破坏建筑 / Expected extensively damaged buildings"),
    ("BUILDINGS_MODERATE", "预期中等破坏建筑 / Expected moderately damaged buildings"),
    ("BUILDINGS_DAMAGED", "预期受损建筑 (轻微及以上) / Expected damaged buildings (slight or worse)"),
    ("DEATHS", "预期死亡 (结构类型法) / Expected deaths (building method)"),
    ("INJURED", "预期受伤 / Expected injured"), ("INJURED_SERIOUS", "预期重伤 / Expected seriously injured"),
    ("DISPLACED", "需紧急安置 / Displaced people"),
    ("DEATHS_PAGER", "预期死亡 (PAGER 经验法) / Expected deaths (PAGER empirical)"),
    ("POPULATION_TOTAL", "人口栅格总人口 (PAGER) / Population raster total (PAGER)"),
    ("DEATHS_SAVED_TOP", "加固首位可减少死亡 / Deaths saved by the first retrofit item"),
    ("DEATHS_SAVED_ALL", "全部加固可减少死亡 / Deaths saved by retrofitting everything below the level"),
    ("MAX_INTENSITY", "最大烈度值 / Highest intensity")] + \
    [(f"UNITS_RISK_{k}", f"{k} 级风险单元数 / Units at risk class {k}") for k in range(0, 5)]
TIME_LABELS = ["夜间 / night", "白天 / day"]


def _joined(values):
    return ",".join(f"{v:g}" for v in values)


class EarthquakeImpactAlgorithm(RiskMapAlgorithm):
    ALG_ID = "earthquakeimpact"
    NAME_ZH, NAME_EN = "地震灾害损失与风险区划", "Earthquake impact and risk zoning"
    GROUP_ID, GROUP_ZH, GROUP_EN = "risk", "风险评估", "Risk assessment"
    ORDER = 40
    BUILDINGS = "BUILDINGS"
    OUTPUT_BUILDINGS, OUTPUT_UNITS, OUTPUT_ZONING = "OUTPUT_BUILDINGS", "OUTPUT_UNITS", "OUTPUT_ZONING"
    OUTPUT_TABLE, OUTPUT_RETROFIT = "OUTPUT_TABLE", "OUTPUT_RETROFIT"
    FIELDS = (("STRUCTURE_FIELD", "structure", "结构类型字段 / Structure-type field"),
              ("RESIDENTS_FIELD", "residents", "居住人数字段 / Residents field"),
              ("FLOORS_FIELD", "floors", "层数字段 / Storeys field"),
              ("YEAR_FIELD", "year", "建造年代字段 / Year-built field"),
              ("FORTIFICATION_FIELD", "fortification", "抗震设防烈度字段 / Fortification field"))
    HELP = (
        "按结构类型与抗震设防烈度的震害矩阵估计每栋建筑的破坏状态概率 (基本完好/轻微/中等/严重破坏/毁坏), 汇总到村和乡镇的"
        "预期毁坏与受损建筑、死亡、受伤和需紧急安置人数; 同时给出 PAGER 经验死亡率的结果以便对比, 按万人死亡率划分 4 级地震灾害"
        "风险区划 (可直接用于综合危险性区划和四色图), 并列出加固优先清单: 在哪个村加固哪类结构能减少最多的预期死亡。<br>"
        "Damage-state probabilities of every building (intact, slight, moderate, extensive, collapse) from damage-probability "
        "matrices by structure type and fortification level; expected collapsed and damaged buildings, deaths, injuries and "
        "displaced people per village and township; the PAGER empirical fatality estimate beside it for comparison; the "
        "earthquake risk zoning in four classes by deaths per 10 000 residents (plugs into riskmap:compositezoning and "
        "riskmap:fourcolorrisk); and the retrofit (加固) priority list: where retrofitting one structure type saves the "
        "most expected deaths.<br><br>"
        "<b>BUILDINGS</b>: footprints or points with <b>STRUCTURE_FIELD</b> (default 结构类型: 钢混/框架, 砖混, 砖木, 土木/土坯, "
        "其他, and the census values 钢筋混凝土结构, 砌体结构, 砖石结构, 土木结构, 窑洞 …), <b>RESIDENTS_FIELD</b> (居住人数 / "
        f"常住人口; else 户数 × {D.PERSONS_PER_HOUSEHOLD:g}, the seventh-census household size), <b>STRUCTURE_MAP</b> (advanced, e.g. <i>unreinforced_masonry=brick_wood; "
        "confined_masonry=brick_concrete; 空=other</i>: the layer's own values, and blanks, onto the five types), <b>FLOORS_FIELD</b> (建筑层数: "
        "the collapse share of RC frames; survey ranges read as 4-7 → 5.5, 10+ → 10, >7 → 8), <b>YEAR_FIELD</b> (建造年代: 1995, 1981-1990, 1980年及以前) and "
        "<b>FORTIFICATION_FIELD</b> (抗震设防烈度: 未设防/0, 6 … 9, 7度, Ⅶ; blank → designed to <b>DESIGN_FORTIFICATION</b> "
        f"(default {D.DESIGN_FORTIFICATION}) for 钢混 and 砖混 built from <b>CODE_YEAR</b> (default {D.CODE_YEAR}, GBJ 11-89 in "
        "force) on, else unfortified). Field names of the census house survey and their Shapefile truncations are "
        "found by alias.<br>" + HAZARD_HELP + "<br>"
        "<b>VULNERABILITY_TABLE</b> (optional CSV/XLSX): damage-probability matrices replacing the default, columns "
        "structure (结构类型), fortification (设防烈度 0, 6 … 9), intensity (烈度 6 … 10), intact, slight, moderate, extensive, "
        "collapse (基本完好 … 毁坏; fractions or %). Default matrices: mean damage index of ordinary houses at VI … X = "
        "0.05/0.205/0.405/0.605/0.805 (midpoints of GB/T 17742-1999 表 1) at the effective intensity I + type offset "
        "(土木 +0.5, 钢混 −0.5, assumptions) − fortification shift (6: 0.5, 7: 1, 8: 2, 9: 3 degrees, an assumption "
        "calibrated to the objectives of GB 50011-2010 §1.0.1), spread over the five states binomially (Braga et al. 1982); "
        "the OUTPUT_TABLE sheet 易损性矩阵 lists the matrices used.<br>"
        "Casualties: occupants = residents × <b>OCCUPANCY</b> (default by <b>TIME</b>: night 0.99, Hazus; day 0.5, an "
        "assumption); deaths and injuries per damage state with the Hazus-MH casualty rates (毁坏: collapse share 15 % for "
        "masonry and earth houses, 13/10/5 % for RC frames by storeys); displaced = residents of uninhabitable homes "
        "(严重破坏 0.9, 毁坏 1.0) less deaths.<br>"
        "PAGER method: deaths = residents (or <b>POPULATION</b>, an optional people-per-cell raster) × Φ(ln(I/θ)/β) with "
        f"<b>PAGER_THETA</b> {D.PAGER_THETA} and <b>PAGER_BETA</b> {D.PAGER_BETA} (China, USGS PAGER fatality.xml; Jaiswal & Wald "
        "2010), degrees 5–9 as PAGER applies them; <b>FATALITY_RATES</b> (optional CSV intensity, rate) replaces the "
        "lognormal with a published rate table.<br>"
        f"<b>RISK_BREAKS</b> (default {_joined(D.RISK_BREAKS)} deaths per 10 000 residents): risk class 1 低 … 4 高 per unit "
        "(0 where nobody lives or nothing reaches VI); 5 per 10 000 under the 475-year basic ground motion ≈ the national "
        "target of fewer than 1 death per million a year (“十四五”国家综合防灾减灾规划).<br>"
        f"<b>RETROFIT_FORTIFICATION</b> (default {D.RETROFIT_FORTIFICATION}): retrofit raises a building to this level; the "
        "priority list ranks (village, structure type) by the deaths saved.<br>"
        "<b>OUTPUT_BUILDINGS</b> (optional): buildings with eq_structure, eq_fortification, intensity, eq_degree, p_intact … "
        "p_collapse, deaths, injured, injured_serious, displaced, deaths_pager, deaths_saved, unit_code. "
        "<b>OUTPUT_UNITS</b>: every unit of every level (field level) with buildings, residents, bld_intact … bld_collapse, "
        "bld_damaged, deaths, injured, injured_serious, displaced, deaths_pager, deaths_saved, degree_max, death_rate_10k, "
        "eq_risk_class, n_<type>. <b>OUTPUT_ZONING</b>: the finest level (most units) with eq_risk_class (styles "
        "'earthquake_risk') and people, ready for compositezoning / fourcolorrisk. <b>OUTPUT_TABLE</b> (XLSX: a sheet per "
        "level, the retrofit list and the matrices; CSV: the units). <b>OUTPUT_RETROFIT</b> (optional CSV/XLSX).<br>"
        "Numeric outputs: " + ", ".join(f"<b>{k}</b>" for k, _ in NUMBERS) + ".")

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.BUILDINGS, "建筑物 (含结构类型) / Buildings with structure type",
            [QgsProcessing.TypeVectorPolygon, QgsProcessing.TypeVectorPoint], optional=True))
        add_hazard_params(self)
        self.addParameter(QgsProcessingParameterEnum("TIME", "发震时段 / Time of day", options=TIME_LABELS,
                                                     defaultValue=D.TIMES.index(D.TIME)))
        self.addParameter(QgsProcessingParameterNumber(
            "DESIGN_FORTIFICATION", "按规范设计建筑的设防烈度 / Fortification of code-designed buildings",
            QgsProcessingParameterNumber.Integer, D.DESIGN_FORTIFICATION, minValue=6, maxValue=9))
        self.addParameter(QgsProcessingParameterNumber(
            "RETROFIT_FORTIFICATION", "加固目标设防烈度 / Retrofit to fortification level",
            QgsProcessingParameterNumber.Integer, D.RETROFIT_FORTIFICATION, minValue=6, maxValue=9))
        advanced = [QgsProcessingParameterField(name, label, parentLayerParameterName=self.BUILDINGS, optional=True)
                    for name, _, label in self.FIELDS]
        advanced += [
            QgsProcessingParameterString("STRUCTURE_MAP", "结构类型映射 (原值=类型) / Structure-type mapping (value=type)",
                                         optional=True, defaultValue=""),
            QgsProcessingParameterRasterLayer("POPULATION", "人口栅格 (PAGER 法) / Population raster (PAGER method)", optional=True),
            QgsProcessingParameterFile("VULNERABILITY_TABLE", "易损性矩阵表 / Vulnerability table (CSV/XLSX)", optional=True,
                                       fileFilter="CSV (*.csv);;Excel (*.xlsx)"),
            QgsProcessingParameterFile("FATALITY_RATES", "死亡率表 (替代 PAGER 对数正态) / Fatality-rate table (CSV)",
                                       optional=True, fileFilter="CSV (*.csv)"),
            QgsProcessingParameterNumber("OCCUPANCY", "在室率 (0 = 按时段默认) / Occupancy (0 = default of TIME)",
                                         QgsProcessingParameterNumber.Double, 0.0, minValue=0.0, maxValue=1.0),
            QgsProcessingParameterNumber("CODE_YEAR", "抗震规范实施年份 / Seismic code year", QgsProcessingParameterNumber.Integer,
                                         D.CODE_YEAR, minValue=1900, maxValue=2100),
            QgsProcessingParameterString("RISK_BREAKS", "万人死亡率分级 / Deaths per 10 000 breaks", defaultValue=_joined(D.RISK_BREAKS)),
            QgsProcessingParameterNumber("PAGER_THETA", "PAGER θ", QgsProcessingParameterNumber.Double, D.PAGER_THETA, minValue=0.001),
            QgsProcessingParameterNumber("PAGER_BETA", "PAGER β", QgsProcessingParameterNumber.Double, D.PAGER_BETA, minValue=0.001),
            QgsProcessingParameterCrs("OUTPUT_CRS", "输出坐标系 / Output CRS", optional=True),
        ]
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_UNITS, "地震灾害损失 (乡镇、村) / Earthquake impact per unit", QgsProcessing.TypeVectorPolygon,
            optional=True))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_ZONING, "地震灾害风险区划 / Earthquake risk zoning", QgsProcessing.TypeVectorPolygon, optional=True))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_BUILDINGS, "建筑破坏概率 / Building damage", QgsProcessing.TypeVectorAnyGeometry,
            optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_TABLE, "统计表 / Tables", "Excel (*.xlsx);;CSV (*.csv)", optional=True, createByDefault=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_RETROFIT, "加固优先清单 / Retrofit priorities", "Excel (*.xlsx);;CSV (*.csv)", optional=True,
            createByDefault=False))
        for key, label in NUMBERS:
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def execute(self, parameters, context, feedback, progress):
        p, c = parameters, context
        kw = read_hazard_params(self, p, c, feedback)
        field_map = {canon: self.parameterAsString(p, name, c) or None for name, canon, _ in self.FIELDS}
        outs = {k: (self.parameterAsOutputLayer(p, k, c) or None) for k in (self.OUTPUT_UNITS, self.OUTPUT_ZONING,
                                                                             self.OUTPUT_BUILDINGS)}
        files = {k: (self.parameterAsFileOutput(p, k, c) or None) for k in (self.OUTPUT_TABLE, self.OUTPUT_RETROFIT)}
        if (outs[self.OUTPUT_UNITS] or outs[self.OUTPUT_ZONING]) and not kw["units"]:
            feedback.pushWarning("未给出 UNITS, 不生成单元统计与风险区划 / no UNITS given: no unit statistics or risk zoning written")
        crs = self.parameterAsCrs(p, "OUTPUT_CRS", c)
        result = earthquake_impact(
            buildings=self.vector_path(p, self.BUILDINGS, c, feedback), field_map=field_map,
            structure_map=self.parameterAsString(p, "STRUCTURE_MAP", c) or None,
            population=self.raster_path(p, "POPULATION", c),
            vulnerability_table=self.parameterAsFile(p, "VULNERABILITY_TABLE", c) or None,
            fatality_rates=self.parameterAsFile(p, "FATALITY_RATES", c) or None,
            time_of_day=D.TIMES[self.parameterAsEnum(p, "TIME", c)],
            occupancy=self.parameterAsDouble(p, "OCCUPANCY", c) or None,
            code_year=self.parameterAsInt(p, "CODE_YEAR", c),
            design_fortification=self.parameterAsInt(p, "DESIGN_FORTIFICATION", c),
            retrofit_fortification=self.parameterAsInt(p, "RETROFIT_FORTIFICATION", c),
            risk_breaks=self.parameterAsString(p, "RISK_BREAKS", c) or None,
            pager_theta=self.parameterAsDouble(p, "PAGER_THETA", c), pager_beta=self.parameterAsDouble(p, "PAGER_BETA", c),
            output_units=outs[self.OUTPUT_UNITS] if kw["units"] else None,
            output_zoning=outs[self.OUTPUT_ZONING] if kw["units"] else None,
            output_buildings=outs[self.OUTPUT_BUILDINGS], output_table=files[self.OUTPUT_TABLE],
            output_retrofit=files[self.OUTPUT_RETROFIT], output_crs=crs.toWkt() if crs.isValid() else None,
            progress=progress, **kw)
        self.style_on_load(context, result.get("output_units"), "earthquake_risk", field="eq_risk_class")
        self.style_on_load(context, result.get("output_zoning"), "earthquake_risk", field="eq_risk_class")
        for key in ("DEATHS", "DEATHS_PAGER", "BUILDINGS_COLLAPSE", "DISPLACED"):
            if result.get(key) is not None:
                feedback.pushInfo(f"{dict(NUMBERS)[key]}: {result[key]:,.1f}")
        retro = result.get("retrofit")
        if retro is not None and len(retro):
            for row in retro.head(5).itertuples():
                feedback.pushInfo(f"加固 / retrofit #{row.rank}: {row.unit_name} {row.structure_zh} ({row.buildings} 栋/buildings) "
                                  f"→ 减少死亡 / deaths saved {row.deaths_saved:.2f}")
        out = {self.OUTPUT_UNITS: result.get("output_units"), self.OUTPUT_ZONING: result.get("output_zoning"),
               self.OUTPUT_BUILDINGS: result.get("output_buildings"), self.OUTPUT_TABLE: result.get("output_table"),
               self.OUTPUT_RETROFIT: result.get("output_retrofit")}
        out.update({k: result.get(k) for k, _ in NUMBERS})
        return out
