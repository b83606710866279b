"""Web map and print atlas: defaults with their source, and how layers are recognised.

Colours and labels are not here: they live in styles/classes.json.
"""

# --- defaults -----------------------------------------------------------------------------------
# Simplification tolerance (m). 5 m is below one screen pixel at zoom 14 (≈ 9.5 m/pixel at 30°N),
# the closest a township briefing map is usually viewed; Douglas-Peucker, topology preserved.
SIMPLIFY_TOLERANCE_M = 5.0

# Raster overlays are resampled to at most this many pixels (≈ 2000 × 2000): sharp on a 4K meeting-
# room screen, and a class raster encodes to a few hundred kB of paletted PNG.
MAX_IMAGE_PIXELS = 4_000_000

# A class polygon layer with more features than this (e.g. a 50 m four-colour grid of a whole county)
# is dissolved by class before export: per-feature popups for millions of cells would make the page
# too large for a briefing laptop. Popups then show the class only. Chosen so the demo grid stays detailed.
MAX_FEATURES_DETAILED = 20_000

# When a layer is dissolved: group by class and by the first of these fields, sum these (case-insensitive).
DISSOLVE_GROUP_FIELDS = ("township_name", "乡镇", "乡镇名称", "township")
DISSOLVE_SUM_FIELDS = ("people", "population", "人口", "人数", "people_in_hazard", "buildings", "建筑数",
                       "schools", "hospitals", "elderly_homes", "area_km2", "面积")
MERGED_LABEL = "合并图斑数 / merged features"

# Point layers with more points than this (every building of a county) start switched off: a page with tens of
# thousands of SVG circles opens slowly on a meeting-room laptop, and they hide everything under them.
SHOW_MAX_POINTS = 5_000

# Base layers off when the page opens (in the layer control): shelter catchments overlap one another and veil the
# four colours beneath them.
START_HIDDEN = ("catchments",)

# Class polygon layers with more features than this (a grid) are drawn without outlines: cell edges would grey
# the map out at county scale (web map and print atlas).
OUTLINE_MAX_FEATURES = 2_000

# Fields shown in a popup (after the class label). Key attributes come first (see NAME_FIELDS).
MAX_POPUP_FIELDS = 12

# Coordinates are written with 6 decimals (≈ 0.1 m): finer than any tolerance above, half the bytes.
COORD_DECIMALS = 6

# A continuous raster (no class table) whose valid cells are more than this share exactly 0 is taken
# to use 0 for "none" (a flood depth of dry land, a population grid of empty cells): 0 is transparent.
ZERO_IS_NONE_SHARE = 0.25

# Opacity of raster overlays and class polygons, so township boundaries and a basemap stay readable.
FILL_OPACITY = 0.65

# --- basemaps -------------------------------------------------------------------------------------
BASEMAPS = ("none", "osm", "tianditu")
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
# Tianditu (天地图) WMTS, tile matrix set 'c' = CGCS2000 geographic (lon/lat, plate carrée), levels
# 1..18; Leaflet's EPSG4326 CRS has 2 × 1 tiles at zoom 0, which is Tianditu level 1 (zoomOffset 1).
TIANDITU_TILES = ("https://t{{s}}.tianditu.gov.cn/{layer}_c/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                  "&LAYER={layer}&STYLE=default&TILEMATRIXSET=c&FORMAT=tiles"
                  "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")
TIANDITU_SUBDOMAINS = "01234567"
TIANDITU_ATTRIBUTION = "天地图 © 国家地理信息公共服务平台 / Tianditu"
TIANDITU_LAYERS = (("vec", "天地图矢量 / Tianditu map"), ("cva", "天地图注记 / Tianditu labels"))

# --- recognising layers ---------------------------------------------------------------------------
# (class table key in styles/classes.json, field names and aliases), first match wins. A field only
# counts if at least one of its values matches the table, so a generic '类别' field that holds
# something else is not mistaken for shelter classes.
# Shelter fields come before hazard_class: shelter outputs also carry the hazard class at the shelter, but
# what a shelter layer shows is its utilisation (or class).
CLASS_FIELDS = (
    ("risk_levels", ("risk_level", "风险等级", "风险级别", "risklevel")),
    ("danger_levels", ("danger_level", "险情等级", "XQDJ")),
    ("shelter_utilisation", ("utilisation", "utilization", "利用率")),
    ("service_status", ("served", "is_served", "是否安置")),
    ("shelter_classes", ("shelter_class", "类别", "场所类别")),
    ("earthquake_risk", ("eq_risk_class", "地震风险等级")),
    ("seismic_intensity", ("eq_degree", "地震烈度")),
    ("hazard_classes", ("hazard_class", "composite_class", "dominant_class", "zone", "zone_class", "危险性等级", "易发性等级",
                        "区划等级")),
    # riskmap:responsereach and riskmap:warningcoverage outputs (issue 13)
    ("reach_bands", ("minutes",)),
    ("coverage_pct", ("covered_pct",)),
    ("facility_types", ("facility_type",)),
    ("warning_status", ("covered",)),
    ("monitoring_status", ("monitored",)),
    ("warning_devices", ("device_type",)),
)

# Base styles decided by the name before any field: catchments carry their shelter's class, but are drawn as
# light service areas, not as class fills.
BASE_NAME_FIRST = (("catchments", ("catchment", "service_area", "服务范围", "服务区")),)

# Base layers by words in the layer name (file or QGIS layer name), checked in order.
BASE_NAME_WORDS = (
    ("townships", ("township", "乡镇", "街道")),
    ("catchments", ("catchment", "service_area", "服务范围", "服务区")),
    ("roads", ("road", "道路", "公路")),
    ("rivers", ("river", "河流", "水系", "stream")),
    ("buildings", ("building", "建筑", "房屋")),
    ("villages", ("village", "行政村", "村界", "村")),
    ("faults", ("fault", "断层", "断裂")),
)

# Rasters whose values are whole numbers 0..4 are class rasters; these words in the name make them risk levels
# (1..4), otherwise hazard classes (0..4). Anything else is drawn with the continuous ramp.
RASTER_RISK_WORDS = ("risk", "fourcolor", "four_color", "风险")

# Fields that name a feature: shown first in popups.
NAME_FIELDS = ("名称", "name", "隐患点名称", "场所名称", "乡镇", "township", "村", "village", "统一编号", "code")

# Columns never shown in popups (styling helpers written by other tools).
HIDDEN_FIELDS = ("fid", "ogc_fid", "color", "colour", "style", "颜色")

# --- print atlas: the summary table -----------------------------------------------------------------
# People fields of a summary layer (four-colour or exposure output), first match wins.
PEOPLE_FIELDS = ("people", "population", "pop_total", "pop", "人口", "人数", "常住人口", "居住人数", "exposed_people")
# Per-class people columns of a units layer: (class table key, regex with the class value as group 1).
# riskmap:exposure writes pop_c0 … pop_c4 per hazard class (risk_plugin/exposure.py, stat_columns).
PEOPLE_PER_CLASS_COLUMNS = (
    ("risk_levels", r"(?:pop|people)_(?:level|risk|r|l)_?(\d)"),
    ("hazard_classes", r"pop_c(\d)"),
)
# Atlas pages: A4 landscape at this resolution for the PNGs (the PDF keeps vectors).
ATLAS_DPI = 150
