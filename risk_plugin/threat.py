"""Threat zones of surveyed geohazard points (地质灾害隐患点): who and what lies inside, the
danger level (险情等级) that follows, and which survey counts disagree.

>>> r = hazard_point_threat("points.gpkg", "points_out.gpkg", output_zones="zones.gpkg",
...                         buildings="buildings.gpkg", population="population.tif")
>>> r["people_threatened"], r["points_flagged"]

Zones are circles around each point, radius by hazard type and scale (definitions.threat), computed
in metres in the working CRS. Buildings count when they touch a zone (STRtree); people from a
population raster are summed area-weighted over the cells a zone covers. Levels follow the national
grading; a point is flagged when its surveyed 威胁人数 differs from the computed count by more than
max(tolerance × surveyed, min_difference).
"""
import numpy as np

from . import paramtext
from .definitions import threat as D
from .errors import input_error, parameter_error
from .inputs import RasterInput, VectorInput, check_rasters, load_vectors
from .io import layer_name, split_source, write_vector
from .progress import ensure

COMPUTED = ("radius_m", "buildings_calc", "households_calc", "people_calc", "people_raster", "people_diff",
            "flagged", "danger_level", "danger_zh", "danger_survey", "level_changed")


def danger_level(people, property_wan=None, people_bounds=D.DANGER_PEOPLE, property_bounds=D.DANGER_PROPERTY_WAN):
    """险情等级 1 特大型 … 4 小型: the more severe of the level by people and the level by property.

    >>> danger_level([1000, 999, 500, 499, 100, 99], [0, 0, 0, 0, 0, 499.9])
    array([1, 2, 2, 3, 3, 4])
    """
    people = np.floor(np.asarray(people, dtype=np.float64) + 0.5)  # whole people, halves up
    level = 1 + (people[:, None] < np.asarray(people_bounds, dtype=np.float64)[None, :]).sum(axis=1)
    if property_wan is not None:
        prop = np.nan_to_num(np.asarray(property_wan, dtype=np.float64), nan=0.0)
        by_property = 1 + (prop[:, None] < np.asarray(property_bounds, dtype=np.float64)[None, :]).sum(axis=1)
        level = np.minimum(level, by_property)
    return level.astype(np.int64)


def grading_bounds(value, name):
    """Three descending lower bounds of levels 1, 2, 3 (from text '1000,500,100' or a sequence)."""
    bounds = paramtext.numbers(value, name, count=3, minimum=0)
    if not (bounds[0] > bounds[1] > bounds[2]):
        raise parameter_error(name, f"应为从大到小的 3 个界限 (特大型, 大型, 中型): {bounds}",
                              f"needs 3 descending bounds (levels 1, 2, 3): {bounds}", "例如 1000,500,100", "e.g. 1000,500,100")
    return bounds


def radius_table(overrides=None):
    """{hazard type: (small, medium, large, giant) radius in m}: defaults, with ``overrides`` applied.

    ``overrides`` is a dict or text 'landslide=150,250,400,600; collapse=…' (four radii each).
    """
    table = dict(D.THREAT_RADIUS_M)
    if isinstance(overrides, str):
        overrides = paramtext.mapping(overrides, "RADII", allowed=table, count=len(D.SCALES))
    for key, radii in (overrides or {}).items():
        if key not in table:
            raise parameter_error("RADII", f"未知灾害类型 '{key}'", f"unknown hazard type '{key}'",
                                  f"可用: {sorted(table)}", f"known types: {sorted(table)}")
        if len(radii) != len(D.SCALES) or min(radii) <= 0:
            raise parameter_error("RADII", f"{key} 需要 4 个正的半径 (小/中/大/特大型)", f"{key} needs 4 positive radii (small/medium/large/giant)",
                                  "例如 landslide=100,200,300,500", "e.g. landslide=100,200,300,500")
        table[key] = tuple(float(r) for r in radii)
    return table


