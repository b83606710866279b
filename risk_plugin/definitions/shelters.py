"""Shelter coverage and siting: defaults with their source.

Shelter classes follow styles/classes.json 'shelter_classes' and data_schemas/shelters.json:
emergency 紧急, fixed_short 固定-短期, fixed_medium 固定-中期, fixed_long 固定-长期, central 中心.

Capacity of a shelter = effective area (m²) ÷ per-capita effective area of its class (m²/person).
Service distance = the farthest walking distance (m) from which people are expected to use it.

Sources (clauses checked against the published texts):
- GB 50413-2007《城市抗震防灾规划标准》§8.2.8 (mandatory): per-capita effective area not less than
  1 m² at emergency sites (紧急避震疏散场所), not less than 2 m² at fixed sites (固定避震疏散场所).
- GB 50413-2007 §8.2.10: service radius of emergency sites about 500 m (about 10 min on foot), of
  fixed sites 2–3 km (about 1 h on foot).
- GB 50413-2007 §8.2.6 (mandatory): sites must not be planned on land unsuited to them (不适宜用地),
  i.e. in hazard zones: the reason shelters in high-hazard zones are flagged and may be excluded.
- GB 21734-2008《地震应急避难场所 场址及配套设施》§5.4: per-capita living area more than 1.5 m²;
  site effective area preferably more than 2000 m².
- GB 51143-2015《防灾避难场所设计规范》§3.1.4: the five classes (紧急, 固定 短期/中期/长期, 中心).
  Its per-capita table by sheltering period (短期 2.0, 中期 3.0, 长期 4.5 m²/person) is used for the
  medium- and long-term classes; the table's clause number was not verifiable here: check it against
  the printed standard before quoting it in a plan.

A real county inventory in the plans: 50 shelters, 302,100 m², 201,400 people = 1.5 m²/person,
i.e. GB 21734-2008 §5.4 applied to every class: set UNIFORM_PER_CAPITA = 1.5 to reproduce it.
"""

CLASSES = ("emergency", "fixed_short", "fixed_medium", "fixed_long", "central")
CLASS_ZH = {"emergency": "紧急", "fixed_short": "固定-短期", "fixed_medium": "固定-中期",
            "fixed_long": "固定-长期", "central": "中心"}

# Per-capita effective area (m²/person) by class, with the clause each comes from.
PER_CAPITA = {
    "emergency": 1.0,     # GB 50413-2007 §8.2.8 item 1
    "fixed_short": 2.0,   # GB 50413-2007 §8.2.8 item 2 (GB 51143-2015 short-term: also 2.0)
    "fixed_medium": 3.0,  # GB 51143-2015 per-capita table, medium-term (中期)
    "fixed_long": 4.5,    # GB 51143-2015 per-capita table, long-term (长期)
    "central": 4.5,       # GB 51143-2015: a central shelter also houses long-term evacuees (长期)
}
PER_CAPITA_SOURCE = {
    "emergency": "GB 50413-2007 §8.2.8(1): 紧急避震疏散场所人均有效避难面积不小于 1 m²",
    "fixed_short": "GB 50413-2007 §8.2.8(2): 固定避震疏散场所人均有效避难面积不小于 2 m²",
    "fixed_medium": "GB 51143-2015 人均有效避难面积表, 中期 3.0 m² (条号待核)",
    "fixed_long": "GB 51143-2015 人均有效避难面积表, 长期 4.5 m² (条号待核)",
    "central": "GB 51143-2015 人均有效避难面积表, 长期 4.5 m² (中心避难场所兼长期固定) (条号待核)",
}
# GB 21734-2008 §5.4: "人均居住面积应大于 1.5 m²" (the county inventory's 302,100 m² / 201,400 people).
UNIFORM_PER_CAPITA_GB21734 = 1.5

