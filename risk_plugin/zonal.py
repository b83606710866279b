"""People per unit × hazard class from a population raster, in raster blocks.

The population raster is never warped (warping a count raster creates or loses people). Instead:

1. each population cell is split into k × k equal sub-cells no larger than the hazard raster's cell,
   each carrying 1/k² of the cell's people (so the total is conserved exactly);
2. the unit boundaries are reprojected into the population raster's CRS and rasterised onto the
   sub-cells of one block at a time (``rasterio.features.rasterize``);
3. the hazard class of every sub-cell is read at its centre (class raster, nearest cell) or burnt from
   the hazard polygons;
4. people are summed with one ``np.bincount`` over (unit label × class) per block.

With the 'fraction' cell rule, interior sub-cells (not crossed by any boundary) count whole and only
sub-cells crossed by a boundary are split, by the exact area of their square inside each polygon
(shapely intersection, candidate pairs from an STRtree). With hazard polygons the 'polygons' are the
pieces unit ∩ hazard zone, so a cell's share in each (unit, class) is exact.

>>> res = population_by_unit(pop, [villages_geoms], hazard, rule="centre")
>>> res.people[0]        # array (n_villages + 1, 5): row 0 = outside every unit, columns = classes 0..4
"""
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Geod

from .coverage import cell_polygon_areas, clip_rect
from .definitions.exposure import BLOCK_CELLS, MAX_SUBDIVISION
from .errors import InputError, Problem
from .hazardsource import N_CLASSES, _grid_box, cell_size_m, check_north_up, sample_grid
from .io import layer_name, open_raster
from .progress import ensure


class PopulationRaster:
    """A population raster: counts per cell, or a density per km² / m² (``unit``)."""

    def __init__(self, path, unit="count", label=None):
        self.path, self.unit = path, unit
        self.label = label or layer_name(path)
        self.src = open_raster(path, self.label)
        check_north_up(self.src, self.label)
        if self.src.crs is None:
            raise InputError(Problem(self.label, "栅格没有坐标参考系 (CRS)", "raster has no CRS",
                                     "用“指定投影”设置 CRS", "assign the CRS (Assign Projection)"))
        self.crs = CRS.from_user_input(self.src.crs)
        self.transform, self.width, self.height = self.src.transform, self.src.width, self.src.height
        self._row_area = None

    def close(self):
        self.src.close()

    def cell_m(self):
        b = self.src.bounds
        return max(cell_size_m(self.crs, self.transform, (b.bottom + b.top) / 2 if self.crs.is_geographic else None))

    def row_areas(self):
        """Area (m²) of one cell in each row: geodesic for geographic rasters."""
        if self._row_area is None:
            t = self.transform
            if self.crs.is_geographic:
                geod = Geod(**_geod_params(self.crs))
                lat_top = t.f + np.arange(self.height) * t.e
                lat_bot = lat_top + t.e
                # a cell's area depends only on its row: an ellipsoidal zone strip of width |a| degrees
                lons = np.array([0.0, abs(t.a), abs(t.a), 0.0])
                self._row_area = np.array([abs(geod.polygon_area_perimeter(lons, [lb, lb, lt, lt])[0])
                                           for lt, lb in zip(lat_top, lat_bot)])  # one call per row
            else:
                if not all((ax.unit_name or "").lower() in ("metre", "meter", "m") for ax in self.crs.axis_info[:2]):
                    raise InputError(Problem(self.label, "栅格坐标单位不是米, 无法换算密度", "raster CRS is not in metres; cannot convert a density",
                                             "投影到以米为单位的坐标系", "reproject to a CRS in metres"))
                self._row_area = np.full(self.height, abs(t.a * t.e))
        return self._row_area

    def read_people(self, r0, r1, c0, c1):
        """People per cell in a block (float64), nodata and NaN as 0."""
        from rasterio.windows import Window
        data = self.src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True).astype(np.float64)
        vals = np.ma.filled(data, 0.0)
        vals[~np.isfinite(vals)] = 0.0
        if (vals < 0).any():
            raise InputError(Problem(self.label, f"人口栅格有负值 (如 {vals[vals < 0][0]:g})",
                                     f"population raster has negative values (e.g. {vals[vals < 0][0]:g})",
                                     "检查 nodata 设置 (如 -9999 未设为 nodata)", "check the nodata value (e.g. -9999 not declared nodata)"))
        if self.unit != "count":
            per_m2 = 1.0 if self.unit == "per_m2" else 1e-6
            vals *= self.row_areas()[r0:r1, None] * per_m2
        return vals


