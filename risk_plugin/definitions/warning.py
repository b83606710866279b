"""Warning coverage (sirens, emergency-broadcast loudspeakers) and geohazard monitoring: defaults with their source.

Audible radius from the device's rated sound level by the outdoor-warning rule of FEMA CPG 1-17
(《Outdoor Warning Systems Guide》, 1980, and its 2006 technical bulletin): a siren is rated at 100 ft
(30.48 m); the level falls about 10 dB per doubling of distance outdoors (6 dB of spherical spreading
plus ground and air absorption); the effective range ends at the 70 dB contour.
    radius = 30.48 m × 2 ^ ((rated dB − 70 dB) / 10 dB)
"""

DEVICE_TYPES = ("siren", "loudspeaker")
TYPE_ZH = {"siren": "警报器", "loudspeaker": "应急广播/高音喇叭"}
REF_DISTANCE_M = 30.48            # 100 ft, the rating distance of CPG 1-17
EFFECTIVE_DB = 70.0               # CPG 1-17: edge of the effective range
LOSS_PER_DOUBLING_DB = 10.0       # CPG 1-17: loss per doubling of distance outdoors
# Rated level at 30.48 m, dB(C). Typical devices (check the data sheet of the ones installed):
# - siren (电声警报器, 400–600 W electronic siren): 115 dB(C) at 30.5 m → 690 m.
# - loudspeaker (应急广播 / 高音喇叭 / 村村响 horn, 100 W, sensitivity about 105 dB at 1 W / 1 m: 125 dB at 1 m
#   at full power, 95 dB at 30.5 m by spherical spreading) → 172 m.
RATED_DB = {"siren": 115.0, "loudspeaker": 95.0}


def default_radius(kind):
    """Audible radius (m) of a device type by the CPG 1-17 rule."""
    return REF_DISTANCE_M * 2.0 ** ((RATED_DB[kind] - EFFECTIVE_DB) / LOSS_PER_DOUBLING_DB)


AUDIBLE_RADIUS_M = {k: round(default_radius(k), 1) for k in DEVICE_TYPES}
RADIUS_SOURCE = {
    "siren": "FEMA CPG 1-17: 115 dB(C)@30.5 m, 70 dB 有效边界, 每倍距衰减 10 dB → 690 m",
    "loudspeaker": "FEMA CPG 1-17: 100 W 号角扬声器 95 dB@30.5 m, 70 dB 有效边界, 每倍距衰减 10 dB → 172 m",
}

# --- terrain ---------------------------------------------------------------------------------------
# With a DEM, a listener out of the device's line of sight (terrain above the straight line from the
# horn to the ear) hears it only within a shorter radius: the hill costs TERRAIN_LOSS_DB, i.e. the radius
# shrinks by 2^(loss / 10 dB per doubling). 20 dB: the single-diffraction cap of ISO 9613-2:1996 §7.4
# (barrier attenuation Dz ≤ 20 dB), the most a ridge can take: conservative. 20 dB → radius ÷ 4.
# A very large value (e.g. 999) counts every blocked line as not heard.
TERRAIN_LOSS_DB = 20.0
# Mounting heights (m) where the layer has none: sirens on a roof or a 15 m mast, loudspeakers on 6–10 m
# poles (common practice; 安装高度 in the layer wins).
DEFAULT_HEIGHT_M = {"siren": 15.0, "loudspeaker": 8.0}
# Ear height of a standing listener (m): 1.5 m, the receiver height of outdoor sound measurements
# (ISO 1996-2: 1.2–1.5 m).
RECEIVER_HEIGHT_M = 1.5
# Line of sight is sampled every DEM cell; pairs are processed in chunks of at most this many samples.
LOS_CHUNK_SAMPLES = 4_000_000
# Audible-area polygons (with a DEM) are cut from a grid of this cell (m).
COVERAGE_CELL = 25.0

# --- targets ---------------------------------------------------------------------------------------
# Share of people a warning must reach: 95 %, the target of the county plans ("确保灾害影响区域内预警信息
# 发布覆盖率达到 95%").
TARGET_SHARE = 0.95

# --- geohazard monitoring ----------------------------------------------------------------------------
# A geohazard point counts as monitored when at least this many monitoring devices (GNSS, crack meter,
# rain gauge …) lie within its threat zone (the zones of riskmap:hazardpointthreat, definitions.threat).
MIN_DEVICES = 1
