"""The four-color risk map (四色图): risk level 1 重大 … 4 低 from hazard class × exposure, on a grid or
on admin units.

>>> res = run_fourcolor(hazard="composite_zoning.tif", population="population.tif",
...                     buildings="buildings.gpkg", facilities="facilities.gpkg",
...                     townships="townships.gpkg", support="grid", cell_size=100,
...                     output="fourcolor.gpkg", output_table="fourcolor_townships.xlsx")
>>> res["PEOPLE_LEVEL_1"]

How a support (grid cell or village) gets its level:

1. :func:`risk_plugin.exposure.count_exposure` counts people, buildings and key facilities per support
   × hazard class, and the area of each class in the support (same conservative zonal method);
2. for every hazard class c present in the support, the exposure class E_c (1..4) is the highest of
   the classes of people per km² and buildings per km² (that class's people over the support's area),
   raised to FACILITY_MIN_EXPOSURE where a school, hospital or elderly home lies in class c;
3. the level for class c is MATRIX[c][E_c]; the support takes the most severe level over its
   classes (class 0 gives NO_HAZARD_LEVEL). Risk is where hazard and exposure coincide: a village
   whose houses stand outside its small very-high zone is not 重大 for that zone alone;
4. an optional vulnerability raster raises the level one step where its mean reaches
   VULNERABILITY_RAISE.

Colours and labels come from styles/classes.json 'risk_levels'.

Grid pieces are ordered by (row, column, township, part), so the pieces of consecutive row ranges
(``grid_support(rows=…)``) concatenate to the whole grid's: on Dask the workers build, count, grade
and write the grid in strips of rows (:func:`split_grid`, :mod:`risk_plugin.parallel.grid_strips`)
with the steps below (:func:`grade_frame`, :func:`township_labels`); results are bit-identical.
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from . import classes as class_tables
from .crs import to_working
from .definitions import fourcolor as D
from .definitions.exposure import BUILDING_RULE, CELL_RULE, FACILITY_TYPES, POPULATION_UNIT
from .errors import parameter_error
from .exposure import UnitSpec, check_choice, count_exposure, load_inputs
from .hazardsource import N_CLASSES
from .io import write_sheets, write_table, write_vector
from .paramtext import numbers
from .progress import ensure


# --------------------------------------------------------------------------------------------------
# the matrix
# --------------------------------------------------------------------------------------------------
def parse_matrix(text):
    """A 4 × 4 risk matrix from text: rows = hazard class 1..4, columns = exposure class 1..4, entries
    risk levels 1..4; rows separated by ';' or new lines, entries by ',' or spaces.

    >>> parse_matrix("4,4,4,3; 4,3,3,2; 4,3,2,1; 3,2,1,1")[3][0]
    3
    """
    if text is None or (isinstance(text, str) and not text.strip()):
        return np.array(D.MATRIX, dtype=np.int64)
    if isinstance(text, str):
        rows = [r for r in text.replace("\n", ";").replace("；", ";").split(";") if r.strip()]
        values = [numbers(r, "RISK_MATRIX") for r in rows]
    else:
        values = [list(r) for r in text]
    m = np.array(values, dtype=float) if all(len(r) == len(values[0]) for r in values) else None
    if m is None or m.shape != (4, 4):
        raise parameter_error("RISK_MATRIX", "风险矩阵应为 4 行 × 4 列 (行: 危险性 1..4, 列: 暴露度 1..4)",
                              "the risk matrix must have 4 rows × 4 columns (rows: hazard 1..4, columns: exposure 1..4)",
                              "如 4,4,4,3; 4,3,3,2; 4,3,2,1; 3,2,1,1", "e.g. 4,4,4,3; 4,3,3,2; 4,3,2,1; 3,2,1,1")
    if not np.isin(m, [1, 2, 3, 4]).all():
        raise parameter_error("RISK_MATRIX", "矩阵元素应为风险等级 1..4 (1 重大 … 4 低)",
                              "entries must be risk levels 1..4 (1 major … 4 low)")
    return m.astype(np.int64)


def matrix_warnings(m):
    """Cells where more hazard or more exposure would give a *less* severe level (allowed, reported)."""
    out = []
    if (np.diff(m, axis=0) > 0).any():
        out.append("风险矩阵中危险性升高时等级变低 / in the risk matrix a higher hazard gives a lower level somewhere")
    if (np.diff(m, axis=1) > 0).any():
        out.append("风险矩阵中暴露度升高时等级变低 / in the risk matrix a higher exposure gives a lower level somewhere")
    return out


def level_label_arrays():
    """(中文, English, colour) arrays indexed by risk level 1..4 (index 0 unused), from styles/."""
    classes = class_tables.class_table("risk_levels")["classes"]
    out = [np.full(max(int(c["value"]) for c in classes) + 1, "", dtype=object) for _ in range(3)]
    for c in classes:
        for arr, key in zip(out, ("zh", "en", "color")):
            arr[int(c["value"])] = c[key]
    return tuple(out)


def exposure_class(people_km2, buildings_km2, has_facility, people_breaks=D.PEOPLE_BREAKS,
                   building_breaks=D.BUILDING_BREAKS, facility_min=D.FACILITY_MIN_EXPOSURE):
    """Exposure class 1..4 (arrays broadcast): the highest of the people and building classes; at least
    ``facility_min`` where a key facility is present. A value equal to a break is in the upper class."""
    e_p = np.searchsorted(np.asarray(people_breaks, float), people_km2, side="right") + 1
    e_b = np.searchsorted(np.asarray(building_breaks, float), buildings_km2, side="right") + 1
    e = np.maximum(e_p, e_b)
    return np.where(has_facility, np.maximum(e, facility_min), e)


def risk_level(hazard_class, exposure_cls, matrix=None, no_hazard_level=D.NO_HAZARD_LEVEL):
    """Risk level 1..4 for hazard classes 0..4 and exposure classes 1..4 (arrays broadcast)."""
    m = parse_matrix(matrix) if not isinstance(matrix, np.ndarray) else matrix
    h = np.asarray(hazard_class, np.int64)
    e = np.clip(np.asarray(exposure_cls, np.int64), 1, 4)
    h, e = np.broadcast_arrays(h, e)
    return np.where(h >= 1, m[np.clip(h, 1, 4) - 1, e - 1], no_hazard_level)


def support_levels(people, buildings, facilities, area_cls, area_km2, matrix=None,
                   people_breaks=D.PEOPLE_BREAKS, building_breaks=D.BUILDING_BREAKS,
                   facility_min=D.FACILITY_MIN_EXPOSURE, vulnerability=None, vulnerability_raise=D.VULNERABILITY_RAISE):
    """Level per support from (n, 5) arrays per hazard class; returns a dict of arrays:
    level, hazard_class (the decisive class), exposure_class (at the decisive class), max_class."""
    m = parse_matrix(matrix) if not isinstance(matrix, np.ndarray) else matrix
    n = len(area_km2)
    akm = np.where(area_km2 > 0, area_km2, np.inf)[:, None]
    e = exposure_class(people / akm, buildings / akm, facilities > 0, people_breaks, building_breaks, facility_min)
    cls = np.broadcast_to(np.arange(N_CLASSES), (n, N_CLASSES))
    lv = risk_level(cls, e, m)
    present = area_cls > 0
    present[:, 0] |= ~present.any(axis=1)          # nothing measured: no hazard
    lv = np.where(present, lv, 99)
    # the most severe level; among equals the higher hazard class is reported as decisive
    order = lv * 10 - cls
    decisive = np.argmin(order, axis=1)
    rows = np.arange(n)
    level = lv[rows, decisive]
    raised = np.zeros(n, bool)
    if vulnerability is not None:
        raised = np.nan_to_num(vulnerability, nan=-1.0) >= vulnerability_raise
        level = np.where(raised, np.maximum(level - 1, 1), level)
    max_class = np.where(present, cls, 0).max(axis=1)
    return {"level": level.astype(np.int64), "hazard_class": decisive.astype(np.int64),
            "exposure_class": e[rows, decisive].astype(np.int64), "max_class": max_class.astype(np.int64),
            "raised": raised}


# --------------------------------------------------------------------------------------------------
# supports
# --------------------------------------------------------------------------------------------------
def grid_shape(bounds, cell_size):
    """(x0, y1, nx, ny): the grid over ``bounds``, aligned to multiples of the cell (x0 left, y1 top);
    at most 5 M cells."""
    x0 = np.floor(bounds[0] / cell_size) * cell_size
    y1 = np.ceil(bounds[3] / cell_size) * cell_size
    nx = int(np.ceil((bounds[2] - x0) / cell_size))
    ny = int(np.ceil((y1 - bounds[1]) / cell_size))
    if nx * ny > 5_000_000:
        raise parameter_error("CELL_SIZE", f"网格过多 ({nx}×{ny}), 请加大网格", f"too many grid cells ({nx}×{ny}); use a larger CELL_SIZE")
    return x0, y1, nx, ny


def grid_support(bounds, cell_size, crs, townships=None, rows=None):
    """Grid cells of ``cell_size`` over ``bounds`` (aligned to multiples of the cell), clipped to the
    townships when given (each piece in one township). Returns a GeoDataFrame with row, col, code,
    name and town (index into townships, -1 without), ordered by (row, col, town, part).

    ``rows`` = (r0, r1): only the grid rows r0 ≤ row < r1 of the whole grid (same numbering, same
    pieces), so the pieces of consecutive row ranges, concatenated, are the whole grid's."""
    import geopandas as gpd
    x0, y1, nx, ny = grid_shape(bounds, cell_size)
    r_lo, r_hi = (0, ny) if rows is None else (max(int(rows[0]), 0), min(int(rows[1]), ny))
    r, c = np.divmod(np.arange(r_lo * nx, max(r_hi, r_lo) * nx), nx)
    cells = shapely.box(x0 + c * cell_size, y1 - (r + 1) * cell_size, x0 + (c + 1) * cell_size, y1 - r * cell_size)
    town = np.full(len(cells), -1, np.int64)
    if townships is not None and len(townships):
        tg = np.asarray(townships.geometry.values, dtype=object)
        tree = shapely.STRtree(tg)
        ci, ti = tree.query(cells, predicate="intersects")
        inside = shapely.contains_properly(tg[ti], cells[ci])   # whole cells need no overlay
        pieces = cells[ci].copy()
        pieces[~inside] = shapely.intersection(cells[ci][~inside], tg[ti][~inside])
        pieces = shapely.get_parts(pieces, return_index=True)
        geoms, src = pieces
        part = np.arange(len(src)) - np.searchsorted(src, src)   # get_parts keeps a geometry's parts together, in order
        poly = (shapely.get_type_id(geoms) == 3) & (shapely.area(geoms) > 1e-6 * cell_size ** 2)
        geoms, src, part = geoms[poly], src[poly], part[poly]
        cells, r, c, town = geoms, r[ci][src], c[ci][src], ti[src]
        order = np.lexsort((part, town, c, r))                   # the canonical order, whatever the tree's
        cells, r, c, town = cells[order], r[order], c[order], town[order]
    gdf = gpd.GeoDataFrame({"row": r, "col": c, "town": town}, geometry=cells, crs=crs)
    gdf["code"] = gdf["row"].astype(str) + "_" + gdf["col"].astype(str)
    gdf["name"] = gdf["code"]
    gdf["parent_code"] = None
    return gdf.reset_index(drop=True)


