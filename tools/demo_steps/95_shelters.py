# Shelter coverage on the demo county: every building's residents walk along the roads to the shelters
# (class defaults from GB 50413-2007 §8.2.8/§8.2.10), shelters in composite hazard class ≥ 3 flagged,
# tables per village and township.
STEPS = [
    {"title": "避难场所覆盖与容量 / Shelter coverage and capacity", "alg": "riskmap:sheltercoverage",
     "params": {"SHELTERS": "{data}/shelters.gpkg", "DEMAND": "{data}/buildings.gpkg", "ROADS": "{data}/roads.gpkg",
                "HAZARD": "{out}/composite_zoning.tif", "UNITS": "{data}/villages.gpkg",
                "OUTPUT_SHELTERS": "{out}/shelters_capacity.gpkg", "OUTPUT_DEMAND": "{out}/shelter_demand.gpkg",
                "OUTPUT_UNITS": "{out}/shelter_villages.xlsx", "OUTPUT_CATCHMENTS": "{out}/shelter_catchments.gpkg"},
     "report": ["POPULATION_TOTAL", "POPULATION_WITHIN_REACH", "POPULATION_SERVED", "POPULATION_UNSERVED",
                "DEMAND_UNSNAPPED", "COMPONENTS_WITHOUT_SHELTER", "SHELTERS_IN_HAZARD", "SHELTERS_OVER_DEMANDED"]},
]
