"""Layers for the web map: recognise each layer's style, simplify, reproject to lon/lat and encode.

>>> lay = prepare_vector("out/fourcolor.gpkg", "四色风险", tolerance=5.0)
>>> lay.style.key, len(lay.geometries)        # ('risk_levels', 1600)
>>> img = prepare_raster("out/zoning.tif", "综合区划", target_crs="EPSG:3857")

Recognition (which class table styles a layer) is shared with the print atlas: :func:`recognise`.
Colours and labels come from styles/classes.json through :mod:`risk_plugin.classes`.
"""
import base64
import math
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import numpy as np
import pandas as pd

from . import classes as cl
from .crs import require_crs, to_working, working_crs
from .definitions import webmap as D
from .errors import input_error
from .io import is_raster_file, open_raster, read_vector, split_source
from .validation import require_degrees_in_range

GEOM_FAMILY = {"Point": "point", "MultiPoint": "point", "LineString": "line", "MultiLineString": "line",
               "LinearRing": "line", "Polygon": "polygon", "MultiPolygon": "polygon"}


@dataclass
class Styling:
    """How a layer is drawn: by a class table ('classes'), a base style ('base') or a ramp ('ramp')."""
    kind: str
    key: str
    field: Optional[str] = None


@dataclass
class LegendEntry:
    label: str
    color: str
    shape: str = "box"          # box | line | outline | circle


@dataclass
class VectorLayer:
    name: str
    family: str                 # point | line | polygon
    style: Styling
    geometries: List[str]       # GeoJSON geometry strings in lon/lat
    class_index: Optional[np.ndarray]   # index into the class table per feature (-1 = unclassified)
    popup_labels: List[str]
    popup_rows: list            # one list of values per feature (same order as popup_labels)
    label_column: Optional[int] = None  # popup column used as a permanent label (townships)
    dissolved: bool = False
    notes: List[str] = field(default_factory=list)
    lookup: Optional[dict] = None       # a dissolved grid's cells, found by where the user clicks (grid_lookup)

    def __len__(self):
        return len(self.geometries)


@dataclass
class RasterLayer:
    name: str
    style: Styling
    png: bytes
    bounds: tuple               # (south, west, north, east) in degrees
    legend: List[LegendEntry]
    size: tuple                 # (height, width) of the image


def is_raster(source):
    return is_raster_file(source)


def display_name(source):
    """'county/townships.gpkg' -> 'townships'; 'x.gpkg|layername=roads' -> 'roads'."""
    path, layer = split_source(str(source))
    return layer or Path(path).stem


def _find_column(columns, names):
    """The first of ``names`` among ``columns`` (case-insensitive), also when a shapefile cut it to 10 characters."""
    lookup = {str(c).strip().lower(): c for c in columns}
    for n in names:
        for key in (n.strip().lower(), n.strip().lower()[:10]):
            if key in lookup:
                return lookup[key]
    return None


def recognise(columns, name, values_of):
    """The style of a vector layer from its fields and name.

    ``values_of(column)`` returns the column's values (a sample is enough). A name in BASE_NAME_FIRST
    (catchments) decides first; then the first class field
    of definitions.webmap.CLASS_FIELDS whose values match its table wins; then the layer name
    decides a base style (townships, roads …); anything else is 'other'.
    """
    lname = str(name).lower()
    for key, words in D.BASE_NAME_FIRST:
        if any(w.lower() in lname for w in words):
            return Styling("base", key)
    for key, names in D.CLASS_FIELDS:
        col = _find_column(columns, names)
        if col is not None and (cl.match_classes(cl.class_table(key), values_of(col)) >= 0).any():
            return Styling("classes", key, col)
    for key, words in D.BASE_NAME_WORDS:
        if any(w.lower() in lname for w in words):
            return Styling("base", key)
    return Styling("base", "other")