def threat_radius(hazard_types, scales, table):
    """Radius (m) per point from its canonical hazard type and scale."""
    lookup = {(t, s): r for t, radii in table.items() for s, r in zip(D.SCALES, radii)}
    return np.array([lookup[(t, s)] for t, s in zip(hazard_types, scales)], dtype=np.float64)  # a dict lookup per point


def building_people(buildings, household_size=D.HOUSEHOLD_SIZE):
    """(residents, households, blank) per building: residents = households × size where only
    households are known, households = ceil(residents / size) where only residents are; 0 (and
    ``blank`` True) where neither is."""
    n = len(buildings)
    r = buildings["residents"].to_numpy(dtype=np.float64) if "residents" in buildings else np.full(n, np.nan)
    h = buildings["households"].to_numpy(dtype=np.float64) if "households" in buildings else np.full(n, np.nan)
    residents = np.where(np.isnan(r), h * household_size, r)
    households = np.where(np.isnan(h), np.ceil(r / household_size), h)
    return np.nan_to_num(residents), np.nan_to_num(households), np.isnan(r) & np.isnan(h)


def count_buildings(zones, buildings, residents, households):
    """Per zone (count, households, people) of buildings touching it, and the same for the union of zones."""
    import shapely
    tree = shapely.STRtree(buildings)
    zi, bi = tree.query(zones, predicate="intersects")
    n = len(zones)
    per_zone = (np.bincount(zi, minlength=n).astype(np.float64),
                np.bincount(zi, weights=households[bi], minlength=n),
                np.bincount(zi, weights=residents[bi], minlength=n))
    hit = np.unique(bi)
    union = (float(hit.size), float(households[hit].sum()), float(residents[hit].sum()))
    return per_zone, union


def raster_people(zones, zones_crs, population, unit="count", block_size=1024, progress=None):
    """People per zone and in the union of zones from a population raster, area-weighted: each cell
    counts with the share of its area the zone covers (people spread evenly within a cell).

    ``unit``: 'count' (people per cell), 'per_km2' or 'per_m2' (densities).
    """
    import geopandas as gpd
    import rasterio
    import shapely
    from rasterio.windows import Window, from_bounds
    from .classgrid import blocks, row_cell_areas
    progress = ensure(progress)
    per_zone, total = np.zeros(len(zones)), 0.0
    with rasterio.open(split_source(population)[0]) as src:
        zr = gpd.GeoSeries(zones, crs=zones_crs).to_crs(src.crs).to_numpy()
        union = shapely.union_all(zr)
        shapely.prepare(union)
        tree = shapely.STRtree(zr)
        win = from_bounds(*shapely.bounds(union), transform=src.transform)
        col0, row0 = max(int(np.floor(win.col_off)) - 1, 0), max(int(np.floor(win.row_off)) - 1, 0)
        col1 = min(int(np.ceil(win.col_off + win.width)) + 1, src.width)
        row1 = min(int(np.ceil(win.row_off + win.height)) + 1, src.height)
        if col1 <= col0 or row1 <= row0:
            return per_zone, total
        row_area = row_cell_areas(src.transform, src.crs, src.height) if unit != "count" else None
        t = src.transform
        for sub in progress.steps(list(blocks(row1 - row0, col1 - col0, block_size))):
            w = Window(col0 + sub.col_off, row0 + sub.row_off, sub.width, sub.height)
            vals = src.read(1, window=w, masked=True).astype(np.float64).filled(0.0)
            if unit != "count":
                per_m2 = 1e-6 if unit == "per_km2" else 1.0
                vals *= row_area[int(w.row_off):int(w.row_off + w.height), None] * per_m2
            r, c = np.nonzero(vals > 0)
            if r.size == 0:
                continue
            people = vals[r, c]
            x0 = t.c + t.a * (c + w.col_off)
            y0 = t.f + t.e * (r + w.row_off)
            cells = shapely.box(x0, y0 + t.e, x0 + t.a, y0)
            cell_area = shapely.area(cells)
            ci, zi = tree.query(cells, predicate="intersects")
            if ci.size == 0:
                continue
            frac = shapely.area(shapely.intersection(cells[ci], zr[zi])) / cell_area[ci]
            per_zone += np.bincount(zi, weights=people[ci] * frac, minlength=len(zones))
            near = np.unique(ci)
            frac_u = shapely.area(shapely.intersection(cells[near], union)) / cell_area[near]
            total += float((people[near] * frac_u).sum())
    return per_zone, total


