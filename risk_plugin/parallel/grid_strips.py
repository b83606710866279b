"""Four-colour risk on a grid, on Dask, in strips: the workers build, count, grade and write the pieces.

The driver plans and joins; it never builds the grid over the whole extent.

Plan (driver): the grid's rows (:func:`risk_plugin.fourcolor.grid_shape`) are cut into strips of whole,
full-width rows, about STRIP_CELLS cells each and at least STRIPS_PER_WORKER per worker. Where the
population raster is in the working CRS a strip starts at the grid row holding the top of a row of
population blocks, so few blocks are read by two strips. Pieces are in the order (row, col, township,
part) (:func:`risk_plugin.fourcolor.grid_support`), so the strips' pieces, concatenated in strip
order, are the one-process grid's, piece for piece.

Buildings and facilities: each is classified once, where it is read (per tile on the workers for a
:class:`risk_plugin.parallel.layers.PartitionedLayer`, else on the driver as in one process), and only
its centroid (x, y), class and facility type are kept: 17 bytes a feature. A strip gets the centroids
of its rows and of the rows next to them.

A strip (worker) builds the pieces of its rows and of the rows just above and below (the halos), then

- people: for every population block (:func:`risk_plugin.zonal._blocks`, in block order) meeting those
  pieces, runs the unchanged zonal kernel on that block cut at the bottom and right below and right of
  them (+ 1 cell), with those pieces only. The cut keeps the block's top-left corner, so the sub-cell
  grid, its transform and every cell's hazard class (or vulnerability value) are the one-process
  block's, and a piece is clipped only by the block's own edges. A cell goes to the last piece burnt
  that claims its centre; the claimants of a cell in the strip's rows are pieces of its row or the rows
  next to it, all burnt here in the one-process order, so every cell's label is the one-process label.
  A piece's people are the bincount of its cells in row-major order (the same sum in the same order),
  added block after block from zero as there: bit-identical. The strip keeps its own rows' pieces;
- buildings and facilities: each centroid goes to the first piece in order it touches among halo and
  own pieces (the one-process rule: a centroid on the edge with the row above goes to that row, which
  the strip above owns); the strip keeps those in its own rows;
- grades its pieces (:func:`risk_plugin.fourcolor.grade_frame`, the one-process code), reprojects them
  to the output CRS and writes them to a GeoParquet part in a temporary folder beside the output (exact
  WKB and typed columns; a GeoPackage part cost ~5 s per 50 k pieces to write and again to read).

It returns per piece only what the totals and the township × level table need: level, people per class,
buildings, area (exact and rounded), rounded people and township: 88 bytes a piece (2.25 M pieces:
190 MiB). The driver adds them up as one process does, joins the parts into the output in strip order
(read a part, append it; the output is written atomically with its stored style, and cancel is honoured
between parts) and removes the parts, also on error or cancel.

An output ``….vrt`` (:mod:`risk_plugin.vector_parts`, the province case) is not joined: each strip writes
its GeoPackage part, R-tree included, on its worker, and the driver writes only the union .vrt over them.
One GeoPackage takes ~26 k appended pieces/s (R-tree updates included) on the driver while the workers
wait, so the joined file is the serial end of a large grid run.

Falls back to the one-process grid (:func:`risk_plugin.fourcolor.grid_support` on the driver, the
counting kernels still on the workers) when:

- there are no townships: the grid then covers every input's extent, which needs the layers read
  whole;
- the cell rule is not 'centre': 'all_touched' ranks a cell's owners by shares measured over the
  pieces of a whole block, 'fraction' measures cell areas per tile of a block; neither is shown to
  give the same bits on a strip;
- the output is neither a GeoPackage (the parts are joined by appending) nor a .vrt.
"""
import math
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from .. import fourcolor as F
from .. import notices
from .. import zonal as _zonal
from ..io import write_vector
from ..vector_parts import is_parts_output, parts_output
from ..exposure import N_CLASSES
from ..definitions.exposure import FACILITY_TYPES
from . import counting as C
from . import layers as L

STRIP_CELLS = 50_000        # grid cells per strip (a worker holds one strip's pieces at a time)
STRIPS_PER_WORKER = 2       # at least this many strips per worker, for balance


# ---------------------------------------------------------------------------------------------- context
@dataclass
class StripContext:
    """Everything a strip needs but its rows, shared once with every worker."""
    token: str
    bounds: tuple
    cell_size: float
    wcrs: object
    towns: object               # GeoDataFrame, working CRS, code and name
    pop: tuple                  # (path, unit, label)
    hazard: object              # counting.HazardSpec, or None
    extra: object               # vulnerability raster path, or None
    rule: str
    max_cell_m: float
    k: int
    side: int                   # population block side (cells), as zonal._blocks
    grading: dict
    has_buildings: bool
    has_facilities: bool
    target_crs: object


