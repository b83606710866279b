"""Exposure: people, buildings and key facilities per hazard class, per township and village.

>>> res = run_exposure(hazard="composite_zoning.tif", population="population.tif",
...                    buildings="buildings.gpkg", facilities="facilities.gpkg",
...                    units=[UnitSpec("townships.gpkg"), UnitSpec("villages.gpkg")],
...                    output_units="exposure.gpkg", output_table="exposure.xlsx")
>>> res["POPULATION_EXPOSED"]

Rules that change results are explicit arguments (definitions/exposure.py documents each one):
``cell_rule`` for raster cells against polygons, ``building_rule`` for footprints against hazard.
People are counted by :mod:`risk_plugin.zonal` (conservative: the per-unit totals plus the people
outside every unit equal the raster total); buildings and facilities are classified with shapely 2
array functions and counted with ``np.bincount``.
"""
from dataclasses import dataclass
from typing import List, Optional

import numpy as np
import pandas as pd
import shapely

from . import classes as class_tables
from . import notices
from .crs import to_working, working_crs
from .definitions import exposure as D
from .errors import InputError, ValidationError, parameter_error
from .hazardsource import N_CLASSES, HazardSource, parse_class_mapping
from .inputs import RasterInput, VectorInput, check_rasters
from .io import layer_name, read_vector, write_sheets, write_table, write_vector
from .validation import check_vector, find_field, load_schema
from .progress import ensure
from .zonal import PopulationRaster, population_by_unit

OUTSIDE_ZH, OUTSIDE_EN = "(单元外)", "(outside units)"


@dataclass
class UnitSpec:
    """One level of reporting units: a polygon layer and, optionally, its name / code / parent fields
    (found by the aliases of data_schemas/units.json when not given)."""
    source: str
    name_field: Optional[str] = None
    code_field: Optional[str] = None
    parent_field: Optional[str] = None
    label: Optional[str] = None


def check_choice(name, value, allowed):
    if value not in allowed:
        raise parameter_error(name, f"取值 {value!r} 无效, 可选: {list(allowed)}", f"invalid value {value!r}; choose one of {list(allowed)}")
    return value


# --------------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------------
@dataclass
class ExposureInputs:
    hazard: Optional[HazardSource]
    pop: Optional[PopulationRaster]
    buildings: Optional[object]      # GeoDataFrame, canonical columns
    facilities: Optional[object]
    units: List[object]              # GeoDataFrames with name, code, parent_code
    unit_labels: List[str]
    work_crs: object

    def close(self):
        if self.hazard is not None:
            self.hazard.close()
        if self.pop is not None:
            self.pop.close()


