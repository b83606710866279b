"""Earthquake impact: damage-state probabilities per building, expected collapsed and damaged buildings,
deaths, injuries and displaced people per village and township (building method), the PAGER empirical
fatality estimate beside it, the earthquake risk zoning (4 classes) and the retrofit (加固) priorities.

>>> r = earthquake_impact(buildings="county/buildings.gpkg", hazard="county/seismic_zoning.gpkg",
...                       units=[UnitSpec("townships.gpkg"), UnitSpec("villages.gpkg")],
...                       output_units="eq_units.gpkg", output_zoning="eq_zoning.gpkg",
...                       output_retrofit="retrofit.xlsx")
>>> r["DEATHS"], r["DEATHS_PAGER"], r["retrofit"].head()

Per building: intensity at the centroid (hazard raster, zoning polygon or scenario) → degree (ROUNDING)
→ the damage-probability row of its structure type and fortification level (VULNERABILITY_TABLE or
the default matrices) → expected casualties with the Hazus rates per damage state × occupants
(residents × OCCUPANCY of the time of day). Everything is array arithmetic over all buildings at once;
per unit sums are np.bincount over the unit of each centroid.
"""
import re

import numpy as np
import pandas as pd
import shapely

from ..crs import to_working, working_crs
from ..definitions import seismic as D
from ..errors import InputError, Problem, ValidationError, parameter_error
from ..exposure import assign_units, check_used_fields
from ..inputs import RasterInput, VectorInput, check_rasters
from ..io import layer_name, read_vector, write_sheets, write_table, write_vector
from ..progress import ensure
from .casualty import RateTable, building_casualties, pager_rates
from .field import Conversion, open_hazard
from .intensity import degree, roman
from .units import load_units, unit_labels_block
from .vulnerability import (Matrices, fortification_index, parse_fortification, parse_storeys, parse_year,
                            resolve_fortification)

STATES = D.DAMAGE_STATES
BUILDING_FIELDS = ("structure", "residents", "households", "floors", "year", "fortification")
BLANK_KEYS = ("空", "(空)", "blank", "(blank)", "empty", "null")     # STRUCTURE_MAP key for an empty structure value


def _choice(name, value, allowed):
    if value not in allowed:
        raise parameter_error(name, f"取值 {value!r} 无效", f"invalid value {value!r}", f"可选: {list(allowed)}",
                              f"choose one of {list(allowed)}")
    return value


