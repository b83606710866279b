STEPS = [
    {"title": "隐患点威胁范围与险情等级 / Geohazard point threat and danger level", "alg": "riskmap:hazardpointthreat",
     "params": {"POINTS": "{data}/geohazard_points.gpkg", "BUILDINGS": "{data}/buildings.gpkg",
                "POPULATION": "{data}/population.tif", "OUTPUT_POINTS": "{out}/threat_points.gpkg",
                "OUTPUT_ZONES": "{out}/threat_zones.gpkg"},
     "report": ["POINTS", "POINTS_FLAGGED", "LEVEL_CHANGED", "PEOPLE_THREATENED", "HOUSEHOLDS_THREATENED",
                "BUILDINGS_THREATENED"]},
]
