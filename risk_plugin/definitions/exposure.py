"""Exposure counting: rules and defaults with their source.

Hazard classes follow styles/classes.json 'hazard_classes': 0 none, 1 low … 4 very high. A person,
building or facility is *exposed* when it lies in class >= EXPOSED_FROM.
"""

# Classes 0..MAX_CLASS are counted; anything else in a hazard raster is an input error (depth
# rasters go through riskmap:floodhazard first). Source: styles/classes.json 'hazard_classes'.
MAX_CLASS = 4
EXPOSED_FROM = 1

# --- population rasters ----------------------------------------------------------------------------
# What a population cell holds. 'count' = people per cell (WorldPop "ppp", the demo county, census
# grids); 'per_km2' / 'per_m2' = density (WorldPop "pd", LandScan-derived densities). A density is
# turned into people with the cell's true area in m² (geodesic area per row for geographic rasters).
POPULATION_UNITS = ("count", "per_km2", "per_m2")
POPULATION_UNIT = "count"

# --- the cell rule: raster cells against polygons --------------------------------------------------
# 'centre'       a cell belongs to the polygon containing its centre (QGIS Zonal statistics and
#                GDAL's default rasterisation do the same). Each cell counts once; the default,
#                because it neither double counts nor needs the units to be larger than a cell.
# 'all_touched'  every cell a polygon touches belongs to it. For hazard polygons the cell takes the
#                highest class touching it (conservative, 就高); for units a cell touched by several
#                units still counts once: it goes to the unit holding its centre, else to the touching
#                unit covering most of it (equal shares: the unit whose centroid lies furthest west,
#                then south), whatever the layer order. Rescues units smaller than a cell; over-states
#                hazard.
# 'fraction'     a cell's people are split by the exact share of its area inside each polygon
#                (shapely intersection of cell squares with the polygons, found with an STRtree,
#                only for cells on a boundary; interior cells count whole). Most accurate; slowest.
CELL_RULES = ("centre", "all_touched", "fraction")
CELL_RULE = "centre"

# --- the building rule -----------------------------------------------------------------------------
# 'centroid'     a building takes the hazard class at its centroid (a point building: at itself).
#                Default: it is what county surveys do when they 'spot' houses on a hazard map, and
#                it is the rule of the QGIS-native chain (Centroids + Count points in polygon).
# 'max_touched'  a footprint takes the highest class of any hazard cell or zone it touches
#                (conservative: a house half in the flood zone is flooded).
# Either way a building is counted in the one unit that holds its centroid, so it counts once.
BUILDING_RULES = ("centroid", "max_touched")
BUILDING_RULE = "centroid"

# --- facilities ------------------------------------------------------------------------------------
# Canonical facility types of data_schemas/facilities.json (学校/幼儿园 -> school, 医院/卫生院 ->
# hospital, 养老院/敬老院 -> elderly_home), counted per type.
FACILITY_TYPES = ("school", "hospital", "elderly_home")
FACILITY_LABELS = {"school": ("学校", "schools"), "hospital": ("医院", "hospitals"),
                   "elderly_home": ("养老院", "elderly homes")}

# --- analysis grid ---------------------------------------------------------------------------------
# People never move between cells: the population raster is not warped. Each population cell is split
# into k x k equal sub-cells no larger than the hazard raster's cell (or MAX_CELL), each carrying
# 1/k² of its people, and the hazard class and unit are found for every sub-cell. This conserves the
# total exactly; boundaries are reprojected into the population raster's CRS instead of the cells.
# MAX_SUBDIVISION caps k (a 1 km population grid over a 20 m hazard grid needs k = 50).
MAX_SUBDIVISION = 64

# Sub-cells handled per block: about 4 million (≈ 32 MB per float64 array).
BLOCK_CELLS = 4_000_000

# Units whose code field is missing are identified by their name; field names tried in order when
# the name / code field parameter is empty (the aliases of data_schemas/units.json).
UNIT_KIND = "units"

# A hazard raster covering less than this share of the reporting units' area gets a notice in the log:
# everything outside it counts as class 0, which reads as "safe" (0.99: a clipped edge of a cell or two
# is normal, a missing township is not).
COVERAGE_WARN = 0.99
