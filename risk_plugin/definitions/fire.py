"""Forest-fire hazard: factor scores, weights and class breaks, with their source.

The index is a weighted sum of factor scores in [0, 1] (fuel, slope, aspect, ignition pressure,
fire history) on the DEM grid, inside forest only; four classes follow styles/classes.json
'hazard_classes' (1 low … 4 very high; 0 = not forest).
"""

# --- fuel: flammability score per forest type (canonical types of data_schemas/forest_cover.json) ---
# Source: the stand flammability (林分燃烧性) grades of 《全国森林火险区划等级》LY/T 1063-2008:
# 易燃 (coniferous stands such as 马尾松/云南松/杉木, and shrubland with fine dry fuel), 可燃 (mixed
# conifer–broadleaf stands, bamboo), 难燃 (evergreen broadleaf stands, tended economic forest and
# orchards). The numbers are our mapping of those grades onto [0, 1] (易燃 0.9–1, 可燃 0.5–0.6,
# 难燃 0.2–0.3); replace them with a local table where the forest survey (二类调查) grades stands.
FLAMMABILITY = {
    "conifer": 1.0,
    "shrub": 0.9,
    "mixed": 0.6,
    "bamboo": 0.5,
    "broadleaf": 0.3,
    "orchard": 0.2,
}

# --- slope ----------------------------------------------------------------------------------------
# Fire spreads faster upslope (Rothermel 1972: the slope factor grows with tan² of the slope). Scores
# by the five slope grades used in Chinese forest-fire and geohazard zoning (< 5°, 5–15°, 15–25°,
# 25–35°, > 35°).
SLOPE_BREAKS_DEG = (5.0, 15.0, 25.0, 35.0)
SLOPE_SCORES = (0.2, 0.4, 0.6, 0.8, 1.0)

# --- aspect ---------------------------------------------------------------------------------------
# South- and south-west-facing slopes get the most afternoon sun in the northern hemisphere and have
# the driest fuel: score = 0.5 + 0.5·cos(aspect − ASPECT_PEAK_DEG), 1 at SSW, 0 at NNE; cells flatter
# than FLAT_DEG have no aspect and score 0.5.
ASPECT_PEAK_DEG = 202.5
FLAT_DEG = 2.0

# --- ignition pressure ----------------------------------------------------------------------------
# Over 95 % of forest fires in China are lit by people (上坟烧纸, 农事用火, 野外吸烟 and cooking are
# the leading causes in the national statistics). Each source scores 1 − d / reach (0 beyond reach);
# sources combine as independent chances: I = 1 − Π(1 − s). Reach: fire likelihood in southern China
# falls off with distance from settlements and roads within about a kilometre (Guo et al. 2016,
# Applied Geography 66: 12–21); graves and farmland act closer, at the forest edge.
IGNITION_REACH_M = {
    "settlements": 1000.0,
    "roads": 500.0,
    "graves": 300.0,
    "farmland": 500.0,
}

# --- fire history ---------------------------------------------------------------------------------
# Past fires mark persistent ignition sources: score = min(fires within HISTORY_RADIUS_M / HISTORY_SATURATION, 1).
HISTORY_RADIUS_M = 1000.0
HISTORY_SATURATION = 3.0

# --- weights and classes --------------------------------------------------------------------------
# Weights in the range of the AHP weights of Chinese county forest-fire risk zoning studies, where
# fuel type and human ignition dominate and terrain ranks below them. Factors without data (no fire
# history) are dropped and the remaining weights rescaled to sum to 1.
WEIGHTS = {"fuel": 0.35, "slope": 0.15, "aspect": 0.10, "ignition": 0.30, "history": 0.10}

# Index breaks between classes 1|2, 2|3, 3|4 (class k+1 holds index in (break k, break k+1]).
# Fixed breaks keep classes comparable between counties and runs; with the defaults a broadleaf
# stand far from people on a gentle north slope scores ≈ 0.2 (class 1) and a pine stand beside a
# village on a steep south slope ≈ 0.9 (class 4).
CLASS_BREAKS = (0.3, 0.5, 0.7)

# Raster blocks (rows = columns) processed at a time, plus a halo as wide as the longest reach.
BLOCK_SIZE = 1024
