"""Rescue, fire, medical and supply reach along the road network: defaults with their source.

Road speeds by class, facility types, reach thresholds, hazard-zone slow-downs, per-capita relief
needs and supply targets. Clauses were checked where a text was at hand; where a clause number
could not be verified here it says so: check it against the printed standard before quoting it.
"""

# --- road classes and speeds (km/h) ----------------------------------------------------------------
# Design speeds of 《公路工程技术标准》JTG B01-2014 (design-speed table of its chapter 3; clause number to
# check against the printed standard): 高速公路 120/100/80, 一级公路 100/80/60, 二级公路 80/60, 三级公路
# 40/30, 四级公路 30/20 (20 where the terrain is hard). The administrative classes (行政等级) are read
# at the technical grade they are usually built to (国道 and 省道 at least 二级, 县道 at least 三级, 乡道
# and 村道 四级; 《农村公路建设标准指导意见》 and the national road-network plans), and the design speed
# is an upper bound of what a loaded rescue vehicle keeps on a mountain road, so each class takes the
# middle or lower value of its grade. 城市道路: 《城市道路工程设计规范》CJJ 37-2012 (2016 edition) design
# speeds 主干路 60/50/40, 次干路 50/40/30, 支路 40/30/20: 40, the lower 主干路 / middle 次干路 value.
# Paths (步道, OSM footway/path/steps) are walked: the walking speed below.
WALK_SPEED_KMH = 4.32       # 1.2 m/s: the mean walking speed of the Highway Capacity Manual (HCM 2010)
                            # and of the pedestrian signal timing of the US MUTCD 2009 §4E.06 (3.5–4 ft/s)
ROAD_CLASSES = ("expressway", "national", "provincial", "county", "township", "village", "urban", "path")
CLASS_ZH = {"expressway": "高速公路", "national": "国道", "provincial": "省道", "county": "县道", "township": "乡道",
            "village": "村道", "urban": "城市道路", "path": "步道/小路"}
CLASS_EN = {"expressway": "Expressway", "national": "National road", "provincial": "Provincial road",
            "county": "County road", "township": "Township road", "village": "Village road", "urban": "Urban road",
            "path": "Path (walked)"}
SPEED_KMH = {"expressway": 100.0, "national": 80.0, "provincial": 60.0, "county": 40.0, "township": 30.0,
             "village": 20.0, "urban": 40.0, "path": WALK_SPEED_KMH}
SPEED_SOURCE = {
    "expressway": "JTG B01-2014 高速公路设计速度 120/100/80 km/h, 取中值 100",
    "national": "JTG B01-2014 一级公路 100/80/60 km/h (国道多为一级/二级), 取 80",
    "provincial": "JTG B01-2014 二级公路 80/60 km/h (省道多为二级), 取 60",
    "county": "JTG B01-2014 三级公路 40/30 km/h (县道宜三级及以上), 取 40",
    "township": "JTG B01-2014 四级公路 30/20 km/h (乡道宜四级及以上), 取 30",
    "village": "JTG B01-2014 四级公路 30/20 km/h (村道, 单车道, 山区), 取 20",
    "urban": "CJJ 37-2012 主干路 60/50/40、次干路 50/40/30 km/h, 取 40",
    "path": "步行 1.2 m/s = 4.32 km/h (HCM 2010; MUTCD 2009 §4E.06)",
}
# Values of the class field read as each class (case-insensitive): the Chinese names, the
# technical grades (read at the class of the same default design speed: 一级 80 = 国道, 二级 60 = 省道,
# 三级 40 = 县道, 四级 30 = 乡道, 等外 = 村道), English, and OSM 'highway' tags (motorway … residential).
CLASS_ALIASES = {
    "expressway": ("高速", "高速公路", "高速路", "快速路", "expressway", "motorway", "motorway_link", "freeway"),
    "national": ("国道", "国省道", "一级公路", "一级", "national", "trunk", "trunk_link"),
    "provincial": ("省道", "二级公路", "二级", "provincial", "primary", "primary_link"),
    "county": ("县道", "三级公路", "三级", "county", "secondary", "secondary_link"),
    "township": ("乡道", "乡镇道路", "四级公路", "四级", "township", "tertiary", "tertiary_link"),
    "village": ("村道", "村级道路", "通村公路", "等外公路", "等外", "机耕道", "village", "unclassified",
                "residential", "living_street", "service", "track", "road"),
    "urban": ("城市道路", "城镇道路", "主干路", "次干路", "支路", "街道", "urban", "street"),
    "path": ("步道", "小路", "人行道", "山路", "path", "footway", "pedestrian", "steps", "bridleway", "cycleway"),
}
# Class values of roads that carry no traffic (speed 0, no edge in the graph): OSM construction / proposed /
# abandoned, 在建 / 规划 / 废弃. EXTRA_SPEEDS can still give one of them a speed.
CLOSED_CLASSES = ("construction", "proposed", "abandoned", "disused", "razed", "在建", "规划", "废弃", "断头路(未通)")
# Roads whose class field is empty (or a layer without a class field) run at this speed (km/h):
# JTG B01-2014 四级公路 upper design speed (30), the lowest motor road a county network is made of.
DEFAULT_SPEED_KMH = 30.0