def load_inputs(hazard=None, hazard_field=None, hazard_mapping=None, population=None, population_unit=D.POPULATION_UNIT,
                buildings=None, residents_field=None, facilities=None, facility_type_field=None,
                facility_name_field=None, units=(), work_crs=None, require_units=False, repair=False):
    """Read and validate every input; one ValidationError lists every problem of every layer."""
    check_choice("POPULATION_UNIT", population_unit, D.POPULATION_UNITS)
    mapping = parse_class_mapping(hazard_mapping) if isinstance(hazard_mapping, (str, type(None))) else \
        {str(k).strip().lower(): int(v) for k, v in dict(hazard_mapping).items()}
    units = [u if isinstance(u, UnitSpec) else UnitSpec(u) for u in (units or [])]
    if require_units and not units:
        raise parameter_error("UNITS", "至少需要一个统计单元图层", "at least one layer of units is required")
    if not (population or buildings or facilities):
        raise parameter_error("POPULATION/BUILDINGS/FACILITIES", "至少提供人口栅格、建筑或重点设施之一",
                              "give at least one of population raster, buildings or facilities")
    hazard_is_raster = bool(hazard) and _looks_raster(hazard)
    specs = []
    if hazard and not hazard_is_raster:
        specs.append(VectorInput("hazard", hazard, "hazard_zones",
                                 {"hazard_value": hazard_field} if hazard_field else {}, repair=repair))
    if buildings:
        specs.append(VectorInput("buildings", buildings, "buildings",
                                 {"residents": residents_field} if residents_field else {}, repair=repair))
    if facilities:
        fmap = {"facility_type": facility_type_field, "name": facility_name_field}
        specs.append(VectorInput("facilities", facilities, "facilities", {k: v for k, v in fmap.items() if v}, repair=repair))
    for i, u in enumerate(units):
        fmap = {"name": u.name_field, "code": u.code_field, "parent_code": u.parent_field}
        specs.append(VectorInput(f"units{i}", u.source, D.UNIT_KIND, {k: v for k, v in fmap.items() if v}, repair=repair, label=u.label))
    used = {"hazard": {"hazard_value"}, "buildings": {"residents"}, "facilities": {"facility_type", "name"}}
    layers, problems = load_used_fields(specs, used)
    rasters = [RasterInput("population", population, "population", label=f"POPULATION {layer_name(population)}")] \
        if population else []
    if hazard_is_raster:
        rasters.append(RasterInput("hazard", hazard, "hazard_classes", label=f"HAZARD {layer_name(hazard)}"))
    try:
        check_rasters(rasters)
    except ValidationError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ValidationError(problems)

    hz = None
    if hazard_is_raster:
        hz = HazardSource.from_raster(hazard)
    elif hazard:
        gdf = layers["hazard"]
        field = "hazard_value"
        hz = HazardSource.from_polygons(gdf, field, mapping, label=gdf.attrs.get("name"),
                                        field_label=hazard_field or field)
    pop = PopulationRaster(population, population_unit) if population else None
    unit_gdfs = [layers[f"units{i}"] for i in range(len(units))]
    labels = [u.label or gdf.attrs.get("name", f"units{i + 1}") for i, (u, gdf) in enumerate(zip(units, unit_gdfs))]
    # the working CRS (metres) for vector work: from the first units, else buildings, else the rasters
    ref = next((g for g in [*unit_gdfs, layers.get("buildings"), layers.get("facilities")] if g is not None), None)
    if ref is not None:
        wcrs = working_crs(ref.crs, ref.total_bounds, work_crs)
    else:
        src = pop.src if pop else hz._src
        wcrs = working_crs(src.crs, tuple(src.bounds), work_crs)
    if hz is not None and hz.is_raster:
        check_hazard_coverage(hz, unit_gdfs, pop, wcrs)
    return ExposureInputs(hz, pop, layers.get("buildings"), layers.get("facilities"), unit_gdfs, labels, wcrs)


def check_hazard_coverage(hz, unit_gdfs, pop, wcrs):
    """A notice when a hazard raster covers less than COVERAGE_WARN of the units' area (or none of it):
    outside it everything counts as class 0, which reads as "safe"."""
    import geopandas as gpd
    from shapely.geometry import box
    if unit_gdfs:
        area, what = unit_gdfs[0].to_crs(wcrs).geometry.to_numpy(), ("统计单元", "the units")
    elif pop is not None:
        area = gpd.GeoSeries([box(*pop.src.bounds)], crs=pop.src.crs).to_crs(wcrs).to_numpy()
        what = ("人口栅格范围", "the population raster")
    else:
        return
    share = hz.covered_share(area, wcrs)
    if share is None or share >= D.COVERAGE_WARN:
        return
    if share <= 0:
        zh, en = f"危险性栅格与{what[0]}完全不重叠", f"the hazard raster does not overlap {what[1]} at all"
    else:
        zh, en = f"危险性栅格只覆盖{what[0]}面积的 {100 * share:.5g}%", f"the hazard raster covers only {100 * share:.5g} % of the area of {what[1]}"
    notices.warn(hz.label, f"{zh}: 范围外的人口和建筑都按 0 级 (无危险) 统计",
                 f"{en}: people and buildings outside it count as class 0 (no hazard)",
                 "确认危险性图层覆盖整个评估范围 (或有意只评估其中一部分), 检查各图层的坐标系",
                 "make sure the hazard layer covers the whole area assessed (or that a part was meant), and check each "
                 "layer's CRS")


