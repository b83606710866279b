"""Composite hazard zoning: any set of hazard-class layers (rasters 0..4, or polygons with a class
field) on one grid, combined per cell by max (default, 就高) or a weighted mean, into four classes;
with reporting units (townships / villages), the area per class and the dominant class per unit.

>>> r = composite_zoning(["flood.tif", "fire.tif", "susceptibility_zones.gpkg"], "composite.tif",
...                      cell_size=20, units="townships.gpkg", output_table="zoning.xlsx")
>>> r["areas_km2"], r["units"]

The grid: CELL_SIZE metres (default: the finest input raster, else 10 m) in the requested CRS, else
the first layer's CRS when it is metric, else its CGCS2000 Gauss-Krüger zone; the extent of the
units when given, else of all hazard layers. Rasters are warped onto it window by window
(rasterio WarpedVRT); polygons are burned per block, the highest class on top.
"""
import contextlib

import numpy as np

from pyproj import CRS

from . import classgrid, notices, paramtext
from .definitions import composite as D
from .errors import InputError, Problem, ValidationError, parameter_error
from .inputs import RasterInput, VectorInput, check_rasters, load_vectors
from .io import atomic_path, layer_name, raster_profile, split_source, write_table, write_vector
from .progress import ensure


def _kind_of(path):
    """'raster' or 'vector' for a file path (a GeoPackage may hold either)."""
    import rasterio
    base, layer = split_source(path)
    if layer is not None:
        return "vector"
    try:
        with rasterio.open(base) as src:
            return "raster" if src.count > 0 else "vector"
    except rasterio.errors.RasterioIOError:
        return "vector"


def combine(stack, method="max", weights=None, breaks=D.WEIGHTED_BREAKS):
    """Composite class (uint8) of a list of class arrays: per-cell max, or the weighted mean cut at ``breaks``."""
    if method == "max":
        return np.maximum.reduce([np.asarray(a, dtype=np.uint8) for a in stack])
    w = np.asarray(weights if weights is not None else [1.0] * len(stack), dtype=np.float64)
    mean = sum(wi * np.asarray(a, dtype=np.float64) for wi, a in zip(w, stack)) / w.sum()
    return classgrid.classify(mean, breaks)


def _check_classes(vals, label):
    """Raster values must be integer classes 0..4 (nodata already filled with 0)."""
    bad = (vals < 0) | (vals > 4) | (vals != np.floor(vals))
    if bad.any():
        raise InputError(Problem(label, f"栅格值 {float(vals[bad][0]):g} 不是危险性等级 0..4",
                                 f"raster value {float(vals[bad][0]):g} is not a hazard class 0..4",
                                 "水深请先用 riskmap:floodhazard 分级; 易发性指数请用分区结果",
                                 "classify depths with riskmap:floodhazard first; use zone rasters, not indices"))
    return vals.astype(np.uint8)


class _RasterHazard:
    def __init__(self, path, label):
        import rasterio
        self.path, self.label = split_source(path)[0], label
        self.src = rasterio.open(self.path)
        self.vrt = None

    def bounds_in(self, crs):
        from rasterio.warp import transform_bounds
        return transform_bounds(self.src.crs, crs, *self.src.bounds)

    def cell_m(self):
        from .hazardsource import cell_size_m
        b = self.src.bounds
        lat = (b.bottom + b.top) / 2 if self.src.crs.is_geographic else None
        return min(cell_size_m(self.src.crs, self.src.transform, lat))

    def attach(self, crs, transform, width, height, resampling):
        """Warp onto the grid. 'max' only where this raster is finer than the grid (by
        MAX_FINER_RATIO): there it keeps a high-class patch narrower than a cell. A raster as coarse
        as the grid or coarser gives every grid cell the class at its centre, since max over the
        partly overlapped cells of a shifted or rotated grid (another CRS) would grow every class by
        up to a cell along its edges (EPSG:4326 flood classes on a 20 m GK grid: class 4 +21 %)."""
        from rasterio.enums import Resampling
        from rasterio.vrt import WarpedVRT
        own = self.cell_m()
        finer = own is not None and own * D.MAX_FINER_RATIO <= abs(transform.a)
        use_max = resampling == "max" and finer
        self.vrt = WarpedVRT(self.src, crs=crs, transform=transform, width=width, height=height,
                             resampling=Resampling.max if use_max else Resampling.nearest)
        if CRS.from_user_input(self.src.crs) != CRS.from_user_input(crs):
            notices.warn(self.label, f"从 {CRS.from_user_input(self.src.crs).to_string()} 重采样到 {abs(transform.a):g} m 网格 "
                                     f"({'最高值' if use_max else '像元中心'})",
                         f"resampled from {CRS.from_user_input(self.src.crs).to_string()} onto the {abs(transform.a):g} m grid "
                         f"({'max' if use_max else 'class at each cell centre'})")

    def block(self, win, block_transform):
        data = self.vrt.read(1, window=win, masked=True)
        return _check_classes(np.ma.filled(data.astype(np.float64), 0.0), self.label)

    def close(self):
        if self.vrt is not None:
            self.vrt.close()
        self.src.close()