# One-way roads, when a DIRECTION_FIELD is given: values read as 'forward' (along the line as
# digitised), 'backward', 'both' or 'closed'. OSM oneway (yes / -1 / no), Esri (FT / TF / B / N),
# Chinese and 1 / 0. Anything else is reported, not guessed.
DIRECTION_ALIASES = {
    "forward": ("yes", "true", "1", "ft", "forward", "正向", "单行", "单向", "顺行"),
    "backward": ("-1", "reverse", "tf", "backward", "反向", "逆向", "逆行"),
    "both": ("no", "false", "0", "b", "both", "双向", "reversible", "alternating", ""),
    "closed": ("n", "closed", "禁行", "封闭", "中断"),
}

# --- facilities ---------------------------------------------------------------------------------------
# Types of data_schemas/response_facilities.json, and the groups reach is computed for. 'forces' are
# the rescue forces a plan counts (综合性消防救援队伍 + 专业/社会应急救援队伍): fire stations and rescue teams.
FACILITY_TYPES = ("rescue_team", "fire_station", "hospital", "depot")
TYPE_ZH = {"rescue_team": "救援队", "fire_station": "消防站", "hospital": "医院/卫生院", "depot": "物资储备库/点"}
GROUPS = {"forces": ("rescue_team", "fire_station"), "rescue": ("rescue_team",), "fire": ("fire_station",),
          "hospital": ("hospital",), "depot": ("depot",)}
GROUP_ZH = {"forces": "救援力量", "rescue": "救援队", "fire": "消防站", "hospital": "医疗", "depot": "物资储备"}
GROUP_EN = {"forces": "Rescue forces", "rescue": "Rescue teams", "fire": "Fire stations", "hospital": "Hospitals",
            "depot": "Supply depots"}

# --- thresholds ---------------------------------------------------------------------------------------
# Reach bands (minutes of travel from the nearest facility): 15 / 30 / 60, the bands of the issue and of
# the "15 分钟 / 30 分钟 / 1 小时" response circles county plans speak of. Up to MAX_THRESHOLDS values.
THRESHOLDS_MIN = (15.0, 30.0, 60.0)
MAX_THRESHOLDS = 5
# The threshold villages are judged against (gaps, covered_pct): 30 min, the "30 分钟应急救援圈" of many
# provincial and county plans. Project default; set it to the plan's own figure.
TARGET_MIN = 30.0

# --- snapping and walking -----------------------------------------------------------------------------
# Facilities and people join the road within MAX_SNAP m; the off-road part is walked at WALK_SPEED_KMH
# and counted. 1 km (≈ 14 min walking) keeps hillside hamlets on the network; farther places are
# reported as not reached by road. Project choice.
MAX_SNAP = 1000.0

# --- hazard zones -------------------------------------------------------------------------------------
# Roads inside a hazard zone (flood extent, landslide threat zone) run at speed × HAZARD_SPEED_FACTOR.
# Reasoning: the depth–disruption function of Pregnolato et al. (2017, Transportation Research Part D
# 55: 67–81), v = 0.0009 w² − 0.5529 w + 86.9448 km/h for w mm of water, halves the free speed at about
# 100 mm and stops traffic at 300 mm. 0.5 = a road under about 10 cm of water, or half blocked by debris.
HAZARD_SPEED_FACTOR = 0.5
# The cut-off scenario closes every road that touches a zone (Pregnolato: no traffic at ≥ 300 mm). A
# village is cut off (孤岛) when at least this share of its people lose every facility they reached
# before. Project choice: the village as a whole, not one farmhouse behind a flooded lane.
CUT_OFF_SHARE = 0.5

