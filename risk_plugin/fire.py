"""Forest-fire hazard on the DEM grid: fuel flammability by forest type, slope, aspect, ignition
pressure near settlements, roads, graves and farmland, and past fires, combined into an index in
[0, 1] and cut into four classes (1 low … 4 very high; 0 outside forest).

>>> r = fire_hazard("dem.tif", "forest.gpkg", "fire.tif", settlements="buildings.gpkg",
...                 roads="roads.gpkg", fire_history="fire_history.gpkg", output_index="fire_index.tif")
>>> r["areas_km2"]

The DEM is read block by block with a halo as wide as the longest reach, so a distance to a road
just outside a block is still seen; slope and aspect come from risk_plugin.terrain (Horn 1981).
Scores and weights are in risk_plugin.definitions.fire with their sources.
"""
import contextlib
import math

import numpy as np

from . import classgrid, paramtext, terrain
from .definitions import fire as D
from .errors import parameter_error
from .inputs import RasterInput, VectorInput, check_rasters, load_vectors
from .io import atomic_path, layer_name, raster_profile
from .progress import ensure
from .validation import load_schema

FACTORS = ("fuel", "slope", "aspect", "ignition", "history")
SOURCES = ("settlements", "roads", "graves", "farmland")
NODATA_CLASS = 255


# --- parameters ------------------------------------------------------------------------------------
def flammability_table(overrides=None):
    """{canonical forest type: score in [0, 1]}: the defaults with ``overrides`` applied. Keys may be
    canonical ('conifer') or as in the data (针叶林); text 'conifer=1, 阔叶林=0.3' is accepted."""
    allowed = {k.strip().lower(): v for k, v in
               next(f for f in load_schema("forest_cover")["fields"] if f["name"] == "forest_type")["allowed"].items()}
    if isinstance(overrides, str):
        overrides = {k: v[0] for k, v in paramtext.mapping(overrides, "FLAMMABILITY", count=1).items()}
    table = dict(D.FLAMMABILITY)
    for key, value in (overrides or {}).items():
        canon = allowed.get(str(key).strip().lower())
        if canon is None:
            raise parameter_error("FLAMMABILITY", f"未知林分类型 '{key}'", f"unknown forest type '{key}'",
                                  f"可用: {sorted(set(allowed.values()))} 或其中文名", f"known types: {sorted(set(allowed.values()))} or their Chinese names")
        if not 0 <= float(value) <= 1:
            raise parameter_error("FLAMMABILITY", f"{key} 的燃烧性应在 0..1: {value}", f"flammability of {key} must be in 0..1: {value}",
                                  "填写 0 到 1 之间的数", "give a number between 0 and 1")
        table[canon] = float(value)
    return table


def weight_table(overrides=None):
    """{factor: weight >= 0}: the defaults with ``overrides`` ('fuel=0.4, slope=0.2') applied."""
    if isinstance(overrides, str):
        overrides = {k: v[0] for k, v in paramtext.mapping(overrides, "WEIGHTS", allowed=FACTORS, count=1).items()}
    table = dict(D.WEIGHTS)
    for key, value in (overrides or {}).items():
        if key not in FACTORS or float(value) < 0:
            raise parameter_error("WEIGHTS", f"权重 {key}={value} 无效", f"invalid weight {key}={value}",
                                  f"因子: {FACTORS}, 权重 >= 0", f"factors: {FACTORS}, weights >= 0")
        table[key] = float(value)
    return table


def reach_table(overrides=None):
    """{ignition source: reach in m}: defaults with ``overrides`` ('settlements=800, roads=400') applied."""
    if isinstance(overrides, str):
        overrides = {k: v[0] for k, v in paramtext.mapping(overrides, "IGNITION_REACH", allowed=SOURCES, count=1).items()}
    table = dict(D.IGNITION_REACH_M)
    for key, value in (overrides or {}).items():
        if key not in SOURCES or not float(value) > 0:
            raise parameter_error("IGNITION_REACH", f"影响距离 {key}={value} 无效", f"invalid reach {key}={value}",
                                  f"火源: {SOURCES}, 距离 > 0 (m)", f"sources: {SOURCES}, reach > 0 (m)")
        table[key] = float(value)
    return table


