"""Four-color risk map (四色图): risk matrix, exposure classes and supports, with sources and reasoning.

Risk levels follow styles/classes.json 'risk_levels': 1 重大 (red), 2 较大 (orange), 3 一般 (yellow),
4 低 (blue); the colours are read from there, never from here. Hazard classes 0..4 follow
'hazard_classes' (4 = very high).
"""

# --- the risk matrix ---------------------------------------------------------------------------------
# Rows: hazard class 1 低 … 4 极高. Columns: exposure class 1 (low) … 4 (very high). Entry: risk level.
# Reasoning: the multiplicative risk matrix of 《风险管理 风险评估技术》GB/T 27921-2011 (= IEC/ISO 31010,
# consequence/likelihood matrix) and of the LS method used for the dual-prevention 四色图: score R = H × E
# on 1..16, banded as for a 4 × 4 matrix:
#     R ≥ 12 → 1 重大,  8–9 → 2 较大,  4–6 → 3 一般,  1–3 → 4 低.
# So a very-high hazard reaches 重大 only where exposure is at least high (class 3), a low hazard is
# never worse than 一般, and the matrix is symmetric in hazard and exposure (neither dominates).
MATRIX = (
    (4, 4, 4, 3),   # hazard 1 低
    (4, 3, 3, 2),   # hazard 2 中
    (4, 3, 2, 1),   # hazard 3 高
    (3, 2, 1, 1),   # hazard 4 极高
)
# Places with no hazard (class 0) are 低风险: the four-colour map covers the whole county, blue where
# nothing threatens.
NO_HAZARD_LEVEL = 4

# --- exposure classes --------------------------------------------------------------------------------
# Exposure of a support (grid cell or village) to a hazard class is measured as people and buildings in
# that class per km² of the support, so that the same thresholds serve every CELL_SIZE and every unit
# size (a count per cell would change meaning with the cell size). The class is the highest of:
#   people per km²  ≥ 100 → 2, ≥ 1 000 → 3, ≥ 5 000 → 4 (else 1)
#     100: about the national mean density (1.41 bn / 9.6 M km², 第七次全国人口普查 2020: ≈ 147 /km²);
#          below it: forest, farmland, scattered houses.
#     1 000: hamlets and village edges.
#     5 000: built-up settlement. 《镇规划标准》GB 50188-2007 plans 80–140 m² of construction land per
#          person, i.e. 7 000–12 500 people per km² of built-up land; 5 000 leaves room for roads and
#          open land inside a cell.
#   buildings per km² ≥ 30 → 2, ≥ 300 → 3, ≥ 1 500 → 4: the people thresholds divided by about 3.3
#     residents per rural dwelling (2.62 per household, 七普 2020, most rural houses holding one
#     household with some extra members); this catches exposure where the population raster is coarse.
#   any school, hospital or elderly home in that class → at least FACILITY_MIN_EXPOSURE (3): people
#     who cannot evacuate themselves; the 第一次全国自然灾害综合风险普查 (2020–2022) surveys them as key
#     public-service exposure (重要承灾体: 学校、医疗卫生机构、社会福利机构).
# These are project defaults with their reasoning, not national thresholds: calibrate locally.
PEOPLE_BREAKS = (100.0, 1000.0, 5000.0)        # per km², lower bounds of exposure classes 2, 3, 4
BUILDING_BREAKS = (30.0, 300.0, 1500.0)        # per km², lower bounds of exposure classes 2, 3, 4
FACILITY_MIN_EXPOSURE = 3

# --- vulnerability (optional) -------------------------------------------------------------------------
# A raster index 0 (robust) … 1 (fragile), e.g. share of elderly, building fragility. Its area mean over
# a support at or above VULNERABILITY_RAISE makes the level one step more severe (一般 → 较大); it never
# lowers a level. 2/3: the upper tercile of a normalised index.
VULNERABILITY_RAISE = 2.0 / 3.0

# --- supports ----------------------------------------------------------------------------------------
# 'grid': a regular grid of CELL_SIZE metres (网格化管理), clipped to the townships so each piece has one
#   township; 'units': the polygons of UNITS (villages or townships).
SUPPORTS = ("grid", "units")
SUPPORT = "grid"
# Default 100 m: the 万米单元网格 (10 000 m² unit grid) of 《数字化城市管理信息系统 第1部分: 单元网格》
# GB/T 30428.1-2013, the grid of 网格化管理. Allowed 50 m … 1 km (the range: below 50 m the
# population rasters carry no information, above 1 km a cell mixes valley and slope).
CELL_SIZE = 100.0
CELL_SIZE_RANGE = (50.0, 1000.0)

# Largest analysis sub-cell (m) when the hazard is given as polygons (a class raster sets its own cell):
# 20 m resolves hazard strips along streams at the grid's scale; at most CELL_SIZE / 5 on a grid, so
# every grid cell holds at least 25 sub-cells.
POLYGON_SUBCELL_M = 20.0
GRID_SUBCELLS_PER_SIDE = 5
