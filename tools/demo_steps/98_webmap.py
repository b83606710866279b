# The offline web map of the demo county's results: the four-colour risk grid (80_fourcolor; dissolved by level
# and township in the page, people summed), composite zoning (raster overlay, off at first), geohazard points with
# their computed 险情等级, shelters by utilisation, catchments, buildings served / unserved, proposed shelter
# sites, rescue-force reach bands and the villages not fully reached in 30 min (96_reach), response facilities, warning
# coverage per village (96_warning), and the base layers; under the four-colour grid the earthquake risk zoning by
# village and the scenario's isoseismals (87_earthquake), with the fault. No basemap: the page opens with the network
# cable pulled.
STEPS = [
    {"title": "离线网页地图 / Offline web map", "alg": "riskmap:webmap",
     "params": {"LAYERS": ["{out}/eq_zoning.gpkg", "{out}/eq_isoseismals.gpkg",
                           "{out}/fourcolor_grid.gpkg", "{out}/composite_zoning.tif", "{data}/townships.gpkg",
                           "{data}/villages.gpkg", "{data}/roads.gpkg", "{data}/rivers.gpkg", "{data}/faults.gpkg",
                           "{out}/threat_points.gpkg",
                           "{out}/shelter_catchments.gpkg", "{out}/shelters_capacity.gpkg",
                           "{out}/shelter_demand.gpkg", "{out}/shelter_sites.gpkg", "{out}/reach_bands.gpkg",
                           "{out}/reach_villages.gpkg", "{out}/reach_facilities.gpkg", "{out}/warning_villages.gpkg"],
                "TITLE": "示范县自然灾害综合风险图 / Demo county natural-hazard risk map",
                "SOURCE": "riskmap 示范县 (虚构数据) / riskmap demo county (fictional data)",
                "BASEMAP": 0, "OUTPUT": "{out}/webmap.html"},
     "report": ["FEATURES", "SIZE_MB"]},
]
