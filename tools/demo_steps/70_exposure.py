# People, buildings and schools / hospitals / elderly homes per hazard class, per township and village:
# once against the composite zoning (all hazards, 50_composite) and once against the 100-year flood
# classes (30_flood), by cell centre and building centroid (the defaults).
STEPS = [
    {"title": "暴露度: 综合危险性 × 乡镇、村 / Exposure to the composite zoning per township and village",
     "alg": "riskmap:exposure",
     "params": {"HAZARD": "{out}/composite_zoning.tif", "POPULATION": "{data}/population.tif",
                "BUILDINGS": "{data}/buildings.gpkg", "FACILITIES": "{data}/facilities.gpkg",
                "UNITS": ["{data}/townships.gpkg", "{data}/villages.gpkg"],
                "OUTPUT_UNITS": "{out}/exposure_composite.gpkg", "OUTPUT_TABLE": "{out}/exposure_composite.xlsx"},
     "report": ["POPULATION_TOTAL", "POPULATION_EXPOSED", "BUILDINGS_TOTAL", "BUILDINGS_EXPOSED", "FACILITIES_EXPOSED"]},
    {"title": "暴露度: 100 年一遇洪水 × 村 / Exposure to the 100-year flood per village", "alg": "riskmap:exposure",
     "params": {"HAZARD": "{out}/flood_hazard.tif", "POPULATION": "{data}/population.tif",
                "BUILDINGS": "{data}/buildings.gpkg", "FACILITIES": "{data}/facilities.gpkg",
                "UNITS": "{data}/villages.gpkg", "OUTPUT_UNITS": "{out}/exposure_flood.gpkg",
                "OUTPUT_TABLE": "{out}/exposure_flood.csv"},
     "report": ["POPULATION_EXPOSED", "BUILDINGS_EXPOSED", "FACILITIES_EXPOSED"]},
]
