"""Burn shapely geometries into a grid with rasterio, handing it GeoJSON built in bulk.

rasterio.features.rasterize reads each shape's ``__geo_interface__``; shapely builds that one object at a
time in Python (~30 µs per polygon: 35 s for a 1 M-cell four-colour grid). Here the coordinates come out
in one vectorised ``get_coordinates`` call and are split per ring, which no library does for us."""
import numpy as np
import shapely

_POINT, _LINE, _RING, _POLYGON = 0, 1, 2, 3


def geojson_parts(geoms):
    """(list of GeoJSON mappings of the single parts of ``geoms``, index of each part's geometry).
    Multi-part geometries and collections are split into their parts, in order (so overlapping parts of an
    invalid multipolygon are burnt, where GDAL would leave them out by even-odd); empty parts are dropped."""
    geoms = np.asarray(geoms, dtype=object)
    parts, src = shapely.get_parts(geoms, return_index=True)
    while True:   # collections may hold multi-part members
        multi = shapely.get_type_id(parts) >= 4
        if not multi.any():
            break
        sub, k = shapely.get_parts(parts, return_index=True)
        parts, src = sub, src[k]
    keep = ~shapely.is_empty(parts)
    parts, src = parts[keep], src[keep]
    kind = shapely.get_type_id(parts)
    out = [None] * len(parts)
    pos = np.flatnonzero(kind == _POLYGON)
    if len(pos):
        rings, owner = shapely.get_rings(parts[pos], return_index=True)
        for p, coords in zip(pos, _split_rings_per_owner(rings, owner, len(pos))):
            out[p] = {"type": "Polygon", "coordinates": coords}
    for kid, name in ((_LINE, "LineString"), (_RING, "LinearRing")):   # rasterio burns the two differently
        pos = np.flatnonzero(kind == kid)
        for p, xy in zip(pos, _coords_per_geometry(parts[pos]) if len(pos) else []):
            out[p] = {"type": name, "coordinates": xy}
    pos = np.flatnonzero(kind == _POINT)
    if len(pos):
        xy = shapely.get_coordinates(parts[pos])
        for p, c in zip(pos, xy.tolist()):
            out[p] = {"type": "Point", "coordinates": c}
    return out, src


def _coords_per_geometry(geoms):
    # plain lists: rasterio skips (with a log line) some shapes whose coordinates are numpy arrays
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    cuts = np.r_[0, np.flatnonzero(np.diff(idx)) + 1, len(idx)].tolist()
    xy = xy.tolist()
    return [xy[a:b] for a, b in zip(cuts[:-1], cuts[1:])]


def _split_rings_per_owner(rings, owner, n):
    coords = _coords_per_geometry(rings)
    out = [[] for _ in range(n)]
    for o, c in zip(owner.tolist(), coords):
        out[o].append(c)
    return out


def rasterize(geoms, values=1, **kwargs):
    """``rasterio.features.rasterize`` of ``geoms`` burning ``values`` (one per geometry, or a scalar),
    later geometries over earlier ones as there; keyword arguments as rasterio's (out_shape, transform,
    fill, dtype, all_touched, out …)."""
    from rasterio.features import rasterize as rio_rasterize
    shapes, src = geojson_parts(geoms)
    if np.ndim(values) == 0:
        vals = [values] * len(shapes)
    else:
        vals = np.asarray(values)[src].tolist()
    if not shapes:
        # rasterio refuses an empty shape list; the result is the fill everywhere
        out = kwargs.get("out")
        if out is not None:
            return out
        return np.full(kwargs["out_shape"], kwargs.get("fill", 0), dtype=kwargs.get("dtype", "uint8"))
    return rio_rasterize(zip(shapes, vals), **kwargs)
