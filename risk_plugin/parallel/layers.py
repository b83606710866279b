"""Buildings and facilities read by the workers, tile by tile: on Dask the driver never holds the layer.

Plan (driver, metadata only): ``pyogrio.read_info`` gives the layer's CRS, extent and feature count. The
extent is cut into a grid of tiles, about FEATURES_PER_PARTITION features each on average and at least
PARTITIONS_PER_WORKER per worker; the outer tiles are open outwards, so a stale extent loses nothing.

Rule: **a feature belongs to the tile holding its first vertex**, tiles half-open [x0, x1) × [y0, y1) in
the layer's CRS. The vertex lies on the geometry, so the geometry meets that tile's closed box and the
tile's bbox read (GDAL's spatial filter: the R-tree, then an exact intersects test) returns it; every
other tile that returns it (the feature crosses a border) drops it. Each feature is counted once, and
the sums of the tiles' counts are checked against the layer's feature count.

Pass 1, validation: each task reads its tile (``read_vector(bbox=…)``), keeps its features and checks them
with the engine's own ``check_used_fields``; it returns its problems, notes and feature count. Features
with a null or empty geometry are in no tile: when the tiles hold fewer features than the layer, a sweep
by feature ranges (bounded reads too) collects them and checks them. The driver returns every problem
of every tile in tile order (identical ones once) to ``load_inputs``, which raises them with the other
layers' problems: one bilingual ValidationError, as in one process. A layer-wide check runs per tile
here, so one failing check is reported once per tile that fails it (each naming its features).

Pass 2, counting: each task reads its tile again, normalises it the same way, classifies its features
and finds their units among the units meeting the tile's box (plus MARGIN_M) in the working CRS, in
layer order, so "the first unit" is the one-process one. A centroid outside that box (a feature far
larger than the margin) goes back to the driver, which assigns it with the full unit index. Results
are small: per unit × class counts of the units the tile touches, and one class per feature
(``building_classes``, put in FID order). Counts are integers and residents are summed per tile only
when every resident value is a whole number (then any order gives the same float sum); otherwise every
feature's (unit, class, residents) comes back and the driver sums in FID order, as one process does.

Not split (the driver reads the layer as before): fewer than MIN_FEATURES_TO_SPLIT features, runs
without units (the whole-area unit needs the layer's reprojected extent), a layer whose feature count
is unknown or does not add up.
"""
import math

import numpy as np
import shapely

from .. import exposure as _exposure
from .. import notices
from ..exposure import N_CLASSES, check_used_fields
from ..io import layer_name, read_vector, split_source
from . import counting as C
from .dispatch import Geometries

MARGIN_M = 1000.0          # units within this of a tile's box are sent with it (working CRS metres)
OPEN = 1e12                # the outer tiles' reads reach this far past the extent
SWEEP_FEATURES = 200_000   # features per read of the null-geometry sweep

# the one-process functions, captured at import (the exposure module's names are swapped during a run)
_load_used_fields = _exposure.load_used_fields
_count_buildings = _exposure.count_buildings
_count_facilities = _exposure.count_facilities


# ---------------------------------------------------------------------------------------------- worker side
def _first_vertices(geoms):
    """(x, y) of each geometry's first vertex; NaN for null / empty."""
    geoms = np.asarray(geoms, dtype=object)
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    if len(idx):
        first = np.r_[True, idx[1:] != idx[:-1]]
        x[idx[first]], y[idx[first]] = coords[first, 0], coords[first, 1]
    return x, y


def _read_tile(task, columns=None):
    """The tile's own features (first vertex inside it), as read_vector gives them (only ``columns``)."""
    kw = {"columns": list(columns)} if columns is not None else {}
    gdf = read_vector(task["source"], task["name"], bbox=tuple(task["read"]), **kw)
    if len(gdf):
        attrs = dict(gdf.attrs)
        x0, x1, y0, y1 = task["member"]
        x, y = _first_vertices(gdf.geometry.values)
        gdf = gdf[(x >= x0) & (x < x1) & (y >= y0) & (y < y1)]
        gdf.attrs.update(attrs)
    return gdf