def recognise_raster(name, sample):
    """Class table of a raster from a sample of its values and its name, or a continuous ramp.

    Whole numbers within 0..4 are classes: ``risk_levels`` if the name says risk (risk, fourcolor, 风险)
    and there is no 0, else ``hazard_classes`` (zoning, susceptibility zones, flood / fire classes). Anything
    else (a depth, an index, a population grid) is continuous.
    """
    sample = np.asarray(sample, dtype=float)
    if len(sample) and np.all(sample == np.round(sample)) and sample.min() >= 0 and sample.max() <= 4:
        risky = any(w.lower() in str(name).lower() for w in D.RASTER_RISK_WORDS)
        return Styling("classes", "risk_levels" if risky and sample.min() >= 1 else "hazard_classes")
    return Styling("ramp", "continuous_ramp")


# --- vectors ----------------------------------------------------------------------------------------
def _family(geoms):
    fam = pd.Series(geoms.geom_type).map(GEOM_FAMILY)
    return fam.mode().iloc[0] if fam.notna().any() else "polygon"


def _popup_columns(gdf, style):
    """The fields a popup shows, by their aliases only (risk_plugin.aliases): names first, then the rest in the
    layer's order. Not shown: fields with no alias, styling helpers, and the class field itself, whose class label
    heads the popup (a range table's value is shown: the label gives only its range)."""
    from . import aliases
    range_class = style.kind == "classes" and cl.is_range_table(cl.class_table(style.key))
    cols = [c for c in gdf.columns if c != gdf.geometry.name and str(c).lower() not in D.HIDDEN_FIELDS
            and aliases.label(c) is not None and (c != style.field or range_class)]
    names = [c for n in D.NAME_FIELDS for c in cols if str(c).strip().lower() == n.lower()]
    first = list(dict.fromkeys(names + ([style.field] if style.field in cols else [])))
    ordered = first + [c for c in cols if c not in first]
    return ordered[:D.MAX_POPUP_FIELDS]


def _popup_values(df):
    """Plain JSON-able values as a reader sees them (risk_plugin.aliases.readable: whole persons, class labels,
    是/否); other floats rounded to 2 decimals, dates and other objects as text."""
    from . import aliases
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        spec = aliases.alias(col)
        s = df[col]
        if spec not in (None, aliases.HIDDEN) and any(spec.get(k) for k in ("persons", "yesno", "classes")) \
                and not (spec.get("classes") and cl.is_range_table(cl.class_table(spec["classes"]))):
            out[col] = pd.Series(aliases.readable(spec, s), index=df.index, dtype=object)
            continue
        if pd.api.types.is_bool_dtype(s):
            s = s.map({True: "是 / yes", False: "否 / no"})
        elif pd.api.types.is_float_dtype(s):
            s = s.astype("float64").round(2)    # float32 41.92 would print as 41.91999816894531
            inf = np.isinf(s.to_numpy())
            if inf.any():   # e.g. utilisation of a shelter with no capacity: JSON has no infinity
                s = s.astype(object)
                s[inf] = np.where(s[inf].astype(float) > 0, "∞", "-∞")
        elif pd.api.types.is_integer_dtype(s):
            pass
        else:
            s = s.map(lambda v: v if v is None or isinstance(v, str) or (isinstance(v, float) and np.isnan(v))
                      else str(v))
        out[col] = s
    obj = out.astype(object)
    return obj.where(out.notna(), None).to_numpy().tolist()


def _columnar(rows, n_cols):
    """Popup rows as one list per column, text columns dictionary-encoded ({'d': values, 'i': codes}): a grid of
    100 000 cells repeats its township names and class labels, and this keeps the page small."""
    cols = []
    for j in range(n_cols):
        values = [r[j] for r in rows]
        if all(v is None or isinstance(v, (int, float)) for v in values):
            cols.append(values)
        else:
            uniques = list(dict.fromkeys(values))
            code = {v: i for i, v in enumerate(uniques)}
            cols.append({"d": uniques, "i": [code[v] for v in values]})
    return cols


POLY_TERMS = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2), (3, 0), (2, 1), (1, 2), (0, 3))


