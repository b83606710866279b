STEPS = [
    {"title": "森林火灾危险性 / Forest-fire hazard", "alg": "riskmap:firehazard",
     "params": {"DEM": "{data}/dem.tif", "FOREST": "{data}/forest.gpkg", "SETTLEMENTS": "{data}/buildings.gpkg",
                "ROADS": "{data}/roads.gpkg", "FIRE_HISTORY": "{data}/fire_history.gpkg",
                "OUTPUT": "{out}/fire_hazard.tif", "OUTPUT_INDEX": "{out}/fire_index.tif"},
     "report": ["AREA_KM2_1", "AREA_KM2_2", "AREA_KM2_3", "AREA_KM2_4", "FOREST_KM2"]},
]