def risk_classes(deaths, residents, max_degree, breaks=D.RISK_BREAKS, per=D.RISK_PER):
    """Earthquake risk class 0..4 per unit from the expected deaths per ``per`` residents; 0 where
    nobody lives or no building reaches intensity VI."""
    deaths, residents = np.asarray(deaths, float), np.asarray(residents, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(residents > 0, deaths / np.where(residents > 0, residents, 1) * per, 0.0)
    cls = 1 + np.searchsorted(np.asarray(breaks, float), rate, side="right")
    none = (residents <= 0) | ~(np.nan_to_num(np.asarray(max_degree, float), nan=0) >= min(D.DPM_INTENSITIES))
    return np.where(none, 0, cls).astype(np.int64), rate


def check_params(rounding, time_of_day, occupancy, code_year, design_fortification, retrofit_fortification,
                 risk_breaks, theta, beta):
    from .. import paramtext
    _choice("ROUNDING", rounding, D.ROUNDINGS)
    _choice("TIME", time_of_day, D.TIMES)
    occ = D.OCCUPANCY[time_of_day] if occupancy in (None, 0, "") else float(occupancy)
    if not 0 < occ <= 1:
        raise parameter_error("OCCUPANCY", "在室率应在 (0, 1] 内", "occupancy must be in (0, 1]", "例如 0.99 (夜间)", "e.g. 0.99 (night)")
    for name, v in (("DESIGN_FORTIFICATION", design_fortification), ("RETROFIT_FORTIFICATION", retrofit_fortification)):
        if int(v) not in D.FORTIFICATIONS:
            raise parameter_error(name, f"{v} 不是 0 或 6..9", f"{v} is not 0 or 6..9", "填写 6、7、8 或 9", "give 6, 7, 8 or 9")
    if not 1900 <= int(code_year) <= 2100:
        raise parameter_error("CODE_YEAR", f"年份 {code_year} 不合理", f"year {code_year} is not plausible", "例如 1990", "e.g. 1990")
    breaks = paramtext.numbers(risk_breaks, "RISK_BREAKS", count=3, ascending=True, minimum=0) \
        if risk_breaks not in (None, "") else D.RISK_BREAKS
    if not (theta > 0 and beta > 0):
        raise parameter_error("PAGER_THETA / PAGER_BETA", "θ 和 β 应大于 0", "θ and β must be > 0",
                              f"中国: θ={D.PAGER_THETA}, β={D.PAGER_BETA}", f"China: θ={D.PAGER_THETA}, β={D.PAGER_BETA}")
    return occ, tuple(float(b) for b in breaks)


def load_buildings(buildings, field_map, repair, structure_map=None):
    """Read and check the buildings against data_schemas/seismic_buildings.json; returns (gdf, problems).
    ``structure_map`` ({'unreinforced_masonry': 'brick_wood', …}) maps the layer's own structure values onto the
    schema's before they are checked; storey ranges ('4-7', '10+') are read by :func:`parse_storeys`."""
    if not buildings:
        return None, []
    try:
        gdf = read_vector(buildings)
    except InputError as exc:
        return None, exc.problems
    gdf = _read_survey_values(gdf, field_map, structure_map or {}, layer_name(buildings))
    spec = VectorInput("buildings", buildings, "seismic_buildings", {k: v for k, v in field_map.items() if v},
                       repair=repair, label=layer_name(buildings))
    norm, problems = check_used_fields(gdf, spec, set(BUILDING_FIELDS))
    if problems:
        return None, problems
    label = spec.label
    fort, fbad = parse_fortification(norm["fortification"] if "fortification" in norm.columns else [None] * len(norm))
    if fbad.any():
        problems.append(Problem(label, "抗震设防烈度无法识别 (应为 未设防/0、6、7、8、9 或 7度、Ⅶ)",
                                "fortification levels cannot be read (write 未设防/0, 6, 7, 8, 9, or 7度, Ⅶ)",
                                "改正这些值或清空 (按建造年代推定)", "correct them, or leave them blank (then the year decides)",
                                field=field_map.get("fortification") or "fortification", features=list(norm.index[fbad])))
    years, ybad = parse_year(norm["year"] if "year" in norm.columns else [None] * len(norm))
    if ybad.any():
        problems.append(Problem(label, "建造年代无法识别 (应如 1995、1981-1990、1980年及以前)",
                                "construction years cannot be read (write 1995, 1981-1990, 1980年及以前)",
                                "改正这些值", "correct these values", field=field_map.get("year") or "year",
                                features=list(norm.index[ybad])))
    res = norm["residents"].to_numpy(float) if "residents" in norm.columns else np.full(len(norm), np.nan)
    hh = norm["households"].to_numpy(float) if "households" in norm.columns else np.full(len(norm), np.nan)
    if "residents" not in norm.columns and "households" not in norm.columns:
        problems.append(Problem(label, "缺少居住人数 (或户数) 字段, 无法估计伤亡", "no residents (or households) field: casualties cannot be estimated",
                                "在 RESIDENTS_FIELD 中指定字段 (如 居住人数、常住人口)", "name it in RESIDENTS_FIELD (e.g. 居住人数, 常住人口)",
                                field=field_map.get("residents") or "residents"))
    norm["_fort"] = fort
    norm["_year"] = years
    norm["_residents"] = np.where(np.isnan(res), np.nan_to_num(hh, nan=0.0) * D.PERSONS_PER_HOUSEHOLD, res)
    norm.attrs["name"] = label
    return norm, problems


def parse_structure_map(text):
    """{layer value (lower case): schema class} from 'unreinforced_masonry=brick_wood; 框架=rc'. A class is one of
    the five types or any value the schema maps onto one (砖混, 钢筋混凝土 …)."""
    from ..validation import load_schema
    spec = next(f for f in load_schema("seismic_buildings")["fields"] if f["name"] == "structure")
    known = {str(k).strip().lower(): v for k, v in spec["allowed"].items()}
    out = {}
    for chunk in [c for c in re.split(r"[;；,，\n]", str(text or "")) if c.strip()]:
        parts = re.split(r"[=:：]|->|→", chunk, maxsplit=1)
        if len(parts) != 2 or not parts[0].strip() or parts[1].strip().lower() not in known:
            raise parameter_error("STRUCTURE_MAP", f"'{chunk.strip()}' 应写成 原值=结构类型 (钢混/框架 rc, 砖混 brick_concrete, "
                                  "砖木 brick_wood, 土木/土坯 earth_wood, 其他 other)",
                                  f"'{chunk.strip()}' must be written value=type (rc, brick_concrete, brick_wood, earth_wood, other)",
                                  "例如 unreinforced_masonry=brick_wood; confined_masonry=brick_concrete",
                                  "e.g. unreinforced_masonry=brick_wood; confined_masonry=brick_concrete")
        out[parts[0].strip().lower()] = known[parts[1].strip().lower()]
    return out


def _read_survey_values(gdf, field_map, structure_map, label):
    """A copy of ``gdf`` with STRUCTURE_MAP applied and storey ranges read as numbers; each said in the log."""
    from .. import notices
    from ..validation import find_field, load_schema
    specs = {f["name"]: f for f in load_schema("seismic_buildings")["fields"]}
    gdf = gdf.copy()
    col = find_field(gdf.columns, specs["structure"], field_map.get("structure"))
    if structure_map and col is not None:
        key = gdf[col].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip().lower())
        blank = next((structure_map[k] for k in BLANK_KEYS if k in structure_map), None)
        if blank is not None:
            key = key.where(key.notna() & (key != ""), BLANK_KEYS[0])
            structure_map = {**structure_map, BLANK_KEYS[0]: blank}
        hit = key.isin(list(structure_map))
        if hit.any():
            gdf[col] = gdf[col].astype(object).where(~hit, key[hit].map(structure_map))
            notices.warn(label, f"STRUCTURE_MAP: {int(hit.sum())} 栋建筑的结构类型按映射改写",
                         f"STRUCTURE_MAP: the structure type of {int(hit.sum())} buildings was mapped")
    col = find_field(gdf.columns, specs["floors"], field_map.get("floors"))
    if col is not None and gdf[col].dtype == object:
        gdf[col], n = parse_storeys(gdf[col])
        if n:
            notices.warn(label, f"层数: {n} 个文字值按区间读取 (4-7 → 5.5, 10+ → 10, >7 → 8)",
                         f"storeys: {n} text values read as ranges (4-7 → 5.5, 10+ → 10, >7 → 8)")
    return gdf