# --- factor scores (array in, array out) ----------------------------------------------------------------
def slope_score(slope_deg, breaks=D.SLOPE_BREAKS_DEG, scores=D.SLOPE_SCORES):
    """Score of each slope: scores[k] for slope in (breaks[k-1], breaks[k]]."""
    return np.asarray(scores, dtype=np.float32)[classgrid.classify(np.nan_to_num(slope_deg), breaks, np.int64)]


def aspect_score(aspect_deg, slope_deg, peak=D.ASPECT_PEAK_DEG, flat=D.FLAT_DEG):
    """0.5 + 0.5·cos(aspect − peak); 0.5 where flatter than ``flat`` degrees or without aspect."""
    score = 0.5 + 0.5 * np.cos(np.radians(np.asarray(aspect_deg, dtype=np.float64) - peak))
    return np.where((np.asarray(slope_deg) < flat) | (np.asarray(aspect_deg) < 0), 0.5, score).astype(np.float32)


def proximity_score(distance_m, reach_m):
    """1 at the source, falling linearly to 0 at ``reach_m``."""
    return np.clip(1.0 - np.asarray(distance_m, dtype=np.float64) / reach_m, 0.0, 1.0).astype(np.float32)


def combine_ignition(scores):
    """Independent chances: 1 − Π(1 − s)."""
    out = None
    for s in scores:
        out = (1.0 - s) if out is None else out * (1.0 - s)
    return None if out is None else (1.0 - out).astype(np.float32)


def hazard_index(factors, weights):
    """Weighted mean of the factor scores given (dict name → array); weights of missing factors drop out."""
    names = [k for k in FACTORS if factors.get(k) is not None]
    total = sum(weights[k] for k in names)
    if total <= 0:
        raise parameter_error("WEIGHTS", "可用因子的权重之和为 0", "the weights of the available factors sum to 0",
                              "提高可用因子的权重", "give the available factors some weight")
    return (sum(weights[k] * factors[k].astype(np.float64) for k in names) / total).astype(np.float32)


def fire_classes(index, breaks=D.CLASS_BREAKS):
    """Class 1..4 of an index: class k+1 holds index in (breaks[k-1], breaks[k]]."""
    return (1 + classgrid.classify(index, breaks)).astype(np.uint8)


# --- on the grid -------------------------------------------------------------------------------------------
def _distance(mask, cell_x, cell_y):
    """Distance (m) to the nearest True cell; +inf where the mask is empty (scipy EDT)."""
    from scipy import ndimage
    if not mask.any():
        return np.full(mask.shape, np.inf, np.float32)
    return ndimage.distance_transform_edt(~mask, sampling=(cell_y, cell_x)).astype(np.float32)


def _disc(radius_cells_x, radius_cells_y):
    ry, rx = int(math.floor(radius_cells_y)), int(math.floor(radius_cells_x))
    yy, xx = np.mgrid[-ry:ry + 1, -rx:rx + 1]
    return ((xx / max(radius_cells_x, 1e-9)) ** 2 + (yy / max(radius_cells_y, 1e-9)) ** 2 <= 1.0).astype(np.float32)


class _Layer:
    """Geometries in the DEM CRS with an STRtree, for burning into one haloed block at a time."""

    def __init__(self, gdf, crs):
        import shapely
        self.geoms = gdf.to_crs(crs).geometry.to_numpy()
        self.tree = shapely.STRtree(self.geoms)

    def mask(self, transform, shape, bounds, all_touched=True):
        import shapely
        from .burn import rasterize
        idx = self.tree.query(shapely.box(*bounds))
        if not len(idx):
            return np.zeros(shape, bool)
        return rasterize(self.geoms[idx], 1, out_shape=shape, transform=transform, fill=0,
                         all_touched=all_touched, dtype=np.uint8).astype(bool)

    def counts(self, transform, shape, bounds):
        """Number of features (points; polygons by their centroid) per cell."""
        import shapely
        idx = self.tree.query(shapely.box(*bounds))
        out = np.zeros(shape, np.float32)
        if not len(idx):
            return out
        pts = shapely.centroid(self.geoms[idx])
        inv = ~transform
        cols, rows = inv * (shapely.get_x(pts), shapely.get_y(pts))
        rows, cols = np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)
        ok = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
        np.add.at(out, (rows[ok], cols[ok]), 1.0)
        return out