def load_used_fields(specs, used):
    """Read and validate vector inputs, checking only the schema fields this run reads.

    Optional fields that are not used (a building's floors, say) are dropped from the in-memory copy
    first, so messy columns the run never reads cannot stop it. Returns ({key: GeoDataFrame},
    problems); keys not in ``used`` keep every field.
    """
    out, problems = {}, []
    for spec in specs:
        if not spec.source:
            out[spec.key] = None
            continue
        try:
            gdf = read_vector(spec.source)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        wanted = used.get(spec.key) if not spec.key.startswith("units") else None
        norm, probs = check_used_fields(gdf, spec, wanted)
        problems.extend(probs)
        out[spec.key] = norm
    return out, problems


def check_used_fields(gdf, spec, wanted):
    """Validate one layer against ``spec.kind`` for the fields in ``wanted`` (None: all fields)."""
    attrs = dict(gdf.attrs)
    if wanted is not None:
        drop = [find_field(gdf.columns, f, spec.field_map.get(f["name"]))
                for f in load_schema(spec.kind).get("fields", []) if f["name"] not in wanted and not f["required"]]
        drop = [c for c in drop if c and c != gdf.geometry.name]
        gdf = gdf.drop(columns=drop)
        gdf.attrs.update(attrs)
    label = spec.label or gdf.attrs.get("name", spec.key)
    norm, probs, _ = check_vector(gdf, spec.kind, label, spec.field_map, spec.repair)
    norm.attrs["source_columns"] = [c for c in gdf.columns if c != gdf.geometry.name]
    return norm, probs


def _looks_raster(source):
    """True for a raster file: by extension, else when OGR finds no vector layer and GDAL opens it
    as a raster (a GeoPackage may hold either)."""
    from .io import is_raster_file
    path = str(source).split("|")[0]
    if is_raster_file(path):
        return True
    try:
        import pyogrio
        if len(pyogrio.list_layers(path)):
            return False
    except Exception:  # noqa: BLE001 - not readable as vector: try raster
        pass
    try:
        import rasterio
        with rasterio.open(path):
            return True
    except Exception:  # noqa: BLE001 - neither: let the vector reader report the problem
        return False