def earthquake_impact(buildings=None, hazard=None, conv=None, pga_field=None, intensity_field=None, period_field=None,
                      epicentre=None, magnitude=None, depth=None, attenuation_key=D.ATTENUATION_DEFAULT, strike=None,
                      faults=None, units=(), population=None, field_map=None, vulnerability_table=None,
                      fatality_rates=None, rounding=D.ROUNDING, time_of_day=D.TIME, occupancy=None,
                      code_year=D.CODE_YEAR, design_fortification=D.DESIGN_FORTIFICATION,
                      retrofit_fortification=D.RETROFIT_FORTIFICATION, risk_breaks=D.RISK_BREAKS,
                      pager_theta=D.PAGER_THETA, pager_beta=D.PAGER_BETA, output_buildings=None, output_units=None,
                      output_zoning=None, output_table=None, output_retrofit=None, output_crs=None, work_crs=None,
                      repair=False, structure_map=None, progress=None):
    """Validate, compute, write; return the numeric outputs (BUILDINGS, DEATHS, DEATHS_PAGER …) plus
    'frames' (per-level tables), 'retrofit' (DataFrame), 'buildings' (per-building results)."""
    progress = ensure(progress)
    occ, breaks = check_params(rounding, time_of_day, occupancy, code_year, design_fortification,
                               retrofit_fortification, risk_breaks, pager_theta, pager_beta)
    if not buildings and not population:
        raise parameter_error("BUILDINGS / POPULATION", "至少需要建筑物 (结构类型法) 或人口栅格 (PAGER 法) 之一",
                              "give buildings (structure method) or a population raster (PAGER method), or both",
                              "选择 BUILDINGS", "choose BUILDINGS")
    field_map = dict(field_map or {})
    # every input is checked before any work; the problems of all layers are reported together
    problems, src = [], None
    try:
        src = open_hazard(hazard, conv or Conversion(), pga_field, intensity_field, period_field, epicentre, magnitude,
                          depth, attenuation_key, strike, faults, repair)
    except InputError as exc:
        problems.extend(exc.problems)
    bgdf, bprobs = load_buildings(buildings, field_map, repair,
                                   parse_structure_map(structure_map) if isinstance(structure_map, str) else structure_map)
    problems.extend(bprobs)
    try:
        level_gdfs, labels = load_units(units, repair)
    except InputError as exc:
        problems.extend(exc.problems)
        level_gdfs, labels = [], []
    if population:
        try:
            check_rasters([RasterInput("population", population, "population", label=f"POPULATION {layer_name(population)}")])
        except InputError as exc:
            problems.extend(exc.problems)
    matrices = None
    try:
        matrices = Matrices.from_csv(vulnerability_table) if vulnerability_table else Matrices.default()
    except InputError as exc:
        problems.extend(exc.problems)
    rate_table = None
    try:
        rate_table = RateTable.from_csv(fatality_rates) if fatality_rates else None
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ValidationError(problems)
    for note in src.notes:
        progress.info(note)
    progress.set(10)

    ref = bgdf if bgdf is not None else (level_gdfs[0] if level_gdfs else None)
    if ref is not None:
        wcrs = working_crs(ref.crs, ref.total_bounds, work_crs)
    else:
        import rasterio
        with rasterio.open(population) as r:
            wcrs = working_crs(r.crs, tuple(r.bounds), work_crs)
    units_w = [to_working(g, wcrs) for g in level_gdfs]
    trees = [shapely.STRtree(g.geometry.to_numpy()) for g in units_w]
    result = {"work_crs": wcrs.to_string(), "hazard_kind": src.kind, "measure": src.measure,
              "vulnerability_source": matrices.source}
    per_unit = [dict() for _ in units_w]
    b = None
    if bgdf is not None:
        b = _buildings(bgdf, src, wcrs, units_w, trees, matrices, rate_table, rounding, occ, code_year,
                       design_fortification, retrofit_fortification, pager_theta, pager_beta, per_unit, progress)
        result.update(b["numbers"])
        result["building_table"] = b["gdf"]
    progress.set(70)
    if population:
        pop = _population(population, src, units_w, rate_table, rounding, pager_theta, pager_beta, per_unit)
        result.update(pop["numbers"])
    elif b is not None:
        result["DEATHS_PAGER"] = b["numbers"]["DEATHS_PAGER_RESIDENTS"]
    progress.set(80)

    frames = [_unit_frame(g, lab, i + 1, per_unit[i], breaks, bool(b is not None))
              for i, (g, lab) in enumerate(zip(units_w, labels))]
    retro = _retrofit_table(b, units_w, labels) if b is not None else None
    result["frames"] = frames
    result["retrofit"] = retro
    result["matrices"] = matrices.table
    if frames:
        finest = int(np.argmax([len(g) for g in units_w]))
        fz = frames[finest]
        for k in range(0, 5):
            result[f"UNITS_RISK_{k}"] = int((fz["eq_risk_class"] == k).sum())
    if retro is not None and len(retro):
        result["DEATHS_SAVED_TOP"] = float(retro["deaths_saved"].iloc[0])
        result["DEATHS_SAVED_ALL"] = float(b["saved"].sum())
    progress.check()            # the last cancel point: past it every output is written

    out_crs = output_crs or (level_gdfs[0].crs if level_gdfs else (bgdf.crs if bgdf is not None else wcrs))
    if output_buildings and b is not None:
        result["output_buildings"] = write_vector(b["gdf"].to_crs(out_crs), output_buildings)
    if output_units and frames:
        import geopandas as gpd
        parts = [gpd.GeoDataFrame(f, geometry=g.geometry.to_numpy(), crs=g.crs).to_crs(out_crs)
                 for f, g in zip(frames, units_w)]
        result["output_units"] = write_vector(gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=out_crs), output_units)
    if output_zoning and frames:
        import geopandas as gpd
        finest = int(np.argmax([len(g) for g in units_w]))
        z = frames[finest]
        cols = [c for c in ("code", "name", "parent_code", "level_name", "people", "buildings", "deaths", "death_rate_10k",
                            "eq_risk_class", "eq_risk_zh", "eq_risk_en", "degree_max", "degree_roman") if c in z.columns]
        zon = gpd.GeoDataFrame(z[cols], geometry=units_w[finest].geometry.to_numpy(), crs=wcrs).to_crs(out_crs)
        result["output_zoning"] = write_vector(zon, output_zoning)
    if output_table and (frames or retro is not None):
        result["output_table"] = _write_tables(frames, retro, matrices.table, output_table)
    if output_retrofit and retro is not None:
        result["output_retrofit"] = _write_retrofit(retro, output_retrofit)
    return result


