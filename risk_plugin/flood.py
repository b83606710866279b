"""Flood hazard classes (0 none … 4 very high) from a depth raster or from return-period zones.

>>> r = flood_hazard("hazard.tif", depth="depth_100.tif")                      # default breaks
>>> r["areas_km2"]                                                             # {1: …, 2: …, 3: …, 4: …}
>>> r = flood_hazard("hazard.tif", zones="flood_zones.gpkg", output_zones="zones.gpkg")

Depth mode keeps the depth raster's grid and CRS and reads it in blocks. Zone mode gives each zone
the class of its return period (frequent floods highest); where zones overlap (nested 10/50/100-year
extents) the highest class wins; the raster is on a ``cell_size`` grid in the metric working CRS and
the optional polygons (one per class, non-overlapping) are in the zones' own CRS.
"""
import numpy as np

from . import classgrid, paramtext
from .crs import to_working, working_crs
from .definitions import flood as D
from .errors import input_error, parameter_error
from .inputs import RasterInput, VectorInput, check_rasters, load_vectors
from .io import atomic_path, layer_name, raster_profile, split_source, write_vector
from .progress import ensure

M2_PER_KM2 = 1e6


def check_depth_breaks(breaks):
    """Four strictly ascending depth breaks (m), as floats."""
    return paramtext.numbers(breaks, "DEPTH_BREAKS", count=4, ascending=True)


def check_return_period_classes(table):
    """((upper return period, class), …) ascending in return period, classes 1..4."""
    rows = paramtext.pairs(table, "RETURN_PERIOD_CLASSES") if isinstance(table, str) else tuple(
        (float(t), float(c)) for t, c in table)
    periods = [t for t, _ in rows]
    if any(b <= a for a, b in zip(periods, periods[1:])) or periods[0] <= 0:
        raise parameter_error("RETURN_PERIOD_CLASSES", f"重现期应为正且严格递增: {periods}",
                              f"return periods must be positive and strictly ascending: {periods}",
                              "例如 10:4,50:3,100:2,500:1", "e.g. 10:4,50:3,100:2,500:1")
    bad = [c for _, c in rows if c not in (1, 2, 3, 4)]
    if bad:
        raise parameter_error("RETURN_PERIOD_CLASSES", f"等级应为 1..4 的整数: {bad}", f"classes must be integers 1..4: {bad}",
                              "4 = 极高, 1 = 低", "4 = very high, 1 = low")
    return tuple((t, int(c)) for t, c in rows)


def depth_classes(depth, breaks=D.DEPTH_BREAKS):
    """Hazard class of each depth (m): 0 at or below breaks[0] (and for NaN: dry), k in (b_k-1, b_k]."""
    depth = np.asarray(depth)
    if depth.dtype.kind != "f":
        depth = depth.astype(np.float64)
    return classgrid.classify(np.where(np.isnan(depth), -np.inf, depth), breaks)


def return_period_class(periods, table=D.RETURN_PERIOD_CLASSES):
    """Class of each return period: that of the first row whose upper bound is >= T (0 beyond the last)."""
    bounds = np.array([t for t, _ in table], dtype=np.float64)
    lookup = np.array([c for _, c in table] + [0], dtype=np.uint8)
    return lookup[np.searchsorted(bounds, np.asarray(periods, dtype=np.float64), side="left")]


def flood_hazard(output, depth=None, zones=None, depth_breaks=D.DEPTH_BREAKS, return_period_field=None,
                 return_period_classes=D.RETURN_PERIOD_CLASSES, cell_size=D.ZONE_CELL_SIZE, output_zones=None,
                 work_crs=None, block_size=D.BLOCK_SIZE, progress=None):
    """Write the class raster ``output`` (uint8, 0..4); return {'output', 'output_zones', 'mode',
    'areas_km2': {1: km², …, 4: km²}, 'cells': {class: cells}}.

    Give ``depth`` (raster, m; nodata or <= 0 is dry) or ``zones`` (polygons with a return period,
    field ``return_period_field`` or an alias such as 重现期), not both.
    """
    progress = ensure(progress)
    if bool(depth) == bool(zones):
        raise parameter_error("DEPTH / ZONES", "请给出水深栅格或淹没区面图层之一 (只选一个)",
                              "give either a depth raster or zone polygons (exactly one)",
                              "选择 DEPTH 或 ZONES", "choose DEPTH or ZONES")
    if depth:  # empty text means the default
        return _from_depth(output, depth, check_depth_breaks(depth_breaks or D.DEPTH_BREAKS), block_size, progress)
    return _from_zones(output, zones, return_period_field,
                       check_return_period_classes(return_period_classes or D.RETURN_PERIOD_CLASSES),
                       float(cell_size), output_zones, work_crs, block_size, progress)