def town_of_units(units, townships):
    """Index of each unit's township: by parent code, else by the township holding a point on its surface."""
    n = len(units)
    town = np.full(n, -1, np.int64)
    if townships is None or not len(townships):
        return town
    if "parent_code" in units.columns and "code" in townships.columns:
        lookup = {str(c): i for i, c in enumerate(townships["code"]) if c is not None}
        town = np.array([lookup.get(str(p), -1) if p is not None else -1 for p in units["parent_code"]], np.int64)
    missing = town < 0
    if missing.any():
        from .exposure import assign_units
        pts = shapely.point_on_surface(np.asarray(units.geometry.values, dtype=object)[missing])
        town[missing] = assign_units(pts, townships.geometry.values) - 1
    return town


# --------------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------------
FACILITY_FIELDS = {"school": "schools", "hospital": "hospitals", "elderly_home": "elderly_homes"}
LEVEL_HEADERS = {"township_code": "乡镇代码 township code", "township_name": "乡镇 township",
                 "risk_level": "风险等级 risk level", "risk_zh": "风险等级名称 level (中文)", "risk_en": "level (English)",
                 "supports": "图斑数 supports", "area_km2": "面积(km²) area km²", "people": "人口 people",
                 "buildings": "建筑 buildings"}


def levels_table(out, townships):
    """Area, people and buildings per township × level (every level listed), plus a county total. People are
    whole persons: each township's levels add up to its rounded total, the townships to the county's
    (risk_plugin.rounding, the same as the report and the atlas)."""
    from .rounding import whole_table
    table = class_tables.class_table("risk_levels")["classes"]
    towns = [(str(c), str(n)) for c, n in zip(townships["code"], townships["name"])] if townships is not None else []
    keys = out[["township_code", "township_name"]].drop_duplicates().itertuples(index=False, name=None)
    towns = towns + [k for k in keys if k not in towns]
    agg = out.groupby(["township_code", "township_name", "risk_level"], dropna=False).agg(
        supports=("risk_level", "size"), area_km2=("area_km2", "sum"), people=("people", "sum"),
        buildings=("buildings", "sum"))
    levels = [int(c["value"]) for c in table]
    people = np.array([[float(agg.loc[(code, name, lv), "people"]) if (code, name, lv) in agg.index else 0.0
                        for lv in levels] for code, name in towns]).reshape(len(towns), len(levels))
    persons = whole_table(people) if len(towns) else np.zeros((0, len(levels)), np.int64)
    rows = []
    for t, (code, name) in enumerate(towns + [("", "全县合计 / total")]):
        for j, cls in enumerate(table):
            lv = int(cls["value"])
            if t == len(towns):
                sub = out[out["risk_level"] == lv]
                vals = (len(sub), sub["area_km2"].sum(), int(persons[:, j].sum()), sub["buildings"].sum())
            else:
                key = (code, name, lv)
                vals = tuple(agg.loc[key]) if key in agg.index else (0, 0.0, 0.0, 0)
                vals = (vals[0], vals[1], int(persons[t, j]), vals[3])
            rows.append({"township_code": code, "township_name": name, "risk_level": lv, "risk_zh": cls["zh"],
                         "risk_en": cls["en"], "supports": int(vals[0]), "area_km2": round(float(vals[1]), 4),
                         "people": int(vals[2]), "buildings": int(vals[3])})
    return pd.DataFrame(rows)


