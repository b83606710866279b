"""Hazard classes 0..4 from a class raster, or from polygons whose class field is mapped by a parameter.

>>> hz = HazardSource.from_polygons(zones_gdf, "FLOODPRONE", parse_class_mapping("yes=3; no=0"))
>>> hz.classes_at_points(points_gdf.geometry.values, "EPSG:32748")     # -> uint8 array
>>> hz = HazardSource.from_raster("composite_zoning.tif")

Text values are matched case-insensitively ('YES', 'yes' and 'Yes' are one value). Without a mapping,
a value must be a class number 0..4 or a class label of styles/classes.json 'hazard_classes'
(极高 / very high …). Depth rasters are refused with a pointer to riskmap:floodhazard.
"""
import json

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from . import classes as class_tables
from .definitions.exposure import MAX_CLASS
from .errors import InputError, Problem, parameter_error
from .io import layer_name

N_CLASSES = MAX_CLASS + 1


def _norm(value):
    return str(value).strip().lower()


def parse_class_mapping(text):
    """A text→class mapping from a parameter string; keys are lower-cased.

    Accepts ``'yes=3; no=0'``, ``'YES:3, NO:0'`` (one pair per ';', ',' or line) or JSON
    ``'{"yes": 3, "no": 0}'``. Classes must be integers 0..4.

    >>> parse_class_mapping("YES=3; no = 0")
    {'yes': 3, 'no': 0}
    """
    if text is None or not str(text).strip():
        return {}
    text = str(text).strip()
    pairs = []
    if text.startswith("{"):
        try:
            pairs = list(json.loads(text).items())
        except ValueError as exc:
            raise parameter_error("HAZARD_MAPPING", f"JSON 无法解析: {exc}", f"cannot parse JSON: {exc}",
                                  '写成 yes=3; no=0 或 {"yes": 3}', 'write yes=3; no=0 or {"yes": 3}')
    else:
        for part in text.replace("\n", ";").replace(",", ";").split(";"):
            if not part.strip():
                continue
            sep = "=" if "=" in part else ":"
            if sep not in part:
                raise parameter_error("HAZARD_MAPPING", f"“{part.strip()}” 缺少 = 号", f"'{part.strip()}' has no '='",
                                      "每项写成 值=等级, 如 yes=3", "write each pair as value=class, e.g. yes=3")
            key, value = part.rsplit(sep, 1)
            pairs.append((key, value))
    mapping = {}
    for key, value in pairs:
        try:
            cls = int(str(value).strip())
        except ValueError:
            cls = -1
        if not 0 <= cls <= MAX_CLASS:
            raise parameter_error("HAZARD_MAPPING", f"“{key}” 的等级 {value} 不是 0..{MAX_CLASS} 的整数",
                                  f"class {value!r} for {key!r} is not an integer 0..{MAX_CLASS}",
                                  "等级: 0 无, 1 低, 2 中, 3 高, 4 极高", "classes: 0 none, 1 low, 2 moderate, 3 high, 4 very high")
        mapping[_norm(key)] = cls
    return mapping


def map_classes(values, mapping, layer, field, index=None):
    """Hazard classes (uint8) for attribute ``values``; one InputError naming every unmapped value."""
    values = pd.Series(list(values), dtype=object)
    index = np.arange(len(values)) if index is None else np.asarray(index)
    present = values.notna() & (values.astype(str).str.strip() != "")
    out = np.full(len(values), -1, dtype=np.int64)
    if mapping:
        found = values.map(lambda v: mapping.get(_norm(v)) if v is not None else None)
        ok = found.notna().to_numpy()
        out[ok] = found[ok].astype("int64").to_numpy()
        how_zh, how_en = "在 HAZARD_MAPPING 中为这些值指定等级", "give these values a class in HAZARD_MAPPING"
    else:
        idx = class_tables.match_classes(class_tables.class_table("hazard_classes"), values)
        table = class_tables.class_table("hazard_classes")["classes"]
        ok = idx >= 0
        out[ok] = [int(table[i]["value"]) for i in idx[ok]]
        how_zh = "用 HAZARD_MAPPING 把文字值映射为等级 (如 yes=3; no=0), 或改用 0..4 的等级"
        how_en = "map text values to classes with HAZARD_MAPPING (e.g. yes=3; no=0), or use classes 0..4"
    bad = (out < 0) & present.to_numpy()
    if bad.any():
        shown = sorted(set(map(str, values[bad])))[:10]
        raise InputError(Problem(layer, f"字段值无法对应到危险性等级: {shown}", f"values not mapped to a hazard class: {shown}",
                                 how_zh, how_en, field=field, features=list(index[bad])))
    out[~present.to_numpy()] = 0
    if (out > MAX_CLASS).any():
        raise InputError(Problem(layer, f"等级超出 0..{MAX_CLASS}", f"classes outside 0..{MAX_CLASS}",
                                 "检查字段或映射", "check the field or the mapping", field=field,
                                 features=list(index[out > MAX_CLASS])))
    return out.astype(np.uint8)