def _quiet_check(gdf, spec, wanted, lines):
    with notices.collecting(lines.append):
        return check_used_fields(gdf, spec, wanted)


def _check_tile(task, spec, wanted):
    """Pass 1: (features, problems, notes, residents all whole numbers)."""
    lines = []
    with notices.collecting(lines.append):
        gdf = _read_tile(task)
    if not len(gdf):
        return 0, [], lines, True
    norm, probs = _quiet_check(gdf, spec, wanted, lines)
    whole = True
    if "residents" in norm.columns:
        r = norm["residents"].fillna(0).to_numpy(float)
        whole = bool(np.all(np.isfinite(r)) and np.all(r == np.round(r)) and np.abs(r).sum() < 2 ** 52)
    return len(gdf), probs, lines, whole


def _sweep_nulls(rng, source, name, spec, wanted):
    """Features [skip, skip + n) with a null or empty geometry: (count, their problems)."""
    skip, n = rng
    lines = []
    with notices.collecting(lines.append):
        gdf = read_vector(source, name, skip_features=skip, max_features=n)
    geom = gdf.geometry
    null = (geom.isna() | geom.is_empty).to_numpy()
    if not null.any():
        return 0, []
    attrs = dict(gdf.attrs)
    gdf = gdf[null]
    gdf.attrs.update(attrs)
    return int(null.sum()), _quiet_check(gdf, spec, wanted, lines)[1]


def _sparse(key, weights=None):
    u, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=weights, minlength=len(u)) if weights is not None else None
    return u, counts, sums


def _count_tile(task, spec, wanted, token, hazard_spec, wcrs, rule, kind, whole, columns):
    """Pass 2: per level, sparse counts of (local unit, class) of the tile's features with a centroid in
    the tile's box, the features outside it, and every feature's FID and class."""
    from ..crs import to_working
    from ..definitions import exposure as D
    lines = []
    with notices.collecting(lines.append):
        gdf = _read_tile(task, columns)
    empty = np.zeros(0, np.int64)
    if not len(gdf):
        return {"fid": empty, "cls": np.zeros(0, np.uint8), "levels": [None] * len(task["units"]), "out": None,
                "has_res": False}
    norm, _ = _quiet_check(gdf, spec, wanted, lines)
    b = to_working(norm, wcrs)
    geoms = np.asarray(b.geometry.values, dtype=object)
    hazard = C._open_hazard(token, hazard_spec)
    cls = C._feature_classes(geoms, hazard, wcrs, rule).astype(np.int64)
    cent = shapely.centroid(geoms)
    inside = shapely.intersects(shapely.box(*task["box"]), cent)
    fid = np.asarray(b.index, dtype=np.int64)
    res = b["residents"].fillna(0).to_numpy(float) if kind == "buildings" and "residents" in b.columns else None
    ftype = b["facility_type"].to_numpy() if kind == "facilities" else None
    levels = []
    for units in task["units"]:
        local = C._assign_units(cent[inside], units.array)
        key = local * N_CLASSES + cls[inside]
        if kind == "facilities":
            levels.append({t: _sparse(key[ftype[inside] == t]) for t in D.FACILITY_TYPES})
        elif res is not None and not whole:
            levels.append({"key": key})                     # summed by the driver in FID order
        else:
            levels.append(_sparse(key, res[inside] if res is not None else None))
    out = None
    if not inside.all():
        o = ~inside
        out = {"fid": fid[o], "cent": Geometries(cent[o]), "cls": cls[o],
               "res": res[o] if res is not None else None, "ftype": ftype[o] if ftype is not None else None}
    return {"fid": fid, "cls": cls.astype(np.uint8), "levels": levels, "out": out, "has_res": res is not None,
            "inside_fid": fid[inside] if res is not None and not whole else None,
            "inside_res": res[inside] if res is not None and not whole else None}