class _VectorHazard:
    def __init__(self, gdf, field, mapping, label):
        from .hazardsource import HazardSource
        self.label = label
        self.hs = HazardSource.from_polygons(gdf, field, mapping, label)
        self.gdf = gdf

    def bounds_in(self, crs):
        return tuple(self.gdf.to_crs(crs).total_bounds)

    def cell_m(self):
        return None

    def attach(self, crs, transform, width, height, resampling):
        self.crs, self.rule = crs, ("all_touched" if resampling == "max" else "centre")

    def block(self, win, block_transform):
        return self.hs.class_grid(block_transform, (int(win.height), int(win.width)), self.crs, rule=self.rule)

    def close(self):
        pass


def _grid(hazards, units_gdf, crs, cell_size):
    from pyproj import CRS
    if units_gdf is not None:
        bounds = tuple(units_gdf.to_crs(crs).total_bounds)
    else:
        b = np.array([h.bounds_in(crs) for h in hazards])
        bounds = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    if not cell_size:
        cells = [c for c in (h.cell_m() for h in hazards) if c]
        cell_size = min(cells) if cells else D.CELL_SIZE
    transform, width, height = classgrid.snap_grid(bounds, float(cell_size))
    return CRS.from_user_input(crs), transform, width, height, float(cell_size)


def composite_zoning(hazards, output, method=D.METHOD, weights=None, cell_size=None, units=None,
                     output_table=None, output_units=None, hazard_field=None, hazard_mapping=None,
                     resampling=D.RESAMPLING, weighted_breaks=D.WEIGHTED_BREAKS, work_crs=None,
                     block_size=D.BLOCK_SIZE, progress=None):
    """Write the composite class raster ``output`` (uint8 0..4) and, given ``units``, the table
    (CSV/XLSX) and/or unit polygons of area per class and dominant class.

    ``hazards``: paths, or (kind, path) pairs with kind 'raster' / 'vector'. Vector layers hold the
    class in ``hazard_field`` (or a field named hazard_class, 危险性等级 …), text values mapped by
    ``hazard_mapping`` ('高=3; 中=2'). Returns {'areas_km2': {1..4}, 'cells', 'cell_size', 'crs',
    'units': rows of the unit table}.
    """
    from .crs import working_crs
    from .hazardsource import parse_class_mapping
    progress = ensure(progress)
    if not hazards:
        raise parameter_error("HAZARDS", "未选择危险性图层", "no hazard layers given", "选择至少一个等级图层", "choose at least one class layer")
    if method not in D.METHODS:
        raise parameter_error("METHOD", f"未知方法 {method}", f"unknown method {method}", f"可用: {D.METHODS}", f"use one of {D.METHODS}")
    if resampling not in D.RESAMPLINGS:
        raise parameter_error("RESAMPLING", f"未知重采样 {resampling}", f"unknown resampling {resampling}",
                              f"可用: {D.RESAMPLINGS}", f"use one of {D.RESAMPLINGS}")
    if cell_size is not None and cell_size < 0:
        raise parameter_error("CELL_SIZE", "像元大小不能为负", "cell size must be >= 0 (0 = automatic)", "例如 10", "e.g. 10")
    entries = [h if isinstance(h, (tuple, list)) else (_kind_of(h), h) for h in hazards]
    if method == "weighted":
        weights = paramtext.numbers(weights, "WEIGHTS", minimum=0) if weights not in (None, "") else (1.0,) * len(entries)
        if len(weights) != len(entries) or sum(weights) <= 0:
            raise parameter_error("WEIGHTS", f"需要 {len(entries)} 个权重 (每个图层一个), 且之和 > 0: {weights}",
                                  f"needs {len(entries)} weights (one per layer, in order) summing to > 0: {weights}",
                                  "例如 0.5,0.3,0.2", "e.g. 0.5,0.3,0.2")
        weighted_breaks = paramtext.numbers(weighted_breaks, "WEIGHTED_BREAKS", count=4, ascending=True)
    mapping = parse_class_mapping(hazard_mapping)

    # validate every input at once
    rasters = [RasterInput(f"h{i}", p, "hazard_classes", label=layer_name(p)) for i, (k, p) in enumerate(entries) if k == "raster"]
    vectors = [VectorInput(f"h{i}", p, "hazard_zones", field_map={"hazard_value": hazard_field}, label=layer_name(p))
               for i, (k, p) in enumerate(entries) if k == "vector"]
    if units:
        vectors.append(VectorInput("units", units, "units", label=layer_name(units)))
    problems, layers = [], {}
    try:
        check_rasters(rasters)
    except InputError as exc:
        problems.extend(exc.problems)
    try:
        layers = load_vectors(vectors) if vectors else {}
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ValidationError(problems)
    units_gdf = layers.get("units") if units else None
    progress.set(5)

    with contextlib.ExitStack() as stack:
        sources = []
        for i, (kind, path) in enumerate(entries):
            if kind == "raster":
                src = _RasterHazard(path, layer_name(path))
            else:
                src = _VectorHazard(layers[f"h{i}"], "hazard_value", mapping, layer_name(path))
            stack.callback(src.close)
            sources.append(src)
        first = sources[0]
        first_crs = first.src.crs if isinstance(first, _RasterHazard) else first.gdf.crs
        first_bounds = first.bounds_in(first_crs)
        crs = working_crs(first_crs, first_bounds, work_crs)
        crs, transform, width, height, cell = _grid(sources, units_gdf, crs, cell_size)
        for s in sources:
            s.attach(crs, transform, width, height, resampling)
        unit_geoms = None
        if units_gdf is not None:
            import shapely
            unit_geoms = units_gdf.to_crs(crs).geometry.to_numpy()
            unit_tree = shapely.STRtree(unit_geoms)
            per_unit = np.zeros((len(unit_geoms) + 1, classgrid.N_CLASSES), dtype=np.int64)
        cells = np.zeros(classgrid.N_CLASSES, dtype=np.int64)
        prof = raster_profile(transform, crs.to_wkt(), width, height, np.uint8, None)
        dst = stack.enter_context(rasterio_open_w(stack.enter_context(atomic_path(output)), prof))
        for win in progress.sub(5, 95).steps(list(classgrid.blocks(height, width, block_size))):
            import rasterio
            bt = rasterio.windows.transform(win, transform)
            comp = combine([s.block(win, bt) for s in sources], method, weights, weighted_breaks)
            dst.write(comp, 1, window=win)
            cells += np.bincount(comp.ravel(), minlength=classgrid.N_CLASSES)
            if unit_geoms is not None:
                labels = _unit_labels(unit_geoms, unit_tree, bt, comp.shape, classgrid.window_bounds(transform, win))
                per_unit += np.bincount((labels.astype(np.int64) * classgrid.N_CLASSES + comp).ravel(),
                                        minlength=per_unit.size).reshape(per_unit.shape)
    cell_km2 = cell * cell / 1e6
    result = {"output": str(output), "areas_km2": {k: float(cells[k] * cell_km2) for k in range(1, 5)},
              "cells": {k: int(cells[k]) for k in range(5)}, "cell_size": cell, "crs": crs.to_string(),
              "output_table": None, "output_units": None, "units": None}
    if units_gdf is not None:
        table = unit_table(units_gdf, per_unit[1:], cell_km2)
        result["units"] = table.to_dict("records")
        if output_table:
            result["output_table"] = write_table(table, output_table)
        if output_units:
            import geopandas as gpd
            out = gpd.GeoDataFrame(table, geometry=units_gdf.geometry.to_numpy(), crs=units_gdf.crs)
            result["output_units"] = write_vector(out, output_units)
    progress.set(100)
    return result