def cell_size_m(crs, transform, lat=None):
    """Approximate (x, y) size of a raster cell in metres; geographic cells are scaled at ``lat``."""
    crs = CRS.from_user_input(crs)
    a, e = abs(transform.a), abs(transform.e)
    if crs.is_geographic:
        lat = 0.0 if lat is None else lat
        return a * 111_320.0 * np.cos(np.radians(lat)), e * 110_574.0
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return a * factor, e * factor


def check_north_up(src, label):
    if src.transform.b != 0 or src.transform.d != 0 or src.transform.e >= 0:
        raise InputError(Problem(label, "栅格有旋转或南北颠倒", "raster is rotated or not north-up",
                                 "用 gdal:warpreproject 重采样为北向上的栅格", "warp it to a north-up grid (gdal:warpreproject)"))


def grid_centres(transform, shape):
    """1-D centre x (per column) and y (per row) of a north-up grid."""
    h, w = shape
    xs = transform.c + (np.arange(w) + 0.5) * transform.a
    ys = transform.f + (np.arange(h) + 0.5) * transform.e
    return xs, ys


def sample_grid(src, transform, shape, crs, fill, band=1):
    """Values of raster ``src`` at the cell centres of a target grid (nearest cell), ``fill`` outside
    the raster and at nodata. Reads only the window the target grid covers."""
    xs, ys = grid_centres(transform, shape)
    st = src.transform
    same = CRS.from_user_input(crs) == CRS.from_user_input(src.crs)
    if same:
        cols = np.floor((xs - st.c) / st.a).astype(np.int64)
        rows = np.floor((ys - st.f) / st.e).astype(np.int64)
    else:
        tr = Transformer.from_crs(crs, src.crs, always_xy=True)
        gx, gy = np.meshgrid(xs, ys)
        hx, hy = tr.transform(gx, gy)
        cols = np.floor((hx - st.c) / st.a)
        rows = np.floor((hy - st.f) / st.e)
        bad = ~np.isfinite(cols) | ~np.isfinite(rows)
        cols = np.where(bad, -1, cols).astype(np.int64)
        rows = np.where(bad, -1, rows).astype(np.int64)
    inside_c = (cols >= 0) & (cols < src.width)
    inside_r = (rows >= 0) & (rows < src.height)
    out = None
    if inside_c.any() and inside_r.any():
        c0, c1 = cols[inside_c].min(), cols[inside_c].max() + 1
        r0, r1 = rows[inside_r].min(), rows[inside_r].max() + 1
        from rasterio.windows import Window
        data = src.read(band, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
        vals = data.filled(fill) if np.ma.isMaskedArray(data) else data
        cc, rr = np.clip(cols - c0, 0, c1 - c0 - 1), np.clip(rows - r0, 0, r1 - r0 - 1)
        if same:
            out = vals[np.ix_(rr, cc)]
            outside = ~(inside_r[:, None] & inside_c[None, :])
        else:
            out = vals[rr, cc]
            outside = ~(inside_r & inside_c)
        out = np.where(outside, fill, out)
    if out is None:
        out = np.full(shape, fill, dtype=src.dtypes[band - 1])
    return out


def sample_points(src, x, y, fill, band=1, band_rows=1024):
    """Values of ``src`` at points (given in the raster's CRS), read in row bands."""
    st = src.transform
    cols = np.floor((np.asarray(x) - st.c) / st.a)
    rows = np.floor((np.asarray(y) - st.f) / st.e)
    ok = np.isfinite(cols) & np.isfinite(rows)
    cols = np.where(ok, cols, -1).astype(np.int64)
    rows = np.where(ok, rows, -1).astype(np.int64)
    ok &= (cols >= 0) & (cols < src.width) & (rows >= 0) & (rows < src.height)
    out = np.full(len(cols), fill, dtype=np.float64)
    if not ok.any():
        return out
    from rasterio.windows import Window
    band_of = np.where(ok, rows // band_rows, -1)
    for b in np.unique(band_of[ok]):  # loop over row bands, not over points
        sel = np.flatnonzero(band_of == b)
        r0 = int(b * band_rows)
        r1 = min(r0 + band_rows, src.height)
        c0, c1 = int(cols[sel].min()), int(cols[sel].max()) + 1
        data = src.read(band, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
        vals = data.filled(fill) if np.ma.isMaskedArray(data) else data
        out[sel] = vals[rows[sel] - r0, cols[sel] - c0]
    return out


class HazardSource:
    """Hazard classes from a class raster (``path``) or polygons (``gdf`` + ``classes`` per feature)."""

    def __init__(self, path=None, gdf=None, classes=None, label=None):
        self.path, self.gdf, self.label = path, gdf, label or (layer_name(path) if path else "HAZARD")
        self.feature_classes = None if classes is None else np.asarray(classes, dtype=np.uint8)
        self._src = None
        self._by_crs = {}
        if path:
            from .io import open_raster
            self._src = open_raster(path, self.label)
            check_north_up(self._src, self.label)
            self.crs = CRS.from_user_input(self._src.crs)
        else:
            self.crs = CRS.from_user_input(gdf.crs)

    # --- construction ----------------------------------------------------------------------------
    @classmethod
    def from_raster(cls, path, label=None):
        return cls(path=path, label=label)

    @classmethod
    def from_polygons(cls, gdf, field, mapping=None, label=None, field_label=None):
        """``gdf`` as validated; ``field`` is the column holding the class or the text to map
        (``field_label``: the user's name for it, for messages)."""
        label = label or gdf.attrs.get("name", "HAZARD")
        if field not in gdf.columns:
            raise InputError(Problem(label, f"缺少字段 {field}", f"field {field} is missing",
                                     "在 HAZARD_FIELD 中选择存在的字段", "choose an existing field in HAZARD_FIELD", field=field))
        classes = map_classes(gdf[field].to_numpy(), mapping, label, field_label or field, gdf.index)
        keep = classes > 0
        return cls(gdf=gdf.loc[keep, [gdf.geometry.name]].copy(), classes=classes[keep], label=label)

    def footprint(self, crs):
        """The raster's extent as a polygon in ``crs`` (edges densified, so a reprojected box bends)."""
        import geopandas as gpd
        from shapely.geometry import box
        b = self._src.bounds
        edge = max(b.right - b.left, b.top - b.bottom) / 64
        outline = shapely.segmentize(box(*b), edge)
        return gpd.GeoSeries([outline], crs=self.crs).to_crs(crs).iloc[0]

    def covered_share(self, geoms, crs):
        """Share (0..1) of the area of ``geoms`` (polygons in ``crs``) inside the raster's extent;
        None for polygon hazards, whose zones cover only the hazardous land by design."""
        if not self.is_raster:
            return None
        geoms = np.asarray(geoms, dtype=object)
        total = float(shapely.area(geoms).sum())
        if total <= 0:
            return None
        with np.errstate(invalid="ignore"):
            inside = shapely.intersection(geoms, self.footprint(crs))
        return float(shapely.area(inside).sum()) / total

    @property
    def is_raster(self):
        return self._src is not None

    def close(self):
        if self._src is not None:
            self._src.close()

    # --- geometry in a CRS -----------------------------------------------------------------------
    def polygons(self, crs):
        """(geometries, classes, STRtree) of the hazard polygons in ``crs``; cached per CRS."""
        key = CRS.from_user_input(crs).to_wkt()
        if key not in self._by_crs:
            geoms = self.gdf.to_crs(crs).geometry.values if CRS.from_user_input(crs) != self.crs else self.gdf.geometry.values
            geoms = np.asarray(geoms, dtype=object)
            self._by_crs[key] = (geoms, self.feature_classes, shapely.STRtree(geoms))
        return self._by_crs[key]

    def zones(self, crs):
        """Disjoint zones per class (highest class wins where polygons overlap): [(class, geometry)]."""
        geoms, cls, _ = self.polygons(crs)
        out, higher = [], None
        for c in range(MAX_CLASS, 0, -1):  # at most four classes
            sel = geoms[cls == c]
            if not len(sel):
                continue
            zone = shapely.union_all(shapely.make_valid(sel))
            if higher is not None:
                zone = shapely.difference(zone, higher)
            higher = zone if higher is None else shapely.union(higher, zone)
            if not zone.is_empty:
                out.append((c, zone))
        return out

    def native_cell_m(self):
        """Cell size of the class raster in metres (None for polygons)."""
        if not self.is_raster:
            return None
        b = self._src.bounds
        lat = None
        if self.crs.is_geographic:
            lat = (b.bottom + b.top) / 2
        return min(cell_size_m(self.crs, self._src.transform, lat))

    # --- classes --------------------------------------------------------------------------------
    def _check_raster_values(self, vals):
        if vals.dtype.kind == "f":
            vals = np.where(np.isnan(vals), 0, vals)
            frac = vals != np.floor(vals)
            if frac.any():
                raise InputError(Problem(self.label, f"栅格含非整数值 (如 {float(vals[frac][0]):.3g}), 不是危险性等级栅格",
                                         f"raster has non-integer values (e.g. {float(vals[frac][0]):.3g}); it is not a class raster",
                                         "水深等栅格请先运行 riskmap:floodhazard 分级", "classify depth rasters with riskmap:floodhazard first"))
        if vals.size and (vals.min() < 0 or vals.max() > MAX_CLASS):
            bad = vals[(vals < 0) | (vals > MAX_CLASS)]
            raise InputError(Problem(self.label, f"栅格值 {float(bad[0]):g} 超出危险性等级 0..{MAX_CLASS}",
                                     f"raster value {float(bad[0]):g} is outside the hazard classes 0..{MAX_CLASS}",
                                     "用 riskmap:floodhazard / riskmap:compositezoning 生成 0..4 的等级栅格",
                                     "make a 0..4 class raster with riskmap:floodhazard / riskmap:compositezoning"))
        return vals.astype(np.uint8)

    def class_grid(self, transform, shape, crs, rule="centre"):
        """Class of every cell of a target grid: at the cell centre (raster: nearest cell); for
        polygons with ``rule='all_touched'`` the highest class touching the cell."""
        if self.is_raster:
            return self._check_raster_values(sample_grid(self._src, transform, shape, crs, fill=0))
        from .burn import rasterize
        geoms, cls, tree = self.polygons(crs)
        idx = tree.query(_grid_box(transform, shape), predicate="intersects")
        if not len(idx):
            return np.zeros(shape, np.uint8)
        idx = idx[np.argsort(cls[idx], kind="stable")]  # highest class burnt last wins
        return rasterize(geoms[idx], cls[idx].astype(np.int32), out_shape=shape, transform=transform,
                         fill=0, dtype="uint8", all_touched=(rule == "all_touched"))

    def classes_at_points(self, points, crs):
        """Class at each point (geometries in ``crs``): raster cell, or highest polygon class."""
        points = np.asarray(points, dtype=object)
        out = np.zeros(len(points), np.uint8)
        if not len(points):
            return out
        if self.is_raster:
            x, y = shapely.get_x(points), shapely.get_y(points)
            if CRS.from_user_input(crs) != self.crs:
                x, y = Transformer.from_crs(crs, self.crs, always_xy=True).transform(x, y)
            vals = sample_points(self._src, x, y, fill=0)
            return self._check_raster_values(np.where(np.isnan(vals), 0, vals))
        geoms, cls, tree = self.polygons(crs)
        pi, gi = tree.query(points, predicate="intersects")
        np.maximum.at(out, pi, cls[gi])
        return out

    def max_touched(self, geoms, crs, max_pairs=2_000_000):
        """Highest class of any hazard cell (or polygon) each geometry touches."""
        geoms = np.asarray(geoms, dtype=object)
        out = np.zeros(len(geoms), np.uint8)
        if not len(geoms):
            return out
        if not self.is_raster:
            hz, cls, tree = self.polygons(crs)
            gi, hi = tree.query(geoms, predicate="intersects")
            np.maximum.at(out, gi, cls[hi])
            return out
        if CRS.from_user_input(crs) != self.crs:
            geoms = shapely.transform(geoms, Transformer.from_crs(crs, self.crs, always_xy=True).transform,
                                      interleaved=False)
        st, src = self._src.transform, self._src
        b = shapely.bounds(geoms)
        c0 = np.clip(np.floor((b[:, 0] - st.c) / st.a), 0, src.width - 1).astype(np.int64)
        c1 = np.clip(np.floor((b[:, 2] - st.c) / st.a), 0, src.width - 1).astype(np.int64)
        r0 = np.clip(np.floor((b[:, 3] - st.f) / st.e), 0, src.height - 1).astype(np.int64)
        r1 = np.clip(np.floor((b[:, 1] - st.f) / st.e), 0, src.height - 1).astype(np.int64)
        # geometries entirely outside the raster touch nothing
        outside = (b[:, 2] < st.c) | (b[:, 0] > st.c + st.a * src.width) | \
                  (b[:, 1] > st.f) | (b[:, 3] < st.f + st.e * src.height)
        nw, nh = c1 - c0 + 1, r1 - r0 + 1
        n_cells = np.where(outside, 0, nw * nh)
        shapely.prepare(geoms)
        # candidate cells of every footprint's bounding box, expanded without a Python loop, in
        # chunks of about max_pairs (footprint, cell) pairs
        order = np.argsort(r0, kind="stable")
        csum = np.cumsum(n_cells[order])
        cuts = np.searchsorted(csum, np.arange(max_pairs, csum[-1], max_pairs), side="right") if len(csum) else []
        bounds_idx = [0, *np.unique(cuts).tolist(), len(order)]
        from rasterio.windows import Window
        for s, e in zip(bounds_idx[:-1], bounds_idx[1:]):
            sel = order[s:e]
            sel = sel[n_cells[sel] > 0]
            if not len(sel):
                continue
            reps = n_cells[sel]
            gid = np.repeat(sel, reps)
            local = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
            rr = r0[gid] + local // nw[gid]
            cc = c0[gid] + local % nw[gid]
            wr0, wr1, wc0, wc1 = rr.min(), rr.max() + 1, cc.min(), cc.max() + 1
            data = src.read(1, window=Window(wc0, wr0, wc1 - wc0, wr1 - wr0), masked=True)
            vals = self._check_raster_values(np.asarray(data.filled(0) if np.ma.isMaskedArray(data) else data)[rr - wr0, cc - wc0])
            cand = vals > 0
            if not cand.any():
                continue
            gid, rr, cc, vals = gid[cand], rr[cand], cc[cand], vals[cand]
            boxes = shapely.box(st.c + cc * st.a, st.f + (rr + 1) * st.e, st.c + (cc + 1) * st.a, st.f + rr * st.e)
            hit = shapely.intersects(geoms[gid], boxes)
            np.maximum.at(out, gid[hit], vals[hit])
        return out


def _grid_box(transform, shape):
    h, w = shape
    x0, x1 = transform.c, transform.c + w * transform.a
    y0, y1 = transform.f + h * transform.e, transform.f
    return shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