def _buildings(bgdf, src, wcrs, units_w, trees, matrices, rate_table, rounding, occ, code_year, design, retrofit,
               theta, beta, per_unit, progress):
    label = bgdf.attrs.get("name", "buildings")
    bw = to_working(bgdf, wcrs)
    cent = shapely.centroid(np.asarray(bw.geometry.to_numpy(), dtype=object))
    x, y = shapely.get_x(cent), shapely.get_y(cent)
    inten, pga = src.at_points(x, y, wcrs)
    progress.set(40)
    outside = ~np.isfinite(inten)
    if outside.all():
        raise InputError(Problem(src.label, f"地震危险性图层不覆盖任何建筑 ({label})",
                                 f"the seismic hazard does not cover any building of {label}",
                                 "检查两个图层的范围和坐标系", "check the extent and CRS of both layers"))
    if outside.any():
        progress.info(f"{int(outside.sum())} 栋建筑在危险性图层范围外, 按无破坏计 / {int(outside.sum())} buildings lie "
                      "outside the hazard layer: counted as undamaged (BUILDINGS_OUTSIDE_HAZARD)")
    t_idx = bw["structure"].map({s: i for i, s in enumerate(D.STRUCTURES)}).to_numpy(np.int64)
    years = bw["_year"].to_numpy(float)
    fort = resolve_fortification(bw["_fort"].to_numpy(float), years, t_idx, code_year, design)
    f_idx = fortification_index(fort)
    missing = matrices.missing(t_idx, f_idx)
    if missing:
        raise InputError(Problem(f"VULNERABILITY_TABLE {matrices.source}",
                                 f"易损性矩阵缺少这些 结构类型×设防烈度 (需 Ⅵ..Ⅹ 各一行): {missing[:10]}",
                                 f"the vulnerability table lacks these structure × fortification pairs (one row per VI..X each): {missing[:10]}",
                                 "补全这些行, 或不填 VULNERABILITY_TABLE 使用默认矩阵", "add the rows, or leave VULNERABILITY_TABLE empty for the default matrices"))
    floors = bw["floors"].to_numpy(float) if "floors" in bw.columns else np.full(len(bw), np.nan)
    residents = np.nan_to_num(bw["_residents"].to_numpy(float), nan=0.0)
    occupants = residents * occ
    p = matrices.probabilities(t_idx, f_idx, inten, rounding)
    cas = building_casualties(p, occupants, residents, t_idx, floors)
    rf = np.maximum(fort, retrofit)
    p_r = matrices.probabilities(t_idx, fortification_index(rf), inten, rounding)
    saved = cas["deaths"] - building_casualties(p_r, occupants, residents, t_idx, floors)["deaths"]
    rates = rate_table.rates(inten, rounding) if rate_table is not None else pager_rates(inten, theta, beta, rounding)
    pager = residents * rates
    deg = degree(inten, "floor" if rounding == "interpolate" else rounding)
    progress.set(60)

    # per unit: bincount over the unit of each centroid (row 0 = outside every unit)
    unit_of = []
    for u, tree, acc in zip(units_w, trees, per_unit):
        k = assign_units(cent, u.geometry.to_numpy(), tree)
        unit_of.append(k)
        size = len(u) + 1

        def s(w):
            return np.bincount(k, weights=w, minlength=size)
        acc["buildings"] = np.bincount(k, minlength=size).astype(float)
        acc["residents"] = s(residents)
        acc["occupants"] = s(occupants)
        for j, st in enumerate(STATES):
            acc[f"bld_{st}"] = s(p[:, j])
        acc["bld_damaged"] = s(1.0 - p[:, 0])
        for key in ("deaths", "injured", "injured_serious", "displaced"):
            acc[key] = s(cas[key])
        acc["deaths_pager"] = s(pager)
        acc["deaths_saved"] = s(saved)
        acc["outside_hazard"] = s(outside.astype(float))
        dmax = np.full(size, -np.inf)
        ok = np.isfinite(deg)
        np.maximum.at(dmax, k[ok], deg[ok])
        acc["degree_max"] = np.where(np.isfinite(dmax), dmax, np.nan)
        imax = np.full(size, -np.inf)
        np.maximum.at(imax, k[ok], inten[ok])
        acc["intensity_max"] = np.where(np.isfinite(imax), imax, np.nan)
        wsum = s(np.where(ok, residents, 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            acc["intensity_mean"] = np.where(wsum > 0, s(np.where(ok, inten * residents, 0.0)) / np.where(wsum > 0, wsum, 1), np.nan)
        for j, name in enumerate(D.STRUCTURES):
            acc[f"n_{name}"] = s((t_idx == j).astype(float))

    src_cols = [c for c in bgdf.attrs.get("source_columns", []) if c in bgdf.columns and not c.startswith("_")]
    out = bgdf[src_cols + [bgdf.geometry.name]].copy()
    new = {"eq_structure": np.asarray(D.STRUCTURES, dtype=object)[t_idx],
           "eq_structure_zh": np.asarray([D.STRUCTURE_LABELS[s][0] for s in D.STRUCTURES], dtype=object)[t_idx],
           "eq_fortification": fort, "eq_residents": residents, "intensity": np.round(inten, 3), "eq_degree": deg}
    if pga is not None:
        new["pga_g"] = np.round(pga, 4)
    for j, st in enumerate(STATES):
        new[f"p_{st}"] = np.round(p[:, j], 6)
    new.update({"deaths": cas["deaths"], "injured": cas["injured"], "injured_serious": cas["injured_serious"],
                "displaced": cas["displaced"], "deaths_pager": pager, "deaths_saved": saved})
    if units_w:
        finest = int(np.argmax([len(u) for u in units_w]))
        codes = units_w[finest]["code"].to_numpy() if "code" in units_w[finest].columns else units_w[finest]["name"].to_numpy()
        k = unit_of[finest]
        new["unit_code"] = np.where(k > 0, np.asarray(codes, dtype=object)[np.maximum(k - 1, 0)], None)
    for col, val in new.items():
        out[col] = val
    n = len(bgdf)
    numbers = {"BUILDINGS": int(n), "RESIDENTS": float(residents.sum()), "BUILDINGS_OUTSIDE_HAZARD": int(outside.sum()),
               "BUILDINGS_COLLAPSE": float(p[:, 4].sum()), "BUILDINGS_EXTENSIVE": float(p[:, 3].sum()),
               "BUILDINGS_MODERATE": float(p[:, 2].sum()), "BUILDINGS_DAMAGED": float((1 - p[:, 0]).sum()),
               "DEATHS": float(cas["deaths"].sum()), "INJURED": float(cas["injured"].sum()),
               "INJURED_SERIOUS": float(cas["injured_serious"].sum()), "DISPLACED": float(cas["displaced"].sum()),
               "DEATHS_PAGER_RESIDENTS": float(pager.sum()),
               "MAX_INTENSITY": float(np.nanmax(inten)) if np.isfinite(inten).any() else None}
    return {"gdf": out, "numbers": numbers, "t_idx": t_idx, "fort": fort, "deaths": cas["deaths"], "saved": saved,
            "residents": residents, "unit_of": unit_of, "inten": inten, "retrofit_level": retrofit}


def _population(path, src, units_w, rate_table, rounding, theta, beta, per_unit):
    """PAGER on a population raster: intensity at every cell centre × people × rate; per unit by the
    cell centre (units rasterised on the population grid)."""
    import rasterio
    from pyproj import CRS
    from .. import classgrid
    from ..io import split_source
    deaths_total, people_total = 0.0, 0.0
    by_degree = {}
    with rasterio.open(split_source(path)[0]) as r:
        crs = CRS.from_user_input(r.crs)
        geoms = [u.to_crs(crs).geometry.to_numpy() for u in units_w]
        trees = [shapely.STRtree(g) for g in geoms]
        sums = [(np.zeros(len(u) + 1), np.zeros(len(u) + 1)) for u in units_w]
        for win in classgrid.blocks(r.height, r.width, D.BLOCK_SIZE):
            pop = r.read(1, window=win, masked=True).astype(np.float64).filled(0.0)
            bt = rasterio.windows.transform(win, r.transform)
            shape = pop.shape
            inten, _ = src.on_grid(bt, shape, crs)
            inten = np.asarray(inten, np.float64)
            rates = rate_table.rates(inten.ravel(), rounding) if rate_table is not None else \
                pager_rates(inten.ravel(), theta, beta, rounding)
            dead = pop.ravel() * rates
            deaths_total += float(dead.sum())
            people_total += float(pop.sum())
            deg = degree(inten.ravel(), "floor" if rounding == "interpolate" else rounding)
            ok = np.isfinite(deg)
            for d in np.unique(deg[ok]):
                sel = deg == d
                e = by_degree.setdefault(int(d), [0.0, 0.0])
                e[0] += float(pop.ravel()[sel].sum())
                e[1] += float(dead[sel].sum())
            for g, tree, (ps, ds) in zip(geoms, trees, sums):
                lab = unit_labels_block(g, tree, bt, shape, classgrid.window_bounds(r.transform, win)).ravel()
                ps += np.bincount(lab, weights=pop.ravel(), minlength=len(ps))
                ds += np.bincount(lab, weights=dead, minlength=len(ds))
    for acc, (ps, ds) in zip(per_unit, sums):
        acc["population"] = ps
        acc["deaths_pager_pop"] = ds
    return {"numbers": {"DEATHS_PAGER": deaths_total, "POPULATION_TOTAL": people_total,
                        "pager_by_degree": {d: {"people": v[0], "deaths": v[1]} for d, v in sorted(by_degree.items())}}}


def _unit_frame(units, label, level, acc, breaks, has_buildings):
    from .. import classes as class_tables
    n = len(units)
    data = {"level": level, "level_name": label}
    for col in ("code", "name", "parent_code"):
        data[col] = units[col].to_numpy() if col in units.columns else [None] * n
    df = pd.DataFrame(data)
    for key, arr in acc.items():
        df[key] = np.asarray(arr)[1:]
    if has_buildings:
        df["people"] = df["residents"]
        deaths = df["deaths"].to_numpy(float)
        residents = df["residents"].to_numpy(float)
    else:
        df["people"] = df["population"]
        deaths = df["deaths_pager_pop"].to_numpy(float)
        residents = df["population"].to_numpy(float)
        df["degree_max"] = np.nan
    cls, rate = risk_classes(deaths, residents, df["degree_max"].to_numpy(float) if has_buildings else
                             np.full(n, float(max(D.DPM_INTENSITIES))), breaks)
    table = {int(c["value"]): c for c in class_tables.class_table("earthquake_risk")["classes"]}
    df["death_rate_10k"] = np.round(rate, 4)
    df["eq_risk_class"] = cls
    df["eq_risk_zh"] = [table[int(k)]["zh"] for k in cls]
    df["eq_risk_en"] = [table[int(k)]["en"] for k in cls]
    if "degree_max" in df.columns:
        df["degree_roman"] = [roman(d) if np.isfinite(d) else "" for d in df["degree_max"].to_numpy(float)]
    for c in ("intensity_max", "intensity_mean"):
        if c in df.columns:
            df[c] = df[c].round(3)
    return df


def _retrofit_table(b, units_w, labels):
    """Deaths saved by retrofitting every building of one structure type in one unit (finest level;
    the county when there are no units), ranked."""
    t = b["t_idx"]
    saved, deaths, residents = b["saved"], b["deaths"], b["residents"]
    if units_w:
        finest = int(np.argmax([len(u) for u in units_w]))
        u = units_w[finest]
        k = b["unit_of"][finest]
        codes = np.r_[[""], u["code"].to_numpy(dtype=object) if "code" in u.columns else [""] * len(u)]
        names = np.r_[["(单元外 / outside)"], u["name"].to_numpy(dtype=object)]
        parents = np.r_[[""], u["parent_code"].to_numpy(dtype=object) if "parent_code" in u.columns else [""] * len(u)]
    else:
        k = np.zeros(len(t), np.int64)
        codes, names, parents = np.array([""]), np.array(["全部 / all"]), np.array([""])
    n_types = len(D.STRUCTURES)
    key = k * n_types + t
    size = len(names) * n_types
    cnt = np.bincount(key, minlength=size)
    s = np.bincount(key, weights=saved, minlength=size)
    d = np.bincount(key, weights=deaths, minlength=size)
    r = np.bincount(key, weights=residents, minlength=size)
    need = np.bincount(key, weights=(b["fort"] < b["retrofit_level"]).astype(float), minlength=size)
    sel = np.flatnonzero((cnt > 0) & (s > 0))
    unit, typ = np.divmod(sel, n_types)
    df = pd.DataFrame({"unit_code": codes[unit], "unit_name": names[unit], "parent_code": parents[unit],
                       "structure": np.asarray(D.STRUCTURES, dtype=object)[typ],
                       "structure_zh": [D.STRUCTURE_LABELS[D.STRUCTURES[i]][0] for i in typ],
                       "buildings": cnt[sel], "buildings_below_level": need[sel].astype(int), "residents": r[sel],
                       "deaths": d[sel], "deaths_after": d[sel] - s[sel], "deaths_saved": s[sel],
                       "saved_per_100_buildings": 100.0 * s[sel] / cnt[sel]})
    df = df.sort_values(["deaths_saved", "saved_per_100_buildings"], ascending=False, kind="stable").reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


UNIT_HEADERS = {
    "level": "层级 level", "level_name": "层名 level name", "code": "代码 code", "name": "名称 name",
    "parent_code": "上级代码 parent code", "buildings": "建筑数 buildings", "residents": "居住人数 residents",
    "occupants": "在室人数 occupants", "bld_intact": "基本完好(栋) intact", "bld_slight": "轻微破坏(栋) slight",
    "bld_moderate": "中等破坏(栋) moderate", "bld_extensive": "严重破坏(栋) extensive", "bld_collapse": "毁坏(栋) collapse",
    "bld_damaged": "受损(栋, 轻微及以上) damaged", "deaths": "死亡(人) deaths", "injured": "受伤(人) injured",
    "injured_serious": "重伤(人) seriously injured", "displaced": "需紧急安置(人) displaced",
    "deaths_pager": "死亡 PAGER法(人) deaths, PAGER", "deaths_pager_pop": "死亡 PAGER法 人口栅格 deaths, PAGER (population)",
    "population": "人口栅格人口 population", "deaths_saved": "加固可减少死亡 deaths saved by retrofit",
    "outside_hazard": "危险性图层外建筑 outside hazard", "degree_max": "最高烈度 max degree",
    "degree_roman": "最高烈度 (罗马) max degree", "intensity_max": "最大烈度值 max intensity",
    "intensity_mean": "平均烈度值 (按人口) mean intensity", "people": "人口 people",
    "death_rate_10k": "万人死亡率 deaths per 10 000", "eq_risk_class": "地震风险等级 risk class",
    "eq_risk_zh": "风险等级 (中文)", "eq_risk_en": "risk class (English)"}
RETROFIT_HEADERS = {
    "rank": "排序 rank", "unit_code": "单元代码 unit code", "unit_name": "单元 unit", "parent_code": "上级代码 parent code",
    "structure": "结构类型 structure", "structure_zh": "结构类型 (中文)", "buildings": "建筑数 buildings",
    "buildings_below_level": "低于加固设防烈度(栋) below the retrofit level", "residents": "居住人数 residents",
    "deaths": "预期死亡 deaths", "deaths_after": "加固后死亡 deaths after retrofit", "deaths_saved": "减少死亡 deaths saved",
    "saved_per_100_buildings": "每百栋减少死亡 saved per 100 buildings"}


def _headers():
    h = dict(UNIT_HEADERS)
    for s in D.STRUCTURES:
        zh, en = D.STRUCTURE_LABELS[s]
        h[f"n_{s}"] = f"{zh}(栋) {en}"
    return h


def _write_tables(frames, retro, matrices, path):
    heads = _headers()
    if str(path).lower().endswith(".xlsx"):
        sheets = {}
        for df in frames:
            name = "".join(ch for ch in f"{int(df['level'].iloc[0])}_{df['level_name'].iloc[0]}" if ch not in '[]:*?/\\')[:31]
            sheets[name] = df.rename(columns=heads)
        if retro is not None:
            sheets["加固优先 retrofit"] = retro.rename(columns=RETROFIT_HEADERS)
        sheets["易损性矩阵 vulnerability"] = matrices
        return write_sheets(sheets, path)
    if not frames:
        return _write_retrofit(retro, path)
    return write_table(pd.concat(frames, ignore_index=True).rename(columns=heads), path)


def _write_retrofit(retro, path):
    if str(path).lower().endswith(".xlsx"):
        return write_sheets({"加固优先 retrofit": retro.rename(columns=RETROFIT_HEADERS)}, path)
    return write_table(retro.rename(columns=RETROFIT_HEADERS), path)
