# The four-color risk map of the composite zoning: on the 100 m grid of 网格化管理 (clipped to the
# townships) and on the villages; 90_report reads the village map.
_COMMON = {"HAZARD": "{out}/composite_zoning.tif", "POPULATION": "{data}/population.tif",
           "BUILDINGS": "{data}/buildings.gpkg", "FACILITIES": "{data}/facilities.gpkg",
           "TOWNSHIPS": "{data}/townships.gpkg"}
_LEVELS = [f"PEOPLE_LEVEL_{k}" for k in range(1, 5)]
STEPS = [
    {"title": "风险四色图 (100 m 网格) / Four-color risk map on the 100 m grid", "alg": "riskmap:fourcolorrisk",
     "params": {**_COMMON, "SUPPORT": 0, "CELL_SIZE": 100, "OUTPUT": "{out}/fourcolor_grid.gpkg",
                "OUTPUT_TABLE": "{out}/fourcolor_grid_townships.xlsx"},
     "report": _LEVELS + ["SUPPORTS"]},
    {"title": "风险四色图 (村) / Four-color risk map by village", "alg": "riskmap:fourcolorrisk",
     "params": {**_COMMON, "SUPPORT": 1, "UNITS": "{data}/villages.gpkg", "OUTPUT": "{out}/fourcolor_villages.gpkg",
                "OUTPUT_TABLE": "{out}/fourcolor_villages_townships.csv"},
     "report": _LEVELS + ["SUPPORTS"]},
]