def grid_lookup(gdf, idx, rows, geoms_lonlat, labels=()):
    """Find a grid cell from a click: {'fit': lon/lat → (col, row) cubic polynomials, 'index': dense cell → piece,
    'multi': pieces of cells split by a boundary with their lon/lat rings, 'c': class per piece, 'v': columnar
    popup values}; None when the layer is no riskmap grid or the fit is not exact to 2 % of a cell.

    A four-colour grid is regular in the CRS it was made in; a click gives lon/lat. The cell centres of the whole
    (unclipped) cells fix the mapping, fitted by least squares (numpy) and evaluated in the page: no projection
    library in the browser. Pieces of one cell in two townships are told apart by a point-in-polygon test."""
    import shapely
    if not {"grid_row", "grid_col", "area_km2"} <= set(gdf.columns) or len(gdf) == 0:
        return None
    nums = [pd.to_numeric(gdf[c], errors="coerce").to_numpy(float) for c in ("grid_row", "grid_col", "area_km2")]
    if any(np.isnan(v).any() for v in nums):
        return None     # not a riskmap grid after all (text in its numbers)
    row, col, area = nums[0].astype(np.int64), nums[1].astype(np.int64), nums[2]
    whole = area >= area.max() * 0.999
    if whole.sum() < 20:
        return None
    centres = shapely.centroid(gdf.geometry.to_numpy()[whole])
    import geopandas as gpd
    lonlat = gpd.GeoSeries(centres, crs=gdf.crs).to_crs(4326)
    lon, lat = lonlat.x.to_numpy(), lonlat.y.to_numpy()
    mid = [float(lon.mean()), float(lat.mean())]
    scale = [float(max(np.ptp(lon), 1e-9)), float(max(np.ptp(lat), 1e-9))]
    x, y = (lon - mid[0]) / scale[0], (lat - mid[1]) / scale[1]
    terms = np.column_stack([x ** a * y ** b for a, b in POLY_TERMS])
    fit = []
    for target in (col[whole] + 0.5, row[whole] + 0.5):
        coef, *_ = np.linalg.lstsq(terms, target, rcond=None)
        if np.abs(terms @ coef - target).max() > 0.02:
            return None
        fit.append([float(c) for c in coef])
    r0, c0 = int(row.min()), int(col.min())
    nrows, ncols = int(row.max()) - r0 + 1, int(col.max()) - c0 + 1
    index = np.zeros(nrows * ncols, dtype=np.int64)
    key = (row - r0) * ncols + (col - c0)
    order = np.argsort(key, kind="stable")
    uniq, first, counts = np.unique(key[order], return_index=True, return_counts=True)
    index[uniq[counts == 1]] = order[first[counts == 1]] + 1
    multi = []
    for k, start, cnt in zip(uniq[counts > 1], first[counts > 1], counts[counts > 1]):
        pieces = order[start:start + cnt]
        index[k] = -(len(multi) + 1)
        multi.append([[int(p), json_loads(shapely.to_geojson(geoms_lonlat[p]))["coordinates"]] for p in pieces])
    return {"fit": fit, "mid": mid, "scale": scale, "terms": [list(t) for t in POLY_TERMS], "r0": r0, "c0": c0,
            "nrows": nrows, "ncols": ncols, "index": index.tolist(), "multi": multi,
            "c": [int(i) for i in idx], "v": _columnar(rows, len(rows[0]) if rows else 0), "labels": list(labels)}


def json_loads(text):
    import json
    return json.loads(text)


