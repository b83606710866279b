# The printable township atlas: one A4 page per township with the four-colour risk grid (80_fourcolor),
# geohazard points, shelters and base layers, an inset locator, legend, scale bar, north arrow, and the table of
# people per risk level in the township (from the same grid); PDF plus a PNG per page.
STEPS = [
    {"title": "乡镇风险图集 / Township atlas", "alg": "riskmap:printatlas",
     "params": {"COVERAGE": "{data}/townships.gpkg",
                "LAYERS": ["{out}/fourcolor_grid.gpkg", "{data}/villages.gpkg", "{data}/roads.gpkg",
                           "{data}/rivers.gpkg", "{out}/threat_points.gpkg", "{out}/shelters_capacity.gpkg"],
                "SUMMARY": "{out}/fourcolor_grid.gpkg",
                "TITLE": "示范县乡镇自然灾害风险图 / Demo county township risk maps",
                "SOURCE": "riskmap 示范县 (虚构数据) / riskmap demo county (fictional data)",
                "OUTPUT_PDF": "{out}/atlas.pdf", "OUTPUT_PNG_DIR": "{out}/atlas_pages"},
     "report": ["PAGES", "PEOPLE_OUTSIDE"]},
    # the earthquake atlas: village risk zoning (87_earthquake), the fault, and residents per risk class per township
    {"title": "乡镇地震灾害风险图集 / Township earthquake risk atlas", "alg": "riskmap:printatlas",
     "params": {"COVERAGE": "{data}/townships.gpkg",
                "LAYERS": ["{out}/eq_zoning.gpkg", "{data}/villages.gpkg", "{data}/roads.gpkg", "{data}/rivers.gpkg",
                           "{data}/faults.gpkg"],
                "SUMMARY": "{out}/eq_zoning.gpkg",
                "TITLE": "示范县乡镇地震灾害风险区划图 / Demo county township earthquake risk zoning",
                "SOURCE": "riskmap 示范县 (虚构数据) / riskmap demo county (fictional data)",
                "OUTPUT_PDF": "{out}/atlas_earthquake.pdf", "OUTPUT_PNG_DIR": "{out}/atlas_earthquake_pages"},
     "report": ["PAGES", "PEOPLE_OUTSIDE"]},
    # the same pages for rescue reach: 15/30/60-minute bands of the rescue forces, the response facilities, and the
    # table of people per band in the township (from the travel time of every building, 96_reach)
    {"title": "乡镇救援到达图集 / Township rescue-reach atlas", "alg": "riskmap:printatlas",
     "params": {"COVERAGE": "{data}/townships.gpkg",
                "LAYERS": ["{out}/reach_bands.gpkg", "{data}/villages.gpkg", "{data}/roads.gpkg", "{data}/rivers.gpkg",
                           "{out}/reach_facilities.gpkg"],
                "SUMMARY": "{out}/reach_demand.gpkg",
                "TITLE": "示范县乡镇救援力量到达时间图 / Demo county: travel time of rescue forces by township",
                "SOURCE": "riskmap 示范县 (虚构数据) / riskmap demo county (fictional data)",
                "OUTPUT_PDF": "{out}/reach_atlas.pdf", "OUTPUT_PNG_DIR": "{out}/reach_atlas_pages"},
     "report": ["PAGES", "PEOPLE_OUTSIDE"]},
]
