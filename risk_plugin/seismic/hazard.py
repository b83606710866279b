"""Seismic hazard classes (four levels) from PGA, intensity or a scenario, per township and village.

>>> r = seismic_hazard("eq_hazard.tif", hazard="county/seismic_zoning.gpkg",
...                    units=[UnitSpec("townships.gpkg"), UnitSpec("villages.gpkg")],
...                    output_units="eq_hazard_units.gpkg", output_zones="eq_zones.gpkg")
>>> r["areas_km2"], r["MAX_INTENSITY"]

Rasters keep their own grid and CRS; zoning polygons and scenarios go on a CELL_SIZE grid in the metric
working CRS over the units (else over the hazard: the zoning's extent, or the scenario's VI isoseismal).
The class raster (uint8 0..4, styles 'hazard_classes') plugs into riskmap:compositezoning,
riskmap:exposure and riskmap:fourcolorrisk like the other hazards.
"""
import contextlib

import numpy as np
import pandas as pd

from .. import classgrid
from ..definitions import seismic as D
from ..errors import parameter_error
from ..io import atomic_path, raster_profile, write_table, write_vector
from ..progress import ensure
from .field import Conversion, open_hazard
from .intensity import degree, hazard_class, roman
from .units import load_units, unit_labels_block

N = classgrid.N_CLASSES


def check_breaks(breaks):
    from .. import paramtext
    b = paramtext.numbers(breaks, "HAZARD_BREAKS", count=4, ascending=True) if breaks not in (None, "") else D.HAZARD_BREAKS
    return tuple(float(x) for x in b)


def check_choice(name, value, allowed):
    if value not in allowed:
        raise parameter_error(name, f"取值 {value!r} 无效", f"invalid value {value!r}", f"可选: {list(allowed)}",
                              f"choose one of {list(allowed)}")
    return value