def _dissolve(gdf, idx, class_field):
    """Merge features by class (and township, when a township field is there); people, buildings and
    areas are summed, and the number of merged features is kept."""
    import geopandas as gpd
    town = _find_column(gdf.columns, D.DISSOLVE_GROUP_FIELDS)
    sums = [c for c in gdf.columns if str(c).lower() in D.DISSOLVE_SUM_FIELDS
            and pd.api.types.is_numeric_dtype(gdf[c]) and c != class_field]
    data = {"_c": idx, **{c: gdf[c].to_numpy() for c in sums}, D.MERGED_LABEL: np.ones(len(gdf), dtype=np.int64)}
    by = ["_c"]
    if town is not None:
        data[town] = gdf[town].fillna("").astype(str).to_numpy()
        by.append(town)
    work = gpd.GeoDataFrame(data, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    work = work[work["_c"] >= 0].dissolve(by=by, as_index=False, aggfunc="sum")
    keep = ([town] if town is not None else []) + sums + [D.MERGED_LABEL]
    out = gpd.GeoDataFrame(work[keep], geometry=work.geometry, crs=work.crs)
    return out, work["_c"].to_numpy()


def _round_coords(geoms, decimals):
    import shapely
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def prepare_vector(source, name=None, tolerance=D.SIMPLIFY_TOLERANCE_M, max_features=D.MAX_FEATURES_DETAILED,
                   progress=None):
    """Read a vector layer and make it ready for Leaflet (see module docstring)."""
    import shapely
    from .progress import ensure
    from .titles import frame_title
    progress = ensure(progress)
    gdf = read_vector(source)
    progress.set(25)
    given = name
    name = name or display_name(source)
    require_crs(gdf, name)
    require_degrees_in_range(gdf.crs, gdf.total_bounds, name)
    geom = gdf.geometry
    gdf = gdf[~(geom.isna() | geom.is_empty)]
    if len(gdf) == 0:
        raise input_error(name, "图层没有可显示的要素", "layer has no features to show",
                          "检查图层或过滤条件", "check the layer and any filter")
    style = recognise(gdf.columns, f"{name} {display_name(source)}", lambda c: gdf[c].dropna().unique()[:1000])
    name = frame_title(gdf, source, style, given)      # the human title, the same as in the atlas
    notes = []
    family = _family(gdf.geometry)
    idx = None
    if style.kind == "classes":
        idx = cl.match_classes(cl.class_table(style.key), gdf[style.field])
    dissolved, lookup = False, None
    cols = _popup_columns(gdf, style)
    if idx is not None and family == "polygon" and len(gdf) > max_features:
        # too many cells to draw one by one: drawn merged by class and township; a click still finds its cell
        progress.set(35)
        pieces = gdf.geometry.to_crs(4326).to_numpy()
        from . import aliases
        lookup = grid_lookup(gdf, idx, _popup_values(pd.DataFrame(gdf[cols])), _round_coords(pieces, D.COORD_DECIMALS),
                             [aliases.label(c) for c in cols])
        progress.set(55)
        gdf, idx = _dissolve(gdf, idx, style.field)
        progress.set(75)
        notes.append(f"[{name}] 要素多于 {max_features}, 按等级和乡镇合并为 {len(gdf)} 个显示"
                     + ("; 点击仍显示所点网格 / " if lookup else " / ") + f"more than {max_features} features: drawn "
                     f"dissolved by class and township into {len(gdf)}" + ("; a click still shows its grid cell"
                                                                            if lookup else ""))
        dissolved = True
        cols = _popup_columns(gdf, style)
    geoms = gdf.geometry
    if tolerance and tolerance > 0 and family != "point":
        b = geoms.total_bounds
        wcrs = working_crs(gdf.crs, b)
        geoms = to_working(geoms, wcrs)
        geoms = geoms.simplify(tolerance, preserve_topology=True)
    progress.set(85)
    geoms = geoms.to_crs(4326)
    arr = _round_coords(geoms.to_numpy(), D.COORD_DECIMALS)
    keep = ~shapely.is_empty(arr)
    arr = arr[keep]
    if idx is not None:
        idx = idx[keep]
    gdf = gdf[keep]
    geojson = list(shapely.to_geojson(arr))
    from . import aliases
    labels, rows = [aliases.label(c) for c in cols], _popup_values(pd.DataFrame(gdf[cols]))
    label_col = None
    if style.kind == "base" and style.key in ("townships",):
        names = [i for i, c in enumerate(cols) if str(c).lower() in ("名称", "name", "乡镇", "乡镇名称", "township")]
        label_col = names[0] if names else None
    return VectorLayer(name, family, style, geojson, idx, labels, rows, label_col, dissolved, notes, lookup)


# --- rasters ----------------------------------------------------------------------------------------
def _rgba(color):
    c = color.lstrip("#")
    r, g, b = int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    a = int(c[6:8], 16) if len(c) == 8 else 255
    return r, g, b, a


def png_paletted(index, palette):
    """Encode a uint8 index image as a paletted PNG (255 = transparent).

    Written by hand (zlib + struct) so the engine needs no imaging library: a class raster has
    at most a few colours, and a paletted PNG of it is tiny.
    """
    h, w = index.shape
    pal = list(palette)[:255] + [(0, 0, 0, 0)] * (256 - min(len(palette), 255))
    pal[255] = (0, 0, 0, 0)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = np.zeros((h, w + 1), dtype=np.uint8)
    raw[:, 1:] = index
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
            + chunk(b"PLTE", bytes(v for p in pal for v in p[:3]))
            + chunk(b"tRNS", bytes(p[3] for p in pal))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9))
            + chunk(b"IEND", b""))


