# Where the next ten shelters should go: candidate schools, squares, parks, stadiums and car parks, as
# emergency shelters, greedy maximal covering with capacity after the existing shelters; candidates in
# composite hazard class ≥ 3 are not proposed.
STEPS = [
    {"title": "避难场所选址 / Shelter siting", "alg": "riskmap:sheltersiting",
     "params": {"CANDIDATES": "{data}/shelter_candidates.gpkg", "K": 10, "DEMAND": "{data}/buildings.gpkg",
                "SHELTERS": "{data}/shelters.gpkg", "ROADS": "{data}/roads.gpkg", "HAZARD": "{out}/composite_zoning.tif",
                "OUTPUT": "{out}/shelter_sites.gpkg", "OUTPUT_CURVE": "{out}/shelter_siting_curve.xlsx"},
     "report": ["SERVED_BEFORE", "SERVED_AFTER", "SITES_CHOSEN", "CANDIDATES_EXCLUDED_HAZARD"]},
]