# --------------------------------------------------------------------------------------------------
# counting
# --------------------------------------------------------------------------------------------------
def assign_units(points, unit_geoms, tree=None):
    """1 + index of the unit holding each point (0 = none); a point on a shared edge goes to the
    first unit, so it counts once."""
    points = np.asarray(points, dtype=object)
    out = np.zeros(len(points), np.int64)
    if not len(points) or not len(unit_geoms):
        return out
    tree = tree or shapely.STRtree(unit_geoms)
    pi, ui = tree.query(points, predicate="intersects")
    if len(pi):
        order = np.lexsort((ui, pi))
        pi, ui = pi[order], ui[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        out[pi[first]] = ui[first] + 1
    return out


def feature_classes(geoms, hazard, crs, rule):
    """Hazard class of each building / facility by ``rule`` ('centroid' or 'max_touched')."""
    if hazard is None:
        return np.zeros(len(geoms), np.uint8)
    geoms = np.asarray(geoms, dtype=object)
    if rule == "max_touched":
        return hazard.max_touched(geoms, crs)
    return hazard.classes_at_points(shapely.centroid(geoms), crs)


@dataclass
class LevelCounts:
    """Counts for one level: arrays (n_units + 1, N_CLASSES), row 0 = outside every unit."""
    units: object                  # GeoDataFrame (work CRS) with name, code, parent_code
    label: str
    people: Optional[np.ndarray]
    buildings: Optional[np.ndarray]
    residents: Optional[np.ndarray]
    facilities: Optional[dict]     # type -> array
    area: Optional[np.ndarray] = None
    extra_mean: Optional[np.ndarray] = None


@dataclass
class ExposureCounts:
    levels: List[LevelCounts]
    raster_total: float
    building_classes: Optional[np.ndarray]
    facility_classes: Optional[np.ndarray]
    subdivision: int
    work_crs: object


def count_exposure(inp, cell_rule=D.CELL_RULE, building_rule=D.BUILDING_RULE, max_cell_m=None,
                   need_area=False, extra=None, progress=None):
    """People, buildings and facilities per unit × hazard class for every level of ``inp``."""
    progress = ensure(progress)
    check_choice("CELL_RULE", cell_rule, D.CELL_RULES)
    check_choice("BUILDING_RULE", building_rule, D.BUILDING_RULES)
    wcrs = inp.work_crs
    units_w = [to_working(u, wcrs) for u in inp.units]
    labels = list(inp.unit_labels)
    if not units_w:
        units_w = [_whole_area(inp, wcrs)]
        labels = ["全部 / all"]
    pop_arrays, area_arrays, extra_means, total, k = [None] * len(units_w), [None] * len(units_w), [None] * len(units_w), 0.0, 1
    if inp.pop is not None:
        levels = [u.to_crs(inp.pop.crs).geometry.values for u in units_w]
        extra_src = None
        if extra is not None:
            from .io import open_raster
            extra_src = open_raster(extra)
        try:
            z = population_by_unit(inp.pop, levels, inp.hazard, cell_rule, max_cell_m, need_area,
                                   extra_src, progress.sub(0, 80))
        finally:
            if extra_src is not None:
                extra_src.close()
        pop_arrays, area_arrays, total, k = z.people, z.area, z.raster_total, z.subdivision
        if extra is not None:
            extra_means = [np.where(a > 0, s / np.where(a > 0, a, 1), np.nan) for s, a in zip(z.extra_sum, z.extra_area)]
    progress.set(80)
    bcls = fcls = None
    trees = [shapely.STRtree(u.geometry.values) for u in units_w]
    bld = res = fac = None
    if inp.buildings is not None:
        bcls, bld, res = count_buildings(inp.buildings, units_w, trees, inp.hazard, wcrs, building_rule)
    progress.set(90)
    if inp.facilities is not None:
        fcls, fac = count_facilities(inp.facilities, units_w, trees, inp.hazard, wcrs, building_rule)
    progress.set(100)
    out = []
    for i, u in enumerate(units_w):
        out.append(LevelCounts(u, labels[i], pop_arrays[i], bld[i] if bld else None, res[i] if res else None,
                               fac[i] if fac else None, area_arrays[i], extra_means[i]))
    return ExposureCounts(out, total, bcls, fcls, k, wcrs)


def count_buildings(buildings, units_w, trees, hazard, wcrs, rule):
    """(class of each building, [buildings per unit × class], [residents per unit × class, or None]) for
    every level (arrays (n_units + 1, N_CLASSES), row 0 = outside every unit)."""
    b = to_working(buildings, wcrs)
    geoms = b.geometry.values
    bcls = feature_classes(geoms, hazard, wcrs, rule).astype(np.int64)
    cent = shapely.centroid(np.asarray(geoms, dtype=object))
    residents = b["residents"].fillna(0).to_numpy(float) if "residents" in b.columns else None
    bld, res = [], []
    for u, tree in zip(units_w, trees):
        key = assign_units(cent, u.geometry.values, tree) * N_CLASSES + bcls
        size = (len(u) + 1) * N_CLASSES
        bld.append(np.bincount(key, minlength=size).reshape(-1, N_CLASSES).astype(float))
        res.append(np.bincount(key, weights=residents, minlength=size).reshape(-1, N_CLASSES)
                   if residents is not None else None)
    return bcls, bld, res


def count_facilities(facilities, units_w, trees, hazard, wcrs, rule):
    """(class of each facility, [{facility type: facilities per unit × class}]) for every level."""
    f = to_working(facilities, wcrs)
    fcls = feature_classes(f.geometry.values, hazard, wcrs, rule).astype(np.int64)
    cent = shapely.centroid(np.asarray(f.geometry.values, dtype=object))
    ftype = f["facility_type"].to_numpy()
    fac = []
    for u, tree in zip(units_w, trees):
        key = assign_units(cent, u.geometry.values, tree) * N_CLASSES + fcls
        size = (len(u) + 1) * N_CLASSES
        fac.append({t: np.bincount(key[ftype == t], minlength=size).reshape(-1, N_CLASSES).astype(float)
                    for t in D.FACILITY_TYPES})
    return fcls, fac


def _whole_area(inp, wcrs):
    """One unit covering every input, for runs without UNITS."""
    import geopandas as gpd
    from pyproj import Transformer
    boxes = []
    for g in (inp.buildings, inp.facilities):
        if g is not None:
            boxes.append(shapely.box(*to_working(g, wcrs).total_bounds))
    for src in ([inp.pop.src] if inp.pop else []) + ([inp.hazard._src] if inp.hazard is not None and inp.hazard.is_raster else []):
        b = src.bounds
        xs, ys = Transformer.from_crs(src.crs, wcrs, always_xy=True).transform(
            np.linspace(b.left, b.right, 21).repeat(21), np.tile(np.linspace(b.bottom, b.top, 21), 21))
        boxes.append(shapely.box(np.min(xs), np.min(ys), np.max(xs), np.max(ys)))
    if inp.hazard is not None and not inp.hazard.is_raster:
        boxes.append(shapely.box(*shapely.total_bounds(inp.hazard.polygons(wcrs)[0])))
    box = shapely.envelope(shapely.union_all(boxes)).buffer(1.0, join_style="mitre")
    return gpd.GeoDataFrame({"name": ["全部"], "code": [""], "parent_code": [None]}, geometry=[box], crs=wcrs)


# --------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------
def _class_zh():
    return {int(c["value"]): c["zh"] for c in class_tables.class_table("hazard_classes")["classes"]}


def stat_columns(prefix, zh, en):
    """[(column, bilingual header)] for a quantity: total, per class 0..4, exposed (class ≥ 1)."""
    czh = _class_zh()
    cols = [(f"{prefix}_total", f"{zh}合计 {en} total")]
    cols += [(f"{prefix}_c{c}", f"{zh}({czh.get(c, c)}) {en} class {c}") for c in range(N_CLASSES)]
    cols.append((f"{prefix}_exposed", f"{zh}(受威胁, 等级≥{D.EXPOSED_FROM}) {en} exposed"))
    return cols


def _stat_frame(arr, prefix):
    data = {f"{prefix}_total": arr.sum(axis=1)}
    for c in range(N_CLASSES):
        data[f"{prefix}_c{c}"] = arr[:, c]
    data[f"{prefix}_exposed"] = arr[:, D.EXPOSED_FROM:].sum(axis=1)
    return pd.DataFrame(data)


BASE_HEADERS = [("level", "层级 level"), ("level_name", "层名 level name"), ("code", "代码 code"),
                ("name", "名称 name"), ("parent_code", "上级代码 parent code")]


def level_frame(lc, level_no):
    """One row per unit (row 0 = outside every unit) with all counts; columns in English."""
    u = lc.units
    n = len(u) + 1
    def texts(col):
        vals = u[col] if col in u.columns else pd.Series([None] * len(u))
        return [str(v) if v is not None and v == v else "" for v in vals]

    base = pd.DataFrame({"level": level_no, "level_name": lc.label, "code": [OUTSIDE_EN] + texts("code"),
                         "name": [OUTSIDE_ZH] + texts("name"), "parent_code": [""] + texts("parent_code")})
    parts, headers = [base], list(BASE_HEADERS)
    if lc.people is not None:
        parts.append(_stat_frame(lc.people, "pop").round(3))
        headers += stat_columns("pop", "人口", "people")
    if lc.buildings is not None:
        parts.append(_stat_frame(lc.buildings, "bld").astype(np.int64))
        headers += stat_columns("bld", "建筑", "buildings")
        if lc.residents is not None:
            parts.append(_stat_frame(lc.residents, "res").round(3))
            headers += stat_columns("res", "建筑居住人数", "residents")
    if lc.facilities is not None:
        allf = sum(lc.facilities.values())
        parts.append(_stat_frame(allf, "fac").astype(np.int64))
        headers += stat_columns("fac", "重点设施", "facilities")
        for t in D.FACILITY_TYPES:
            zh, en = D.FACILITY_LABELS[t]
            arr = lc.facilities[t]
            parts.append(pd.DataFrame({f"fac_{t}_total": arr.sum(axis=1).astype(np.int64),
                                       f"fac_{t}_exposed": arr[:, D.EXPOSED_FROM:].sum(axis=1).astype(np.int64)}))
            headers += [(f"fac_{t}_total", f"{zh}合计 {en} total"), (f"fac_{t}_exposed", f"{zh}(受威胁) {en} exposed")]
    df = pd.concat(parts, axis=1)
    assert len(df) == n
    return df, dict(headers)


def exposure_frames(counts):
    """[(DataFrame, headers)] per level."""
    return [level_frame(lc, i + 1) for i, lc in enumerate(counts.levels)]


def summary_numbers(counts):
    """The numeric outputs, counted over the first level's units (the whole area without UNITS)."""
    lc = counts.levels[0]
    out = {}
    if lc.people is not None:
        out["POPULATION_RASTER_TOTAL"] = float(counts.raster_total)
        out["POPULATION_TOTAL"] = float(lc.people[1:].sum())
        out["POPULATION_EXPOSED"] = float(lc.people[1:, D.EXPOSED_FROM:].sum())
    if lc.buildings is not None:
        out["BUILDINGS_TOTAL"] = int(lc.buildings[1:].sum())
        out["BUILDINGS_EXPOSED"] = int(lc.buildings[1:, D.EXPOSED_FROM:].sum())
    if lc.facilities is not None:
        allf = sum(lc.facilities.values())
        out["FACILITIES_EXPOSED"] = int(allf[1:, D.EXPOSED_FROM:].sum())
    return out


def write_exposure_table(frames, path):
    """CSV (all levels, one header row '中文 English') or XLSX (one sheet per level)."""
    if str(path).lower().endswith(".xlsx"):
        sheets = {}
        for df, headers in frames:
            name = f"{int(df['level'].iloc[0])}_{df['level_name'].iloc[0]}"
            name = "".join(ch for ch in name if ch not in '[]:*?/\\')[:31]
            sheets[name] = df.rename(columns=headers)
        return write_sheets(sheets, path)
    headers = {}
    for _, h in frames:
        headers.update(h)
    return write_table(pd.concat([df for df, _ in frames], ignore_index=True).rename(columns=headers), path)


def write_exposure_units(counts, frames, path, crs):
    """All levels in one polygon layer (field 'level'), in ``crs``; the outside rows are left out."""
    import geopandas as gpd
    parts = []
    for lc, (df, _) in zip(counts.levels, frames):
        g = gpd.GeoDataFrame(df.iloc[1:].reset_index(drop=True), geometry=list(lc.units.geometry.values), crs=lc.units.crs)
        parts.append(g.to_crs(crs))
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs)
    return write_vector(out, path)


