# Rescue, fire, medical and supply reach on the demo county (issue 13): from the county and township rescue teams,
# fire stations, health centres and supply depots along the roads (speeds by road class, JTG B01-2014), to every
# building; 15 / 30 / 60-minute bands; roads in the 100-year flood zones and the geohazard threat zones (60_threat)
# run at half speed, and closing them shows the villages cut off; people in the 100-year flood (30_flood) are the
# displaced the depots must supply. Then where the next five rescue teams should go (30 minutes, greedy).
STEPS = [
    {"title": "救援与物资到达时间 / Rescue and supply reach", "alg": "riskmap:responsereach",
     "params": {"FACILITIES": "{data}/response_facilities.gpkg", "DEMAND": "{data}/buildings.gpkg",
                "ROADS": "{data}/roads.gpkg", "UNITS": "{data}/villages.gpkg",
                "HAZARD_ZONES": ["{data}/flood_zones.gpkg", "{out}/threat_zones.gpkg"],
                "DISPLACED_HAZARD": "{out}/flood_hazard.tif",
                "OUTPUT_DEMAND": "{out}/reach_demand.gpkg", "OUTPUT_UNITS": "{out}/reach_villages.gpkg",
                "OUTPUT_TABLE": "{out}/reach_villages.xlsx", "OUTPUT_BANDS": "{out}/reach_bands.gpkg",
                "OUTPUT_FACILITIES": "{out}/reach_facilities.gpkg", "OUTPUT_SUPPLY": "{out}/reach_supply.xlsx"},
     "report": ["POPULATION_TOTAL", "SHARE_FORCES_1", "SHARE_FORCES_2", "SHARE_FORCES_3", "SHARE_HOSPITAL_2",
                "SHARE_DEPOT_3", "VILLAGES_UNREACHED_1", "VILLAGES_UNREACHED_2", "VILLAGES_UNREACHED_3", "VILLAGES_GAP",
                "VILLAGES_CUT_OFF", "PEOPLE_CUT_OFF", "DISPLACED", "TOWNSHIPS_SHORT_OF_SUPPLIES"]},
    {"title": "救援队选址 / Siting the next rescue teams", "alg": "riskmap:responsesiting",
     "params": {"CANDIDATES": "{data}/response_candidates.gpkg", "DEMAND": "{data}/buildings.gpkg",
                "ROADS": "{data}/roads.gpkg", "FACILITIES": "{data}/response_facilities.gpkg", "GROUP": 0, "MINUTES": 30,
                "K": 5, "OUTPUT": "{out}/reach_sites.gpkg", "OUTPUT_CURVE": "{out}/reach_siting_curve.xlsx"},
     "report": ["REACHED_BEFORE", "REACHED_AFTER", "SITES_CHOSEN"]},
]
