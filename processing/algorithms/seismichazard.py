from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterCrs,
                       QgsProcessingParameterDefinition, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterString, QgsProcessingParameterVectorDestination)

from ...risk_plugin.definitions import seismic as D
from ...risk_plugin.seismic import seismic_hazard
from ..base import RiskMapAlgorithm
from ..seismic_params import HAZARD_HELP, add_hazard_params, read_hazard_params

NUMBERS = [(f"AREA_KM2_{k}", f"{k} 级面积 (km²) / Area of class {k} (km²)") for k in range(1, 5)] + [
    ("MAX_INTENSITY", "最大烈度值 / Highest intensity"), ("MAX_DEGREE", "最高烈度 (度) / Highest degree"),
    ("EPICENTRAL_INTENSITY", "震中烈度 (设定地震) / Epicentral intensity (scenario)"),
    ("STRIKE", "长轴方位 (°, 设定地震) / Long-axis azimuth (°, scenario)")]


class SeismicHazardAlgorithm(RiskMapAlgorithm):
    ALG_ID = "seismichazard"
    NAME_ZH, NAME_EN = "地震危险性分级", "Seismic hazard classes"
    GROUP_ID, GROUP_ZH, GROUP_EN = "hazard", "危险性区划", "Hazard zoning"
    ORDER = 60
    HAZARD_BREAKS, CELL_SIZE, TARGET_CRS = "HAZARD_BREAKS", "CELL_SIZE", "TARGET_CRS"
    OUTPUT, OUTPUT_INTENSITY, OUTPUT_ZONES = "OUTPUT", "OUTPUT_INTENSITY", "OUTPUT_ZONES"
    OUTPUT_UNITS, OUTPUT_TABLE = "OUTPUT_UNITS", "OUTPUT_TABLE"
    HELP = (
        "由地震动峰值加速度 (GB 18306-2015 区划)、地震烈度 (GB/T 17742) 或设定地震 (震中、震级、深度 + 烈度衰减关系) "
        "得到 4 级地震危险性 (1 低 … 4 极高) 栅格、等震线/分区面, 并按乡镇、村统计各级面积、最高烈度与峰值加速度。"
        "输出的等级栅格可直接用于综合危险性区划、暴露度和四色图。<br>"
        "Four seismic hazard classes (1 low … 4 very high) from peak ground acceleration (a GB 18306-2015 zoning), "
        "intensity on the Chinese scale (GB/T 17742) or a scenario earthquake (epicentre, magnitude, depth and a published "
        "intensity attenuation relation), as a class raster and zone or isoseismal polygons, with the area per class, "
        "highest intensity and PGA of every township and village. The class raster plugs into riskmap:compositezoning, "
        "riskmap:exposure and riskmap:fourcolorrisk like the other hazards.<br><br>" + HAZARD_HELP + "<br>"
        f"<b>HAZARD_BREAKS</b> (advanced, default {','.join(f'{b:g}' for b in D.HAZARD_BREAKS)}): class k from intensity degree "
        "break k: VI → 1 低, VII → 2 中, VIII → 3 高, ≥ IX → 4 极高, below VI → 0 (the 设防烈度 levels of GB 50011-2010 and the "
        "GB 18306-2015 zones 0.05g / 0.10–0.15g / 0.20–0.30g / ≥ 0.40g). "
        f"<b>CELL_SIZE</b> (advanced, default {D.CELL_SIZE:g} m; zones and scenarios only: rasters keep their grid): grid "
        "cell in the metric working CRS (<b>TARGET_CRS</b>, default: the first UNITS layer's CRS if metric, else its "
        "CGCS2000 Gauss-Krüger zone), over the units (else the zoning, or the scenario's VI isoseismal).<br>"
        "<b>OUTPUT</b>: hazard class raster (uint8 0..4, styled 'hazard_classes'). <b>OUTPUT_INTENSITY</b> (optional): "
        "intensity raster (float32, NaN = not covered). <b>OUTPUT_ZONES</b> (optional): the zoning dissolved per degree, or "
        "the scenario's isoseismal zones (VI, VII … rings), with eq_degree, degree_roman, hazard_class, area_km2. "
        "<b>OUTPUT_UNITS</b> / <b>OUTPUT_TABLE</b> (with UNITS): per township and village area_km2, class0_km2 … class4_km2, "
        "class1_pct … class4_pct, dominant_class, max_class, hazard_class (= max_class, 就高), intensity_max, intensity_mean, "
        "eq_degree, pga_max_g and pga_mean_g (PGA input), period_s (zoning with a period).<br>"
        "Numeric outputs: " + ", ".join(f"<b>{k}</b>" for k, _ in NUMBERS) + ".")

    def initAlgorithm(self, config=None):
        add_hazard_params(self)
        advanced = [
            QgsProcessingParameterString(self.HAZARD_BREAKS, "烈度分级界限 / Intensity breaks",
                                         defaultValue=",".join(f"{b:g}" for b in D.HAZARD_BREAKS)),
            QgsProcessingParameterNumber(self.CELL_SIZE, "像元大小 (m) / Cell size (m)", QgsProcessingParameterNumber.Double,
                                         D.CELL_SIZE, minValue=1.0),
            QgsProcessingParameterCrs(self.TARGET_CRS, "网格坐标系 / Grid CRS", optional=True),
        ]
        for p in advanced:
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(p)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "地震危险性等级 / Seismic hazard classes"))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT_INTENSITY, "地震烈度 / Seismic intensity", optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_ZONES, "烈度分区/等震线 / Intensity zones or isoseismals", QgsProcessing.TypeVectorPolygon,
            optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterVectorDestination(
            self.OUTPUT_UNITS, "单元地震危险性 / Seismic hazard per unit", QgsProcessing.TypeVectorPolygon,
            optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_TABLE, "单元统计表 / Unit table", "Excel (*.xlsx);;CSV (*.csv)", optional=True, createByDefault=False))
        for key, label in NUMBERS:
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def execute(self, parameters, context, feedback, progress):
        p, c = parameters, context
        kw = read_hazard_params(self, p, c, feedback)
        output = self.parameterAsOutputLayer(p, self.OUTPUT, c)
        out_i = self.parameterAsOutputLayer(p, self.OUTPUT_INTENSITY, c) or None
        out_z = self.parameterAsOutputLayer(p, self.OUTPUT_ZONES, c) or None
        out_u = self.parameterAsOutputLayer(p, self.OUTPUT_UNITS, c) or None
        table = self.parameterAsFileOutput(p, self.OUTPUT_TABLE, c) or None
        crs = self.parameterAsCrs(p, self.TARGET_CRS, c)
        if (out_u or table) and not kw["units"]:
            feedback.pushWarning("未给出 UNITS, 不生成单元统计 / no UNITS given: no unit polygons or table written")
        result = seismic_hazard(
            output, hazard_breaks=self.parameterAsString(p, self.HAZARD_BREAKS, c) or None,
            cell_size=self.parameterAsDouble(p, self.CELL_SIZE, c), output_intensity=out_i, output_zones=out_z,
            output_units=out_u if kw["units"] else None, output_table=table if kw["units"] else None,
            work_crs=crs.toWkt() if crs.isValid() else None, progress=progress, **kw)
        self.style_on_load(context, output, "hazard_classes")
        self.style_on_load(context, result["output_zones"], "seismic_intensity", field="eq_degree")
        self.style_on_load(context, result["output_units"], "hazard_classes", field="hazard_class")
        for k in range(1, 5):
            feedback.pushInfo(f"{NUMBERS[k - 1][1]}: {result[f'AREA_KM2_{k}']:,.2f}")
        out = {self.OUTPUT: output, self.OUTPUT_INTENSITY: result["output_intensity"],
               self.OUTPUT_ZONES: result["output_zones"], self.OUTPUT_UNITS: result["output_units"],
               self.OUTPUT_TABLE: result["output_table"]}
        out.update({k: result.get(k) for k, _ in NUMBERS})
        return out
