"""Earthquake: defaults with their source (seismic hazard, scenario intensity, building damage,
casualties, risk zoning, retrofit).

Every number a technician might change is here, with where it comes from. Where a value is a
project assumption (no standard gives it) the comment says so. The damage-probability matrices
are *built* from these numbers by risk_plugin.seismic.vulnerability (and can be replaced with a
user CSV, parameter VULNERABILITY_TABLE); docs/algorithms/earthquakeimpact.md prints them.

Intensity is the Chinese seismic intensity scale 中国地震烈度表 GB/T 17742 (I … XII, written in Roman
or Arabic numerals); PGA is in g (9.80665 m/s²).
"""

G = 9.80665                      # standard gravity, m/s² (PGA in g ↔ m/s²)

# --------------------------------------------------------------------------------------------------
# hazard input
# --------------------------------------------------------------------------------------------------
# What the values of a hazard raster or polygon layer are. 'auto': PGA (g) when every value is
# <= AUTO_PGA_MAX_G, else intensity. PGA_UNITS converts m/s² and gal (cm/s²) to g.
MEASURES = ("auto", "intensity", "pga")
MEASURE = "auto"
AUTO_PGA_MAX_G = 2.0             # the largest PGA ever recorded is ~3 g; intensity I..XII is >= 1
PGA_UNITS = {"g": 1.0, "m/s2": 1.0 / G, "gal": 0.01 / G}
PGA_UNIT = "g"

# PGA → intensity. 'gb18306': GB 18306-2015 《中国地震动参数区划图》附录 G 表 G.1, the intensity of
# a II-class-site peak acceleration band: [0.04, 0.09) g → VI, [0.09, 0.19) → VII, [0.19, 0.38)
# → VIII, [0.38, 0.75) → IX, >= 0.75 g → X (below 0.04 g: V). This is the rule for zoning maps
# (0.05g → VI, 0.10g/0.15g → VII, 0.20g/0.30g → VIII, 0.40g → IX).
# 'gb17742': GB/T 17742-2020 附录 A instrumental intensity I = 3.17 lg(PGA) + 6.59 (PGA in m/s²,
# horizontal), continuous, for recorded or ShakeMap-like PGA rasters.
PGA_RULES = ("gb18306", "gb17742")
PGA_RULE = "gb18306"
GB18306_PGA_BANDS = ((0.04, 6), (0.09, 7), (0.19, 8), (0.38, 9), (0.75, 10))   # (lower bound g, intensity)
GB18306_BELOW = 5
GB17742_PGA = (3.17, 6.59)       # I = a·lg(PGA m/s²) + b

# Site class adjustment of the II-class PGA: the Fa table of GB 18306-2015 (场地地震动峰值加速度调整
# 系数; linear interpolation between the columns, flat beyond them). Columns: II-class PGA (g).
# Clause and table numbers of the standards here are quoted from memory of the printed texts: check
# them against your copy (the values are the ones in use in Chinese practice).
SITE_CLASSES = ("I0", "I1", "II", "III", "IV")
SITE_CLASS = "II"
FA_PGA = (0.05, 0.10, 0.15, 0.20, 0.30, 0.40)
FA = {"I0": (0.72, 0.74, 0.75, 0.76, 0.85, 0.90),
      "I1": (0.80, 0.82, 0.83, 0.85, 0.95, 1.00),
      "II": (1.00, 1.00, 1.00, 1.00, 1.00, 1.00),
      "III": (1.30, 1.25, 1.15, 1.00, 1.00, 1.00),
      "IV": (1.25, 1.20, 1.10, 1.00, 0.95, 0.90)}

# A continuous intensity (PGA by GB/T 17742, a scenario, a ShakeMap) is turned into a degree by
# 'floor' (default): the isoseismal convention of Chinese intensity maps, the VII zone is 7 <= I < 8
# (the area between the VII and VIII isoseismals); 'nearest': the MMI bins of USGS PAGER and InaSAFE,
# (m − 0.5, m + 0.5] → m; 'interpolate': damage and fatality rates interpolated linearly between the
# neighbouring degrees.
ROUNDINGS = ("floor", "nearest", "interpolate")
ROUNDING = "floor"