# ---------------------------------------------------------------------------------------------- worker
def _blocks_meeting(height, width, side, rows, cols):
    """zonal._blocks of a height × width raster (block side ``side``), in block order, meeting rows
    [r0, r1) and columns [c0, c1)."""
    (pr0, pr1), (pc0, pc1) = rows, cols
    for r0 in range(0, height, side):
        if r0 >= pr1 or min(r0 + side, height) <= pr0:
            continue
        for c0 in range(0, width, side):
            if c0 >= pc1 or min(c0 + side, width) <= pc0:
                continue
            yield r0, min(r0 + side, height), c0, min(c0 + side, width)


def _strip_people(sup, ctx):
    """(people, area) per piece × class of ``sup`` and the vulnerability sums (or None), as the
    one-process zonal loop gives them to every piece whose neighbours in the rows above and below are
    in ``sup`` too (module docstring)."""
    n = len(sup)
    people, area = np.zeros((n, N_CLASSES)), np.zeros((n, N_CLASSES))
    ex_sum = np.zeros(n) if ctx.extra else None
    ex_area = np.zeros(n) if ctx.extra else None
    if not n:
        return people, area, ex_sum, ex_area
    pop = C._open_population(ctx.token, *ctx.pop)
    hazard = C._open_hazard(ctx.token, ctx.hazard)
    extra = C._open_extra(ctx.token, ctx.extra)
    geoms = np.asarray(sup.to_crs(pop.crs).geometry.values, dtype=object)   # as count_exposure does
    t = pop.transform
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    rows = (int(np.clip(math.floor((ymax - t.f) / t.e) - 1, 0, pop.height)),
            int(np.clip(math.floor((ymin - t.f) / t.e) + 2, 0, pop.height)))
    cols = (int(np.clip(math.floor((xmin - t.c) / t.a) - 1, 0, pop.width)),
            int(np.clip(math.floor((xmax - t.c) / t.a) + 2, 0, pop.width)))
    tree = shapely.STRtree(geoms)
    pad = max(abs(t.a), abs(t.e))
    for r0, r1, c0, c1 in _blocks_meeting(pop.height, pop.width, ctx.side, rows, cols):
        # the block cut at the bottom and right only, below and right of every piece: its top-left
        # corner, sub-cells and transform stay the one-process block's, and no piece is clipped
        # other than by the block's own edges
        window = C.PopulationWindow(pop, r0, min(r1, rows[1]), c0, min(c1, cols[1]))
        box = C._box(window.transform, (window.height, window.width), pad)
        idx = np.sort(tree.query(box, predicate="intersects"))
        if not len(idx):
            continue
        z = C._population_by_unit(window, [geoms[idx]], hazard, ctx.rule, ctx.max_cell_m, True, extra)
        if z.subdivision != ctx.k:
            raise RuntimeError(f"sub-cells {z.subdivision} ≠ {ctx.k}")
        people[idx] += z.people[0][1:]
        area[idx] += z.area[0][1:]
        if extra is not None:
            ex_sum[idx] += z.extra_sum[0][1:]
            ex_area[idx] += z.extra_area[0][1:]
    return people, area, ex_sum, ex_area


def _piece_counts(points, pieces, n_halo, n, types=None):
    """Counts per own piece × class of ``points`` (x, y, cls[, type]): each centroid to the first piece
    it touches among halo + own + halo (assign_units), kept when that piece is the strip's own (the
    ``n`` pieces after the ``n_halo`` above). With ``types``: {facility type: counts}."""
    x, y, cls = points[0], points[1], points[2].astype(np.int64)
    local = C._assign_units(shapely.points(x, y), pieces) - 1 - n_halo
    keep = (local >= 0) & (local < n)
    key = local[keep] * N_CLASSES + cls[keep]
    if types is None:
        return np.bincount(key, minlength=n * N_CLASSES).reshape(n, N_CLASSES).astype(float)
    code = points[3][keep]
    return {t: np.bincount(key[code == i], minlength=n * N_CLASSES).reshape(n, N_CLASSES).astype(float)
            for i, t in enumerate(types)}


