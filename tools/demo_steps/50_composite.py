# Landslide susceptibility, flood (100-year depth classes), forest fire and the return-period flood zones,
# combined by the highest class per cell and tabulated per township.
STEPS = [
    {"title": "综合危险性区划 (乡镇统计) / Composite hazard zoning by township", "alg": "riskmap:compositezoning",
     "params": {"HAZARDS": ["{out}/landslide_susceptibility.tif", "{out}/flood_hazard.tif", "{out}/fire_hazard.tif",
                           "{out}/flood_hazard_rp.gpkg"],
                "UNITS": "{data}/townships.gpkg", "OUTPUT": "{out}/composite_zoning.tif",
                "OUTPUT_TABLE": "{out}/composite_townships.xlsx", "OUTPUT_UNITS": "{out}/composite_townships.gpkg"},
     "report": ["AREA_KM2_1", "AREA_KM2_2", "AREA_KM2_3", "AREA_KM2_4", "CELL_SIZE_M"]},
]