# Four hazard classes (styles/classes.json 'hazard_classes') from the intensity degree: class k for
# degree >= HAZARD_BREAKS[k-1]; below the first break class 0. Default 6/7/8/9: the 设防烈度 levels
# 6–9 of GB 50011-2010 (2016 版) and the GB 18306-2015 zones 0.05g (VI), 0.10–0.15g (VII),
# 0.20–0.30g (VIII), >= 0.40g (IX): below VI no seismic design is required (class 0).
HAZARD_BREAKS = (6, 7, 8, 9)

# --------------------------------------------------------------------------------------------------
# scenario earthquake: intensity attenuation (elliptical isoseismals)
# --------------------------------------------------------------------------------------------------
# I = A + B·M + C·lg(R + R0), R the epicentral distance (km) along the long (a) or short (b) axis,
# M the surface-wave magnitude Ms. A site at (x, y) in the ellipse frame has the intensity I for which
# (x / Ra(I))² + (y / Rb(I))² = 1. Region keys → (A_a, B_a, C_a, R0_a, A_b, B_b, C_b, R0_b, σ).
# 'cn2013_*': 俞言祥, 李山有, 肖亮 (2013), "Development of ground motion attenuation relations for the
#   new seismic hazard map of China", 震灾防御技术 (Technology for Earthquake Disaster Prevention) 8(1)
#   (volume and pages to be checked), Table 1 as reproduced at ftp.nowpublishers.com/view-large/103355422:
#   the relations of the fifth-generation zoning map GB 18306-2015, four regions: 东部强震区,
#   中强地震活动区, 新疆区, 青藏区. The copy of Table 1 consulted lost two minor-axis R0 values
#   (moderate-to-strong and Qinghai-Tibet); they are 7 and 9, the values at which the long- and
#   short-axis relations give the same epicentral intensity, as they do to 1e-4 for the other two
#   regions (R0 = 25 / 13, the joint-fit constraint of the model); both come out integers to 1e-3.
# 'wang2000_*': 汪素云, 俞言祥, 高阿甲, 闫秀杰 (2000) 中国分区地震动衰减关系的确定. 中国地震 16(2)
#   (pages to be checked), the western and eastern China relations of the fourth-generation map
#   GB 18306-2001. Their long- and short-axis relations also agree at R = 0 (to 2e-4), a check on the
#   transcription.
# The Wuling mountains (湘鄂渝黔) lie in the moderate-to-strong region of GB 18306-2015: the default.
ATTENUATION = {
    "cn2013_east":     (5.7123, 1.3626, -4.2903, 25.0, 3.6588, 1.3626, -3.5406, 13.0, 0.5826),
    "cn2013_moderate": (5.8410, 1.0710, -3.6570, 15.0, 3.9440, 1.0710, -2.8450, 7.0, 0.5200),
    "cn2013_xinjiang": (5.6018, 1.4347, -4.4899, 25.0, 3.6113, 1.4347, -3.8477, 13.0, 0.5924),
    "cn2013_tibet":    (6.4580, 1.2746, -4.4709, 25.0, 3.3682, 1.2746, -3.3119, 9.0, 0.6636),
    "wang2000_west":   (5.253, 1.398, -4.164, 26.0, 2.019, 1.398, -2.943, 8.0, None),
    "wang2000_east":   (5.019, 1.446, -4.136, 24.0, 2.240, 1.446, -3.070, 9.0, None),
}
ATTENUATION_DEFAULT = "cn2013_moderate"
ATTENUATION_LABELS = {
    "cn2013_east": ("东部强震区 (俞言祥等 2013, GB 18306-2015)", "eastern strong-earthquake region (Yu et al. 2013)"),
    "cn2013_moderate": ("中强地震活动区 (俞言祥等 2013, GB 18306-2015)", "moderate-to-strong region (Yu et al. 2013)"),
    "cn2013_xinjiang": ("新疆区 (俞言祥等 2013, GB 18306-2015)", "Xinjiang region (Yu et al. 2013)"),
    "cn2013_tibet": ("青藏区 (俞言祥等 2013, GB 18306-2015)", "Qinghai-Tibet region (Yu et al. 2013)"),
    "wang2000_west": ("西部 (汪素云等 2000, GB 18306-2001)", "western China (Wang et al. 2000)"),
    "wang2000_east": ("东部 (汪素云等 2000, GB 18306-2001)", "eastern China (Wang et al. 2000)"),
}
# The relations were fitted to shallow crustal earthquakes of the Chinese mainland with epicentral
# distance: the focal depth does not enter them. It is checked against this range (km) and reported.
DEPTH_RANGE_KM = (0.0, 70.0)
MAGNITUDE_RANGE = (4.0, 8.6)     # the magnitude range of the isoseismal data behind the relations
# Long-axis azimuth (degrees clockwise from north) when no STRIKE is given and no fault is near.
STRIKE_DEFAULT = 0.0
# Grid (m) for scenario and polygon hazards: 30 m is finer than any isoseismal or zoning boundary
# and keeps a 100 km county at 11 M cells.
CELL_SIZE = 30.0
MAX_CELLS = 2_000_000_000        # a grid larger than this is refused (CELL_SIZE too small)
BLOCK_SIZE = 1024