def _strip(piece, ctx):
    """Worker: build, count, grade and write the pieces of grid rows [g0, g1); return the small arrays."""
    g0, g1 = piece["rows"]
    sup = F.grid_support(ctx.bounds, ctx.cell_size, ctx.wcrs, ctx.towns, rows=(g0 - 1, g1 + 1))
    row = sup["row"].to_numpy()
    a, b = int((row < g0).sum()), int((row < g1).sum())   # halo above | own | halo below (canonical order)
    own = slice(a, b)
    mine = sup.iloc[own].reset_index(drop=True)
    n = len(mine)
    all_geoms = np.asarray(sup.geometry.values, dtype=object)
    people, area, ex_sum, ex_area = (x[own] if x is not None else None for x in _strip_people(sup, ctx))
    bld = _piece_counts(piece["buildings"], all_geoms, a, n) if ctx.has_buildings else None
    fac = _piece_counts(piece["facilities"], all_geoms, a, n, FACILITY_TYPES) if ctx.has_facilities else None
    extra_mean = None
    if ex_sum is not None:                         # as count_exposure
        extra_mean = np.where(ex_area > 0, ex_sum / np.where(ex_area > 0, ex_area, 1), np.nan)
    out, res, people, area_km2 = F.grade_frame(mine, people, bld, fac, area, extra_mean, ctx.towns, "grid",
                                               ctx.wcrs, ctx.grading)
    part = piece["part"]
    if part and n and Path(part).parent.is_dir():  # the folder is gone when the run was cancelled
        if part.endswith(".gpkg"):                 # a part of a .vrt output (risk_plugin.vector_parts), R-tree and all
            write_vector(out.to_crs(ctx.target_crs), part, layer=piece["layer"])
        else:
            out.to_crs(ctx.target_crs).to_parquet(part)    # WKB and typed columns: exact, and fast to write and read
    return {"n": n, "level": res["level"], "people": people, "buildings": out["buildings"].to_numpy(),
            "area_km2": area_km2, "town": mine["town"].to_numpy(), "people_r": out["people"].to_numpy(),
            "area_r": out["area_km2"].to_numpy(), "part": part if n else None}


def _points_tile(task, spec, wanted, token, hazard_spec, wcrs, rule, columns):
    """Worker: centroid (x, y), class and facility type code of a tile's features (layers._count_tile's
    reading and normalising)."""
    from ..crs import to_working
    lines = []
    with notices.collecting(lines.append):
        gdf = L._read_tile(task, columns)
    if not len(gdf):
        return _points_of(None, None, None)
    norm, _ = L._quiet_check(gdf, spec, wanted, lines)
    b = to_working(norm, wcrs)
    geoms = np.asarray(b.geometry.values, dtype=object)
    cls = C._feature_classes(geoms, C._open_hazard(token, hazard_spec), wcrs, rule)
    return _points_of(geoms, cls, b["facility_type"].to_numpy() if "facility_type" in b.columns else None)


def _points_of(geoms, cls, ftype):
    if geoms is None:
        return np.zeros(0), np.zeros(0), np.zeros(0, np.uint8), np.zeros(0, np.int8)
    cent = shapely.centroid(geoms)
    code = np.full(len(geoms), -1, np.int8)
    if ftype is not None:
        for i, t in enumerate(FACILITY_TYPES):
            code[ftype == t] = i
    return shapely.get_x(cent), shapely.get_y(cent), np.asarray(cls, np.uint8), code