def run_exposure(hazard=None, hazard_field=None, hazard_mapping=None, population=None,
                 population_unit=D.POPULATION_UNIT, buildings=None, residents_field=None, facilities=None,
                 facility_type_field=None, facility_name_field=None, units=(), cell_rule=D.CELL_RULE,
                 building_rule=D.BUILDING_RULE, max_cell_m=None, output_units=None, output_table=None,
                 output_crs=None, work_crs=None, repair=False, progress=None):
    """Validate, count, write ``output_units`` (GPKG) and ``output_table`` (CSV/XLSX); return the
    numeric outputs (POPULATION_TOTAL, POPULATION_EXPOSED, BUILDINGS_TOTAL, BUILDINGS_EXPOSED, …)."""
    progress = ensure(progress)
    check_choice("CELL_RULE", cell_rule, D.CELL_RULES)
    check_choice("BUILDING_RULE", building_rule, D.BUILDING_RULES)
    inp = load_inputs(hazard, hazard_field, hazard_mapping, population, population_unit, buildings, residents_field,
                      facilities, facility_type_field, facility_name_field, units, work_crs, repair=repair)
    try:
        progress.info(f"工作坐标系 / working CRS: {inp.work_crs.name}")
        counts = count_exposure(inp, cell_rule, building_rule, max_cell_m, progress=progress.sub(0, 90))
    finally:
        inp.close()
    if counts.subdivision > 1:
        progress.info(f"人口栅格每格细分为 {counts.subdivision}×{counts.subdivision} 子格 / population cells split into "
                      f"{counts.subdivision}×{counts.subdivision} sub-cells to match the hazard grid")
    frames = exposure_frames(counts)
    result = summary_numbers(counts)
    out_crs = output_crs or (inp.units[0].crs if inp.units else counts.work_crs)
    progress.check()
    if output_units:
        write_exposure_units(counts, frames, output_units, out_crs)
    if output_table:
        write_exposure_table(frames, output_table)
    progress.set(100)
    result["frames"] = frames
    result["counts"] = counts
    return result