# --------------------------------------------------------------------------------------------------
# buildings
# --------------------------------------------------------------------------------------------------
# Structure types (the five classes of the issue and of county house surveys) and their labels.
STRUCTURES = ("rc", "brick_concrete", "brick_wood", "earth_wood", "other")
STRUCTURE_LABELS = {"rc": ("钢混/框架", "RC / frame"), "brick_concrete": ("砖混", "brick-concrete"),
                    "brick_wood": ("砖木", "brick-timber"), "earth_wood": ("土木/土坯", "earth-timber / adobe"),
                    "other": ("其他", "other")}
# Fortification levels (设防烈度): 0 = none (未设防), 6..9 = designed to that intensity (GB 50011).
FORTIFICATIONS = (0, 6, 7, 8, 9)
# A blank 设防烈度 of an engineered type (钢混, 砖混) built in or after CODE_YEAR counts as designed
# to DESIGN_FORTIFICATION; every other blank counts as unfortified (rural self-built houses).
# 1990: GBJ 11-89 《建筑抗震设计规范》 came into force on 1990-01-01 (the first code with the
# 'no collapse under rare earthquakes' objective). DESIGN_FORTIFICATION 7: the 设防烈度 of the
# 0.10g/0.15g zones, most of the Wuling mountains; set your county's value (GB 50011-2010 附录 A,
# GB 18306-2015 附录 C list it per town).
CODE_YEAR = 1990
ENGINEERED = ("rc", "brick_concrete")
DESIGN_FORTIFICATION = 7
# People per household when a building has households but no residents: 2.62, the national mean
# household size of the seventh census (第七次全国人口普查公报 2021).
PERSONS_PER_HOUSEHOLD = 2.62

# --------------------------------------------------------------------------------------------------
# vulnerability: damage-probability matrices
# --------------------------------------------------------------------------------------------------
# Damage states of GB/T 24335-2009 《建(构)筑物地震破坏等级划分》 and GB/T 18208.3-2011:
# 基本完好, 轻微破坏, 中等破坏, 严重破坏, 毁坏.
DAMAGE_STATES = ("intact", "slight", "moderate", "extensive", "collapse")
DAMAGE_LABELS = {"intact": ("基本完好", "intact"), "slight": ("轻微破坏", "slight"),
                 "moderate": ("中等破坏", "moderate"), "extensive": ("严重破坏", "extensive"),
                 "collapse": ("毁坏", "collapse")}
