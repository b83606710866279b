"""The shelters job's demand layer (buildings, settlements: points or polygons) read and validated by the
workers, tile by tile: on Dask the driver never reads the layer whole.

Tiles and the rule that places each feature in one tile are :class:`layers.PartitionedLayer`'s (the layer's
metadata only; a feature belongs to the tile holding its first vertex). Each task reads its tile, checks it
as ``load_demand`` does (``check_vector`` on the demand_units schema) and returns its problems and, for its
features, only what the job keeps: the FID, the point on surface (as ``load_demand`` takes it) as x, y in
the working CRS, people, and names when the tile has any. The driver puts these in FID order, which is the
order of the one-process read, so the job's numbers are the same. Features with a null or empty geometry are in no tile: layers' sweep checks them (always a
problem). Every tile's problems come back together in one ValidationError, identical ones once; a layer-wide
check is run per tile, so one failing check may be reported once per tile that fails it.

What the driver holds per demand feature: x, y, people, FID, its tile and its name as a categorical (one
byte when the layer has no names): ~45 bytes, not a shapely point (~170 bytes) nor the polygon. The
GeoDataFrame ``load_demand`` returns has no geometries (None, already in the working CRS): the reach's
partitioning, its pieces and the units join make points from the coordinates, POINTS_CHUNK or one piece at
a time (:func:`in_chunks`; per-point functions, so the same results). The per-demand output re-reads the
tiles on the workers (:mod:`.demand_out`). Not split (the driver reads the layer as before): rasters, fewer
than MIN_FEATURES_TO_SPLIT features, a layer whose feature count is unknown or does not add up.
"""
import numpy as np
import pandas as pd

from .. import notices
from ..errors import ValidationError
from ..inputs import VectorInput
from . import layers as L


POINTS_CHUNK = 100_000     # demand points made at a time on the driver from their coordinates (~170 B each)


def _work_xy(geom, crs, work):
    """x, y of the points once in the working CRS (as ``to_working`` takes them there)."""
    import geopandas as gpd
    import shapely
    from ..crs import to_working
    g = to_working(gpd.GeoDataFrame(geometry=geom, crs=crs), work).geometry.values if work is not None else geom
    return shapely.get_x(g), shapely.get_y(g)


def _demand_tile(task, spec, work):
    """(features, problems, notes, fid, x, y, people, names, CRS) of the tile's own features: the points in the
    working CRS as coordinates, names None when the tile has none (no values when the tile has problems)."""
    from ..validation import check_vector
    lines = []
    nothing = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0), None, None)
    with notices.collecting(lines.append):
        gdf = L._read_tile(task)
    if not len(gdf):
        return (0, [], lines) + nothing
    label = spec.label or gdf.attrs.get("name", spec.key)
    with notices.collecting(lines.append):
        norm, probs, _ = check_vector(gdf, spec.kind, label, spec.field_map, spec.repair)
    if probs:
        return (len(gdf), probs, lines) + nothing
    from ..shelter_run import demand_points
    geom, people, names = demand_points(norm)          # as the one-process load_demand takes them
    x, y = _work_xy(geom, norm.crs, work)
    named = names if pd.notna(names).any() else None
    return len(gdf), [], lines, np.asarray(norm.index, np.int64), x, y, people, named, norm.crs


def in_chunks(fn, x, y, *args):
    """np.concatenate([fn(points of a chunk, *args) …]): a per-point function on points made POINTS_CHUNK at a
    time from their coordinates, so the driver never holds them all as geometries."""
    import shapely
    if not len(x):
        return fn(np.zeros(0, object), *args)
    return np.concatenate([fn(shapely.points(x[s:s + POINTS_CHUNK], y[s:s + POINTS_CHUNK]), *args)
                           for s in range(0, len(x), POINTS_CHUNK)])


def make_load_demand(dispatcher, original, state=None):
    """A ``shelter_run.load_demand`` whose vector layers are read and checked by the workers per tile.
    ``state`` (a dict) receives the plan, the spec, and per demand unit (FID order) its FID and tile,
    for the per-tile output (:mod:`.demand_out`)."""
    state = {} if state is None else state

    def load_demand(source, demand_field=None, label="DEMAND", block_rows=1024, repair=False):
        import geopandas as gpd
        from ..shelter_run import is_raster
        if is_raster(source):
            return original(source, demand_field, label, block_rows, repair)
        spec = VectorInput("demand", source, "demand_units", {"people": demand_field}, label=label, repair=repair)
        layer = L.PartitionedLayer.plan(spec, None, dispatcher.n_workers)
        if layer is None:
            return original(source, demand_field, label, block_rows, repair)
        work = state.get("work") or layer.crs
        res = dispatcher.map("demand_check", _demand_tile, layer._tasks(), spec, work)
        held = sum(r[0] for r in res)
        problems = [p for r in res for p in r[1]]
        if held < layer.n_features:            # null / empty geometries are in no tile: always a problem
            step = L.SWEEP_FEATURES
            ranges = [(s, min(step, layer.n_features - s)) for s in range(0, layer.n_features, step)]
            sweep = dispatcher.map("demand_sweep", L._sweep_nulls, ranges, layer.source, layer.name, spec, None)
            held += sum(n for n, _ in sweep)
            problems += [p for _, probs in sweep for p in probs]
        if held != layer.n_features:
            return original(source, demand_field, label, block_rows, repair)
        for line in dict.fromkeys(x for r in res for x in r[2]):
            notices.emit(line)
        if problems:
            seen, out = set(), []
            for p in problems:
                k = (p.layer, p.zh, p.en, p.field, tuple(map(str, p.features)))
                if k not in seen:
                    seen.add(k)
                    out.append(p)
            raise ValidationError(out)
        fid = np.concatenate([r[3] for r in res])
        order = np.argsort(fid, kind="stable")
        x, y = np.concatenate([r[4] for r in res])[order], np.concatenate([r[5] for r in res])[order]
        people = np.concatenate([r[6] for r in res])[order]
        if any(r[7] is not None for r in res):
            names = pd.Categorical(np.concatenate([r[7] if r[7] is not None else np.full(len(r[3]), None, object)
                                                   for r in res])[order])
        else:
            names = pd.Categorical.from_codes(np.full(len(fid), -1, np.int8), categories=pd.Index([], dtype=object))
        tile = np.concatenate([np.full(len(r[3]), k, np.int32) for k, r in enumerate(res)])[order]
        state.update(layer=layer, spec=spec, tile=tile, fid=fid[order], xy=(x, y))
        # no geometries: the points are (x, y) in the working CRS, made into points a chunk or a piece at a time
        out = gpd.GeoDataFrame({"people": people, "name": names, "source_fid": fid[order]},
                               geometry=np.full(len(fid), None, object), crs=work)
        return out, "vector"

    return load_demand
