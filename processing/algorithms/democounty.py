import os

from qgis.core import (QgsProcessingOutputNumber, QgsProcessingOutputString, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterFolderDestination, QgsProcessingParameterNumber)

from ...risk_plugin import demo
from ..base import RiskMapAlgorithm


class DemoCountyAlgorithm(RiskMapAlgorithm):
    ALG_ID = "democounty"
    NAME_ZH, NAME_EN = "生成示范县数据", "Generate the demo county"
    ORDER = 10  # GROUP_ID data (the default)
    SIZE_KM, CELL_SIZE, TOWNSHIPS, VILLAGES, BUILDINGS, SEED = (
        "SIZE_KM", "CELL_SIZE", "TOWNSHIPS", "VILLAGES_PER_TOWNSHIP", "BUILDINGS_PER_VILLAGE", "SEED")
    OUTPUT_FOLDER, OUTPUT_OVERVIEW = "OUTPUT_FOLDER", "OUTPUT_OVERVIEW"
    HELP = ("生成一个虚构的武陵山区示范县 (29.5°N 108.8°E, CGCS2000 / 3度带高斯-克吕格 CM 108°E, EPSG:4545), 由种子确定: "
            "DEM、由汇流累积提取的河流、10/50/100 年一遇嵌套洪水淹没区与 100 年一遇水深、乡镇与村、建筑与人口栅格、"
            "学校/医院/养老院、避难场所与候选场址、道路、地质灾害隐患点、滑坡编录、森林、火灾历史、企业、救援队/消防站/储备库、应急广播与警报器、监测设备。<br>"
            "Generates a fictional Wuling-mountain county, deterministic from SEED: DEM, rivers from flow accumulation, "
            "nested 10/50/100-year flood zones and 100-year depth, townships and villages, buildings and a population "
            "raster, facilities, shelters and candidate sites, roads, geohazard points, a landslide inventory, forest, "
            "fire history, enterprises, rescue teams / fire stations / depots, loudspeakers and sirens, monitoring devices. Every layer passes its schema in data_schemas/.<br><br>"
            "<b>SIZE_KM</b> (30): side of the square county, km. <b>CELL_SIZE</b> (10): DEM cell, m. "
            "<b>TOWNSHIPS</b> (10), <b>VILLAGES_PER_TOWNSHIP</b> (10), <b>BUILDINGS_PER_VILLAGE</b> (800, planned before "
            "terrain filtering), <b>SEED</b> (2025).<br>"
            "<b>OUTPUT_FOLDER</b>: folder of GeoPackages and GeoTIFFs. <b>OUTPUT_OVERVIEW</b> (optional): PNG overview "
            "rendered by QGIS.<br>Numeric outputs: <b>BUILDINGS</b>, <b>RESIDENTS</b>, <b>VILLAGES</b>, <b>TOWNSHIPS</b>.")

    def initAlgorithm(self, config=None):
        num = QgsProcessingParameterNumber
        self.addParameter(num(self.SIZE_KM, "边长 km / Side (km)", num.Double, 30.0, minValue=2.0, maxValue=500.0))
        self.addParameter(num(self.CELL_SIZE, "像元 m / Cell size (m)", num.Double, 10.0, minValue=5.0, maxValue=100.0))
        self.addParameter(num(self.TOWNSHIPS, "乡镇数 / Townships", num.Integer, 10, minValue=1, maxValue=2000))
        self.addParameter(num(self.VILLAGES, "每乡镇村数 / Villages per township", num.Integer, 10, minValue=1, maxValue=50))
        self.addParameter(num(self.BUILDINGS, "每村建筑数 / Buildings per village", num.Integer, 800, minValue=10, maxValue=5000))
        self.addParameter(num(self.SEED, "随机种子 / Seed", num.Integer, 2025, minValue=0))
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, "输出目录 / Output folder"))
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT_OVERVIEW, "概览图 / Overview PNG",
                                                                "PNG (*.png)", optional=True, createByDefault=False))
        for key, zh in (("BUILDINGS", "建筑数"), ("RESIDENTS", "人口"), ("VILLAGES", "村数"), ("TOWNSHIPS", "乡镇数")):
            self.addOutput(QgsProcessingOutputNumber(key, f"{zh} / {key.title()}"))

    # the schema kind of each generated file: its title in the web map and the atlas (data_schemas/ zh / en)
    KINDS = {"dem.tif": "dem", "population.tif": "population", "flood_zones.gpkg": "flood_zones",
             "geohazard_points.gpkg": "geohazard_points", "landslide_inventory.gpkg": "landslide_inventory",
             "forest.gpkg": "forest_cover", "townships.gpkg": "townships", "villages.gpkg": "villages",
             "buildings.gpkg": "buildings", "facilities.gpkg": "facilities", "shelters.gpkg": "shelters",
             "shelter_candidates.gpkg": "shelter_candidates", "roads.gpkg": "roads", "sites.gpkg": "sites",
             "fire_history.gpkg": "fire_history"}
    TITLES = {"flood_depth_100.tif": "洪水淹没水深 (100 年一遇) / Flood depth (100-year)", "rivers.gpkg": "河流 / Rivers"}

    def output_titles(self, parameters, context):
        from ...risk_plugin.validation import load_schema
        folder = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)
        titles = {}
        for name, kind in self.KINDS.items():
            schema = load_schema(kind)
            titles[os.path.join(folder, name)] = f"{schema['zh']} / {schema['en']}"
        titles.update({os.path.join(folder, name): title for name, title in self.TITLES.items()})
        return titles

    def execute(self, parameters, context, feedback, progress):
        p = lambda name: self.parameterAsDouble(parameters, name, context)  # noqa: E731
        folder = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)
        paths = demo.generate(folder, size_km=p(self.SIZE_KM), cell_size=p(self.CELL_SIZE),
                              townships=int(p(self.TOWNSHIPS)), villages_per_township=int(p(self.VILLAGES)),
                              buildings_per_village=int(p(self.BUILDINGS)), seed=int(p(self.SEED)),
                              progress=progress.sub(0, 90))
        stats = demo.summary(paths)
        overview = self.parameterAsFileOutput(parameters, self.OUTPUT_OVERVIEW, context)
        if overview:
            from ..render import render_overview
            render_overview(paths, overview)
        progress.set(100)
        return {self.OUTPUT_FOLDER: folder, self.OUTPUT_OVERVIEW: overview or None, **stats}