def run_fourcolor(hazard, population, buildings=None, facilities=None, townships=None, units=None,
                  support=D.SUPPORT, cell_size=D.CELL_SIZE, hazard_field=None, hazard_mapping=None,
                  population_unit=POPULATION_UNIT, residents_field=None, facility_type_field=None,
                  matrix=None, people_breaks=D.PEOPLE_BREAKS, building_breaks=D.BUILDING_BREAKS,
                  facility_min=D.FACILITY_MIN_EXPOSURE, vulnerability=None, vulnerability_raise=D.VULNERABILITY_RAISE,
                  cell_rule=CELL_RULE, building_rule=BUILDING_RULE, max_cell_m=None, output=None,
                  output_table=None, output_crs=None, work_crs=None, repair=False, progress=None):
    """Validate, count, grade; write the risk polygons (``output``) and the township × level table
    (``output_table``, CSV or XLSX); return numeric outputs PEOPLE_LEVEL_1..4, BUILDINGS_LEVEL_1..4,
    AREA_KM2_LEVEL_1..4 and SUPPORTS."""
    progress = ensure(progress)
    check_choice("SUPPORT", support, D.SUPPORTS)
    progress.info("读取并检查输入图层 / reading and checking the inputs")
    m = parse_matrix(matrix)
    for w in matrix_warnings(m):
        progress.info(w)
    pb = numbers(people_breaks, "PEOPLE_BREAKS", count=3, ascending=True, minimum=0)
    bb = numbers(building_breaks, "BUILDING_BREAKS", count=3, ascending=True, minimum=0)
    if not 1 <= int(facility_min) <= 4:
        raise parameter_error("FACILITY_MIN_EXPOSURE", "应为 1..4", "must be 1..4")
    if support == "grid" and not D.CELL_SIZE_RANGE[0] <= float(cell_size) <= D.CELL_SIZE_RANGE[1]:
        raise parameter_error("CELL_SIZE", f"网格大小应在 {D.CELL_SIZE_RANGE[0]:g}–{D.CELL_SIZE_RANGE[1]:g} m",
                              f"CELL_SIZE must be {D.CELL_SIZE_RANGE[0]:g}–{D.CELL_SIZE_RANGE[1]:g} m")
    if support == "units" and not units:
        raise parameter_error("UNITS", "按行政单元评估时必须提供 UNITS (村或乡镇)",
                              "support 'units' needs UNITS (villages or townships)")
    if not population:
        raise parameter_error("POPULATION", "需要人口栅格", "a population raster is required")
    specs = []
    if townships:
        specs.append(townships if isinstance(townships, UnitSpec) else UnitSpec(townships))
    if support == "units":
        specs.append(units if isinstance(units, UnitSpec) else UnitSpec(units))
    inp = load_inputs(hazard, hazard_field, hazard_mapping, population, population_unit, buildings, residents_field,
                      facilities, facility_type_field, None, specs, work_crs, repair=repair)
    if vulnerability:
        from .inputs import RasterInput, check_rasters
        from .io import layer_name
        check_rasters([RasterInput("vulnerability", vulnerability, "hazard_classes",
                                   label=f"VULNERABILITY {layer_name(vulnerability)}")])
    grading = {"matrix": m, "people_breaks": pb, "building_breaks": bb, "facility_min": int(facility_min),
               "vulnerability_raise": vulnerability_raise}
    split = None
    try:
        wcrs = inp.work_crs
        towns = to_working(inp.units[0], wcrs) if townships else None
        sub = max_cell_m
        if not sub:
            sub = inp.hazard.native_cell_m() if inp.hazard is not None and inp.hazard.is_raster else D.POLYGON_SUBCELL_M
            if support == "grid":
                sub = min(sub, float(cell_size) / D.GRID_SUBCELLS_PER_SIDE)
        if support == "grid":
            if towns is not None:
                bounds = towns.total_bounds
            else:
                from .exposure import _whole_area
                bounds = _whole_area(inp, wcrs).total_bounds
            split = split_grid(GridJob(inp, towns, bounds, float(cell_size), sub, cell_rule, building_rule,
                                       vulnerability, grading, output, output_crs or _input_crs(townships, units, support, inp)),
                               progress)
            if split is None:
                sup = grid_support(bounds, float(cell_size), wcrs, towns)
                progress.info(f"网格 / grid: {len(sup)} 个图斑 / pieces of {float(cell_size):g} m")
        else:
            sup = to_working(inp.units[-1], wcrs).reset_index(drop=True)
            sup["town"] = town_of_units(sup, towns)
        if split is None:
            inp.units, inp.unit_labels = [sup], ["support"]
            counts = count_exposure(inp, cell_rule, building_rule, sub, need_area=True, extra=vulnerability,
                                    progress=progress.sub(0, 85))
    finally:
        inp.close()
    if split is not None:       # built, counted, graded and written elsewhere (risk_plugin.parallel.grid_strips)
        progress.info(f"网格 / grid: {split.n} 个图斑 / pieces of {float(cell_size):g} m")
        return _finish(split.table_frame(towns), towns, split.level, split.people, split.buildings, split.area_km2,
                       None, output_table, progress, None, split.levels)
    lc = counts.levels[0]
    n = len(sup)
    out, res, people, area_km2 = grade_frame(sup, lc.people[1:], lc.buildings[1:] if lc.buildings is not None else None,
                                             {t: a[1:] for t, a in lc.facilities.items()} if lc.facilities is not None else None,
                                             lc.area[1:], lc.extra_mean[1:] if lc.extra_mean is not None else None,
                                             towns, support, wcrs, grading)
    progress.set(90)
    target = output_crs or _input_crs(townships, units, support, inp)

    def write(progress):
        progress.info(f"写出 {n} 个图斑 / writing {n} supports")
        final = out.to_crs(target)
        progress.set(93)
        write_vector(final, output, progress=progress.sub(93, 99))
    return _finish(out, towns, res["level"], people, out["buildings"].to_numpy(), area_km2,
                   write if output else None, output_table, progress, out, res)