# ---------------------------------------------------------------------------------------------- driver side
def _schema_columns(fields, spec, wanted):
    """The columns pass 2 reads: the ones check_used_fields keeps and matches to a schema field (same
    drop and match rules on the layer's field names), so the normalised values are the same."""
    from ..validation import find_field, load_schema, match_fields
    specs = load_schema(spec.kind).get("fields", [])
    fmap = {k: v for k, v in (spec.field_map or {}).items() if v}
    drop = set()
    if wanted is not None:
        drop = {find_field(fields, f, spec.field_map.get(f["name"])) for f in specs
                if f["name"] not in wanted and not f["required"]}
    keep = [c for c in fields if c not in drop]
    matched = match_fields(keep, specs, fmap)
    return [c for c in keep if c in {col for col, _ in matched.values()}]


class PartitionedLayer:
    """A buildings or facilities layer left on disk: its tiles, checked and counted by the workers."""

    def __init__(self, spec, wanted, source, name, crs, extent, n_features, tiles):
        self.spec, self.wanted, self.source, self.name = spec, wanted, source, name
        self.crs, self.extent, self.n_features, self.tiles = crs, extent, n_features, tiles
        self.whole = True
        self.attrs = {"name": name, "source": str(spec.source)}

    def __len__(self):
        return self.n_features

    @classmethod
    def plan(cls, spec, wanted, n_workers):
        """Tiles from the layer's metadata; None when the layer is not split (module docstring)."""
        import pyogrio
        from ..io import _pick_layer
        path, layer = split_source(spec.source)
        name = layer_name(spec.source)
        try:
            if layer is None:
                layer = _pick_layer(path, name) or str(pyogrio.list_layers(path)[0][0])
            info = pyogrio.read_info(path, layer=layer, force_feature_count=True, force_total_bounds=True)
        except Exception:  # noqa: BLE001 - the one-process reader reports an unreadable layer
            return None
        n = int(info.get("features") or -1)
        bounds = info.get("total_bounds")
        if n < max(C.MIN_FEATURES_TO_SPLIT, 1) or bounds is None or not np.all(np.isfinite(bounds)):
            return None
        x0, y0, x1, y1 = map(float, bounds)
        parts = max(C.PARTITIONS_PER_WORKER * n_workers, int(math.ceil(n / C.FEATURES_PER_PARTITION)))
        w, h = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
        nx = max(1, int(round(math.sqrt(parts * w / h))))
        ny = max(1, int(math.ceil(parts / nx)))
        xs, ys = np.linspace(x0, x1, nx + 1), np.linspace(y0, y1, ny + 1)
        tiles = []
        for j in range(ny):
            for i in range(nx):
                member = [xs[i], xs[i + 1], ys[j], ys[j + 1]]
                read = [xs[i], ys[j], xs[i + 1], ys[j + 1]]
                if i == 0:
                    member[0], read[0] = -np.inf, x0 - OPEN
                if i == nx - 1:
                    member[1], read[2] = np.inf, x1 + OPEN
                if j == 0:
                    member[2], read[1] = -np.inf, y0 - OPEN
                if j == ny - 1:
                    member[3], read[3] = np.inf, y1 + OPEN
                tiles.append({"member": member, "read": read, "finite": (xs[i], ys[j], xs[i + 1], ys[j + 1])})
        source = f"{path}|layername={layer}"
        out = cls(spec, wanted, source, name, info.get("crs"), (x0, y0, x1, y1), n, tiles)
        out.columns = _schema_columns([str(c) for c in info.get("fields", [])], spec, wanted)
        return out

    def _tasks(self):
        return [{"source": self.source, "name": self.name, "read": t["read"], "member": t["member"]} for t in self.tiles]

    def check(self, dispatcher):
        """Pass 1: every tile's problems (tile order, identical ones once); None when the tiles do not add
        up to the layer (then the driver reads it)."""
        res = dispatcher.map("features_check", _check_tile, self._tasks(), self.spec, self.wanted)
        problems, seen, lines = [], set(), []
        held = 0
        for n, probs, notes, whole in res:
            held += n
            self.whole &= whole
            problems.extend(probs)
            lines.extend(notes)
        if held < self.n_features:            # null / empty geometries are in no tile
            step = SWEEP_FEATURES
            ranges = [(s, min(step, self.n_features - s)) for s in range(0, self.n_features, step)]
            sweep = dispatcher.map("features_sweep", _sweep_nulls, ranges, self.source, self.name, self.spec,
                                   self.wanted)
            held += sum(n for n, _ in sweep)
            for _, probs in sweep:
                problems.extend(probs)
        if held != self.n_features:
            return None
        for line in dict.fromkeys(lines):
            notices.emit(line)
        out = []
        for p in problems:
            k = (p.layer, p.zh, p.en, p.field, tuple(map(str, p.features)))
            if k not in seen:
                seen.add(k)
                out.append(p)
        return out

    def _pieces(self, units_w, trees, wcrs):
        from pyproj import CRS, Transformer
        same = self.crs is not None and CRS.from_user_input(self.crs) == wcrs
        tf = None if same else Transformer.from_crs(self.crs, wcrs, always_xy=True)
        tasks, subsets = self._tasks(), []
        t = np.linspace(0, 1, 21)
        for task, tile in zip(tasks, self.tiles):
            a, b, c, d = tile["finite"]
            if tf is None:
                box = (a, b, c, d)
            else:
                xs = np.r_[a + (c - a) * t, np.full(21, c), c - (c - a) * t, np.full(21, a)]
                ys = np.r_[np.full(21, b), b + (d - b) * t, np.full(21, d), d - (d - b) * t]
                X, Y = tf.transform(xs, ys)
                box = (np.min(X), np.min(Y), np.max(X), np.max(Y))
            box = (box[0] - MARGIN_M, box[1] - MARGIN_M, box[2] + MARGIN_M, box[3] + MARGIN_M)
            task["box"] = box
            subs = [np.sort(tree.query(shapely.box(*box), predicate="intersects")) for tree in trees]
            task["units"] = [Geometries(np.asarray(u.geometry.values, dtype=object)[s]) for u, s in zip(units_w, subs)]
            subsets.append(subs)
        return tasks, subsets

    def count(self, dispatcher, kind, units_w, trees, hazard, wcrs, rule):
        """Pass 2: (class of each feature in FID order, per-level results as the one-process counter's)."""
        from ..definitions import exposure as D
        tasks, subsets = self._pieces(units_w, trees, wcrs)
        spec = C.HazardSpec.of(hazard)
        hz = dispatcher.share(spec) if spec is not None and spec.path is None else spec
        res = dispatcher.map("features_count", _count_tile, tasks, self.spec, self.wanted, dispatcher.token, hz,
                             wcrs, rule, kind, self.whole, self.columns)
        fid = np.concatenate([r["fid"] for r in res])
        order = np.argsort(fid, kind="stable")
        cls = np.concatenate([r["cls"] for r in res]).astype(np.int64)[order]
        sizes = [(len(u) + 1) * N_CLASSES for u in units_w]
        outs = [r["out"] for r in res if r["out"] is not None]
        o_cent = np.concatenate([o["cent"].array for o in outs]) if outs else np.zeros(0, object)
        o_cls = np.concatenate([o["cls"] for o in outs]) if outs else np.zeros(0, np.int64)
        o_keys = [C._assign_units(o_cent, u.geometry.values, tree) * N_CLASSES + o_cls
                  for u, tree in zip(units_w, trees)]

        def glob(key, sub):
            unit = key // N_CLASSES
            if not len(sub):                          # no unit near the tile: everything is outside (row 0)
                return key % N_CLASSES
            return np.where(unit > 0, sub[np.maximum(unit - 1, 0)] + 1, 0) * N_CLASSES + key % N_CLASSES

        def add(flat, sub, sparse, weights=False):
            if sparse is None or not len(sparse[0]):
                return
            flat[glob(sparse[0], sub)] += sparse[2] if weights else sparse[1]

        if kind == "facilities":
            o_type = np.concatenate([o["ftype"] for o in outs]) if outs else np.zeros(0, object)
            fac = []
            for lv, size in enumerate(sizes):
                d = {}
                for t in D.FACILITY_TYPES:
                    flat = np.zeros(size)
                    for r, subs in zip(res, subsets):
                        if r["levels"][lv] is not None:
                            add(flat, subs[lv], r["levels"][lv][t])
                    flat += np.bincount(o_keys[lv][o_type == t], minlength=size)
                    d[t] = flat.reshape(-1, N_CLASSES)
                fac.append(d)
            return cls, fac
        has_res = any(r["has_res"] for r in res)
        o_res = np.concatenate([o["res"] for o in outs]) if outs and has_res else np.zeros(0)
        bld, resid = [], []
        for lv, size in enumerate(sizes):
            flat = np.zeros(size)
            rflat = np.zeros(size) if has_res else None
            if has_res and not self.whole:            # every feature's key and residents, summed in FID order
                keys, fids, ws = [o_keys[lv]], [np.concatenate([o["fid"] for o in outs]) if outs else
                                               np.zeros(0, np.int64)], [o_res]
                for r, subs in zip(res, subsets):
                    if r["levels"][lv] is not None:
                        keys.append(glob(r["levels"][lv]["key"], subs[lv]))
                        fids.append(r["inside_fid"])
                        ws.append(r["inside_res"])
                keys, fids, ws = np.concatenate(keys), np.concatenate(fids), np.concatenate(ws)
                o = np.argsort(fids, kind="stable")
                bld.append(np.bincount(keys[o], minlength=size).reshape(-1, N_CLASSES).astype(float))
                resid.append(np.bincount(keys[o], weights=ws[o], minlength=size).reshape(-1, N_CLASSES))
                continue
            for r, subs in zip(res, subsets):
                if r["levels"][lv] is not None:
                    add(flat, subs[lv], r["levels"][lv])
                    if has_res:
                        add(rflat, subs[lv], r["levels"][lv], weights=True)
            flat += np.bincount(o_keys[lv], minlength=size)
            bld.append(flat.reshape(-1, N_CLASSES))
            if has_res:
                rflat += np.bincount(o_keys[lv], weights=o_res, minlength=size)
                resid.append(rflat.reshape(-1, N_CLASSES))
            else:
                resid.append(None)
        return cls, bld, resid