# Damage index of each state, used to turn a mean damage index into state probabilities: 0, 0.2,
# 0.4, 0.7, 1.0 (完好 0, 毁坏 1 as in GB/T 17742-1999 note 3, the grades between spaced as field
# surveys compute 平均震害指数). Project assumption for the three middle grades.
DAMAGE_INDEX = (0.0, 0.2, 0.4, 0.7, 1.0)
# Mean damage index of 一般房屋 (unfortified old-style timber/earth/brick houses and unfortified brick
# houses) at intensity VI … X: the midpoints of GB/T 17742-1999 表 1 (VI 0.00–0.10, VII 0.11–0.30,
# VIII 0.31–0.50, IX 0.51–0.70, X 0.71–0.90); V = 0 (the scale describes no structural damage
# below VI) and XI = 0.955 (0.91–1.00). Linear between degrees.
MEAN_DAMAGE_INDEX = {5: 0.0, 6: 0.05, 7: 0.205, 8: 0.405, 9: 0.605, 10: 0.805, 11: 0.955}
# Vulnerability offset of each structure type, in intensity degrees (a building of the type behaves
# like an ordinary house at I + offset): project assumptions within GB/T 17742-1999 note 2 ("对于质量
# 特别差或特别好的房屋 … 予以提高或降低"): earth-timber / adobe half a degree worse (earth walls have
# the least shear strength), brick-timber, brick-concrete and 'other' are the scale's ordinary houses
# (旧式房屋 and 未经抗震设计的新式砖房), an unfortified RC frame half a degree better.
TYPE_OFFSET = {"earth_wood": 0.5, "brick_wood": 0.0, "brick_concrete": 0.0, "other": 0.0, "rc": -0.5}
# Intensity reduction of a building designed to fortification level f, in degrees: f − 6 for f >= 7
# (at its design intensity it behaves like an ordinary house at VI), half a degree for the 6-degree
# measures. Project assumption, calibrated to the objectives of GB 50011-2010 §1.0.1 (小震不坏、中震
# 可修、大震不倒): with these matrices an ordinary-type building (offset <= 0) designed to f has, at
# I = f, a mean damage index below 0.15 (slight damage on average) and, at I = f + 1 (about the rare
# earthquake), a collapse probability below 1 % (tests/test_earthquake.py checks both).
FORTIFICATION_SHIFT = {0: 0.0, 6: 0.5, 7: 1.0, 8: 2.0, 9: 3.0}
# Intensities tabulated in a matrix; a site below the first is intact, above the last takes the last.
DPM_INTENSITIES = (6, 7, 8, 9, 10)
# Probabilities per state: a binomial distribution over the four damage grades above intact with the
# mean damage index of the cell (the binomial damage-probability model of Braga, Dolce & Liberatore
# 1982, "A statistical study on damaged buildings and an ensuing review of the M.S.K.-76 scale",
# 7th European Conference on Earthquake Engineering, Athens; used by EMS-98 vulnerability studies).

# --------------------------------------------------------------------------------------------------
# casualties (building method)
# --------------------------------------------------------------------------------------------------
# Indoor casualty rates per damage state, FEMA (2003) HAZUS-MH MR4 Earthquake Model Technical
# Manual ch. 13, Tables 13.3–13.7 (rates for the common building types): severity 4 = death,
# severities 1–3 = injured (2–3 = hospitalised, 重伤). 'complete' (毁坏) splits into collapse and
# no-collapse by COLLAPSE_SHARE (Table 13.8).
#                 (sev1,     sev2,    sev3,     sev4)
CASUALTY_RATES = {"intact":    (0.0, 0.0, 0.0, 0.0),
                  "slight":    (0.0005, 0.0, 0.0, 0.0),
                  "moderate":  (0.0025, 0.0003, 0.0, 0.0),
                  "extensive": (0.01, 0.001, 0.00001, 0.00001),
                  "complete":  (0.05, 0.01, 0.0001, 0.0001),
                  "collapsed": (0.40, 0.20, 0.05, 0.10)}