def fire_hazard(dem, forest, output, output_index=None, settlements=None, roads=None, graves=None, farmland=None,
                fire_history=None, forest_field=None, flammability=None, weights=None, ignition_reach=None,
                class_breaks=D.CLASS_BREAKS, slope_breaks=D.SLOPE_BREAKS_DEG, slope_scores=D.SLOPE_SCORES,
                aspect_peak=D.ASPECT_PEAK_DEG, history_radius=D.HISTORY_RADIUS_M,
                history_saturation=D.HISTORY_SATURATION, block_size=D.BLOCK_SIZE, progress=None):
    """Write the class raster ``output`` (uint8: 0 not forest, 1..4, 255 DEM nodata) on the DEM grid
    and optionally the index (float32, NaN outside forest). Returns {'areas_km2': {1..4}, 'cells':
    {0..4}, 'forest_cells', 'factors': names used, 'weights': normalised weights}.
    """
    import rasterio
    from rasterio.transform import Affine
    progress = ensure(progress)
    flam = flammability_table(flammability)
    wts = weight_table(weights)
    reach = reach_table(ignition_reach)
    # empty text means the default
    class_breaks = paramtext.numbers(class_breaks or D.CLASS_BREAKS, "CLASS_BREAKS", count=3, ascending=True)
    slope_breaks = paramtext.numbers(slope_breaks or D.SLOPE_BREAKS_DEG, "SLOPE_BREAKS", count=4, ascending=True)
    slope_scores = paramtext.numbers(slope_scores or D.SLOPE_SCORES, "SLOPE_SCORES", count=5, minimum=0)
    if not history_radius > 0 or not history_saturation > 0:
        raise parameter_error("HISTORY_RADIUS / HISTORY_SATURATION", "应大于 0", "must be > 0", "改正数值", "correct the values")
    given = {"settlements": settlements, "roads": roads, "graves": graves, "farmland": farmland}
    if not (settlements or roads):
        raise parameter_error("SETTLEMENTS / ROADS", "至少需要居民点或道路之一来计算人为火源压力",
                              "give settlements and/or roads: ignition pressure needs them (almost all forest fires in China are lit by people)",
                              "选择 SETTLEMENTS 或 ROADS", "choose SETTLEMENTS or ROADS")
    check_rasters([RasterInput("dem", dem, "dem", label=layer_name(dem))])
    kinds = {"settlements": "buildings", "roads": "roads", "graves": "ignition_sources", "farmland": "ignition_sources"}
    specs = [VectorInput("forest", forest, "forest_cover", field_map={"forest_type": forest_field}, label=layer_name(forest))]
    specs += [VectorInput(k, v, kinds[k], label=layer_name(v)) for k, v in given.items() if v]
    if fire_history:
        specs.append(VectorInput("history", fire_history, "fire_history", label=layer_name(fire_history)))
    layers = load_vectors(specs)
    progress.set(5)

    with rasterio.open(dem) as src:
        crs, transform = src.crs, src.transform
        cx, cy = abs(transform.a), abs(transform.e)
        forest_gdf = layers["forest"]
        forest_w = forest_gdf.to_crs(crs)
        fuel_values = forest_w["forest_type"].map(flam).to_numpy(dtype=np.float32)
        forest_geoms = forest_w.geometry.to_numpy()
        import shapely
        forest_tree = shapely.STRtree(forest_geoms)
        sources = {k: _Layer(layers[k], crs) for k, v in given.items() if v}
        history = _Layer(layers["history"], crs) if fire_history else None
        reach_m = max([reach[k] for k in sources] + ([history_radius] if history else []))
        halo = int(math.ceil(reach_m / min(cx, cy))) + 1
        disc = _disc(history_radius / cx, history_radius / cy) if history else None
        names = ["fuel", "slope", "aspect", "ignition"] + (["history"] if history else [])
        total_w = sum(wts[k] for k in names)

        prof = raster_profile(transform, crs, src.width, src.height, np.uint8, NODATA_CLASS)
        iprof = raster_profile(transform, crs, src.width, src.height, np.float32, np.nan)
        row_area = classgrid.row_cell_areas(transform, crs, src.height)
        areas = np.zeros(classgrid.N_CLASSES)
        cells = np.zeros(classgrid.N_CLASSES, dtype=np.int64)
        blks = list(terrain.blocks(src.height, src.width, block_size, halo=1))
        with contextlib.ExitStack() as stack:
            dst = stack.enter_context(rasterio.open(stack.enter_context(atomic_path(output)), "w", **prof))
            idst = None
            if output_index:
                idst = stack.enter_context(rasterio.open(stack.enter_context(atomic_path(output_index)), "w", **iprof))
            for blk in progress.sub(5, 100).steps(blks):
                win = blk.window()
                h, w = blk.shape
                own_t = rasterio.windows.transform(win, transform)
                own_bounds = classgrid.window_bounds(transform, win)
                z = terrain.read_block(src, blk)
                nodata = np.isnan(blk.crop(z))
                idx = forest_tree.query(shapely.box(*own_bounds))
                fuel = classgrid.burn(forest_geoms[idx], fuel_values[idx], (h, w), own_t, dtype=np.float32, fill=-1.0) \
                    if len(idx) else np.full((h, w), -1.0, np.float32)
                in_forest = (fuel >= 0) & ~nodata
                cls = np.zeros((h, w), np.uint8)
                index = np.full((h, w), np.nan, np.float32)
                if in_forest.any():
                    slope = blk.crop(terrain.slope_deg(z, cx))
                    aspect = blk.crop(terrain.aspect_deg(z, cx))
                    # the haloed grid for distances: the block plus `halo` cells on every side
                    h_t = own_t * Affine.translation(-halo, -halo)
                    h_shape = (h + 2 * halo, w + 2 * halo)
                    h_bounds = (own_bounds[0] - halo * cx, own_bounds[1] - halo * cy,
                                own_bounds[2] + halo * cx, own_bounds[3] + halo * cy)
                    crop = (slice(halo, halo + h), slice(halo, halo + w))
                    ign = [proximity_score(_distance(src_layer.mask(h_t, h_shape, h_bounds), cx, cy)[crop], reach[k])
                           for k, src_layer in sources.items()]
                    factors = {"fuel": np.clip(fuel, 0, 1), "slope": slope_score(slope, slope_breaks, slope_scores),
                               "aspect": aspect_score(aspect, slope, aspect_peak), "ignition": combine_ignition(ign)}
                    if history:
                        from scipy.signal import fftconvolve
                        counts = history.counts(h_t, h_shape, h_bounds)
                        near = np.rint(fftconvolve(counts, disc, mode="same"))[crop] if counts.any() else np.zeros((h, w))
                        factors["history"] = np.minimum(near / history_saturation, 1.0).astype(np.float32)
                    index = hazard_index(factors, wts)
                    cls = np.where(in_forest, fire_classes(index, class_breaks), 0).astype(np.uint8)
                    index = np.where(in_forest, index, np.nan).astype(np.float32)
                cls[nodata] = NODATA_CLASS
                dst.write(cls, 1, window=win)
                if idst is not None:
                    idst.write(index, 1, window=win)
                valid = np.where(nodata, 0, cls)
                areas += classgrid.class_areas(valid, row_area[blk.row0:blk.row1])
                cells += np.bincount(valid.ravel(), minlength=classgrid.N_CLASSES)
    return {"output": str(output), "output_index": str(output_index) if output_index else None,
            "areas_km2": {k: float(areas[k] / 1e6) for k in range(1, 5)},
            "cells": {k: int(cells[k]) for k in range(5)}, "forest_cells": int(cells[1:].sum()),
            "factors": names, "weights": {k: wts[k] / total_w for k in names}}