# ---------------------------------------------------------------------------------------------- seams
def make_load_used_fields(dispatcher, original=_load_used_fields):
    """An ``exposure.load_used_fields`` that leaves buildings and facilities on disk (PartitionedLayer),
    checked tile by tile on the workers, when the run has units."""

    def load_used_fields(specs, used):
        has_units = any(s.key.startswith("units") and s.source for s in specs)
        out, problems = {}, []
        for spec in specs:
            if has_units and spec.key in ("buildings", "facilities") and spec.source:
                layer = PartitionedLayer.plan(spec, used.get(spec.key), dispatcher.n_workers)
                probs = layer.check(dispatcher) if layer is not None else None
                if probs is not None:
                    out[spec.key] = layer
                    problems.extend(probs)
                    continue
            o, p = original([spec], used)
            out.update(o)
            problems.extend(p)
        return out, problems

    return load_used_fields


def make_counter(dispatcher, kind, original):
    """An ``exposure.count_buildings`` / ``count_facilities`` that counts a PartitionedLayer on the workers."""

    def count(layer, units_w, trees, hazard, wcrs, rule):
        if not isinstance(layer, PartitionedLayer):
            return original(layer, units_w, trees, hazard, wcrs, rule)
        return layer.count(dispatcher, kind, units_w, trees, hazard, wcrs, rule)

    return count