@contextlib.contextmanager
def rasterio_open_w(path, profile):
    import rasterio
    with rasterio.open(path, "w", **profile) as dst:
        yield dst


def _unit_labels(geoms, tree, transform, shape, bounds):
    """Unit number (1..n; 0 = outside every unit) of each cell centre of a block."""
    import shapely
    from .burn import rasterize
    idx = tree.query(shapely.box(*bounds))
    if not len(idx):
        return np.zeros(shape, np.int32)
    return rasterize(geoms[idx], idx + 1, out_shape=shape, transform=transform, fill=0, dtype=np.int32)


def unit_table(units_gdf, counts, cell_km2):
    """Per unit: code, name, area per class (km², %), dominant class (largest area among 1..4; 0 if
    none) and highest class present."""
    import pandas as pd
    from .classes import class_table
    labels = {c["value"]: c for c in class_table("hazard_classes")["classes"]}
    area = counts * cell_km2
    total = area.sum(axis=1)
    data = {}
    for col in ("code", "name"):
        if col in units_gdf.columns:
            data[col] = units_gdf[col].to_numpy()
    data["area_km2"] = total
    for k in range(5):
        data[f"class{k}_km2"] = area[:, k]
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in range(1, 5):
            data[f"class{k}_pct"] = np.where(total > 0, 100.0 * area[:, k] / np.where(total > 0, total, 1), 0.0)
    hazard = counts[:, 1:]
    # ties go to the higher class (就高)
    dominant = np.where(hazard.sum(axis=1) > 0, 4 - np.argmax(hazard[:, ::-1], axis=1), 0)
    highest = np.where(hazard.sum(axis=1) > 0, 4 - np.argmax(hazard[:, ::-1] > 0, axis=1), 0)
    data["dominant_class"] = dominant
    data["dominant_zh"] = [labels[int(k)]["zh"] for k in dominant]
    data["dominant_en"] = [labels[int(k)]["en"] for k in dominant]
    data["max_class"] = highest
    return pd.DataFrame(data)