# --- supplies -----------------------------------------------------------------------------------------
# Per-capita needs of displaced people (紧急转移安置人员), per day for consumables and people per unit for
# durables. Sources:
# - water: 3 L/person/day, the survival intake (drinking and food) of the Sphere Handbook (Sphere
#   Project 2011/2018, water supply standard 1: survival needs 2.5–3 L of a total basic need of 7.5–15 L).
#   Bottled water in a depot covers drinking, not washing.
# - food: 0.5 kg/person/day (1 斤成品粮), the grain ration of China's transitional relief (过渡期生活救助:
#   每人每天 10 元和 1 斤成品粮, 民政部 财政部 国家发展改革委 2008, repeated in the central relief-fund
#   allocation rules).
# - tents: 12 m² relief tent (民政部 12 m² 单帐篷) at 3.5 m² covered living space per person (Sphere
#   Handbook shelter standard 3): 12 / 3.5 = 3.43 people per tent.
# - beds: one bed (折叠床) per person.
ITEMS = ("water", "food", "tents", "beds")
ITEM_ZH = {"water": "饮用水", "food": "食品", "tents": "帐篷", "beds": "折叠床"}
ITEM_UNIT = {"water": "L", "food": "kg", "tents": "顶", "beds": "张"}
CONSUMABLE = {"water": True, "food": True, "tents": False, "beds": False}
PER_CAPITA_DAY = {"water": 3.0, "food": 0.5}
PEOPLE_PER_UNIT = {"tents": round(12.0 / 3.5, 2), "beds": 1.0}
NEED_SOURCE = {
    "water": "Sphere Handbook (2011/2018) 供水标准: 生存饮水 2.5–3 L/人·日, 取 3",
    "food": "过渡期生活救助 每人每天 1 斤 (0.5 kg) 成品粮 (民政部、财政部、国家发展改革委 2008)",
    "tents": "民政部 12 m² 救灾单帐篷 ÷ Sphere 人均遮蔽面积 3.5 m² = 3.43 人/顶",
    "beds": "每人 1 张折叠床",
}
# Days the stock should last: 3, the end of the temporary (临时) sheltering period before short-term
# sheltering starts (GB 51143-2015 sheltering periods: 紧急 ≤ 1 d, 临时 ≤ 3 d, 短期 4–15 d …; table
# number to check). Durables (tents, beds) should cover every displaced person (share ≥ 1).
SUPPLY_TARGET_DAYS = 3.0
# Supplies count only from depots within this travel time (minutes): 10 h, the target of 《"十四五"国家
# 综合防灾减灾规划》(2022) that displaced people get basic relief within 10 hours of a disaster.
SUPPLY_TIME_MIN = 600.0
# Depots this close by road (minutes, either way) are one pool: a county depot and a township supply point in
# the same town serve the same people together. Project choice: 5 min, the size of a township seat.
POOL_MINUTES = 5.0
# Displaced people, when no earthquake/flood result or hazard raster gives them: this share of the
# population. No standard fixes it; 0 leaves supplies unassessed. The demo uses the flood hazard.
DISPLACED_SHARE = 0.0
# With a hazard class raster (flood or composite), the people of demand units in a cell of this class or
# higher are displaced: class 1 = any water in the 100-year flood (SL 483-2017 legend); flood plans move
# everybody out of the inundation area of the design flood.
DISPLACED_MIN_CLASS = 1

# --- isochrone polygons ----------------------------------------------------------------------------
# Band polygons are cut from a grid of this cell (m): 100 m, the population grid's, sharp at township scale.
ISOCHRONE_CELL = 100.0
# The grid never exceeds this many cells (the cell grows instead): 4 million, ≈ 2000 × 2000.
ISOCHRONE_MAX_CELLS = 4_000_000

# --- siting --------------------------------------------------------------------------------------------
# Where the next facilities go: greedy maximal covering (the shelter siting engine) of the people not
# reached within SITING_MINUTES; K sites.
SITING_MINUTES = 30.0
SITING_K = 5
# Per-candidate travel times run in blocks whose dense result stays under this many cells (32 MB).
BLOCK_CELLS = 4_000_000