def seismic_hazard(output, hazard=None, conv=None, pga_field=None, intensity_field=None, period_field=None,
                   epicentre=None, magnitude=None, depth=None, attenuation_key=D.ATTENUATION_DEFAULT, strike=None,
                   faults=None, units=(), rounding=D.ROUNDING, hazard_breaks=D.HAZARD_BREAKS, cell_size=D.CELL_SIZE,
                   output_intensity=None, output_zones=None, output_units=None, output_table=None, work_crs=None,
                   repair=False, block_size=D.BLOCK_SIZE, progress=None):
    """Write the class raster ``output`` (uint8 0..4) and the optional intensity raster, zone polygons,
    unit polygons and table; return numeric outputs AREA_KM2_1..4, MAX_INTENSITY, MAX_DEGREE,
    EPICENTRAL_INTENSITY and per-unit rows."""
    import rasterio
    from pyproj import CRS
    from ..crs import working_crs
    progress = ensure(progress)
    check_choice("ROUNDING", rounding, D.ROUNDINGS)
    breaks = check_breaks(hazard_breaks)
    src = open_hazard(hazard, conv or Conversion(), pga_field, intensity_field, period_field, epicentre, magnitude,
                      depth, attenuation_key, strike, faults, repair)
    for note in src.notes:
        progress.info(note)
    level_gdfs, labels = load_units(units, repair)
    progress.set(5)

    # the grid
    if src.kind == "raster":
        with rasterio.open(src.path) as r:
            crs, transform, width, height = CRS.from_user_input(r.crs), r.transform, r.width, r.height
        cell = None
    else:
        cell = float(cell_size or D.CELL_SIZE)
        if not cell > 0:
            raise parameter_error("CELL_SIZE", "像元大小应大于 0", "CELL_SIZE must be > 0", "例如 30", "e.g. 30")
        ref = level_gdfs[0] if level_gdfs else None
        if ref is not None:
            crs = working_crs(ref.crs, ref.total_bounds, work_crs)
            bounds = tuple(ref.to_crs(crs).total_bounds)
        else:
            base = src.gdf.crs if src.kind == "polygons" else src.scenario["work_crs"]
            crs = working_crs(base, src.bounds_in(base), work_crs)
            bounds = src.bounds_in(crs)
        crs = CRS.from_user_input(crs)
        transform, width, height = classgrid.snap_grid(bounds, cell)
        if width * height > D.MAX_CELLS:
            raise parameter_error("CELL_SIZE", f"网格过大 ({width}×{height} 像元), 请加大 CELL_SIZE",
                                  f"the grid is too large ({width}×{height} cells): use a larger CELL_SIZE",
                                  f"例如 {D.CELL_SIZE:g}", f"e.g. {D.CELL_SIZE:g}")
    row_area = classgrid.row_cell_areas(transform, crs, height)

    n_units = [len(g) for g in level_gdfs]
    unit_geoms = [g.to_crs(crs).geometry.to_numpy() for g in level_gdfs]
    import shapely
    trees = [shapely.STRtree(g) for g in unit_geoms]
    stats = [_UnitStats(n) for n in n_units]
    cells = np.zeros(N)
    areas = np.zeros(N)
    i_max = -np.inf
    prof = raster_profile(transform, crs.to_wkt(), width, height, np.uint8, None)
    prof_i = raster_profile(transform, crs.to_wkt(), width, height, np.float32, np.nan)
    windows = list(classgrid.blocks(height, width, block_size))
    with contextlib.ExitStack() as stack:
        dst = stack.enter_context(rasterio.open(stack.enter_context(atomic_path(output)), "w", **prof))
        dst_i = stack.enter_context(rasterio.open(stack.enter_context(atomic_path(output_intensity)), "w", **prof_i)) \
            if output_intensity else None
        raster = stack.enter_context(rasterio.open(src.path)) if src.kind == "raster" else None
        for win in progress.sub(5, 85).steps(windows):
            bt = rasterio.windows.transform(win, transform)
            shape = (int(win.height), int(win.width))
            if raster is not None:
                block = raster.read(1, window=win, masked=True).astype(np.float64).filled(np.nan)
                inten, pga = src._convert(block)
            else:
                inten, pga = src.on_grid(bt, shape, crs)
            inten = np.asarray(inten, np.float64)
            deg = degree(inten, "floor" if rounding == "interpolate" else rounding)
            cls = hazard_class(deg, breaks)
            dst.write(cls, 1, window=win)
            if dst_i is not None:
                dst_i.write(inten.astype(np.float32), 1, window=win)
            rows = row_area[win.row_off:win.row_off + win.height]
            areas += classgrid.class_areas(cls, rows)
            cells += np.bincount(cls.ravel(), minlength=N)
            if np.isfinite(inten).any():
                i_max = max(i_max, float(np.nanmax(inten)))
            period = src.period_on_grid(bt, shape, crs) if src.kind == "polygons" else None
            cell_area = np.broadcast_to(np.asarray(rows, float)[:, None], shape)
            for geoms, tree, st in zip(unit_geoms, trees, stats):
                lab = unit_labels_block(geoms, tree, bt, shape, classgrid.window_bounds(transform, win))
                st.add(lab, cls, inten, pga, period, cell_area)
        progress.set(88)        # the last cancel point: past it every output is written
    result = {"output": str(output), "output_intensity": output_intensity and str(output_intensity),
              "areas_km2": {k: float(areas[k] / 1e6) for k in range(1, 5)}, "cells": {k: int(cells[k]) for k in range(5)},
              "crs": crs.to_string(), "cell_size": cell, "measure": src.measure, "kind": src.kind,
              "MAX_INTENSITY": None if not np.isfinite(i_max) else round(i_max, 3),
              "MAX_DEGREE": None if not np.isfinite(i_max) else int(degree(np.array([i_max]), "floor" if rounding == "interpolate" else rounding)[0]),
              "EPICENTRAL_INTENSITY": round(src.scenario["epicentral_intensity"], 3) if src.kind == "scenario" else None,
              "STRIKE": round(src.scenario["strike"], 1) if src.kind == "scenario" else None,
              "output_zones": None, "output_units": None, "output_table": None, "units": []}
    for k in range(1, 5):
        result[f"AREA_KM2_{k}"] = result["areas_km2"][k]
    if output_zones:
        clip = shapely.union_all(unit_geoms[0]) if unit_geoms else None
        result["output_zones"] = write_vector(_zones(src, crs, breaks, rounding, clip), output_zones)
    frames = [st.frame(g, lab_name, i + 1, breaks) for i, (st, g, lab_name) in enumerate(zip(stats, level_gdfs, labels))]
    if frames:
        table = pd.concat(frames, ignore_index=True)
        result["units"] = table.to_dict("records")
        if output_units:
            import geopandas as gpd
            out_crs = level_gdfs[0].crs
            parts = [gpd.GeoDataFrame(f, geometry=g.to_crs(out_crs).geometry.to_numpy(), crs=out_crs)
                     for f, g in zip(frames, level_gdfs)]
            result["output_units"] = write_vector(gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=out_crs),
                                                  output_units)
        if output_table:
            result["output_table"] = _write_table(frames, output_table)
    return result