# --------------------------------------------------------------------------------------------------
# the steps of a run, shared with the Dask grid strips (risk_plugin.parallel.grid_strips)
# --------------------------------------------------------------------------------------------------
@dataclass
class GridJob:
    """What a grid run needs past validation: inputs (open), working-CRS townships, the grid, the
    counting rules, the grading parameters (``support_levels`` keywords), the output and its CRS."""
    inp: object
    towns: object
    bounds: tuple
    cell_size: float
    max_cell_m: float
    cell_rule: str
    building_rule: str
    vulnerability: object
    grading: dict
    output: object
    target_crs: object


def split_grid(job, progress):
    """The grid support built, counted, graded and written elsewhere. In one process: None (the grid
    is built whole below). :mod:`risk_plugin.parallel.grid_strips` puts its Dask version here, which
    returns an object with n, level, people, buildings, area_km2, levels and table_frame(towns)."""
    return None


def grade_frame(sup, people, bld, facilities, area_cls, extra_mean, towns, support, crs, grading):
    """Grade the supports ``sup`` and build the output layer's frame (in ``crs``). Counts per support ×
    hazard class, one row per support: people, buildings (or None), {facility type: counts} (or None),
    area (m²), extra_mean (vulnerability, or None). Returns (frame, support_levels result, people,
    area_km2)."""
    import geopandas as gpd
    n = len(sup)
    bld = bld if bld is not None else np.zeros((n, N_CLASSES))
    fac = sum(facilities.values()) if facilities is not None else np.zeros((n, N_CLASSES))
    area_km2 = shapely.area(np.asarray(sup.geometry.values, dtype=object)) / 1e6
    g = grading
    res = support_levels(people, bld, fac, area_cls, area_km2, g["matrix"], g["people_breaks"], g["building_breaks"],
                         g["facility_min"], extra_mean, g["vulnerability_raise"])
    level = res["level"]
    zh, en, color = level_label_arrays()
    if towns is not None:
        tcode, tname = township_labels(sup["town"].to_numpy(), towns)
    else:
        tcode, tname = township_labels(np.full(n, -1), None)
        if "parent_code" in sup.columns:
            tcode = sup["parent_code"].fillna("").astype(str).to_numpy()
    data = {
        "risk_level": level, "risk_zh": zh[level], "risk_en": en[level], "color": color[level],
        "hazard_class": res["hazard_class"], "exposure_class": res["exposure_class"], "max_hazard_class": res["max_class"],
        "people": np.round(people.sum(axis=1), 2), "people_in_hazard": np.round(people[:, 1:].sum(axis=1), 2),
        "buildings": bld.sum(axis=1).astype(np.int64),
    }
    if facilities is not None:
        for t in FACILITY_TYPES:
            data[FACILITY_FIELDS[t]] = facilities[t].sum(axis=1).astype(np.int64)
    data["area_km2"] = np.round(area_km2, 6)
    if extra_mean is not None:
        data["vulnerability"] = np.round(extra_mean, 4)
        data["raised_by_vulnerability"] = res["raised"].astype(np.int64)
    data["township_code"], data["township_name"] = tcode, tname
    if support == "units":
        data["unit_code"] = sup["code"].astype(str).to_numpy() if "code" in sup else ""
        data["unit_name"] = sup["name"].astype(str).to_numpy()
    else:
        data["grid_row"], data["grid_col"] = sup["row"].to_numpy(), sup["col"].to_numpy()
    out = gpd.GeoDataFrame(data, geometry=list(sup.geometry.values), crs=crs)
    return out, res, people, area_km2


