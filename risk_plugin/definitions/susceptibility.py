"""Landslide susceptibility (易发性): defaults with their source.

Zones follow styles/classes.json 'hazard_classes': 1 低易发 … 4 极高易发 (0 = no data).
"""

# --- methods --------------------------------------------------------------------------------------
# information_value: 信息量法, I = ln((N_i/N) / (S_i/S)) summed over factors (殷坤龙 & 晏同珍 1988, the
#   usual method of Chinese county geohazard surveys and 1:50 000 geohazard zoning).
# frequency_ratio: FR = (N_i/N) / (S_i/S) summed over factors (Lee & Pradhan 2007, Landslides 4: 33–41).
# logistic: logistic regression on one-hot factor classes (Ayalew & Yamagishi 2005, Geomorphology 65: 15–31);
#   the index is the fitted probability.
# N_i: landslide cells in class i, N: all landslide cells, S_i: cells (area) of class i, S: all cells.
METHODS = ("information_value", "frequency_ratio", "logistic")
METHOD = "information_value"

# A class without landslides has ln(0) = −∞. Its count is taken as EMPTY_CLASS_COUNT landslides
# instead (the 0.5 continuity correction of Haldane 1956 for empty cells of a contingency table), so
# the class gets a finite, strongly negative information value. Frequency ratio needs no correction (0).
EMPTY_CLASS_COUNT = 0.5

# Logistic regression: L2 penalty strength C (scikit-learn default 1.0). The penalty keeps the
# coefficients of rare classes finite; the one-hot design has one column per class of every factor.
LOGISTIC_C = 1.0

# --- factors derived from the DEM ----------------------------------------------------------------
# slope: Horn (1981) 3×3 gradient, as gdaldem slope. aspect: 8 compass sectors + flat.
# plan_curvature / profile_curvature: Zevenbergen & Thorne (1987), in 1/100 m as in ArcGIS.
# relief: max − min elevation in a RELIEF_WINDOW_M square window (地形起伏度).
# twi: topographic wetness index ln(a / tan β) (Beven & Kirkby 1979).
# stream_distance: Euclidean distance to streams derived from the DEM.
# elevation: the DEM itself.
DEM_FACTORS = ("elevation", "slope", "aspect", "plan_curvature", "profile_curvature", "relief", "twi",
               "stream_distance")

# Continuous factors are cut into this many equal-count (quantile) classes over the study area.
# Equal-count classes never leave a class nearly empty (which makes IV/FR estimates noisy with the
# few hundred landslides of a county inventory); 8 classes leave ~20 landslides per class with 175
# landslides. Measured on the Ecuador reference data (175 landslides, 5-fold CV): 5 / 8 / 10 / 12
# classes give information-value prediction AUCs 0.826 / 0.814 / 0.826 / 0.822 and logistic
# 0.818 / 0.806 / 0.788 / 0.770 (more classes over-fit the regression).
N_CLASSES = 8

# Cells flatter than this have no aspect (class 'flat'); same threshold as the fire-hazard aspect.
FLAT_SLOPE_DEG = 2.0

# Window of the local relief (地形起伏度): 100 m square, the hillslope scale at which shallow
# landslides are triggered on a 10–30 m DEM. A working choice: widen it on coarser DEMs.
RELIEF_WINDOW_M = 100.0

# Streams are cells draining at least this area: 0.1 km² = 10⁵ m², inside the range of channel-head
# source areas measured by Montgomery & Dietrich (1988, Nature 336: 232–234) in steep terrain.
STREAM_AREA_M2 = 100_000.0

# Flow routing (fill, D8, accumulation) is global. On DEMs larger than this many cells it runs on a
# block-averaged DEM (the smallest integer factor k that fits), and TWI and the distances use that
# grid; slope and curvature always use the full DEM. 4 M cells keep hydrology under ~10 s and ~1 GB.
HYDRO_MAX_CELLS = 4_000_000

# --- samples and validation -----------------------------------------------------------------------
# Without a presence field, absences are drawn at random among valid cells that hold no landslide,
# ABSENCE_RATIO per landslide cell (1:1, a balanced sample as in the Ecuador reference data of
# Muenchow et al. 2012), reproducibly from SEED.
ABSENCE_RATIO = 1.0
SEED = 42

# Prediction AUC: stratified k-fold cross-validation (Brenning 2005, NHESS 5: 853–862); cells of one
# inventory polygon stay in one fold. Success AUC: the model fitted on all samples, scored at them.
# AUCs are ROC AUCs of the index at landslide vs non-landslide samples (Chung & Fabbri 2003).
FOLDS = 5

# --- zones ----------------------------------------------------------------------------------------
# natural: Jenks natural breaks (Fisher–Jenks, as mapclassify FisherJenks) on a random cell sample of
#   the index, the usual 自然断点法 of Chinese susceptibility zoning.
# quantile: four equal-area zones.
# success: cut-offs on the success-rate curve: the highest-index area holding SUCCESS_CUTOFFS[0] of the
#   landslides is 极高, up to SUCCESS_CUTOFFS[1] 高, up to SUCCESS_CUTOFFS[2] 中, the rest 低.
BREAKS = ("natural", "quantile", "success")
BREAK_METHOD = "natural"
SUCCESS_CUTOFFS = (0.5, 0.8, 0.95)

# Cells sampled at random (SEED) for the natural and quantile zone breaks, and the values per
# Fisher–Jenks fit (exact on the sample; m × m matrices: 2 000 values ≈ 0.5 s, 32 MB each).
# mapclassify's FisherJenksSampled also fits a sample (1 000 values by default).
ZONE_SAMPLE_CELLS = 200_000
JENKS_SAMPLE = 2_000

# Quantile breaks of continuous factors are estimated from the factors computed on a random subset
# of BREAK_WINDOW × BREAK_WINDOW windows holding at least this many cells (all of them on small DEMs).
BREAK_SAMPLE_CELLS = 4_000_000
BREAK_WINDOW = 256

# Raster blocks (rows = columns) processed at a time, plus a halo for the 3×3 and relief windows.
BLOCK_SIZE = 1024

# Threads computing blocks (numpy and GDAL release the GIL); 0 = one per CPU core, at most 8. Results
# do not depend on it: every random draw is seeded by SEED and the block's position.
WORKERS = 0