class _UnitStats:
    """Per-unit accumulators over the blocks (row 0 = outside every unit)."""

    def __init__(self, n):
        self.n = n
        self.area = np.zeros((n + 1, N))
        self.i_sum = np.zeros(n + 1)
        self.i_area = np.zeros(n + 1)
        self.i_max = np.full(n + 1, -np.inf)
        self.pga_sum = np.zeros(n + 1)
        self.pga_max = np.full(n + 1, -np.inf)
        self.period_max = np.full(n + 1, -np.inf)

    def add(self, lab, cls, inten, pga, period, cell_area):
        size = self.n + 1
        lab = lab.ravel().astype(np.int64)
        w = np.ascontiguousarray(cell_area).ravel()
        self.area += np.bincount(lab * N + cls.ravel(), weights=w, minlength=size * N).reshape(size, N)
        ok = np.isfinite(inten.ravel())
        self.i_sum += np.bincount(lab[ok], weights=(inten.ravel() * w)[ok], minlength=size)
        self.i_area += np.bincount(lab[ok], weights=w[ok], minlength=size)
        np.maximum.at(self.i_max, lab[ok], inten.ravel()[ok])
        if pga is not None:
            pg = np.asarray(pga, float).ravel()
            okp = np.isfinite(pg)
            self.pga_sum += np.bincount(lab[okp], weights=(pg * w)[okp], minlength=size)
            np.maximum.at(self.pga_max, lab[okp], pg[okp])
        if period is not None:
            pr = np.asarray(period, float).ravel()
            okr = np.isfinite(pr)
            np.maximum.at(self.period_max, lab[okr], pr[okr])

    def frame(self, units, label, level, breaks):
        from .. import classes as class_tables
        lab = {c["value"]: c for c in class_tables.class_table("hazard_classes")["classes"]}
        a = self.area[1:]
        total = a.sum(axis=1)
        km2 = a / 1e6
        data = {"level": level, "level_name": label}
        for col in ("code", "name", "parent_code"):
            data[col] = units[col].to_numpy() if col in units.columns else None
        data["area_km2"] = total / 1e6
        for k in range(N):
            data[f"class{k}_km2"] = km2[:, k]
        with np.errstate(invalid="ignore", divide="ignore"):
            for k in range(1, N):
                data[f"class{k}_pct"] = np.where(total > 0, 100.0 * a[:, k] / np.where(total > 0, total, 1), 0.0)
            mean_i = np.where(self.i_area[1:] > 0, self.i_sum[1:] / np.where(self.i_area[1:] > 0, self.i_area[1:], 1), np.nan)
        haz = a[:, 1:]
        dominant = np.where(haz.sum(axis=1) > 0, 4 - np.argmax(haz[:, ::-1], axis=1), 0)
        highest = np.where(haz.sum(axis=1) > 0, 4 - np.argmax(haz[:, ::-1] > 0, axis=1), 0)
        data["dominant_class"] = dominant
        data["max_class"] = highest
        data["hazard_class"] = highest           # 就高: a unit is as hazardous as its worst part
        data["hazard_zh"] = [lab[int(k)]["zh"] for k in highest]
        data["hazard_en"] = [lab[int(k)]["en"] for k in highest]
        imax = np.where(np.isfinite(self.i_max[1:]), self.i_max[1:], np.nan)
        data["intensity_max"] = np.round(imax, 3)
        data["intensity_mean"] = np.round(mean_i, 3)
        data["eq_degree"] = np.where(np.isfinite(imax), np.floor(imax + 1e-9), np.nan)
        data["degree_roman"] = [roman(d) if np.isfinite(d) else "" for d in data["eq_degree"]]
        if np.isfinite(self.pga_max[1:]).any():
            data["pga_max_g"] = np.where(np.isfinite(self.pga_max[1:]), np.round(self.pga_max[1:], 4), np.nan)
            with np.errstate(invalid="ignore", divide="ignore"):
                data["pga_mean_g"] = np.round(np.where(self.i_area[1:] > 0, self.pga_sum[1:] / np.where(self.i_area[1:] > 0,
                                                                                                     self.i_area[1:], 1), np.nan), 4)
        if np.isfinite(self.period_max[1:]).any():
            data["period_s"] = np.where(np.isfinite(self.period_max[1:]), self.period_max[1:], np.nan)
        return pd.DataFrame(data)