# Share of 'complete' (毁坏) buildings that collapse (Hazus Table 13.8): unreinforced masonry (URM)
# 15 % for masonry and earth houses; RC frames (C1) 13 % low-rise (1–3 storeys), 10 % mid-rise (4–7),
# 5 % high-rise (8+).
COLLAPSE_SHARE = {"earth_wood": 0.15, "brick_wood": 0.15, "brick_concrete": 0.15, "other": 0.15}
COLLAPSE_SHARE_RC = ((3, 0.13), (7, 0.10), (None, 0.05))   # (up to storeys, share)
# Residents indoors at home, by time of day: night 0.99 (Hazus Table 13.2, residential occupancy at
# 2:00 am); day 0.5: project assumption for a rural county on a working day (farm work, migrant
# workers, children at school): set it from local surveys.
TIMES = ("night", "day")
TIME = "night"
OCCUPANCY = {"night": 0.99, "day": 0.5}
# Displaced (需紧急安置): residents of uninhabitable homes, Hazus §14.3 uninhabitable-dwelling rates
# for multi-family dwellings: extensive 0.9, complete (毁坏) 1.0; moderate and below 0. Deaths are
# not counted as displaced.
UNINHABITABLE = {"intact": 0.0, "slight": 0.0, "moderate": 0.0, "extensive": 0.9, "collapse": 1.0}

# --------------------------------------------------------------------------------------------------
# casualties (PAGER empirical method, for comparison)
# --------------------------------------------------------------------------------------------------
# Fatality rate ν(S) = Φ(ln(S / θ) / β) at shaking intensity S (Jaiswal, K. S. & Wald, D. J. 2010.
# An empirical model for global earthquake fatality estimation. Earthquake Spectra 26(4): 1017–1037).
# China: θ = 10.328811, β = 0.100058, the 'CN' model of the USGS PAGER implementation
# (github.com/usgs/pager, losspager/data/fatality.xml, models vstr 2.2, status InCountry; US
# government work, public domain). As in PAGER (losspager/models/emploss.py) rates apply at the
# intensity degrees 5–9, degree 10 and above take the rate of 9, below 5 the rate is 0; the rates
# are per person exposed (time of day is inside the fit), applied to residents.
PAGER_THETA = 10.328811
PAGER_BETA = 0.100058
PAGER_DEGREES = (5, 9)

# --------------------------------------------------------------------------------------------------
# earthquake risk zoning and retrofit
# --------------------------------------------------------------------------------------------------
# Risk class of a township or village (styles/classes.json 'earthquake_risk', 1 低 … 4 高) from the
# expected deaths per 10 000 residents (building method): class k above RISK_BREAKS[k-2] … Default
# 0.5 / 5 / 50 per 10 000. Reasoning (project default): under the basic ground motion of GB 18306-2015
# (10 % in 50 years, return period 475 years) a conditional death rate r is roughly an annual rate of
# r / 475; the national target of 《"十四五"国家综合防灾减灾规划》 (2022) is fewer than 1 death per
# million people per year, i.e. r ≈ 4.75 per 10 000. Classes: 1 below a tenth of the target, 2 up to
# the target, 3 up to ten times it, 4 above. Units with no residents or no intensity >= VI are class 0.
RISK_BREAKS = (0.5, 5.0, 50.0)
RISK_PER = 10_000
# Retrofit (加固) raises a building to this fortification level (its structure type unchanged); the
# priority list ranks (village, structure type) by the deaths saved. Default 7, as
# DESIGN_FORTIFICATION: retrofit to the county's 设防烈度 (JGJ 116-2009 《建筑抗震加固技术规程》: a
# retrofitted building meets the local fortification requirement).
RETROFIT_FORTIFICATION = 7
RETROFIT_TOP = 50                # rows in the numeric summary and log (the table lists every row)
