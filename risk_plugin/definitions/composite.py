"""Composite hazard zoning: defaults with their source.

Inputs and output are hazard classes 0..4 (styles/classes.json 'hazard_classes', 4 highest).
"""

# Combination: 'max' takes the highest class of any hazard in a cell (就高原则: a place is as
# hazardous as its worst hazard, the usual rule when county plans overlay single-hazard zonings into a
# 综合防治区划). 'weighted' takes the weighted mean of the classes and cuts it at WEIGHTED_BREAKS.
METHODS = ("max", "weighted")
METHOD = "max"

# Breaks on the weighted mean class (0..4): class k holds mean in (break k, break k+1]; the defaults
# round to the nearest class (halves go down).
WEIGHTED_BREAKS = (0.5, 1.5, 2.5, 3.5)

# Resampling of class rasters onto the common grid: 'max' (default) keeps a small high-class patch
# that is narrower than a cell (就高原则 again); 'nearest' takes the class at the cell centre. Vector
# zones are burned with all_touched for 'max', by cell centre for 'nearest'.
RESAMPLINGS = ("max", "nearest")
RESAMPLING = "max"
# 'max' applies to a raster whose cell is at most the grid cell divided by this ratio; a raster of
# about the grid's cell size (a shifted or reprojected copy) is read at cell centres, where max would
# only grow every class along its edges. 1.5: a cell must be clearly finer to hide a patch.
MAX_FINER_RATIO = 1.5

# Cell size (m) when neither CELL_SIZE nor any raster input fixes one: 10 m, the grid of county
# DEMs and of a 1:10 000 base map.
CELL_SIZE = 10.0

# The class field of polygon layers is found by data_schemas/hazard_zones.json (hazard_class,
# 危险性等级, 易发性等级, 区划等级 …) unless HAZARD_FIELD names it.

BLOCK_SIZE = 1024
