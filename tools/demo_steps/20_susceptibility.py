# Landslide susceptibility on the demo county DEM with the surveyed inventory (landslide 1/0):
# information value (the default), natural breaks into 4 zones, 5-fold prediction AUC.
STEPS = [
    {"title": "滑坡易发性 (信息量法) / Landslide susceptibility (information value)",
     "alg": "riskmap:landslidesusceptibility",
     "params": {"DEM": "{data}/dem.tif", "INVENTORY": "{data}/landslide_inventory.gpkg", "PRESENCE_FIELD": "landslide",
                "METHOD": 0, "FOLDS": 5, "BREAKS": 0, "SEED": 42,
                "OUTPUT_INDEX": "{out}/landslide_susceptibility_index.tif",
                "OUTPUT_ZONES": "{out}/landslide_susceptibility.tif",
                "OUTPUT_REPORT": "{out}/landslide_susceptibility.xlsx"},
     "report": ["AUC_SUCCESS", "AUC_PREDICTION"]},
]
