# The earthquake chain on the demo county: the GB 18306-style zoning (0.10g–0.20g along the NE-striking
# fault) into four hazard classes per township and village; a scenario Ms 6.5 on the fault (epicentre at
# the county centre, 10 km deep, the 中强地震活动区 relation of GB 18306-2015) as isoseismals; building
# damage, casualties and retrofit priorities for the scenario and for the zoning's basic ground motion,
# whose deaths per 10 000 residents give the earthquake risk zoning per village; that zoning then goes
# into the four-colour map like any other hazard.
_UNITS = ["{data}/townships.gpkg", "{data}/villages.gpkg"]
_EPICENTRE = "577600,3265000 [EPSG:4545]"      # the county centre, on the demo fault (risk_plugin/demo/seismic.py)
STEPS = [
    {"title": "地震危险性 (地震动参数区划) / Seismic hazard from the ground-motion zoning", "alg": "riskmap:seismichazard",
     "params": {"HAZARD": "{data}/seismic_zoning.gpkg", "UNITS": _UNITS, "CELL_SIZE": 30,
                "OUTPUT": "{out}/eq_hazard.tif", "OUTPUT_ZONES": "{out}/eq_hazard_zones.gpkg",
                "OUTPUT_UNITS": "{out}/eq_hazard_units.gpkg", "OUTPUT_TABLE": "{out}/eq_hazard_units.xlsx"},
     "report": ["AREA_KM2_1", "AREA_KM2_2", "AREA_KM2_3", "AREA_KM2_4", "MAX_DEGREE"]},
    {"title": "设定地震 Ms 6.5 等震线 / Isoseismals of a scenario Ms 6.5", "alg": "riskmap:seismichazard",
     "params": {"EPICENTRE": _EPICENTRE, "MAGNITUDE": 6.5, "DEPTH": 10, "FAULTS": "{data}/faults.gpkg",
                "UNITS": "{data}/townships.gpkg", "OUTPUT": "{out}/eq_scenario_hazard.tif",
                "OUTPUT_INTENSITY": "{out}/eq_scenario_intensity.tif", "OUTPUT_ZONES": "{out}/eq_isoseismals.gpkg"},
     "report": ["EPICENTRAL_INTENSITY", "STRIKE", "MAX_DEGREE"]},
    {"title": "设定地震 Ms 6.5 房屋破坏与人员伤亡 / Building damage and casualties of the scenario Ms 6.5",
     "alg": "riskmap:earthquakeimpact",
     "params": {"BUILDINGS": "{data}/buildings.gpkg", "EPICENTRE": _EPICENTRE, "MAGNITUDE": 6.5, "DEPTH": 10,
                "FAULTS": "{data}/faults.gpkg", "UNITS": _UNITS, "TIME": 0,
                "OUTPUT_UNITS": "{out}/eq_scenario_units.gpkg", "OUTPUT_TABLE": "{out}/eq_scenario.xlsx"},
     "report": ["BUILDINGS_COLLAPSE", "BUILDINGS_DAMAGED", "DEATHS", "INJURED", "DISPLACED", "DEATHS_PAGER"]},
    {"title": "地震灾害风险区划与加固优先 (基本地震动) / Earthquake risk zoning and retrofit priorities (basic ground motion)",
     "alg": "riskmap:earthquakeimpact",
     "params": {"BUILDINGS": "{data}/buildings.gpkg", "HAZARD": "{data}/seismic_zoning.gpkg", "UNITS": _UNITS,
                "OUTPUT_UNITS": "{out}/eq_units.gpkg", "OUTPUT_ZONING": "{out}/eq_zoning.gpkg",
                "OUTPUT_TABLE": "{out}/eq_impact.xlsx", "OUTPUT_RETROFIT": "{out}/eq_retrofit.xlsx"},
     "report": ["DEATHS", "DEATHS_PAGER", "UNITS_RISK_1", "UNITS_RISK_2", "UNITS_RISK_3", "UNITS_RISK_4",
                "DEATHS_SAVED_TOP", "DEATHS_SAVED_ALL"]},
    {"title": "地震风险四色图 (村) / Four-color earthquake risk by village", "alg": "riskmap:fourcolorrisk",
     "params": {"HAZARD": "{out}/eq_zoning.gpkg", "POPULATION": "{data}/population.tif",
                "BUILDINGS": "{data}/buildings.gpkg", "FACILITIES": "{data}/facilities.gpkg",
                "TOWNSHIPS": "{data}/townships.gpkg", "SUPPORT": 1, "UNITS": "{data}/villages.gpkg",
                "OUTPUT": "{out}/fourcolor_earthquake_villages.gpkg"},
     "report": ["PEOPLE_LEVEL_1", "PEOPLE_LEVEL_2", "PEOPLE_LEVEL_3", "PEOPLE_LEVEL_4"]},
]
