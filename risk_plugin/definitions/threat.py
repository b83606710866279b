"""Geohazard-point threat zones and 险情等级 (danger level): defaults with their source.

Levels follow styles/classes.json 'danger_levels': 1 特大型 … 4 小型.
"""

# --- threat-zone radius (m) by hazard type and scale ----------------------------------------------
# Scale classes are by volume (《滑坡防治工程勘查规范》DZ/T 0218-2006 / GB/T 32864-2016: 小型 < 10⁴…10⁵ m³,
# 中型 10⁵–10⁶, 大型 10⁶–10⁷, 特大型 > 10⁷ m³). No standard fixes a radius: these are engineering
# defaults, to be replaced by the surveyed 威胁范围 (RADIUS_FIELD) wherever one exists.
# Reasoning: the zone must cover the body plus its runout. Corominas (1996, Can. Geotech. J. 33:260)
# gives the reach angle of landslides as log10(H/L) = -0.085·log10(V) + 0.047; for a 50–150 m high slope
# this gives runouts of about 100 m (10⁵ m³) to 450 m (10⁷ m³), so landslides and unstable slopes get
# 100/200/300/500 m. Rockfalls (崩塌) mostly stop within 1–2 slope heights of the toe (shadow angle
# ≈ 28°, Evans & Hungr 1993): 50/100/200/300 m. Debris flows (泥石流) threaten the whole fan, which
# for small Chinese mountain catchments reaches some hundred metres to a kilometre: 200/300/500/1000 m.
# Ground collapse (地面塌陷) threatens its own footprint plus a margin: 50/100/200/300 m.
SCALES = ("small", "medium", "large", "giant")
THREAT_RADIUS_M = {
    "landslide": (100.0, 200.0, 300.0, 500.0),
    "unstable_slope": (100.0, 200.0, 300.0, 500.0),
    "collapse": (50.0, 100.0, 200.0, 300.0),
    "debris_flow": (200.0, 300.0, 500.0, 1000.0),
    "subsidence": (50.0, 100.0, 200.0, 300.0),
}

# --- danger level (险情等级) -----------------------------------------------------------------------
# Source: 《国家突发地质灾害应急预案》(国务院办公厅, 2006) §1.3 and its annex of grading standards,
# repeated in provincial and county plans: 受威胁需搬迁转移人数 / 潜在经济损失
#   特大型 (I)  ≥ 1000 人 或 ≥ 1 亿元
#   大型   (II) 500–999 人 或 5000 万–1 亿元
#   中型   (III) 100–499 人 或 500 万–5000 万元
#   小型   (IV) < 100 人 且 < 500 万元
# A point takes the more severe of the two levels. Property is in 万元 (the unit of 威胁财产 in the
# county survey tables), so 1 亿元 = 10000 万元. Computed people are rounded to whole people first.
DANGER_PEOPLE = (1000, 500, 100)          # lower bounds of levels 1, 2, 3 (people)
DANGER_PROPERTY_WAN = (10000, 5000, 500)  # lower bounds of levels 1, 2, 3 (万元)

# --- counting people -------------------------------------------------------------------------------
# What a population cell holds: people per cell, or a density per km² / m² (turned into people with
# the cell's true area). Same names and order as riskmap:exposure (definitions/exposure.py).
POPULATION_UNITS = ("count", "per_km2", "per_m2")

# People per household where a building has households but no residents (and households =
# ceil(residents / size) where it has residents only). Source: 第七次全国人口普查 (2020), mean
# family household size 2.62 persons (国家统计局公报第二号).
HOUSEHOLD_SIZE = 2.62

# --- checking the survey -------------------------------------------------------------------------
# A point is flagged when |surveyed 威胁人数 − computed| > max(TOLERANCE × surveyed, MIN_DIFFERENCE).
# Reasoning: surveyed counts are 户籍 (registered) people while building counts are usually 常住
# (resident); in rural counties with much 外出务工 the two commonly differ by a third or more, so
# only differences beyond half the survey are worth a field check. MIN_DIFFERENCE keeps points with
# a handful of threatened people from being flagged for a difference of one household or two.
TOLERANCE = 0.5
MIN_DIFFERENCE = 10
