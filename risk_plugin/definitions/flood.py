"""Flood hazard classes: defaults with their source.

Classes follow styles/classes.json 'hazard_classes': 0 none, 1 low … 4 very high.
"""

# --- from a depth raster -------------------------------------------------------------------------
# Four ascending depth breaks (m). Class 0 holds depth <= break 1 (dry); class k (1..4) holds depth in
# (break k, break k+1], the last class is open-ended.
# Source: the inundation-depth legend steps of 《洪水风险图编制导则》SL 483-2017 (0.5 / 1.0 / 2.0 /
# 3.0 m). Four hazard classes take 0 (wet at all), 0.5, 1.0 and 2.0 m; the 2–3 m and > 3 m legend
# steps are merged into the highest class, since 2 m of water already reaches the eaves of a
# single-storey rural house and no one can stand in it. Reasoning per step: ≤ 0.5 m children and the
# elderly can still wade; 0.5–1 m dangerous to walk, cars float; 1–2 m dangerous to adults, ground
# floors flooded.
DEPTH_BREAKS = (0.0, 0.5, 1.0, 2.0)

# --- from zone polygons with a return period -----------------------------------------------------
# (upper return period in years, class): a zone with return period T gets the class of the first row
# whose upper bound is >= T. Frequent floods are the most hazardous. Zones above the last bound get 0.
# Reasoning: 《防洪标准》GB 50201-2014 protects rural areas to 10–20 years, towns to 20–50 years and
# cities to 50–100+ years; land flooded by a 10-year flood lies below even rural protection (4), land
# flooded up to 50 years below town protection (3), up to 100 years below city protection (2), and
# the rarer design floods (up to 500 years, e.g. for key cities and dams) are residual hazard (1).
RETURN_PERIOD_CLASSES = ((10, 4), (50, 3), (100, 2), (500, 1))

# Cell size (m) when zone polygons are rasterised: 10 m matches a 1:10 000 county base map
# (0.1 mm on paper = 1 m; 10 m is the grid of most county DEMs and flood models).
ZONE_CELL_SIZE = 10.0

# Raster blocks (rows = columns) processed at a time: 1024² float32 cells ≈ 4 MB per array.
BLOCK_SIZE = 1024
