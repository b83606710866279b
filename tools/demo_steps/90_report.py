# The tables a bureau files, one sheet per township: from the village four-color map (80_fourcolor), the
# computed threat of the geohazard points (60_threat) and the key facilities; the 100 m grid map beside it in the
# sheet 口径对照, which reconciles the people per level of the two supports.
STEPS = [
    {"title": "乡镇风险报表 / Township risk report", "alg": "riskmap:townshipreport",
     "params": {"TOWNSHIPS": "{data}/townships.gpkg", "RISK": "{out}/fourcolor_villages.gpkg",
                "RISK_OTHER": "{out}/fourcolor_grid.gpkg",
                "GEOHAZARDS": "{out}/threat_points.gpkg", "FACILITIES": "{data}/facilities.gpkg",
                "OUTPUT": "{out}/township_report.xlsx", "OUTPUT_CSV": "{out}/township_report_csv"},
     "report": ["TOWNSHIPS", "VILLAGES_LEVEL_1", "GEOHAZARD_POINTS", "PEOPLE_THREATENED", "FACILITIES_ALERT"]},
]
