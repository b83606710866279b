# The tables a bureau files, one sheet per township: from the village four-color map (80_fourcolor), the
# computed threat of the geohazard points (60_threat) and the key facilities.
STEPS = [
    {"title": "乡镇风险报表 / Township risk report", "alg": "riskmap:townshipreport",
     "params": {"TOWNSHIPS": "{data}/townships.gpkg", "RISK": "{out}/fourcolor_villages.gpkg",
                "GEOHAZARDS": "{out}/threat_points.gpkg", "FACILITIES": "{data}/facilities.gpkg",
                "OUTPUT": "{out}/township_report.xlsx", "OUTPUT_CSV": "{out}/township_report_csv"},
     "report": ["TOWNSHIPS", "VILLAGES_LEVEL_1", "GEOHAZARD_POINTS", "PEOPLE_THREATENED", "FACILITIES_ALERT"]},
]
