"""Landslide susceptibility on the DEM grid, block by block.

>>> r = landslide_susceptibility("dem.tif", "landslides.gpkg", "index.tif", "zones.tif", "report.csv",
...                              presence_field="landslide", method="information_value")
>>> r.auc_success, r.auc_prediction

Passes over the DEM (blocks of BLOCK_SIZE² cells with a halo; never the whole factor stack):
0. global flow routing (terrain.hydro_grid), on a block-averaged DEM when the DEM is large;
1. factors on a random subset of blocks → quantile breaks of the continuous factors;
2. factors on every block → class codes (uint8, one band per factor) into a temporary GeoTIFF,
   area per class, and the codes at every sample cell (inventory, drawn absences, zone sample);
3. fit and cross-validate the model on the samples, place the zone breaks;
4. codes → index and zones, written block by block; the success AUC is computed from the index
   values as written, at the sample cells.
"""
import contextlib
import math
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..definitions import susceptibility as D
from ..errors import input_error, parameter_error
from ..inputs import RasterInput, VectorInput, check_rasters, load_vectors
from ..io import atomic_path, layer_name, raster_profile, write_vector
from ..progress import ensure
from .. import terrain as T
from .factors import CategoryCoder, Factor, quantile_breaks
from .model import auc, cross_validate, fit
from .report import summary_table, weights_table, write_report, zones_table
from .zoning import classify, zone_breaks

INDEX_NODATA = -9999.0
CONTINUOUS_UNITS = {"elevation": "m", "slope": "°", "plan_curvature": "1/100 m", "profile_curvature": "1/100 m",
                    "relief": "m", "twi": "", "stream_distance": "m"}


@dataclass
class Settings:
    """Rarely changed settings; defaults and sources in risk_plugin/definitions/susceptibility.py."""
    n_classes: int = D.N_CLASSES
    dem_factors: tuple = D.DEM_FACTORS
    relief_window_m: float = D.RELIEF_WINDOW_M
    stream_area_m2: float = D.STREAM_AREA_M2
    hydro_max_cells: int = D.HYDRO_MAX_CELLS
    flat_slope_deg: float = D.FLAT_SLOPE_DEG
    absence_ratio: float = D.ABSENCE_RATIO
    success_cutoffs: tuple = D.SUCCESS_CUTOFFS
    logistic_c: float = D.LOGISTIC_C
    empty_class_count: float = D.EMPTY_CLASS_COUNT
    block_size: int = D.BLOCK_SIZE
    break_sample_cells: int = D.BREAK_SAMPLE_CELLS
    zone_sample_cells: int = D.ZONE_SAMPLE_CELLS


@dataclass
class Result:
    auc_success: float
    auc_prediction: float
    fold_aucs: List[float]
    breaks: np.ndarray
    n_presence: int
    n_absence: int
    factors: List[Factor]
    weights: object            # DataFrame
    zones: object              # DataFrame
    outputs: Dict[str, Optional[str]] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    def share_in_top_zones(self, n=2):
        """Share of the landslide samples in the n highest zones."""
        z = self.zones
        top = z[z["分区 zone"] > 4 - n]["滑坡数 landslides"].sum()
        return float(top / max(z["滑坡数 landslides"].sum(), 1e-12))