# ---------------------------------------------------------------------------------------------- driver
def strip_rows(ny, nx, y1, cell_size, n_workers, block_tops=()):
    """[(g0, g1)]: full-width strips of grid rows, about STRIP_CELLS cells, at least STRIPS_PER_WORKER
    per worker; a strip starts at the grid row holding each of ``block_tops`` (y, working CRS)."""
    per = max(1, min(STRIP_CELLS // max(nx, 1), math.ceil(ny / (STRIPS_PER_WORKER * max(n_workers, 1)))))
    cuts = {0, ny} | {int(min(max(math.floor((y1 - y) / cell_size), 0), ny)) for y in block_tops}
    cuts = sorted(cuts)
    out = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        parts = max(1, math.ceil((b - a) / per))
        edges = np.linspace(a, b, parts + 1).round().astype(int)
        out += [(int(p), int(q)) for p, q in zip(edges[:-1], edges[1:]) if q > p]
    return out


def _layer_points(dispatcher, layer, hazard, wcrs, rule, progress):
    """(x, y, cls, type code) of every feature of a buildings / facilities layer (module docstring)."""
    if layer is None:
        return None
    if isinstance(layer, L.PartitionedLayer):
        spec = C.HazardSpec.of(hazard)
        hz = dispatcher.share(spec) if spec is not None and spec.path is None else spec
        res = [list(r) for r in dispatcher.map("feature_points", _points_tile, layer._tasks(), layer.spec,
                                                layer.wanted, dispatcher.token, hz, wcrs, rule, layer.columns,
                                                progress=progress)]
        out = []
        for i in range(4):                            # one array at a time: the tiles' copy of it goes at once
            out.append(np.concatenate([r[i] for r in res]))
            for r in res:
                r[i] = None
        return tuple(out)
    from ..crs import to_working
    b = to_working(layer, wcrs)
    geoms = np.asarray(b.geometry.values, dtype=object)
    cls = C._feature_classes(geoms, hazard, wcrs, rule)
    return _points_of(geoms, cls, b["facility_type"].to_numpy() if "facility_type" in b.columns else None)


ROW_FAR = 2 ** 30             # rows beyond ± this (far outside any grid) are kept at it: no strip takes them


def _by_row(points, y1, cell_size):
    """``points`` sorted by grid row, with the sorted rows as int32 (features without a centroid dropped).
    About 40 bytes a feature at the peak, one sorted array made at a time (15 M buildings at 600 km)."""
    if points is None:
        return None, None
    points = list(points)
    row = np.floor((y1 - points[1]) / cell_size)
    ok = np.isfinite(row) & np.isfinite(points[0])
    rows = np.clip(np.where(ok, row, 0), -ROW_FAR, ROW_FAR).astype(np.int32)
    del row
    rows[~ok] = np.iinfo(np.int32).max            # last in the stable sort, then cut off
    order = np.argsort(rows, kind="stable")[:int(ok.sum())]
    del ok
    for i in range(len(points)):
        points[i] = points[i][order]
    return tuple(points), rows[order]


def _slice(sorted_points, rows, g0, g1):
    """The points of grid rows g0 - 1 … g1 (a centroid on a strip's edge may touch either side)."""
    if sorted_points is None:
        return None
    a, b = np.searchsorted(rows, g0 - 1, "left"), np.searchsorted(rows, g1, "right")
    return tuple(p[a:b] for p in sorted_points)


def _remove(folder, tries=20):
    """Remove the parts folder; a cancelled task may still be closing its part for a moment."""
    for _ in range(tries):
        shutil.rmtree(folder, ignore_errors=True)
        if not Path(folder).exists():
            return
        time.sleep(0.1)


class StripResult:
    """The strips' small arrays, concatenated in strip order (fourcolor.split_grid's answer)."""

    def __init__(self, results):
        cat = lambda key, empty: np.concatenate([r[key] for r in results]) if results else empty  # noqa: E731
        self.n = int(sum(r["n"] for r in results))
        self.level = cat("level", np.zeros(0, np.int64))
        self.people = cat("people", np.zeros((0, N_CLASSES)))
        self.buildings = cat("buildings", np.zeros(0, np.int64))
        self.area_km2 = cat("area_km2", np.zeros(0))
        self.town = cat("town", np.zeros(0, np.int64))
        self.people_r, self.area_r = cat("people_r", np.zeros(0)), cat("area_r", np.zeros(0))
        self.levels = {"level": self.level}

    def table_frame(self, towns):
        """The output layer's columns that fourcolor.levels_table reads, as the one-process frame holds them."""
        import pandas as pd
        code, name = F.township_labels(self.town, towns)
        return pd.DataFrame({"township_code": code, "township_name": name, "risk_level": self.level,
                             "area_km2": self.area_r, "people": self.people_r, "buildings": self.buildings})


def _join(parts, output, job, progress):
    """Append the parts, in order, into ``output`` (atomically, with the stored style hooks)."""
    import geopandas as gpd
    from ..io import atomic_path
    layer = Path(output).stem
    with atomic_path(output) as tmp:
        written = False
        for i, part in enumerate(parts):
            progress.set(100.0 * i / max(len(parts), 1))
            if part is None:
                continue
            gdf = gpd.read_parquet(part).set_crs(job.target_crs, allow_override=True)   # the CRS as one process writes it
            gdf.to_file(tmp, driver="GPKG", engine="pyogrio", index=False, layer=layer, append=written)
            written = True
            del gdf
            Path(part).unlink()
        if not written:                              # no piece at all: the one-process empty layer
            _empty_frame(job).to_file(tmp, driver="GPKG", engine="pyogrio", index=False, layer=layer)
        progress.set(100.0)


def _empty_frame(job):
    """The one-process output layer with no piece, in the output CRS."""
    import geopandas as gpd
    empty = gpd.GeoDataFrame({"row": np.zeros(0, np.int64), "col": np.zeros(0, np.int64),
                              "town": np.zeros(0, np.int64)}, geometry=[], crs=job.inp.work_crs)
    z = np.zeros((0, N_CLASSES))
    fac = {t: z for t in FACILITY_TYPES} if job.inp.facilities is not None else None
    frame = F.grade_frame(empty, z, z if job.inp.buildings is not None else None, fac, z,
                          np.zeros(0) if job.vulnerability else None, job.towns, "grid", job.inp.work_crs,
                          job.grading)[0]
    return frame.to_crs(job.target_crs)


def make_split_grid(dispatcher):
    """A :func:`risk_plugin.fourcolor.split_grid` that runs the grid in strips on ``dispatcher``."""

    def split_grid(job, progress):
        from ..io import VECTOR_DRIVERS
        from ..outputs import _make_parent, _output_error
        inp = job.inp
        vrt = is_parts_output(job.output)
        gpkg = job.output is None or vrt or VECTOR_DRIVERS.get(Path(job.output).suffix.lower(), "GPKG") == "GPKG"
        if job.towns is None or job.cell_rule != "centre" or not gpkg or inp.pop is None:
            return None                               # the one-process grid (module docstring)
        wcrs = inp.work_crs
        x0, y1, nx, ny = F.grid_shape(job.bounds, job.cell_size)
        pop = inp.pop
        k = _zonal.subdivision(pop, inp.hazard, job.max_cell_m)
        side = max(8, int(np.sqrt(_zonal.BLOCK_CELLS) // k))
        tops = ()
        if pop.crs == wcrs:
            tops = [pop.transform.f + r * pop.transform.e for r in range(0, pop.height, side)]
        strips = strip_rows(ny, nx, y1, job.cell_size, dispatcher.n_workers, tops)
        progress.info(f"网格分为 {len(strips)} 条带, 在各工作进程生成、统计并写出 / the grid in {len(strips)} strips, "
                      "built, counted and written on the workers")
        rule = job.building_rule
        bld = _by_row(_layer_points(dispatcher, inp.buildings, inp.hazard, wcrs, rule, progress.sub(0, 5)), y1,
                      job.cell_size)
        fac = _by_row(_layer_points(dispatcher, inp.facilities, inp.hazard, wcrs, rule, progress.sub(5, 10)), y1,
                      job.cell_size)
        spec = C.HazardSpec.of(inp.hazard)
        ctx = StripContext(dispatcher.token, tuple(map(float, job.bounds)), job.cell_size, wcrs,
                           job.towns[[c for c in ("code", "name") if c in job.towns] + [job.towns.geometry.name]],
                           (pop.path, pop.unit, pop.label), spec, job.vulnerability or None, job.cell_rule,
                           job.max_cell_m, k, side, job.grading, inp.buildings is not None,
                           inp.facilities is not None, job.target_crs)
        shared = dispatcher.share(ctx)
        layer = Path(job.output).stem if job.output else None

        def run_strips(part_path, end):
            """The strips on the workers, part i written to ``part_path(i)``: (parts, StripResult)."""
            def pieces():
                for i, (g0, g1) in enumerate(strips):
                    yield {"rows": (g0, g1), "buildings": _slice(*bld, g0, g1), "facilities": _slice(*fac, g0, g1),
                           "part": part_path(i) if part_path else None, "layer": layer}
            res = dispatcher.map_stream("grid_strips", _strip, pieces(), len(strips), 2 * dispatcher.n_workers,
                                        progress=progress.sub(10, end), args=(shared,), drain=True)
            return [r["part"] for r in res], StripResult(res)   # the strips' arrays are in the StripResult now

        if vrt:                                       # no join: the workers' parts are the output
            with parts_output(job.output) as parts:
                _, out = run_strips(parts.path, 99)
                if not parts.written():
                    write_vector(_empty_frame(job), parts.path(0), layer=parts.layer)
            return out
        folder = None
        if job.output:
            final = Path(job.output)
            try:
                _make_parent(final)
                folder = Path(tempfile.mkdtemp(prefix=".riskmap-parts-", dir=final.parent))
            except OSError as exc:
                raise _output_error(final, exc) from exc
        try:
            parts, out = run_strips((lambda i: str(folder / f"part_{i:05d}.parquet")) if folder else None,
                                    85 if job.output else 99)
            if job.output:
                progress.info(f"合并写出 {out.n} 个图斑 / joining {out.n} supports into the output")
                _join(parts, job.output, job, progress.sub(85, 99))
            return out
        finally:
            if folder is not None:
                _remove(folder)

    return split_grid
