# Warning coverage on the demo county (issue 13): emergency-broadcast loudspeakers in the villages and a siren at each
# township seat, audible radius by type (FEMA CPG 1-17), terrain blocking on the DEM; people covered per village and
# township against the 95 % target; and which geohazard points have a monitoring device inside their threat zone.
STEPS = [
    {"title": "预警覆盖与隐患点监测 / Warning coverage and geohazard monitoring", "alg": "riskmap:warningcoverage",
     "params": {"DEVICES": "{data}/warning_devices.gpkg", "DEMAND": "{data}/buildings.gpkg",
                "UNITS": "{data}/villages.gpkg", "DEM": "{data}/dem.tif",
                "GEOHAZARD_POINTS": "{data}/geohazard_points.gpkg", "MONITORING": "{data}/monitoring_devices.gpkg",
                "OUTPUT_DEMAND": "{out}/warning_demand.gpkg", "OUTPUT_UNITS": "{out}/warning_villages.gpkg",
                "OUTPUT_TABLE": "{out}/warning_villages.xlsx", "OUTPUT_COVERAGE": "{out}/warning_audible.gpkg",
                "OUTPUT_POINTS": "{out}/warning_points.gpkg"},
     "report": ["POPULATION_TOTAL", "POPULATION_COVERED", "COVERED_SHARE", "POPULATION_BLOCKED", "VILLAGES_BELOW_TARGET",
                "TOWNSHIPS_BELOW_TARGET", "POINTS", "POINTS_MONITORED", "MONITORED_SHARE", "PEOPLE_UNMONITORED"]},
]