def png_data_url(png):
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _metres_per_unit(crs, bounds):
    if crs.is_geographic:
        lat = (bounds[1] + bounds[3]) / 2.0
        return 111_320.0 * max(math.cos(math.radians(lat)), 0.1)
    axis = crs.axis_info[0] if crs.axis_info else None
    return float(axis.unit_conversion_factor) if axis and axis.unit_conversion_factor else 1.0


def _breaks(values, n):
    """Quantile class breaks; equal intervals when ties collapse quantiles (e.g. a capped depth)."""
    qs = np.unique(np.quantile(values, np.linspace(0, 1, n + 1)))
    if len(qs) == n + 1:
        return qs
    lo, hi = float(values.min()), float(values.max())
    return np.linspace(lo, hi, n + 1) if hi > lo else np.array([lo, lo + 1e-9])


def continuous_classes(values):
    """(breaks, colours, zero_is_none) for valid values of a raster with no class table.

    If more than D.ZERO_IS_NONE_SHARE of the values are exactly 0 and none is negative, 0 means "none"
    (dry land, no people) and is left out (drawn transparent). Breaks are quantiles, or equal intervals
    when ties collapse quantiles; ``breaks`` is None when nothing is left to draw.
    """
    colors = cl.ramp()
    values = np.asarray(values, dtype=float)
    zero_none = bool(len(values) and values.min() == 0 and (values == 0).mean() > D.ZERO_IS_NONE_SHARE)
    if zero_none:
        values = values[values != 0]
    if not len(values):
        return None, colors, zero_none
    breaks = _breaks(values, len(colors))
    return breaks, colors[:len(breaks) - 1], zero_none


def raster_sample(source, max_pixels=1_000_000):
    """Valid values of band 1, read decimated to at most ``max_pixels`` (bounded memory)."""
    from rasterio.enums import Resampling
    with open_raster(source) as src:
        f = max(1.0, math.sqrt(src.width * src.height / max_pixels))
        shape = (max(1, int(src.height / f)), max(1, int(src.width / f)))
        data = src.read(1, out_shape=shape, resampling=Resampling.nearest, masked=True)
    return np.ma.compressed(data).astype(float)


def _fmt(v):
    return f"{v:.3g}"


