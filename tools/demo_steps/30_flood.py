STEPS = [
    {"title": "洪水危险性 (100 年一遇水深) / Flood hazard from the 100-year depth", "alg": "riskmap:floodhazard",
     "params": {"DEPTH": "{data}/flood_depth_100.tif", "OUTPUT": "{out}/flood_hazard.tif"},
     "report": ["AREA_KM2_1", "AREA_KM2_2", "AREA_KM2_3", "AREA_KM2_4"]},
    {"title": "洪水危险性 (按重现期淹没区) / Flood hazard from return-period zones", "alg": "riskmap:floodhazard",
     "params": {"ZONES": "{data}/flood_zones.gpkg", "OUTPUT": "{out}/flood_hazard_rp.tif",
                "OUTPUT_ZONES": "{out}/flood_hazard_rp.gpkg"},
     "report": ["AREA_KM2_1", "AREA_KM2_2", "AREA_KM2_3", "AREA_KM2_4"]},
]