# Service (walking) distance (m) by class.
SERVICE_DISTANCE = {
    "emergency": 500.0,     # GB 50413-2007 §8.2.10: 紧急 服务半径宜为 500 m
    "fixed_short": 2000.0,  # GB 50413-2007 §8.2.10: 固定 服务半径宜为 2–3 km (the stricter end)
    "fixed_medium": 2000.0,  # idem
    "fixed_long": 2000.0,   # idem
    "central": 3000.0,      # GB 50413-2007 §8.2.10: upper end of 2–3 km (a central site serves a town)
}
SERVICE_DISTANCE_SOURCE = {
    "emergency": "GB 50413-2007 §8.2.10: 紧急避震疏散场所服务半径宜为 500 m",
    "fixed_short": "GB 50413-2007 §8.2.10: 固定避震疏散场所服务半径宜为 2–3 km (取 2 km)",
    "fixed_medium": "GB 50413-2007 §8.2.10: 固定避震疏散场所服务半径宜为 2–3 km (取 2 km)",
    "fixed_long": "GB 50413-2007 §8.2.10: 固定避震疏散场所服务半径宜为 2–3 km (取 2 km)",
    "central": "GB 50413-2007 §8.2.10: 2–3 km 的上限 (取 3 km)",
}

# Snapping demand and shelters to the road network (m). Project choice, not a standard: 300 m is
# about 4 min on foot; anything farther from every road is reported (not dropped). The snap distance
# is part of the walking distance, so a generous value never makes a place look closer than it is.
MAX_SNAP = 300.0

# Graph building: vertices closer than this (m) are one node. Lines join only where they share a
# vertex ('vertices', the OSM convention and what QGIS's network analysis does: a crossing without a
# shared vertex is a bridge or an underpass); 'intersections' nodes every crossing first (hand-
# digitised county roads often lack the shared vertex). Both are choices for the data, not standards.
NODE_TOLERANCE = 0.01

# Snapping searches segments within a radius growing ×4 from SNAP_FIRST_RADIUS (m) up to MAX_SNAP; a
# MAX_SNAP beyond SNAP_MAX_RADIUS is served by a nearest-neighbour search. Speed only: the result is the
# nearest segment either way.
SNAP_FIRST_RADIUS = 25.0
SNAP_MAX_RADIUS = 5000.0
NODINGS = ("vertices", "intersections")
NODING = "vertices"

# Allocation rules (documented in docs/algorithms/sheltercoverage.md):
# 'nearest': nearest shelter with room: person–shelter pairs are served in order of increasing walking
#   distance across the whole county, so nobody is displaced by someone farther away (the unique
#   stable assignment when both sides prefer shorter walks).
# 'balanced': the most people served, and among such assignments the least total walking distance
#   (min-cost flow, solved as a linear programme by HiGHS through scipy.optimize.linprog).
ALLOCATIONS = ("nearest", "balanced")
ALLOCATION = "nearest"

# Hazard: classes of styles/classes.json 'hazard_classes' (0 none … 4 very high). Shelters (and
# candidates) in class >= 3 ('高 / High') are flagged: GB 50413-2007 §8.2.6 forbids sites on land unsuited
# to them, and a county's high and very-high zones are the land its plan marks unsuited.
HAZARD_MIN_CLASS = 3
EXCLUDE_HAZARDOUS = False          # coverage: flag only, unless asked
EXCLUDE_HAZARDOUS_CANDIDATES = True  # siting: a candidate in a high-hazard zone is not proposed

# Catchment polygons: reachable road buffered by this width (m) for display. Project choice (about
# half a village lane block); coverage itself is computed per demand unit, not from the polygon.
CATCHMENT_WIDTH = 50.0

# Siting: candidates become shelters of this class (GB 50413-2007 §8.2.10: emergency sites are the
# ones every village needs within 500 m).
CANDIDATE_CLASS = "emergency"
SITING_METHODS = ("greedy", "exact")
SITING_METHOD = "greedy"
# The exact (MILP) siting is attempted only up to this many candidate–demand pairs (HiGHS through
# scipy.optimize.milp); above it the greedy result stands. Project choice: a few seconds per solve.
EXACT_MAX_PAIRS = 200_000
ALLOCATION_BATCH_PAIRS = 1_000_000   # allocation on Dask: whole reach components per task, up to this many pairs

# Distance computation works shelter tile by tile; this bounds the dense distance block
# (sources × nodes) per Dijkstra call: 4e6 float64 = 32 MB.
DISTANCE_BLOCK_CELLS = 4_000_000

# Jakarta test data: OSM school footprints as candidate shelters. Effective area = footprint × 0.5:
# about half of a school's ground floor is classrooms and halls usable for sleeping once desks are
# stacked (corridors, stairs, toilets, offices and walls take the rest). Project choice for the test.
JAKARTA_EDUCATION_AREA_RATIO = 0.5