def township_labels(town, towns):
    """(code, name) object arrays of each support's township (``town``: index into ``towns``, -1 none: "")."""
    n = len(town)
    tcode = np.array([""] * n, dtype=object)
    tname = np.array([""] * n, dtype=object)
    if towns is not None:
        has = town >= 0
        tcode[has] = towns["code"].astype(str).to_numpy()[town[has]] if "code" in towns else ""
        tname[has] = towns["name"].astype(str).to_numpy()[town[has]]
    return tcode, tname


def _finish(frame, towns, level, people, buildings, area_km2, write, output_table, progress, layer, levels):
    """The township × level table (from ``frame``: the output layer's table columns), the output
    (``write(progress)``), the table file and the numeric outputs."""
    tab = levels_table(frame, towns)
    progress.set(91)
    if write is not None:
        write(progress)
    if output_table:
        t = tab.rename(columns=LEVEL_HEADERS)
        if str(output_table).lower().endswith(".xlsx"):
            write_sheets({"乡镇风险等级 by township": t}, output_table)
        else:
            write_table(t, output_table)
    progress.set(100)
    result = {"SUPPORTS": int(len(level))}
    for lv in range(1, 5):
        sel = level == lv
        result[f"PEOPLE_LEVEL_{lv}"] = float(people[sel].sum())
        result[f"BUILDINGS_LEVEL_{lv}"] = int(buildings[sel].sum())
        result[f"AREA_KM2_LEVEL_{lv}"] = float(area_km2[sel].sum())
    result["layer"], result["table"], result["levels"] = layer, tab, levels
    return result


def _input_crs(townships, units, support, inp):
    """Outputs go back in the CRS of the main boundary input (units, else townships), else the working CRS."""
    for spec in ([units] if support == "units" else []) + [townships]:
        if spec:
            src = spec.source if isinstance(spec, UnitSpec) else spec
            try:
                import pyogrio
                from .io import split_source
                path, layer = split_source(src)
                return pyogrio.read_info(path, layer=layer)["crs"]
            except Exception:  # noqa: BLE001 - fall back to the working CRS
                pass
    return inp.work_crs
