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
# auto: all three are fitted and cross-validated on the same folds, and the one with the highest mean
#   prediction AUC is kept (ties: the earlier in MODEL_METHODS, so information value wins a tie). Choosing
#   the model by its cross-validated AUC is the practice of Brenning (2005, NHESS 5: 853–862) and of
#   Reichenbach et al. (2018, Earth-Science Reviews 180: 60–91), who found no method best everywhere.
# The order is the public METHOD enum of both algorithms: 0 IV, 1 FR, 2 LR, 3 auto (appended, the default).
MODEL_METHODS = ("information_value", "frequency_ratio", "logistic")
METHODS = MODEL_METHODS + ("auto",)
METHOD = "auto"

# --- what a unit's landslide field means (mapping units, riskmap:unitsusceptibility) ---------------
# IV and FR compare the share of the landslides that fall in a class with the share of the "exposure"
# of that class; what counts depends on the field (Reichenbach et al. 2018 §3; van Westen 1997, the
# statistical index method: landslide density of the class over the density of the whole area):
# presence: a 0/1 field. A unit either failed or not, whatever its size: N_i = units with a landslide in
#   class i, S_i = units in class i (the share of positive units against the share of units): each unit
#   is one trial whose outcome is presence, as in the slope-unit models since Carrara et al. (1991, Earth
#   Surf. Process. Landforms 16: 427–445); FR_i is then the positive rate of the class over the positive
#   rate of all units. Dividing a
#   per-unit presence by class area instead made a class of large units look safe although most of its
#   units failed (issue 15: AUC 0.41 on ~2 000 co-seismic slope units).
# count: a landslide count. Landslides are points of a process whose number grows with the area
#   searched: N_i = landslides in class i, S_i = area of class i, i.e. the landslide density of the class
#   over the density of the study area, the definition of FR (Lee & Pradhan 2007) and of the information
#   value (殷坤龙 & 晏同珍 1988; van Westen 1997) and the estimator of the relative intensity of a Poisson
#   process (landslides per km² per class). Counting against units instead would rank a class of large
#   units high only because large units collect more landslides.
# area: a failed area per unit (LANDSLIDE_AREA_FIELD, m²): N_i = failed area in class i, S_i = area of
#   class i, the areal landslide density, exactly as on the grid (landslide cells over cells).
# auto: LANDSLIDE_AREA_FIELD given → area; a field of 0 and 1 only → presence; non-negative whole
#   numbers → count; anything else (fractions) stops with a message naming the field.
UNIT_RULES = ("auto", "presence", "count", "area")
UNIT_RULE = "auto"
# A failed area larger than its unit (beyond rounding) is said in the log: the field may be in another
# unit (ha, km²) or the units may be the wrong layer.
FAILED_AREA_TOLERANCE = 1.01

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

# --- a weak model says so ------------------------------------------------------------------------------
# The zoning is called unreliable when the prediction AUC is below WEAK_AUC or the folds disagree more
# than FOLD_SD_MAX. WEAK_AUC 0.6 (issue 15): below it a map ranks landslides little better than a coin
# (0.5); Hosmer & Lemeshow (2000, Applied Logistic Regression, 2nd ed., §5.2.4) call discrimination
# acceptable only from 0.7, so between WEAK_AUC and ACCEPTABLE_AUC the report says the model is weak.
# FOLD_SD_MAX 0.1: the width of one of Hosmer & Lemeshow's classes; folds whose ±1 SD band spans two
# classes do not agree on whether the model is poor or good. Sampling noise alone is smaller: an AUC of
# 0.75 on a fold of 35 + 35 samples (the Ecuador data, 5 folds) has a standard error of about 0.06
# (Hanley & McNeil 1982, Radiology 143: 29–36).
WEAK_AUC = 0.6
ACCEPTABLE_AUC = 0.7
FOLD_SD_MAX = 0.1
# Why, each detected from the data:
# too few landslides (or too few samples without): fewer than MIN_EVENTS_PER_WEIGHT of the rarer outcome
#   per free class weight (Σ (classes − 1) over the factors), the events-per-variable rule of Peduzzi et
#   al. (1996, J. Clin. Epidemiol. 49: 1373–1379) for logistic regression; IV/FR estimate one weight per
#   class from the landslides in it and need the same.
MIN_EVENTS_PER_WEIGHT = 10
# a factor with one class: at least ONE_CLASS_SHARE of the area (grid) or of the units in one class: it
#   cannot separate anything (a constant field, or quantile breaks that collapsed on ties).
ONE_CLASS_SHARE = 0.95
# units too large relative to the landslides: at least MOST_UNITS_POSITIVE of the units hold a landslide,
#   so a 0/1 field tells little apart; or unit area alone ranks the units with landslides at least as well
#   as the model (AUC of area ≥ the prediction AUC), i.e. units fail because they are large.
MOST_UNITS_POSITIVE = 0.7
# over-fitting: the success AUC exceeds the prediction AUC by more than OVERFIT_GAP (too many classes for
#   the landslides: the model learns the sample, not the terrain).
OVERFIT_GAP = 0.15

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