def prepare_raster(source, name=None, target_crs="EPSG:3857", tolerance=D.SIMPLIFY_TOLERANCE_M,
                   max_pixels=D.MAX_IMAGE_PIXELS, progress=None):
    """A raster as a coloured, transparent PNG in ``target_crs`` (EPSG:3857 or EPSG:4326) with its bounds.

    The raster is read decimated (bounded memory: never the full grid of a large raster), to a cell no
    finer than ``tolerance`` metres and at most ``max_pixels``, then warped with nearest neighbour.
    """
    from pyproj import CRS
    from rasterio.enums import Resampling
    from rasterio.warp import calculate_default_transform, reproject, transform_bounds
    from .progress import ensure
    from .titles import layer_title
    progress = ensure(progress)
    given = name
    name = name or display_name(source)
    src = open_raster(source, name)
    with src:
        if src.crs is None:
            require_crs(None, name)
        require_degrees_in_range(src.crs, tuple(src.bounds), name)
        style = recognise_raster(f"{name} {display_name(source)}", raster_sample(source, 250_000))
        name = layer_title(source, style, given)
        progress.set(20)
        crs = CRS.from_user_input(src.crs)
        unit = _metres_per_unit(crs, src.bounds)
        res_m = abs(src.transform.a) * unit
        factor = max(1.0, (tolerance or 0) / res_m if res_m > 0 else 1.0,
                     math.sqrt(src.width * src.height / max_pixels))
        out_h, out_w = max(1, int(math.ceil(src.height / factor))), max(1, int(math.ceil(src.width / factor)))
        resampling = Resampling.mode if style.kind == "classes" else Resampling.average
        data = src.read(1, out_shape=(out_h, out_w), resampling=resampling, masked=True)
        transform = src.transform * src.transform.scale(src.width / out_w, src.height / out_h)
        src_crs, src_bounds = src.crs, src.bounds
    progress.set(50)
    values = np.ma.filled(data.astype("float64"), np.nan)
    valid = ~np.isnan(values)
    index = np.full(values.shape, 255, dtype=np.uint8)
    legend = []
    if style.kind == "classes":
        table = cl.class_table(style.key)
        present = set()
        for i, c in enumerate(table["classes"]):   # a handful of classes: one vectorised compare each
            if isinstance(c["value"], (int, float)):
                hit = valid & (values == c["value"])
                index[hit] = i
                if hit.any():
                    present.add(i)
        palette = [_rgba(c["color"]) for c in table["classes"]]
        legend = [LegendEntry(cl.label(c), c["color"]) for i, c in enumerate(table["classes"])
                  if i in present and _rgba(c["color"])[3] > 0]
    else:
        breaks, colors, zero_none = continuous_classes(values[valid])
        if zero_none:
            valid &= values != 0
        if breaks is not None:
            k = np.clip(np.searchsorted(breaks[1:-1], values, side="right"), 0, len(breaks) - 2)
            index[valid] = k[valid].astype(np.uint8)
            legend = [LegendEntry(f"{_fmt(breaks[i])} – {_fmt(breaks[i + 1])}", colors[i])
                      for i in range(len(breaks) - 1)]
        palette = [_rgba(c) for c in colors]
    progress.set(65)
    dst_crs = CRS.from_user_input(target_crs)
    dst_t, dst_w, dst_h = calculate_default_transform(src_crs, dst_crs, out_w, out_h, *src_bounds)
    scale = math.sqrt(dst_w * dst_h / max_pixels)
    if scale > 1:
        dst_t, dst_w, dst_h = calculate_default_transform(src_crs, dst_crs, out_w, out_h, *src_bounds,
                                                          dst_width=int(dst_w / scale), dst_height=int(dst_h / scale))
    out = np.full((dst_h, dst_w), 255, dtype=np.uint8)
    reproject(index, out, src_transform=transform, src_crs=src_crs, src_nodata=255, dst_transform=dst_t,
              dst_crs=dst_crs, dst_nodata=255, resampling=Resampling.nearest)
    progress.set(85)
    west, north = dst_t * (0, 0)
    east, south = dst_t * (dst_w, dst_h)
    w, s, e, n = transform_bounds(dst_crs, "EPSG:4326", west, south, east, north) if dst_crs.to_epsg() != 4326 \
        else (west, south, east, north)
    return RasterLayer(name, style, png_paletted(out, palette), (s, w, n, e), legend, out.shape)