class CellSet:
    """Cells (row, col) grouped by block, to pick their values out of each block quickly."""

    def __init__(self, rows, cols, block, n_block_cols):
        self.rows, self.cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        self.block, self.nbc = block, n_block_cols
        bid = (self.rows // block) * n_block_cols + self.cols // block
        self.order = np.argsort(bid, kind="stable")
        self.sorted = bid[self.order]

    def __len__(self):
        return self.rows.size

    def in_block(self, blk):
        """(sample indices, rows, cols inside the block) of the cells in block ``blk``."""
        b = (blk.row0 // self.block) * self.nbc + blk.col0 // self.block
        lo, hi = np.searchsorted(self.sorted, b, "left"), np.searchsorted(self.sorted, b, "right")
        idx = self.order[lo:hi]
        return idx, self.rows[idx] - blk.row0, self.cols[idx] - blk.col0


def _check_parameters(method, breaks, folds, s):
    if method not in D.METHODS:
        raise parameter_error("METHOD", f"未知方法 {method}", f"unknown method {method}", f"可选 {D.METHODS}",
                              f"one of {D.METHODS}")
    if breaks not in D.BREAKS:
        raise parameter_error("BREAKS", f"未知分级方法 {breaks}", f"unknown break method {breaks}",
                              f"可选 {D.BREAKS}", f"one of {D.BREAKS}")
    if int(folds) < 2:
        raise parameter_error("FOLDS", "折数至少为 2", "FOLDS must be at least 2", "默认 5", "default 5")
    if not 2 <= int(s.n_classes) <= 50:
        raise parameter_error("N_CLASSES", "连续因子分级数应在 2–50 之间", "N_CLASSES must be 2–50", "默认 8", "default 8")
    bad = [f for f in s.dem_factors if f not in D.DEM_FACTORS]
    if bad:
        raise parameter_error("DEM_FACTORS", f"未知因子 {bad}", f"unknown factors {bad}", f"可选 {D.DEM_FACTORS}",
                              f"one of {D.DEM_FACTORS}")
    if s.absence_ratio <= 0:
        raise parameter_error("ABSENCE_RATIO", "应大于 0", "must be > 0", "默认 1", "default 1")


class _Job:
    """State of one run: the DEM, the factor sources and the block layout."""

    def __init__(self, dem, s, seed, progress):
        import rasterio
        self.s, self.progress = s, progress
        self.rng = np.random.default_rng(seed)
        self.src = rasterio.open(dem)
        t = self.src.transform
        self.transform, self.crs = t, self.src.crs
        self.h, self.w = self.src.height, self.src.width
        self.cell = (abs(t.a), abs(t.e))
        self.cs = float(np.mean(self.cell))
        self.relief_n = T.relief_cells(s.relief_window_m, self.cs)
        self.halo = max(1, self.relief_n // 2) if "relief" in s.dem_factors else 1
        self.bs = int(s.block_size)
        self.nbc = -(-self.w // self.bs)
        self.blocks = list(T.blocks(self.h, self.w, self.bs, self.halo))
        self.hydro = None
        self.k = T.coarse_factor(self.h, self.w, s.hydro_max_cells)
        self.support_transform = t * t.scale(self.k, self.k)
        self.support_shape = (-(-self.h // self.k), -(-self.w // self.k))
        self.line_dist = []          # (name, coarse distance array)
        self.cat_rasters = []        # (name, dataset, coder)
        self.polygons = None         # (name, geometries, codes, STRtree)
        self.continuous = []         # names of continuous factors, in order
        self.dem_names = [f for f in D.DEM_FACTORS if f in s.dem_factors]
        self._opened = []

    def close(self):
        for _, ds, _ in self.cat_rasters:
            ds.close()
        for ds in self._opened:
            ds.close()
        self.src.close()

    def unique_name(self, name):
        """A factor name not used yet (two layers named 'roads' become roads, roads_2)."""
        taken = set(self.dem_names) | {n for n, _ in self.line_dist} | {n for n, _, _ in self.cat_rasters}
        out, i = name, 2
        while out in taken:
            out, i = f"{name}_{i}", i + 1
        return out

    # --- factor sources -------------------------------------------------------------------------------
    def add_lines(self, name, gdf):
        from rasterio.features import rasterize
        geoms = [g for g in gdf.geometry if g is not None and not g.is_empty]
        mask = rasterize(((g, 1) for g in geoms), out_shape=self.support_shape, transform=self.support_transform,
                         all_touched=True, dtype="uint8") if geoms else np.zeros(self.support_shape, np.uint8)
        if not mask.any():
            self.progress.info(f"[{name}] 线图层与 DEM 范围不相交, 不作为因子 / no line inside the DEM extent; factor dropped")
            return
        self.line_dist.append((self.unique_name(name), T.distance_to(mask.astype(bool), self.k * self.cs)))

    def add_categorical_raster(self, name, path):
        import rasterio
        from rasterio.enums import Resampling
        from rasterio.vrt import WarpedVRT
        src = rasterio.open(path)
        vrt = WarpedVRT(src, crs=self.crs, transform=self.transform, width=self.w, height=self.h,
                        resampling=Resampling.nearest)
        name = self.unique_name(name)
        self.cat_rasters.append((name, vrt, CategoryCoder(name)))
        self._opened.append(src)

    def add_polygons(self, name, gdf, column):
        import shapely
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        values = gdf[column].astype(str)
        cats = sorted(values.unique())
        codes = np.searchsorted(np.array(cats, dtype=object), values.to_numpy()) + 1
        geoms = gdf.geometry.to_numpy()
        name = self.unique_name(name)
        self.polygons = (name, geoms, codes.astype(np.uint8), shapely.STRtree(geoms), Factor.categorical(name, cats))

    # --- per block ----------------------------------------------------------------------------------------
    def window_transform(self, blk):
        return self.transform * self.transform.translation(blk.col0, blk.row0)

    def rasterize_block(self, blk, geoms, values, tree, dtype="uint8"):
        import shapely
        from rasterio.features import rasterize
        x0, y1 = self.transform * (blk.col0, blk.row0)
        x1, y0 = self.transform * (blk.col1, blk.row1)
        hits = tree.query(shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
        if hits.size == 0:
            return np.zeros(blk.shape, dtype)
        hits.sort()                      # later features win, in layer order
        return rasterize(zip(geoms[hits], values[hits].tolist()), out_shape=blk.shape,
                         transform=self.window_transform(blk), fill=0, dtype=dtype)

    def continuous_block(self, blk):
        """Continuous factor values (float32, own cells) and the valid mask of a block."""
        s = self.s
        z = T.read_block(self.src, blk)
        out = {}
        names = self.dem_names
        need_slope = any(n in names for n in ("slope", "aspect", "twi"))
        slope = blk.crop(T.slope_deg(z, self.cell)) if need_slope else None
        if "elevation" in names:
            out["elevation"] = blk.crop(z)
        if "slope" in names:
            out["slope"] = slope
        if "plan_curvature" in names or "profile_curvature" in names:
            plan, prof = T.curvatures(z, self.cs)
            if "plan_curvature" in names:
                out["plan_curvature"] = blk.crop(plan)
            if "profile_curvature" in names:
                out["profile_curvature"] = blk.crop(prof)
        if "relief" in names:
            out["relief"] = blk.crop(T.local_relief(np.where(T.outside(blk, z.shape), np.nan, z), self.relief_n))
        if "twi" in names and self.hydro is not None:
            out["twi"] = T.twi(self.hydro.take(self.hydro.sca, blk), slope)
        if "stream_distance" in names and self.hydro is not None:
            out["stream_distance"] = self.hydro.take(self.hydro.stream_distance, blk)
        for name, dist in self.line_dist:
            out[name] = self.hydro_take(dist, blk)
        valid = ~np.isnan(blk.crop(z))
        if slope is not None:
            valid &= ~np.isnan(slope)
        for v in out.values():
            valid &= np.isfinite(v)
        aspect = None
        if "aspect" in names:
            aspect = T.aspect_sector(blk.crop(T.aspect_deg(z, self.cell)), slope, s.flat_slope_deg)
        return out, aspect, valid

    def hydro_take(self, arr, blk):
        rows = np.arange(blk.row0, blk.row1) // self.k
        cols = np.arange(blk.col0, blk.col1) // self.k
        return arr[rows[:, None], cols[None, :]]


def _rowcol(transform, xs, ys):
    cols, rows = ~transform * (np.asarray(xs, np.float64), np.asarray(ys, np.float64))
    return np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)


def _load_inputs(dem, inventory, presence_field, categorical_rasters, categorical_polygons, categorical_field,
                 distance_lines):
    rasters = [RasterInput("dem", dem, "dem", metric=True, label=layer_name(dem))]
    rasters += [RasterInput(f"cat{i}", p, "factor_raster", label=layer_name(p)) for i, p in enumerate(categorical_rasters)]
    vectors = [VectorInput("inventory", inventory, "landslide_inventory",
                           {"presence": presence_field} if presence_field else {}, label=None)]
    if categorical_polygons:
        vectors.append(VectorInput("polygons", categorical_polygons, "factor_polygons",
                                   {"category": categorical_field} if categorical_field else {}))
    vectors += [VectorInput(f"lines{i}", p, "factor_lines") for i, p in enumerate(distance_lines)]
    problems = []
    from ..errors import ValidationError
    try:
        check_rasters(rasters)
    except ValidationError as exc:
        problems.extend(exc.problems)
    try:
        layers = load_vectors(vectors)
    except ValidationError as exc:
        problems.extend(exc.problems)
        layers = None
    if problems:
        raise ValidationError(problems)
    return layers


def landslide_susceptibility(dem, inventory, out_index, out_zones=None, out_report=None, *, presence_field=None,
                             method=D.METHOD, folds=D.FOLDS, breaks=D.BREAK_METHOD, seed=D.SEED,
                             categorical_rasters=(), categorical_polygons=None, categorical_field=None,
                             distance_lines=(), out_samples=None, settings=None, progress=None, **overrides):
    """Susceptibility index and zones on the DEM grid; returns a :class:`Result`.

    dem: metric DEM (GeoTIFF). inventory: landslide points or polygons; with ``presence_field`` (or a
    field the schema recognises, e.g. ``landslide``/``是否滑坡``) 1 = landslide, 0 = surveyed
    non-landslide; otherwise absences are drawn from ``seed``. Extra factors: categorical rasters,
    categorical polygons (``categorical_field``), and line layers for distance factors. Settings
    (n_classes, dem_factors, …) may be given as keyword overrides.
    """
    progress = ensure(progress)
    s = replace(settings or Settings(), **overrides)
    s.dem_factors = tuple(s.dem_factors)
    _check_parameters(method, breaks, folds, s)
    folds, seed = int(folds), int(seed)
    layers = _load_inputs(dem, inventory, presence_field, list(categorical_rasters), categorical_polygons,
                          categorical_field, list(distance_lines))
    progress.set(2)
    work = Path(tempfile.mkdtemp(prefix=".riskmap-susc-", dir=Path(out_index).resolve().parent))
    job = _Job(dem, s, seed, progress)
    try:
        return _run(job, layers, work, out_index, out_zones, out_report, out_samples, presence_field, method,
                    folds, breaks, seed, list(categorical_rasters), list(distance_lines), progress)
    finally:
        job.close()
        shutil.rmtree(work, ignore_errors=True)


def _run(job, layers, work, out_index, out_zones, out_report, out_samples, presence_field, method, folds,
         breaks, seed, categorical_rasters, distance_lines, progress):
    import rasterio
    s, notes = job.s, []

    def note(msg):
        notes.append(msg)
        progress.info(msg)

    # ---- inventory -------------------------------------------------------------------------------------
    inv = layers["inventory"].to_crs(job.crs)
    has_field = "presence" in inv.columns and inv["presence"].notna().any()
    if has_field:
        blank = inv["presence"].isna()
        if blank.any():
            note(f"[inventory] {int(blank.sum())} 个要素的是否滑坡字段为空, 已忽略 / features with an empty presence "
                 "value ignored")
            inv = inv[~blank]
        if not presence_field:
            note("[inventory] 使用识别到的是否滑坡字段 (1/0) / using the recognised presence field (1/0)")
    geom_types = set(inv.geometry.geom_type.str.replace("Multi", ""))
    polygons_inv = geom_types == {"Polygon"}
    if not polygons_inv and geom_types != {"Point"}:
        raise input_error(layer_name(inv.attrs.get("source", "inventory")), "编录应全为点或全为面",
                          "the inventory must be all points or all polygons", "拆分图层", "split the layer")
    if not polygons_inv:
        inv = inv.explode(index_parts=False)        # MultiPoint → points

    # ---- factor sources --------------------------------------------------------------------------------
    if any(f in s.dem_factors for f in ("twi", "stream_distance")):
        job.hydro = T.hydro_grid(job.src.name, s.stream_area_m2, s.hydro_max_cells, progress.sub(2, 20))
        if not job.hydro.streams.any() and "stream_distance" in job.dem_names:
            note("DEM 太小, 没有达到汇水阈值的河道, 不使用到河道距离因子 / no stream reaches STREAM_AREA_M2 on this DEM; "
                 "stream distance dropped")
            job.dem_names.remove("stream_distance")
        if job.hydro.k > 1:
            note(f"汇流在 {job.hydro.cell_size:g} m 格网上计算 (DEM 较大) / flow routing on a {job.hydro.cell_size:g} m "
                 "grid (large DEM)")
    for i, path in enumerate(distance_lines):
        job.add_lines(f"dist_{Path(str(path).split('|')[0]).stem}", layers[f"lines{i}"].to_crs(job.crs))
    for i, path in enumerate(categorical_rasters):
        job.add_categorical_raster(Path(str(path).split("|")[0]).stem, path)
    if layers.get("polygons") is not None:
        job.add_polygons(Path(str(layers["polygons"].attrs.get("source", "polygons")).split("|")[0]).stem,
                         layers["polygons"].to_crs(job.crs), "category")
    progress.set(20)

    # ---- pass 1: quantile breaks of the continuous factors ------------------------------------------------
    total = job.h * job.w
    order = job.rng.permutation(len(job.blocks))
    chosen, cells = [], 0
    for i in order:
        if cells >= s.break_sample_cells and len(chosen) >= 16:
            break
        chosen.append(job.blocks[i])
        cells += int(np.prod(job.blocks[i].shape))
    keep = min(1.0, 2_000_000 / max(cells, 1))
    samples, valid_cells, seen = {}, 0, 0
    p1 = progress.sub(20, 35)
    for j, blk in enumerate(sorted(chosen, key=lambda b: (b.row0, b.col0))):
        p1.set(100.0 * j / len(chosen))
        vals, _, valid = job.continuous_block(blk)
        valid_cells += int(valid.sum())
        seen += valid.size
        pick = valid if keep >= 1 else valid & (job.rng.random(valid.shape) < keep)
        for name, v in vals.items():
            samples.setdefault(name, []).append(v[pick])
    if valid_cells == 0:
        raise input_error(layer_name(job.src.name), "DEM 没有有效像元", "the DEM has no valid cells",
                          "检查 nodata 设置", "check the nodata value")
    valid_share = valid_cells / max(seen, 1)
    factors = []
    for name in [n for n in job.dem_names if n != "aspect"] + [n for n, _ in job.line_dist]:
        v = np.concatenate(samples[name])
        b = quantile_breaks(v, s.n_classes)
        factors.append(Factor.continuous(name, b, CONTINUOUS_UNITS.get(name, "m"), float(v.min()), float(v.max())))
    continuous_names = [f.name for f in factors]
    del samples
    has_aspect = "aspect" in job.dem_names
    if has_aspect:
        factors.append(Factor.sector("aspect"))
    n_cont = len(continuous_names)
    cat_names = [n for n, _, _ in job.cat_rasters] + ([job.polygons[0]] if job.polygons else [])
    n_f = len(factors) + len(cat_names)
    if n_f == 0:
        raise parameter_error("DEM_FACTORS", "没有可用的因子", "no factor to use", "至少选择一个因子", "choose at least one factor")
    progress.set(35)

    # ---- sample cells ------------------------------------------------------------------------------------
    if not polygons_inv:
        xs, ys = inv.geometry.x.to_numpy(), inv.geometry.y.to_numpy()
        rows, cols = _rowcol(job.transform, xs, ys)
        inside = (rows >= 0) & (rows < job.h) & (cols >= 0) & (cols < job.w)
        if (~inside).any():
            note(f"[inventory] {int((~inside).sum())} 个点在 DEM 范围外, 已忽略 / points outside the DEM ignored")
        inv_idx = np.flatnonzero(inside)
        inv_rows, inv_cols = rows[inside], cols[inside]
        inv_y = inv["presence"].to_numpy()[inside].astype(int) if has_field else np.ones(inside.sum(), int)
        n_pres_est = int((inv_y == 1).sum())
    else:
        inv_rows = inv_cols = np.array([], np.int64)
        inv_y = np.array([], int)
        inv_idx = np.array([], np.int64)
        pres = inv[inv["presence"] == 1] if has_field else inv
        n_pres_est = int(pres.geometry.area.sum() / (job.cell[0] * job.cell[1])) + 1
    if has_field:
        n_cand = 0
    else:
        need = int(math.ceil(s.absence_ratio * max(n_pres_est, 1)))
        n_cand = int(min(total, 2 * need / max(valid_share, 0.01) + 200))
    flat = job.rng.integers(0, total, n_cand)
    flat = flat[np.sort(np.unique(flat, return_index=True)[1])]          # unique, in drawn order
    cand_rows, cand_cols = np.divmod(flat, job.w)
    zflat = job.rng.integers(0, total, int(s.zone_sample_cells))
    zone_rows, zone_cols = np.divmod(zflat, job.w)
    roles = np.concatenate([np.zeros(inv_rows.size, int), np.ones(cand_rows.size, int), np.full(zone_rows.size, 2)])
    cset = CellSet(np.concatenate([inv_rows, cand_rows, zone_rows]), np.concatenate([inv_cols, cand_cols, zone_cols]),
                   job.bs, job.nbc)
    s_codes = np.zeros((n_f, len(cset)), np.uint8)
    s_valid = np.zeros(len(cset), bool)
    s_invval = np.zeros(len(cset), np.uint8)       # polygon inventory value at the cell (0 none, 1 absent, 2 present)
    poly_cells = []                                # polygon inventory: (rows, cols, value, fid, codes)
    if polygons_inv:
        import shapely
        inv_geoms = inv.geometry.to_numpy()
        inv_vals = (inv["presence"].to_numpy().astype(np.int64) + 1) if has_field else np.full(len(inv), 2)
        order_i = np.argsort(inv_vals, kind="stable")          # presence polygons burn last (win)
        inv_geoms, inv_vals, inv_fid = inv_geoms[order_i], inv_vals[order_i], np.asarray(inv.index)[order_i]
        inv_tree = shapely.STRtree(inv_geoms)
        inv_pos = np.arange(len(inv_geoms), dtype=np.int64)

    # ---- pass 2: codes, area per class, codes at the samples ------------------------------------------------
    area_counts = np.zeros((n_f, 256), np.float64)
    codes_path = str(work / "codes.tif")
    prof = raster_profile(job.transform, job.crs, job.w, job.h, "uint8", None, count=n_f + 1)
    prof.update(compress=None, interleave="pixel")
    p2 = progress.sub(35, 70)
    with rasterio.open(codes_path, "w", **prof) as tmp:
        for j, blk in enumerate(job.blocks):
            p2.set(100.0 * j / len(job.blocks))
            vals, aspect, valid = job.continuous_block(blk)
            stack = np.zeros((n_f,) + blk.shape, np.uint8)
            for f in range(n_cont):
                stack[f] = factors[f].classify(vals[factors[f].name])
            f = n_cont
            if has_aspect:
                stack[f] = aspect
                f += 1
            for name, ds, coder in job.cat_rasters:
                arr = ds.read(1, window=blk.window(), masked=True)
                stack[f] = coder.encode(arr.filled(0), np.ma.getmaskarray(arr))
                f += 1
            if job.polygons:
                _, geoms, pcodes, tree, _ = job.polygons
                stack[f] = job.rasterize_block(blk, geoms, pcodes, tree)
            stack[:, ~valid] = 0
            for f in range(n_f):
                area_counts[f] += np.bincount(stack[f][valid], minlength=256)
            tmp.write(np.concatenate([stack, valid[None].astype(np.uint8)]), window=blk.window())
            idx, r, c = cset.in_block(blk)
            s_codes[:, idx] = stack[:, r, c]
            s_valid[idx] = valid[r, c]
            if polygons_inv:
                ival = job.rasterize_block(blk, inv_geoms, inv_vals, inv_tree)
                s_invval[idx] = ival[r, c]
                ipos = job.rasterize_block(blk, inv_geoms, inv_pos + 1, inv_tree, dtype="int32")
                sel = (ival > 0) & valid
                if sel.any():
                    rr, cc = np.nonzero(sel)
                    poly_cells.append((rr + blk.row0, cc + blk.col0, ival[sel], inv_fid[ipos[sel] - 1], stack[:, rr, cc]))
    for name, _, coder in job.cat_rasters:
        factors.append(coder.factor())
    if job.polygons:
        factors.append(job.polygons[4])
    area = [area_counts[f][:factors[f].n_codes].copy() for f in range(n_f)]
    progress.set(70)

    # ---- samples ---------------------------------------------------------------------------------------------
    inv_sel = roles == 0
    cand_sel = roles == 1
    zone_sel = (roles == 2) & s_valid
    if not polygons_inv:
        ok = s_valid[inv_sel]
        if (~ok).any():
            note(f"[inventory] {int((~ok).sum())} 个点落在 DEM 无数据处, 已忽略 / points on DEM nodata ignored")
        S_rows, S_cols = inv_rows[ok], inv_cols[ok]
        S_y, S_codes = inv_y[ok], s_codes[:, inv_sel][:, ok]
        S_group = np.arange(S_y.size)
        S_src = inv_idx[ok]
        pres_flat = S_rows[S_y == 1] * job.w + S_cols[S_y == 1]
        cand_ok = s_valid[cand_sel] & ~np.isin(cand_rows * job.w + cand_cols, pres_flat)
    else:
        if poly_cells:
            P_rows = np.concatenate([p[0] for p in poly_cells])
            P_cols = np.concatenate([p[1] for p in poly_cells])
            P_val = np.concatenate([p[2] for p in poly_cells])
            P_fid = np.concatenate([p[3] for p in poly_cells])
            P_codes = np.concatenate([p[4] for p in poly_cells], axis=1)
        else:
            P_rows = P_cols = P_val = P_fid = np.array([], np.int64)
            P_codes = np.zeros((n_f, 0), np.uint8)
        S_rows, S_cols, S_y, S_codes = P_rows, P_cols, (P_val == 2).astype(int), P_codes
        _, S_group = np.unique(P_fid, return_inverse=True)
        S_src = P_fid
        cand_ok = s_valid[cand_sel] & (s_invval[cand_sel] == 0)
    n_pres = int((S_y == 1).sum())
    if n_pres == 0:
        raise input_error(layer_name(inv.attrs.get("source", "inventory")), "DEM 范围内没有滑坡样本",
                          "no landslide inside the DEM", "检查编录与 DEM 的范围和坐标系",
                          "check the extent and CRS of the inventory and the DEM")
    drawn = np.zeros(S_y.size, bool)
    if not has_field:
        need = int(math.ceil(s.absence_ratio * n_pres))
        ci = np.flatnonzero(cand_ok)[:need]
        if ci.size < need:
            note(f"只抽到 {ci.size} 个非滑坡样本 (需要 {need}) / only {ci.size} absences drawn ({need} wanted)")
        S_rows = np.concatenate([S_rows, cand_rows[ci]])
        S_cols = np.concatenate([S_cols, cand_cols[ci]])
        S_y = np.concatenate([S_y, np.zeros(ci.size, int)])
        S_codes = np.concatenate([S_codes, s_codes[:, cand_sel][:, ci]], axis=1)
        S_group = np.concatenate([S_group, S_group.max(initial=-1) + 1 + np.arange(ci.size)])
        S_src = np.concatenate([np.asarray(S_src, object), np.full(ci.size, None, object)])
        drawn = np.concatenate([drawn, np.ones(ci.size, bool)])
    n_abs = int((S_y == 0).sum())
    if n_abs == 0:
        raise input_error(layer_name(inv.attrs.get("source", "inventory")), "没有非滑坡样本 (是否滑坡字段全为 1)",
                          "no non-landslide samples (the presence field is 1 everywhere)",
                          "不指定是否滑坡字段, 让程序抽样非滑坡点", "leave PRESENCE_FIELD empty to draw absences")

    # ---- fit, cross-validate, zone breaks ------------------------------------------------------------------
    kw = dict(logistic_c=s.logistic_c, empty=s.empty_class_count)
    model = fit(method, S_codes, S_y, area, seed=seed, **kw)
    groups = S_group if polygons_inv else None
    auc_pred, fold_aucs, fold = cross_validate(method, S_codes, S_y, area, folds, seed, groups=groups, **kw)
    progress.set(75)
    S_index = model.score(S_codes)
    zone_index = model.score(s_codes[:, zone_sel])
    zbreaks = zone_breaks(breaks, zone_index, presence_index=S_index[S_y == 1], cutoffs=s.success_cutoffs, seed=seed)

    # ---- pass 3: index and zones -------------------------------------------------------------------------
    sset = CellSet(S_rows, S_cols, job.bs, job.nbc)
    written = np.full(S_y.size, np.nan, np.float32)
    zone_cells = np.zeros(5, np.float64)
    S_zone = np.zeros(S_y.size, np.uint8)
    p3 = progress.sub(75, 97)
    with contextlib.ExitStack() as stack_ctx:
        tmp_index = stack_ctx.enter_context(atomic_path(out_index))
        dst_i = stack_ctx.enter_context(rasterio.open(
            tmp_index, "w", **raster_profile(job.transform, job.crs, job.w, job.h, "float32", INDEX_NODATA)))
        dst_z = None
        if out_zones:
            tmp_zones = stack_ctx.enter_context(atomic_path(out_zones))
            dst_z = stack_ctx.enter_context(rasterio.open(
                tmp_zones, "w", **raster_profile(job.transform, job.crs, job.w, job.h, "uint8", 0)))
        with rasterio.open(codes_path) as codes_src:
            for j, blk in enumerate(job.blocks):
                p3.set(100.0 * j / len(job.blocks))
                data = codes_src.read(window=blk.window())
                valid = data[-1].astype(bool)
                index = model.score(data[:-1])
                zones = classify(index, zbreaks, ~valid)
                index[~valid] = INDEX_NODATA
                dst_i.write(index, 1, window=blk.window())
                if dst_z is not None:
                    dst_z.write(zones, 1, window=blk.window())
                zone_cells += np.bincount(zones[valid], minlength=5)
                idx, r, c = sset.in_block(blk)
                written[idx] = index[r, c]
                S_zone[idx] = zones[r, c]
        progress.check()
    auc_success = auc(S_y, written)
    if not np.allclose(written, S_index, rtol=0, atol=1e-6):
        note("内部检查: 写出的指数与样本指数不一致 / internal check: written index differs from the sample index")

    # ---- report ------------------------------------------------------------------------------------------
    cell_km2 = job.cell[0] * job.cell[1] / 1e6
    pres = S_y == 1
    zone_slides = np.bincount(S_zone[pres], minlength=5)
    wt = weights_table(factors, model, area, cell_km2)
    zt = zones_table(zone_cells, zone_slides, zbreaks, cell_km2)
    summary = {"方法 method": method, "AUC_SUCCESS": auc_success, "AUC_PREDICTION": auc_pred,
               "各折 AUC fold AUCs": [round(a, 4) for a in fold_aucs], "折数 folds": folds, "随机种子 seed": seed,
               "滑坡样本 landslide samples": n_pres, "非滑坡样本 non-landslide samples": n_abs,
               "非滑坡样本来源 absences": "抽样 drawn" if not has_field else "编录 inventory",
               "分区方法 breaks": breaks, "分区界值 zone breaks": [float(b) for b in zbreaks],
               "连续因子分级数 classes": s.n_classes, "因子 factors": [f.name for f in factors],
               "汇流格网 flow grid (m)": job.hydro.cell_size if job.hydro else "-",
               "高/极高易发区滑坡占比 landslides in high+very high": float(zone_slides[3:].sum() / max(pres.sum(), 1))}
    st = summary_table(summary)
    outputs = {"index": str(out_index), "zones": str(out_zones) if out_zones else None}
    if out_report:
        outputs["report"] = write_report(out_report, wt, zt, st)
    if out_samples:
        import geopandas as gpd
        x, y = job.transform * (S_cols + 0.5, S_rows + 0.5)
        geom = gpd.points_from_xy(x, y)
        if not polygons_inv:
            orig = inv.geometry.to_numpy()
            n_inv = int((~drawn).sum())
            geom = np.asarray(geom, object)
            geom[:n_inv] = orig[np.asarray(S_src[:n_inv], np.int64)]
        gdf = gpd.GeoDataFrame({"presence": S_y, "drawn": drawn.astype(int), "fold": fold + 1,
                                "susc_index": written.astype(np.float64), "hazard_class": S_zone.astype(int)},
                               geometry=geom, crs=job.crs)
        outputs["samples"] = write_vector(gdf, out_samples)
    progress.set(100)
    return Result(auc_success, auc_pred, list(fold_aucs), np.asarray(zbreaks), n_pres, n_abs, factors, wt, zt,
                  outputs, notes)
