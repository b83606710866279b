"""Isochrone bands as polygons: travel minutes on a regular grid (each cell centre reached like a
person standing there: along the roads, then walking from the nearest road), classified into bands
(0–15, 15–30, 30–60 min …) and polygonised with rasterio.features.shapes.

>>> g = Grid.covering(bounds, cell=100.0)
>>> minutes = field.at(net.snap(g.centres(), max_snap))[0]            # traveltime.NodeTimes
>>> polys = band_polygons(g, minutes, (15, 30, 60))                   # [(band, MultiPolygon)]
"""
from dataclasses import dataclass

import numpy as np
import shapely
from rasterio import features
from rasterio.transform import from_origin

from .definitions import reach as D


@dataclass
class Grid:
    x0: float
    y1: float
    cell: float
    width: int
    height: int

    @classmethod
    def covering(cls, bounds, cell=D.ISOCHRONE_CELL, max_cells=D.ISOCHRONE_MAX_CELLS):
        """The grid over ``bounds`` (minx, miny, maxx, maxy) at ``cell`` m, coarsened to stay within max_cells."""
        minx, miny, maxx, maxy = (float(b) for b in bounds)
        w, h = max(maxx - minx, cell), max(maxy - miny, cell)
        cell = max(float(cell), float(np.sqrt(w * h / max_cells)))
        width, height = int(np.ceil(w / cell)), int(np.ceil(h / cell))
        return cls(minx, miny + height * cell, cell, width, height)

    @property
    def transform(self):
        return from_origin(self.x0, self.y1, self.cell, self.cell)

    def centres(self):
        col, row = np.meshgrid(np.arange(self.width), np.arange(self.height))
        return shapely.points(self.x0 + (col.ravel() + 0.5) * self.cell, self.y1 - (row.ravel() + 0.5) * self.cell)


def band_of(minutes, thresholds):
    """Band 1..n of each time (1: <= thresholds[0]; k: in (t[k-2], t[k-1]]), 0 beyond the last or not reached."""
    t = np.asarray(thresholds, float)
    m = np.asarray(minutes, float)
    band = np.searchsorted(t, m, side="left") + 1
    return np.where(np.isfinite(m) & (m <= t[-1]), band, 0).astype(np.int64)


def band_polygons(grid, minutes, thresholds):
    """[(band, geometry)] for the bands that hold any cell; one (Multi)Polygon per band, cells merged."""
    band = band_of(minutes, thresholds).reshape(grid.height, grid.width).astype(np.uint8)
    if not band.any():
        return []
    rings, values = [], []
    # rasterio yields one GeoJSON polygon per connected region (a C loop); here only their rings are read
    for geom, value in features.shapes(band, mask=band > 0, transform=grid.transform, connectivity=4):
        rings.append(shapely.geometry.shape(geom))
        values.append(int(value))
    polys, values = np.asarray(rings, dtype=object), np.asarray(values)
    out = []
    for b in np.unique(values):   # one per band (a handful)
        out.append((int(b), shapely.multipolygons(list(polys[values == b]))))
    return out