def _geod_params(crs):
    ell = crs.ellipsoid
    return {"a": ell.semi_major_metre, "b": ell.semi_minor_metre} if ell else {"ellps": "WGS84"}


@dataclass
class Level:
    """One level of units in the population raster's CRS; ``pieces`` with (unit, class) for the
    fraction rule over hazard polygons."""
    geoms: np.ndarray
    tree: object = None

    def __post_init__(self):
        self.geoms = np.asarray(self.geoms, dtype=object)
        self.tree = shapely.STRtree(self.geoms)


@dataclass
class ZonalResult:
    people: List[np.ndarray]                 # per level: (n_units + 1, N_CLASSES), row 0 = outside
    area: List[Optional[np.ndarray]]         # per level: same shape, m² (only when asked)
    extra_sum: List[Optional[np.ndarray]] = field(default_factory=list)   # Σ value·area per unit
    extra_area: List[Optional[np.ndarray]] = field(default_factory=list)  # Σ area with a value
    raster_total: float = 0.0
    subdivision: int = 1


def subdivision(pop, hazard, max_cell_m=None):
    """k: population cells are split into k × k sub-cells no larger than the hazard raster's cell
    (or ``max_cell_m``); at most MAX_SUBDIVISION."""
    target = max_cell_m or (hazard.native_cell_m() if hazard is not None and hazard.is_raster else None)
    if not target:
        return 1
    return int(min(max(np.ceil(pop.cell_m() / target - 1e-6), 1), MAX_SUBDIVISION))