HEADERS = {"level": "层级 level", "level_name": "层名 level name", "code": "代码 code", "name": "名称 name",
           "parent_code": "上级代码 parent code", "area_km2": "面积(km²) area km²", "dominant_class": "主导等级 dominant class",
           "max_class": "最高等级 highest class", "hazard_class": "危险性等级(就高) hazard class",
           "hazard_zh": "危险性 (中文)", "hazard_en": "hazard (English)", "intensity_max": "最大烈度 max intensity",
           "intensity_mean": "平均烈度 mean intensity", "eq_degree": "烈度(度) degree", "degree_roman": "烈度 (罗马) degree",
           "pga_max_g": "最大峰值加速度(g) max PGA", "pga_mean_g": "平均峰值加速度(g) mean PGA",
           "period_s": "特征周期(s) characteristic period"}


def _write_table(frames, path):
    from ..io import write_sheets
    heads = dict(HEADERS)
    for k in range(N):
        heads[f"class{k}_km2"] = f"{k}级面积(km²) class {k} km²"
        heads[f"class{k}_pct"] = f"{k}级占比(%) class {k} %"
    if str(path).lower().endswith(".xlsx"):
        sheets = {}
        for df in frames:
            name = "".join(ch for ch in f"{int(df['level'].iloc[0])}_{df['level_name'].iloc[0]}" if ch not in '[]:*?/\\')[:31]
            sheets[name] = df.rename(columns=heads)
        return write_sheets(sheets, path)
    return write_table(pd.concat(frames, ignore_index=True).rename(columns=heads), path)


def _zones(src, crs, breaks, rounding, clip=None):
    """Polygons of the hazard: the zoning's own polygons (dissolved per degree) or the scenario's
    isoseismal zones (VI ring, VII ring …), with degree, hazard class and label; in ``crs`` (the
    zoning's own CRS for polygons); cut to ``clip`` (the first level of units, in ``crs``) when given."""
    import geopandas as gpd
    import shapely
    from .. import classes as class_tables
    lab = {c["value"]: c for c in class_tables.class_table("hazard_classes")["classes"]}
    rows, geoms = [], []
    if src.kind == "scenario":
        ells = src.isoseismals(crs)
        for k, (d, g) in enumerate(ells):
            inner = ells[k + 1][1] if k + 1 < len(ells) else None
            ring = g if inner is None else shapely.difference(g, inner)
            rows.append({"eq_degree": d})
            geoms.append(ring)
        out_crs = crs
    elif src.kind == "polygons":
        g = src.gdf
        deg = degree(g["_intensity"].to_numpy(float), "floor" if rounding == "interpolate" else rounding)
        higher = None
        for d in sorted(set(deg[np.isfinite(deg)]), reverse=True):     # overlaps go to the higher degree
            zone = shapely.union_all(shapely.make_valid(g.geometry.to_numpy()[deg == d]))
            part = zone if higher is None else shapely.difference(zone, higher)
            higher = zone if higher is None else shapely.union(higher, zone)
            if not part.is_empty:
                rows.append({"eq_degree": int(d)})
                geoms.append(part)
        out_crs = g.crs
    else:
        return gpd.GeoDataFrame({"eq_degree": [], "hazard_class": []}, geometry=[], crs=crs)
    if clip is not None and len(geoms):
        import geopandas as gpd
        clip_c = gpd.GeoSeries([clip], crs=crs).to_crs(out_crs).iloc[0]
        geoms = list(shapely.intersection(np.asarray(geoms, dtype=object), clip_c))
        keep = [not g.is_empty for g in geoms]
        rows = [r for r, k in zip(rows, keep) if k]
        geoms = [g for g, k in zip(geoms, keep) if k]
    df = pd.DataFrame(rows, columns=["eq_degree"])
    df["degree_roman"] = [roman(d) for d in df["eq_degree"]]
    df["hazard_class"] = hazard_class(df["eq_degree"].to_numpy(float), breaks).astype(int)
    df["hazard_zh"] = [lab[int(k)]["zh"] for k in df["hazard_class"]]
    df["hazard_en"] = [lab[int(k)]["en"] for k in df["hazard_class"]]
    out = gpd.GeoDataFrame(df, geometry=geoms, crs=out_crs)
    out["area_km2"] = out.to_crs(crs).area / 1e6 if out_crs != crs else out.area / 1e6
    return out