def _from_depth(output, depth, breaks, block_size, progress):
    import rasterio
    paths = check_rasters([RasterInput("depth", depth, "flood_depth", label=layer_name(depth))])
    areas = np.zeros(classgrid.N_CLASSES)
    cells = np.zeros(classgrid.N_CLASSES, dtype=np.int64)
    with rasterio.open(split_source(paths["depth"])[0]) as src:
        row_area = classgrid.row_cell_areas(src.transform, src.crs, src.height)
        prof = raster_profile(src.transform, src.crs, src.width, src.height, np.uint8, None)
        windows = list(classgrid.blocks(src.height, src.width, block_size))
        with atomic_path(output) as tmp, rasterio.open(tmp, "w", **prof) as dst:
            for win in progress.steps(windows):
                block = src.read(1, window=win, masked=True)
                if block.dtype.kind != "f":
                    block = block.astype(np.float64)
                block = block.filled(np.nan)
                cls = depth_classes(block, breaks)
                dst.write(cls, 1, window=win)
                rows = row_area[win.row_off:win.row_off + win.height]
                areas += classgrid.class_areas(cls, rows)
                cells += np.bincount(cls.ravel(), minlength=classgrid.N_CLASSES)
    return {"output": str(output), "output_zones": None, "mode": "depth",
            "areas_km2": {k: float(areas[k] / M2_PER_KM2) for k in range(1, 5)},
            "cells": {k: int(cells[k]) for k in range(5)}}


def _zone_classes(gdf, label, table):
    if "return_period" not in gdf.columns:
        raise input_error(label, "缺少重现期字段", "the return-period field is missing", "在 RETURN_PERIOD_FIELD 中指定字段 (如 重现期)",
                          "name it in RETURN_PERIOD_FIELD (e.g. 重现期)", field="return_period")
    rp = gdf["return_period"].to_numpy(dtype=np.float64)
    missing = np.isnan(rp)
    if missing.any():
        raise input_error(label, f"{missing.sum()} 个淹没区没有重现期", f"{missing.sum()} zones have no return period",
                          "补全重现期 (年)", "fill in the return period (years)", field="return_period",
                          features=list(gdf.index[missing]))
    return return_period_class(rp, table)


def _from_zones(output, zones, rp_field, table, cell, output_zones, work_crs, block_size, progress):
    import rasterio
    import shapely
    import geopandas as gpd
    if not cell > 0:
        raise parameter_error("CELL_SIZE", "像元大小应大于 0", "cell size must be > 0", "例如 10", "e.g. 10")
    layers = load_vectors([VectorInput("zones", zones, "flood_zones", field_map={"return_period": rp_field},
                                       label=layer_name(zones))])
    gdf = layers["zones"]
    label = gdf.attrs.get("name", "zones")
    classes = _zone_classes(gdf, label, table)
    if (classes == 0).any():
        progress.info(f"{int((classes == 0).sum())} 个淹没区的重现期超过 {table[-1][0]:g} 年, 记为 0 级 / "
                      f"{int((classes == 0).sum())} zones have return periods beyond {table[-1][0]:g} years: class 0")
    wcrs = working_crs(gdf.crs, gdf.total_bounds, work_crs)
    work = to_working(gdf, wcrs).reset_index(drop=True)
    transform, width, height = classgrid.snap_grid(work.total_bounds, cell)
    prof = raster_profile(transform, wcrs.to_wkt(), width, height, np.uint8, None)
    geoms = work.geometry.to_numpy()
    windows = list(classgrid.blocks(height, width, block_size))
    raster_progress = progress.sub(0, 80)
    with atomic_path(output) as tmp, rasterio.open(tmp, "w", **prof) as dst:
        for win in raster_progress.steps(windows):
            wt = rasterio.windows.transform(win, transform)
            idx = classgrid.features_in(work, classgrid.window_bounds(transform, win))
            keep = idx[classes[idx] > 0]
            dst.write(classgrid.burn(geoms[keep], classes[keep], (win.height, win.width), wt), 1, window=win)
    # exact areas from polygons: each class minus every higher class
    progress.sub(80, 100).set(0)
    parts, higher = {}, None
    for k in (4, 3, 2, 1):
        union = shapely.union_all(geoms[classes == k]) if (classes == k).any() else shapely.Polygon()
        part = union if higher is None else shapely.difference(union, higher)
        parts[k] = part
        higher = union if higher is None else shapely.union(higher, union)
        progress.check()
    areas = {k: float(shapely.area(parts[k]) / M2_PER_KM2) for k in range(1, 5)}
    if output_zones:
        from .classes import class_table
        labels = {c["value"]: c for c in class_table("hazard_classes")["classes"]}
        keys = [k for k in (4, 3, 2, 1) if not parts[k].is_empty]
        out = gpd.GeoDataFrame({"hazard_class": keys, "label_zh": [labels[k]["zh"] for k in keys],
                                "label_en": [labels[k]["en"] for k in keys],
                                "area_km2": [areas[k] for k in keys]},
                               geometry=[parts[k] for k in keys], crs=wcrs).to_crs(gdf.crs)
        write_vector(out, output_zones)
    progress.set(100)
    return {"output": str(output), "output_zones": str(output_zones) if output_zones else None, "mode": "zones",
            "areas_km2": areas, "cells": None}