def _blocks(pop, k):
    side = max(8, int(np.sqrt(BLOCK_CELLS) // k))
    for r0 in range(0, pop.height, side):
        for c0 in range(0, pop.width, side):
            yield r0, min(r0 + side, pop.height), c0, min(c0 + side, pop.width)


def _pieces(level_geoms, zones):
    """Pieces unit ∩ zone (class ≥ 1) and unit − all zones (class 0): (geoms, unit index, class)."""
    geoms = np.asarray(level_geoms, dtype=object)
    n = len(geoms)
    if not zones:
        return geoms, np.arange(n), np.zeros(n, np.int64)
    zgeom = np.array([z for _, z in zones], dtype=object)
    zcls = np.array([c for c, _ in zones], dtype=np.int64)
    ui, zi = shapely.STRtree(zgeom).query(geoms, predicate="intersects")
    inter = shapely.intersection(geoms[ui], zgeom[zi])
    rest = shapely.difference(geoms, shapely.union_all(zgeom))
    all_geoms = np.concatenate([inter, rest])
    unit = np.concatenate([ui, np.arange(n)])
    cls = np.concatenate([zcls[zi], np.zeros(n, np.int64)])
    keep = ~shapely.is_empty(all_geoms) & (shapely.area(all_geoms) > 0)
    all_geoms = shapely.get_parts(all_geoms[keep], return_index=True)
    parts, src_idx = all_geoms
    unit, cls = unit[keep][src_idx], cls[keep][src_idx]
    polys = shapely.get_type_id(parts) == 3
    return parts[polys], unit[polys], cls[polys]


def _rasterize_labels(geoms, tree, transform, shape, all_touched):
    """Label grid: 1 + index of the polygon at each cell (0 = none), geometries clipped to the grid."""
    from .burn import rasterize
    box = _grid_box(transform, shape)
    idx = tree.query(box, predicate="intersects")
    if not len(idx):
        return np.zeros(shape, np.int32)
    b = shapely.bounds(box)
    pad = 2 * max(abs(transform.a), abs(transform.e))
    clipped = clip_rect(geoms[idx], b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)
    ok = ~shapely.is_empty(clipped)
    return rasterize(clipped[ok], (idx[ok] + 1).astype(np.int32), out_shape=shape, transform=transform,
                     fill=0, dtype="int32", all_touched=all_touched)


def _boundary_mask(geoms, tree, transform, shape):
    """Cells crossed by any polygon boundary (rasterised lines, all touched)."""
    from .burn import rasterize
    box = _grid_box(transform, shape)
    idx = tree.query(box, predicate="intersects")
    if not len(idx):
        return np.zeros(shape, bool)
    b = shapely.bounds(box)
    pad = 2 * max(abs(transform.a), abs(transform.e))
    lines = clip_rect(shapely.boundary(geoms[idx]), b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)
    lines = lines[~shapely.is_empty(lines)]
    if not len(lines):
        return np.zeros(shape, bool)
    return rasterize(lines, 1, out_shape=shape, transform=transform, fill=0, dtype="uint8",
                     all_touched=True).astype(bool)


def _cell_fractions(geoms, tree, transform, rows, cols):
    """For the cells (rows, cols): (cell position, polygon index, share of the cell's area), exact
    (:func:`risk_plugin.coverage.cell_polygon_areas`). Where polygons overlap, a cell's shares are
    scaled down to sum to 1, so no one is counted twice."""
    ci, gi, area = cell_polygon_areas(transform, rows, cols, geoms, tree)
    share = area / abs(transform.a * transform.e)
    covered = np.bincount(ci, weights=share, minlength=len(rows))
    return ci, gi, share / np.maximum(covered, 1.0)[ci]


def _touched_owner(level, transform, lab, touched):
    """The 'all_touched' rule for units: a cell holding no unit's centre goes to the touching unit
    covering most of it (exact shares, :func:`_cell_fractions`); equal shares go to the unit whose
    centroid lies furthest west, then south. Never to the layer order (the rasteriser's last
    polygon), so shuffling the units changes nothing. A cell met only along an edge or at a corner
    keeps the rasteriser's label."""
    out = np.where(lab > 0, lab, touched)
    rows, cols = np.nonzero((lab == 0) & (touched > 0))
    if not len(rows):
        return out
    ci, gi, share = _cell_fractions(level.geoms, level.tree, transform, rows, cols)
    if not len(ci):
        return out
    cen = shapely.centroid(level.geoms[gi])
    order = np.lexsort((shapely.get_y(cen), shapely.get_x(cen), -np.round(share, 9), ci))
    ci, gi = ci[order], gi[order]
    first = np.r_[True, ci[1:] != ci[:-1]]
    out[rows[ci[first]], cols[ci[first]]] = gi[first] + 1
    return out


def _fraction_keys(piece_level, raster_classes, cls, transform, shape):
    """The 'fraction' rule for one block: (cell index, unit × class key, share of the cell).

    Cells not crossed by any piece boundary go whole to the piece holding them (or outside, row 0);
    boundary cells are split by exact area; what no piece covers stays outside, so every cell's
    shares sum to 1. ``raster_classes``: classes come from ``cls`` (a class raster), else from the
    pieces (unit ∩ hazard zone).
    """
    plv, p_unit, p_cls = piece_level
    lab = _rasterize_labels(plv.geoms, plv.tree, transform, shape, all_touched=False).ravel()
    edge = _boundary_mask(plv.geoms, plv.tree, transform, shape).ravel()
    inner = np.flatnonzero(~edge)
    lab_in = lab[inner]
    unit = np.where(lab_in > 0, p_unit[lab_in - 1] + 1, 0)
    c = cls[inner] if raster_classes else np.where(lab_in > 0, p_cls[lab_in - 1], cls[inner])
    cells, keys, shares = [inner], [unit * N_CLASSES + c], [np.ones(len(inner))]
    eidx = np.flatnonzero(edge)
    if len(eidx):
        rows, cols = np.divmod(eidx, shape[1])
        ci, gi, share = _cell_fractions(plv.geoms, plv.tree, transform, rows, cols)
        cc = cls[eidx[ci]] if raster_classes else p_cls[gi]
        covered = np.bincount(ci, weights=share, minlength=len(eidx))
        cells += [eidx[ci], eidx]
        keys += [(p_unit[gi] + 1) * N_CLASSES + cc, cls[eidx]]
        shares += [share, np.clip(1.0 - covered, 0.0, None)]
    return np.concatenate(cells), np.concatenate(keys), np.concatenate(shares)


def population_by_unit(pop, levels, hazard, rule="centre", max_cell_m=None, need_area=False,
                       extra=None, progress=None):
    """People (and optionally area, and the area-weighted sum of an ``extra`` raster) per unit and
    hazard class, for every level of units.

    ``levels``: list of geometry arrays, each in the population raster's CRS. ``hazard``: a
    :class:`HazardSource` (or None: everything in class 0). ``rule``: 'centre', 'all_touched' or
    'fraction'. Returns a :class:`ZonalResult`.
    """
    progress = ensure(progress)
    k = subdivision(pop, hazard, max_cell_m)
    n_lv = len(levels)
    lv = [Level(g) for g in levels]
    sizes = [len(l.geoms) + 1 for l in lv]
    people = [np.zeros(n * N_CLASSES) for n in sizes]
    area = [np.zeros(n * N_CLASSES) if need_area else None for n in sizes]
    ex_sum = [np.zeros(n) if extra is not None else None for n in sizes]
    ex_area = [np.zeros(n) if extra is not None else None for n in sizes]

    # with hazard polygons and the fraction rule, the polygons to split cells by are unit ∩ zone pieces
    pieces = [None] * n_lv
    vector_fraction = rule == "fraction" and hazard is not None and not hazard.is_raster
    if rule == "fraction":
        zones = hazard.zones(pop.crs) if vector_fraction else []
        for i, l in enumerate(lv):
            g, u, c = _pieces(l.geoms, zones)
            pieces[i] = (Level(g), u, c)

    row_area = pop.row_areas() if (need_area or extra is not None) else None
    total = 0.0
    blocks = list(_blocks(pop, k))
    for bi, (r0, r1, c0, c1) in enumerate(blocks):
        progress.set(100.0 * bi / max(len(blocks), 1))
        ppl = pop.read_people(r0, r1, c0, c1)
        total += float(ppl.sum())
        if not ppl.any() and not need_area and extra is None:
            continue
        t = pop.transform * Affine.translation(c0, r0) * Affine.scale(1.0 / k)
        shape = ((r1 - r0) * k, (c1 - c0) * k)
        w = np.repeat(np.repeat(ppl / (k * k), k, axis=0), k, axis=1).ravel()
        a = None
        if row_area is not None:
            a = np.broadcast_to(np.repeat(row_area[r0:r1] / (k * k), k)[:, None], shape).ravel()
        if hazard is None or vector_fraction:
            cls = np.zeros(shape, np.uint8)
        else:
            cls = hazard.class_grid(t, shape, pop.crs, "all_touched" if rule == "all_touched" else "centre")
        cls = cls.ravel().astype(np.int64)
        ev = None
        if extra is not None:
            ev = sample_grid(extra, t, shape, pop.crs, fill=np.nan).astype(np.float64).ravel()
        for i in range(n_lv):
            n = sizes[i]
            if rule == "fraction":
                cell, key, share = _fraction_keys(pieces[i], not vector_fraction, cls, t, shape)
                wt = w[cell] * share
            else:
                lab = _rasterize_labels(lv[i].geoms, lv[i].tree, t, shape, all_touched=False)
                if rule == "all_touched":
                    touched = _rasterize_labels(lv[i].geoms, lv[i].tree, t, shape, all_touched=True)
                    lab = _touched_owner(lv[i], t, lab, touched)  # a touched cell still counts once
                cell, share = None, None
                key = lab.ravel().astype(np.int64) * N_CLASSES + cls
                wt = w
            people[i] += np.bincount(key, weights=wt, minlength=n * N_CLASSES)
            if a is None:
                continue
            aw = a if cell is None else a[cell] * share
            if need_area:
                area[i] += np.bincount(key, weights=aw, minlength=n * N_CLASSES)
            if ev is not None:
                evc = ev if cell is None else ev[cell]
                ok = np.isfinite(evc)
                unit = key[ok] // N_CLASSES
                ex_sum[i] += np.bincount(unit, weights=aw[ok] * evc[ok], minlength=n)
                ex_area[i] += np.bincount(unit, weights=aw[ok], minlength=n)
    progress.set(100)
    shape_of = lambda arr, n: arr.reshape(n, N_CLASSES)  # noqa: E731
    return ZonalResult(people=[shape_of(p, n) for p, n in zip(people, sizes)],
                       area=[shape_of(x, n) if x is not None else None for x, n in zip(area, sizes)],
                       extra_sum=ex_sum, extra_area=ex_area, raster_total=total, subdivision=k)