def hazard_point_threat(points, output_points, output_zones=None, buildings=None, population=None,
                        population_unit="count", radii=None, radius_field=None, household_size=D.HOUSEHOLD_SIZE,
                        tolerance=D.TOLERANCE, min_difference=D.MIN_DIFFERENCE, people_bounds=D.DANGER_PEOPLE,
                        property_bounds=D.DANGER_PROPERTY_WAN, field_map=None, work_crs=None, progress=None):
    """Count buildings, households and people in each point's threat zone, grade 险情等级, flag survey
    counts that disagree; write ``output_points`` (and ``output_zones``). Returns a dict of figures.

    People come from BUILDINGS (residents, else households × household_size) when given, else from
    the POPULATION raster; with both, the raster sum is reported beside (``people_raster``).
    """
    import geopandas as gpd
    import pandas as pd
    import shapely
    from .classes import class_table, match_classes
    from .crs import to_working, working_crs
    progress = ensure(progress)
    if not buildings and not population:
        raise parameter_error("BUILDINGS / POPULATION", "至少需要建筑物或人口栅格之一来统计受威胁人数",
                              "give buildings and/or a population raster to count threatened people",
                              "选择 BUILDINGS 或 POPULATION", "choose BUILDINGS or POPULATION")
    if population_unit not in D.POPULATION_UNITS:
        raise parameter_error("POPULATION_UNIT", f"未知单位 {population_unit}", f"unknown unit {population_unit}",
                              "count (人/像元), per_km2 (人/km²) 或 per_m2 (人/m²)", f"one of {D.POPULATION_UNITS}")
    if tolerance < 0 or min_difference < 0 or household_size <= 0:
        raise parameter_error("TOLERANCE / MIN_DIFFERENCE / HOUSEHOLD_SIZE", "容差不能为负, 户均人数应大于 0",
                              "tolerances must be >= 0 and household size > 0", "改正数值", "correct the values")
    table = radius_table(radii)
    people_bounds = grading_bounds(people_bounds, "DANGER_PEOPLE")
    property_bounds = grading_bounds(property_bounds, "DANGER_PROPERTY")
    specs = [VectorInput("points", points, "geohazard_points", field_map=field_map or {}, label=layer_name(points))]
    if buildings:
        specs.append(VectorInput("buildings", buildings, "buildings", label=layer_name(buildings)))
    layers = load_vectors(specs)
    if population:
        check_rasters([RasterInput("population", population, "population", label=layer_name(population))])
    pts = layers["points"]
    label = pts.attrs.get("name", "points")
    progress.set(5)

    wcrs = working_crs(pts.crs, pts.total_bounds, work_crs)
    pts_w = to_working(pts, wcrs)
    radius = threat_radius(pts["hazard_type"], pts["scale"], table)
    if radius_field:
        if radius_field not in pts.columns:
            raise input_error(label, f"没有字段 {radius_field}", f"field {radius_field} does not exist",
                              "选择威胁半径字段 (m)", "choose the threat-radius field (m)", field=radius_field)
        surveyed_r = pd.to_numeric(pts[radius_field], errors="coerce").to_numpy(dtype=np.float64)
        radius = np.where(surveyed_r > 0, surveyed_r, radius)
    zones_w = shapely.buffer(pts_w.geometry.to_numpy(), radius, quad_segs=16)
    n = len(pts)

    out_cols = {"radius_m": radius}
    people_b = people_r = None
    union_people = union_households = union_buildings = 0.0
    if buildings:
        bld = layers["buildings"]
        has_people = "residents" in bld or "households" in bld
        if not has_people and not population:
            raise input_error(bld.attrs.get("name", "buildings"), "建筑物没有居住人数或户数字段, 无法统计人数",
                              "buildings have neither a residents nor a households field: people cannot be counted",
                              "添加 居住人数/户数 字段, 或提供人口栅格 POPULATION",
                              "add a residents/households field, or give a POPULATION raster", field="residents")
        residents, households, blank = building_people(bld, household_size)
        if blank.any() and has_people:
            progress.info(f"{int(blank.sum())} 栋建筑没有居住人数和户数, 按 0 人计 / {int(blank.sum())} buildings have "
                          "neither residents nor households: counted as 0 people")
        bld_w = to_working(bld, wcrs).geometry.to_numpy()
        (nb, hh, pp), (ub, uh, up) = count_buildings(zones_w, bld_w, residents, households)
        out_cols.update(buildings_calc=nb.astype(np.int64), households_calc=hh)
        people_b = pp if has_people else None
        union_buildings, union_households, union_people = ub, uh, up
    progress.set(40)
    if population:
        people_r, union_r = raster_people(zones_w, wcrs, population, population_unit, progress=progress.sub(40, 85))
        out_cols["people_raster"] = people_r
        if people_b is None:  # people (and estimated households) from the raster
            union_people = union_r
            out_cols["households_calc"] = np.round(people_r / household_size)
            union_households = float(np.round(union_r / household_size))
    progress.set(85)
    people = people_b if people_b is not None else people_r
    out_cols["people_calc"] = people
    surveyed = pts["people"].to_numpy(dtype=np.float64)
    diff = people - surveyed
    flagged = np.abs(diff) > np.maximum(tolerance * surveyed, min_difference)
    prop = pts["property"].to_numpy(dtype=np.float64) if "property" in pts else None
    level = danger_level(people, prop, people_bounds, property_bounds)
    levels = class_table("danger_levels")["classes"]
    zh = np.array([c["zh"] for c in levels], dtype=object)
    out_cols.update(people_diff=diff, flagged=flagged.astype(np.int64), danger_level=level, danger_zh=zh[level - 1])
    changed = 0
    if "danger_level" in pts:
        idx = match_classes(class_table("danger_levels"), pts["danger_level"])
        survey_level = np.where(idx >= 0, idx + 1, 0)
        out_cols["danger_survey"] = survey_level
        out_cols["level_changed"] = ((survey_level > 0) & (survey_level != level)).astype(np.int64)
        changed = int(out_cols["level_changed"].sum())

    out = _output_frame(pts, field_map or {})
    for key, values in out_cols.items():
        out[key] = values
    write_vector(out, output_points)
    if output_zones:
        keep = [c for c in ("code", "name", "hazard_type", "scale", "people") if c in pts.columns]
        zones = gpd.GeoDataFrame(pts[keep].rename(columns={"people": "people_survey"}).reset_index(drop=True),
                                 geometry=zones_w, crs=wcrs)
        for key in COMPUTED:
            if key in out_cols:
                zones[key] = out_cols[key]
        write_vector(zones.to_crs(pts.crs), output_zones)
    progress.set(100)
    return {"output_points": str(output_points), "output_zones": str(output_zones) if output_zones else None,
            "points": n, "points_flagged": int(flagged.sum()), "level_changed": changed,
            "people_threatened": float(union_people), "households_threatened": float(union_households),
            "buildings_threatened": int(union_buildings),
            "danger_counts": {k: int((level == k).sum()) for k in range(1, 5)}}


def _output_frame(pts, field_map):
    """The points as the user gave them: canonical copies of aliased fields dropped (统一编号 stays,
    its copy 'code' goes), and user fields whose names the output needs renamed to '<name>_in'."""
    from .validation import find_field, load_schema
    out = pts.copy()
    for spec in load_schema("geohazard_points")["fields"]:
        name = spec["name"]
        source = find_field([c for c in out.columns if c != name], spec, field_map.get(name))
        if source is not None and name in out.columns:
            out = out.drop(columns=name)
    return out.rename(columns={c: f"{c}_in" for c in COMPUTED if c in out.columns})
