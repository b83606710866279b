"""Class rasters on a grid, block by block: windows, class breaks, burning zones, cell areas.

>>> for win in blocks(height, width, 1024): ...
>>> classify(np.array([0.0, 0.5, 0.51, 3.0]), (0.0, 0.5, 1.0, 2.0))   # class k: value in (b_k, b_k+1]
array([0, 1, 2, 4], dtype=uint8)
>>> transform, width, height = snap_grid((0, 0, 95, 40), 10.0)         # 10 × 4 cells
"""
import math

import numpy as np
from rasterio.transform import from_origin
from rasterio.windows import Window

N_CLASSES = 5  # hazard classes 0 (none) .. 4 (very high), styles/classes.json 'hazard_classes'


def blocks(height, width, size):
    """Windows of at most size × size cells covering a height × width grid, row-major."""
    for row in range(0, height, size):
        for col in range(0, width, size):
            yield Window(col, row, min(size, width - col), min(size, height - row))


def classify(values, breaks, dtype=np.uint8):
    """Class of each value: 0 at or below breaks[0]; k where breaks[k-1] < value <= breaks[k];
    len(breaks) above the last break. NaN is the caller's business (it lands in the top class).

    Breaks are compared in the precision of the values: a float32 depth of 0.2 is *at* a break of 0.2
    (in float64 the stored 0.2f is 0.200000003 and would fall above it)."""
    values = np.asarray(values)
    kind = values.dtype if values.dtype.kind == "f" else np.float64
    return np.searchsorted(np.asarray(breaks, dtype=kind), values, side="left").astype(dtype)


def snap_grid(bounds, cell):
    """(transform, width, height) of a grid of ``cell`` metres covering ``bounds``, its origin
    snapped to whole multiples of the cell size so grids from different runs align."""
    minx, miny, maxx, maxy = bounds
    x0, y1 = math.floor(minx / cell) * cell, math.ceil(maxy / cell) * cell
    width = max(1, int(math.ceil((maxx - x0) / cell - 1e-9)))
    height = max(1, int(math.ceil((y1 - miny) / cell - 1e-9)))
    return from_origin(x0, y1, cell, cell), width, height


def window_bounds(transform, window):
    """(minx, miny, maxx, maxy) of a window of a north-up grid."""
    from rasterio.windows import bounds
    return bounds(window, transform)


def row_cell_areas(transform, crs, height):
    """Area in m² of one cell in each row of a north-up grid (length ``height``).

    Projected CRS: |a·e| in the CRS unit squared, converted to m². Geographic CRS: the
    ellipsoidal area of a cell of that row (pyproj Geod), since cells shrink towards the poles.
    """
    from pyproj import CRS
    crs = CRS.from_user_input(crs)
    a, e = transform.a, transform.e
    if not crs.is_geographic:
        factor = crs.axis_info[0].unit_conversion_factor or 1.0
        return np.full(height, abs(a * e) * factor * factor)
    geod = crs.get_geod()
    x0 = transform.c
    tops = transform.f + e * np.arange(height)
    # one Geod call per row (not per cell): a row of a lat/lon grid has cells of one area
    return np.array([abs(geod.polygon_area_perimeter([x0, x0 + a, x0 + a, x0], [t, t, t + e, t + e])[0])
                     for t in tops])


def burn(geometries, values, shape, transform, all_touched=False, dtype=np.uint8, fill=0):
    """Rasterise polygons with their values; where they overlap the highest value wins."""
    from .burn import rasterize
    values = np.asarray(values)
    order = np.argsort(values, kind="stable")  # drawn in ascending order: the highest lands on top
    geoms = np.asarray(geometries, dtype=object)[order]
    return rasterize(geoms, values[order], out_shape=shape, transform=transform, fill=fill,
                     all_touched=all_touched, dtype=dtype)


def features_in(gdf, bounds):
    """Positional indices of the features of ``gdf`` whose envelope meets ``bounds`` (STRtree)."""
    import shapely
    return gdf.sindex.query(shapely.box(*bounds))


def class_areas(classes, row_areas, n=N_CLASSES):
    """Area per class value 0..n-1 of a class block, given the cell area of each of its rows."""
    counts = np.zeros(n)
    h, w = classes.shape
    if np.all(row_areas == row_areas[0]):
        return np.bincount(classes.ravel(), minlength=n)[:n] * row_areas[0]
    weights = np.broadcast_to(np.asarray(row_areas, dtype=np.float64)[:h, None], (h, w))
    counts += np.bincount(classes.ravel(), weights=weights.ravel(), minlength=n)[:n]
    return counts
