"""Landslide susceptibility on the DEM grid, block by block.

>>> r = landslide_susceptibility("dem.tif", "landslides.gpkg", "index.tif", "zones.tif", "report.csv",
...                              presence_field="landslide", method="information_value")
>>> r.auc_success, r.auc_prediction

Passes over the DEM (blocks of BLOCK_SIZE² cells with a halo; never the whole factor stack):
0. global flow routing (terrain.hydro_grid), on a block-averaged DEM when the DEM is large;
1. factors on a random subset of blocks → quantile breaks of the continuous factors;
2. factors on every block → class codes (uint8, one band per factor) into a scratch memmap (scratch.py),
   area per class, and the codes at every sample cell (inventory, drawn absences, zone sample);
3. fit and cross-validate information value, frequency ratio and logistic regression on the same
   folds (selection.py), keep METHOD or, for METHOD=auto, the best prediction AUC; zone breaks;
4. codes → index and zones, written block by block; the success AUC is computed from the index
   values as written, at the sample cells.
Blocks are computed by a pool of threads (numpy and GDAL release the GIL) and consumed in order by
the calling thread, which alone writes and reports progress; every random draw comes from SEED and
the block's position, so results do not depend on the number of threads.
"""
import contextlib
import math
import os
import shutil
import tempfile
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from .. import terrain as T
from ..definitions import susceptibility as D
from ..errors import ValidationError, input_error, parameter_error
from ..inputs import RasterInput, VectorInput, check_rasters, load_vectors
from ..io import atomic_path, layer_name, raster_profile, write_vector
from ..progress import ensure
from .factors import Factor, encode_categories, quantile_breaks
from .model import auc
from .reliability import assess
from .report import summary_table, weights_table, write_report, zones_table
from .selection import choose, compare, comparison_lines, comparison_table
from .scratch import BlockScratch
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
    workers: int = D.WORKERS


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
    method: str = ""               # the method kept (METHOD, or the best one for METHOD=auto)
    comparison: object = None      # DataFrame: the three methods on the same folds
    verdict: object = None         # reliability.Verdict

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


def pipeline(items, compute, consume, progress, workers):
    """``compute(item)`` in a pool of threads, ``consume(item, result)`` in this thread in item order,
    with at most 2 × workers items in flight (bounded memory). Progress and cancel are checked here."""
    items = list(items)
    n = max(len(items), 1)
    progress.set(0)
    if workers <= 1:
        for j, item in enumerate(items):
            consume(item, compute(item))
            progress.set(100.0 * (j + 1) / n)
        return
    pending, consumed = deque(), 0

    def next_done():
        nonlocal consumed
        done, fut = pending.popleft()
        progress.check()
        consume(done, fut.result())
        consumed += 1
        progress.set(100.0 * consumed / n)

    with ThreadPoolExecutor(workers) as pool:
        try:
            for item in items:
                pending.append((item, pool.submit(compute, item)))
                if len(pending) >= 2 * workers:
                    next_done()
            while pending:
                next_done()
        except BaseException:
            for _, fut in pending:
                fut.cancel()
            raise
    progress.set(100)


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


def _stem(path):
    return Path(str(path).split("|")[0]).stem


class _Job:
    """One run: the DEM grid, the factor sources, the block layout, and per-thread file handles."""

    # per-process state, made by __init__ and never shipped to another process (parallel/terrain_blocks)
    RUNTIME_ATTRS = ("_local", "_opened", "_lock")

    def __init__(self, dem, s, seed):
        import rasterio
        self.s, self.seed, self.dem_path = s, seed, dem
        with rasterio.open(dem) as src:
            t = src.transform
            self.transform, self.crs, self.h, self.w = t, src.crs, src.height, src.width
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
        self.dem_names = [f for f in D.DEM_FACTORS if f in s.dem_factors]
        self.line_dist = []          # [(name, distance on the support grid)]
        self.cat_rasters = []        # [(name, path, sorted category values)]
        self.polygons = None         # (Factor, geometries, codes, STRtree)
        self.workers = int(s.workers) if s.workers else min(os.cpu_count() or 1, 8)
        self._local = threading.local()
        self._opened, self._lock = [], threading.Lock()

    # --- per-thread handles ------------------------------------------------------------------------------
    def _open(self, key, opener):
        handles = getattr(self._local, "handles", None)
        if handles is None:
            handles = self._local.handles = {}
        if key not in handles:
            handles[key] = opener()
            with self._lock:
                self._opened.append(handles[key])
        return handles[key]

    def dem(self):
        import rasterio
        return self._open("dem", lambda: rasterio.open(self.dem_path))

    def category_vrt(self, path):
        """The categorical raster warped (nearest) onto the DEM grid, for this thread."""
        import rasterio
        from rasterio.enums import Resampling
        from rasterio.vrt import WarpedVRT
        src = self._open(("src", path), lambda: rasterio.open(path))
        return self._open(("vrt", path), lambda: WarpedVRT(src, crs=self.crs, transform=self.transform, width=self.w,
                                                            height=self.h, resampling=Resampling.nearest))

    def close(self):
        for ds in reversed(self._opened):
            ds.close()

    def unique_name(self, name):
        """A factor name not used yet (two layers named 'roads' become roads, roads_2)."""
        taken = set(self.dem_names) | {n for n, _ in self.line_dist} | {n for n, _, _ in self.cat_rasters}
        if self.polygons:
            taken.add(self.polygons[0].name)
        out, i = name, 2
        while out in taken:
            out, i = f"{name}_{i}", i + 1
        return out

    # --- factor sources -------------------------------------------------------------------------------
    def add_lines(self, name, gdf, note):
        from ..burn import rasterize
        mask = rasterize(gdf.geometry.values, 1, out_shape=self.support_shape, transform=self.support_transform,
                         all_touched=True, dtype="uint8")
        if not mask.any():
            note(f"[{name}] 线图层与 DEM 范围不相交, 不作为因子 / no line inside the DEM extent; factor dropped")
            return
        self.line_dist.append((self.unique_name(name), T.distance_to(mask.astype(bool), self.k * self.cs)))

    def add_categorical_raster(self, name, path, progress):
        """Scan the raster (on the DEM grid) for its categories: codes 1..n in sorted order."""
        found = []

        def scan(blk):
            arr = self.category_vrt(path).read(1, window=blk.window(), masked=True)
            return np.unique(arr.compressed())

        pipeline(self.blocks, scan, lambda blk, u: found.append(u), progress, self.workers)
        values = np.unique(np.concatenate(found)) if found else np.array([])
        Factor.categorical(name, values)                      # raises if there are too many categories
        self.cat_rasters.append((self.unique_name(name), path, values))

    def add_polygons(self, name, gdf, column):
        import shapely
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        values = gdf[column].astype(str)
        cats = sorted(values.unique())
        codes = np.searchsorted(np.array(cats, dtype=object), values.to_numpy()) + 1
        geoms = gdf.geometry.to_numpy()
        fac = Factor.categorical(self.unique_name(name), cats)
        self.polygons = (fac, geoms, codes.astype(np.uint8), shapely.STRtree(geoms))

    # --- per block ----------------------------------------------------------------------------------------
    def rasterize_block(self, blk, geoms, values, tree, dtype="uint8"):
        """Burn ``geoms`` (later ones win) with ``values`` into the block; 0 elsewhere."""
        import shapely
        from ..burn import rasterize
        x0, y1 = self.transform * (blk.col0, blk.row0)
        x1, y0 = self.transform * (blk.col1, blk.row1)
        hits = tree.query(shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
        if hits.size == 0:
            return np.zeros(blk.shape, dtype)
        hits.sort()
        return rasterize(geoms[hits], values[hits], out_shape=blk.shape,
                         transform=self.transform * self.transform.translation(blk.col0, blk.row0),
                         fill=0, dtype=dtype)

    def block_index(self, blk):
        """Position of ``blk`` in ``self.blocks`` (row-major, as terrain.blocks yields them)."""
        return (blk.row0 // self.bs) * self.nbc + blk.col0 // self.bs

    def support_take(self, arr, blk):
        """Values of a support-grid (k × k coarser) array on the block's own cells."""
        return T.upsample(arr, self.k, blk)

    def continuous_block(self, blk):
        """Continuous factor values (float32, own cells), aspect sectors and the valid mask of a block."""
        z = T.read_block(self.dem(), blk)
        names = self.dem_names
        want = [n for n in ("slope", "aspect", "plan_curvature", "profile_curvature") if n in names]
        if "aspect" in names and "slope" not in want:
            want.append("slope")
        if "twi" in names and self.hydro is not None:
            want.append("tan_slope")
        surf = {k: blk.crop(v) for k, v in T.surface(z, self.cell, want).items()} if want else {}
        slope = surf.get("slope")
        out = {}
        if "elevation" in names:
            out["elevation"] = blk.crop(z)
        for n in ("slope", "plan_curvature", "profile_curvature"):
            if n in names:
                out[n] = surf[n]
        if "relief" in names:
            edge = (blk.row0 < blk.halo or blk.col0 < blk.halo or blk.row1 + blk.halo > blk.height
                    or blk.col1 + blk.halo > blk.width)
            zr = np.where(T.outside(blk, z.shape), np.nan, z) if edge else z
            out["relief"] = blk.crop(T.local_relief(zr, self.relief_n))
        if "twi" in names and self.hydro is not None:
            out["twi"] = T.twi(self.support_take(self.hydro.sca, blk), surf["tan_slope"])
        if "stream_distance" in names and self.hydro is not None:
            out["stream_distance"] = self.support_take(self.hydro.stream_distance, blk)
        for name, dist in self.line_dist:
            out[name] = self.support_take(dist, blk)
        valid = ~np.isnan(blk.crop(z))
        for v in out.values():
            valid &= np.isfinite(v)
        if slope is not None:
            valid &= ~np.isnan(slope)
        aspect = T.aspect_sector(surf["aspect"], slope, self.s.flat_slope_deg) if "aspect" in names else None
        return out, aspect, valid


def _rowcol(transform, xs, ys):
    cols, rows = ~transform * (np.asarray(xs, np.float64), np.asarray(ys, np.float64))
    return np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)


def _load_inputs(dem, inventory, presence_field, categorical_rasters, categorical_polygons, categorical_field,
                 distance_lines):
    """Read and check every input; one ValidationError lists all problems."""
    rasters = [RasterInput("dem", dem, "dem", metric=True, label=layer_name(dem))]
    rasters += [RasterInput(f"cat{i}", p, "factor_raster", label=layer_name(p)) for i, p in enumerate(categorical_rasters)]
    vectors = [VectorInput("inventory", inventory, "landslide_inventory",
                           {"presence": presence_field} if presence_field else {})]
    if categorical_polygons:
        vectors.append(VectorInput("polygons", categorical_polygons, "factor_polygons",
                                   {"category": categorical_field} if categorical_field else {}))
    vectors += [VectorInput(f"lines{i}", p, "factor_lines") for i, p in enumerate(distance_lines)]
    problems, layers = [], None
    try:
        check_rasters(rasters)
    except ValidationError as exc:
        problems.extend(exc.problems)
    try:
        layers = load_vectors(vectors)
    except ValidationError as exc:
        problems.extend(exc.problems)
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
    (n_classes, dem_factors, workers, …) may be given as keyword overrides.
    """
    progress = ensure(progress)
    s = replace(settings or Settings(), **overrides)
    s.dem_factors = tuple(s.dem_factors)
    _check_parameters(method, breaks, folds, s)
    run = _Run(s, int(seed), method, int(folds), breaks, progress)
    layers = _load_inputs(dem, inventory, presence_field, list(categorical_rasters), categorical_polygons,
                          categorical_field, list(distance_lines))
    progress.set(2)
    work = Path(tempfile.mkdtemp(prefix=".riskmap-susc-", dir=Path(out_index).resolve().parent))
    job = _Job(dem, s, int(seed))
    codes = None
    try:
        run.sources(job, layers, presence_field, list(categorical_rasters), list(distance_lines))
        run.breaks_pass(job)
        run.sample_cells(job)
        codes = BlockScratch(work / "codes.bin", len(job.blocks), len(run.factors) + 1, job.bs)
        run.codes_pass(job, codes)
        run.samples(job)
        run.fit()
        run.index_pass(job, codes, out_index, out_zones)
        return run.result(job, out_index, out_zones, out_report, out_samples)
    finally:
        if codes is not None:
            codes.close()
        job.close()
        shutil.rmtree(work, ignore_errors=True)


class _Run:
    """The phases of one run and what they hand each other."""

    def __init__(self, s, seed, method, folds, breaks, progress):
        self.s, self.seed, self.method, self.folds, self.break_method = s, seed, method, folds, breaks
        self.progress, self.notes = progress, []

    def note(self, msg):
        self.notes.append(msg)
        self.progress.info(msg)

    STREAMS = {"blocks": 1, "absences": 2, "zones": 3}

    def rng(self, purpose):
        """An independent generator per purpose, seeded by SEED: one draw never shifts another."""
        return np.random.default_rng([self.seed, self.STREAMS[purpose]])

    # ---- inputs and factor sources ------------------------------------------------------------------------
    def sources(self, job, layers, presence_field, categorical_rasters, distance_lines):
        s, progress = self.s, self.progress
        inv = layers["inventory"].to_crs(job.crs)
        self.inv_name = layer_name(inv.attrs.get("source", "inventory"))
        self.has_field = "presence" in inv.columns and inv["presence"].notna().any()
        if self.has_field:
            blank = inv["presence"].isna()
            if blank.any():
                self.note(f"[inventory] {int(blank.sum())} 个要素的是否滑坡字段为空, 已忽略 / features with an empty "
                          "presence value ignored")
                inv = inv[~blank]
            if not presence_field:
                self.note("[inventory] 使用识别到的是否滑坡字段 (1/0) / using the recognised presence field (1/0)")
        geom_types = set(inv.geometry.geom_type.str.replace("Multi", ""))
        self.polygons_inv = geom_types == {"Polygon"}
        if not self.polygons_inv and geom_types != {"Point"}:
            raise input_error(self.inv_name, "编录应全为点或全为面", "the inventory must be all points or all polygons",
                              "拆分图层", "split the layer")
        self.inv = inv if self.polygons_inv else inv.explode(index_parts=False)    # MultiPoint → points

        if any(f in s.dem_factors for f in ("twi", "stream_distance")):
            job.hydro = T.hydro_grid(job.dem_path, s.stream_area_m2, s.hydro_max_cells, progress.sub(2, 16))
            if not job.hydro.streams.any() and "stream_distance" in job.dem_names:
                self.note("DEM 太小, 没有达到汇水阈值的河道, 不使用到河道距离因子 / no stream reaches STREAM_AREA_M2 on "
                          "this DEM; stream distance dropped")
                job.dem_names.remove("stream_distance")
            if job.hydro.k > 1:
                self.note(f"汇流在 {job.hydro.cell_size:g} m 格网上计算 (DEM 较大) / flow routing on a "
                          f"{job.hydro.cell_size:g} m grid (large DEM)")
        for i, path in enumerate(distance_lines):
            job.add_lines(f"dist_{_stem(path)}", layers[f"lines{i}"].to_crs(job.crs), self.note)
        for i, path in enumerate(categorical_rasters):
            job.add_categorical_raster(_stem(path), str(path).split("|")[0],
                                       progress.sub(16 + 4 * i / len(categorical_rasters),
                                                    16 + 4 * (i + 1) / len(categorical_rasters)))
        if layers.get("polygons") is not None:
            job.add_polygons(_stem(layers["polygons"].attrs.get("source", "polygons")),
                             layers["polygons"].to_crs(job.crs), "category")
        progress.set(20)

    # ---- pass 1: quantile breaks of the continuous factors ------------------------------------------------
    def breaks_pass(self, job):
        s = self.s
        # small windows, not whole blocks: the same cells spread over more of the DEM, for less work;
        # and the breaks do not depend on BLOCK_SIZE
        windows = list(T.blocks(job.h, job.w, D.BREAK_WINDOW, job.halo))
        order = self.rng("blocks").permutation(len(windows))
        chosen, cells = [], 0
        for i in order:
            if cells >= s.break_sample_cells and len(chosen) >= 16:
                break
            chosen.append(int(i))
            cells += int(np.prod(windows[i].shape))
        keep = min(1.0, 2_000_000 / max(cells, 1))
        samples, counts = {}, [0, 0]

        def compute(i):
            vals, _, valid = job.continuous_block(windows[i])
            pick = valid
            if keep < 1:
                pick = valid & (np.random.default_rng([self.seed, 100 + i]).random(valid.shape) < keep)
            return {k: v[pick] for k, v in vals.items()}, int(valid.sum()), valid.size

        def consume(i, res):
            vals, n_valid, n = res
            counts[0] += n_valid
            counts[1] += n
            for k, v in vals.items():
                samples.setdefault(k, []).append(v)

        pipeline(sorted(chosen), compute, consume, self.progress.sub(20, 35), job.workers)
        if counts[0] == 0:
            raise input_error(layer_name(job.dem_path), "DEM 没有有效像元", "the DEM has no valid cells",
                              "检查 nodata 设置", "check the nodata value")
        self.valid_share = counts[0] / counts[1]
        factors = []
        for name in [n for n in job.dem_names if n != "aspect"] + [n for n, _ in job.line_dist]:
            v = np.concatenate(samples.pop(name))
            b = quantile_breaks(v, s.n_classes)
            b = np.unique(b.astype(np.float32)).astype(np.float64)     # exact in float32: the factors are float32
            factors.append(Factor.continuous(name, b, CONTINUOUS_UNITS.get(name, "m"), float(v.min()), float(v.max())))
        self.n_cont = len(factors)
        if "aspect" in job.dem_names:
            factors.append(Factor.sector("aspect"))
        factors += [Factor.categorical(name, values) for name, _, values in job.cat_rasters]
        if job.polygons:
            factors.append(job.polygons[0])
        if not factors:
            raise parameter_error("DEM_FACTORS", "没有可用的因子", "no factor to use", "至少选择一个因子",
                                  "choose at least one factor")
        self.factors = factors
        self.progress.set(35)

    # ---- sample cells -------------------------------------------------------------------------------------
    def sample_cells(self, job):
        """Cells whose codes pass 2 keeps: inventory points, absence candidates, the zone sample."""
        s, inv = self.s, self.inv
        if not self.polygons_inv:
            rows, cols = _rowcol(job.transform, inv.geometry.x.to_numpy(), inv.geometry.y.to_numpy())
            inside = (rows >= 0) & (rows < job.h) & (cols >= 0) & (cols < job.w)
            if (~inside).any():
                self.note(f"[inventory] {int((~inside).sum())} 个点在 DEM 范围外, 已忽略 / points outside the DEM ignored")
            self.inv_idx = np.flatnonzero(inside)
            self.inv_rows, self.inv_cols = rows[inside], cols[inside]
            self.inv_y = (inv["presence"].to_numpy()[inside].astype(int) if self.has_field
                          else np.ones(int(inside.sum()), int))
            n_pres_est = int((self.inv_y == 1).sum())
        else:
            import shapely
            self.inv_rows = self.inv_cols = np.array([], np.int64)
            pres = inv[inv["presence"] == 1] if self.has_field else inv
            n_pres_est = int(pres.geometry.area.sum() / (job.cell[0] * job.cell[1])) + 1
            geoms = inv.geometry.to_numpy()
            vals = (inv["presence"].to_numpy().astype(np.int64) + 1) if self.has_field else np.full(len(inv), 2)
            order = np.argsort(vals, kind="stable")                # presence polygons burn last (win)
            self.inv_geoms, self.inv_vals, self.inv_fid = geoms[order], vals[order], np.asarray(inv.index)[order]
            self.inv_tree = shapely.STRtree(self.inv_geoms)
        total = job.h * job.w
        n_cand = 0
        if not self.has_field:
            need = int(math.ceil(s.absence_ratio * max(n_pres_est, 1)))
            n_cand = int(min(total, 2 * need / max(self.valid_share, 0.01) + 200))
        flat = self.rng("absences").integers(0, total, n_cand)
        flat = flat[np.sort(np.unique(flat, return_index=True)[1])]          # unique, in drawn order
        self.cand_rows, self.cand_cols = np.divmod(flat, job.w)
        zone_rows, zone_cols = np.divmod(self.rng("zones").integers(0, total, int(s.zone_sample_cells)), job.w)
        self.roles = np.concatenate([np.zeros(self.inv_rows.size, int), np.ones(self.cand_rows.size, int),
                                     np.full(zone_rows.size, 2)])
        self.cset = CellSet(np.concatenate([self.inv_rows, self.cand_rows, zone_rows]),
                            np.concatenate([self.inv_cols, self.cand_cols, zone_cols]), job.bs, job.nbc)

    # ---- pass 2: codes, area per class, codes at the samples ------------------------------------------------
    def codes_pass(self, job, codes):
        """``codes``: a BlockScratch of n_f + 1 bands (the factor codes, then the valid mask)."""
        factors, n_f, n_cont = self.factors, len(self.factors), self.n_cont
        has_aspect = "aspect" in job.dem_names
        area = np.zeros((n_f, 256), np.float64)
        self.s_codes = np.zeros((n_f, len(self.cset)), np.uint8)
        self.s_valid = np.zeros(len(self.cset), bool)
        self.s_invval = np.zeros(len(self.cset), np.uint8)   # polygon inventory at the cell: 0 none, 1 absent, 2 present
        poly_cells = []

        def compute(blk):
            vals, aspect, valid = job.continuous_block(blk)
            stack = np.zeros((n_f + 1,) + blk.shape, np.uint8)     # last band: valid
            for f in range(n_cont):
                stack[f] = factors[f].classify(vals[factors[f].name])
            f = n_cont
            if has_aspect:
                stack[f] = aspect
                f += 1
            for _, path, values in job.cat_rasters:
                arr = job.category_vrt(path).read(1, window=blk.window(), masked=True)
                stack[f] = encode_categories(arr.filled(0), np.ma.getmaskarray(arr), values)
                f += 1
            if job.polygons:
                fac, geoms, pcodes, tree = job.polygons
                stack[f] = job.rasterize_block(blk, geoms, pcodes, tree)
            invalid = ~valid
            n_invalid = int(invalid.sum())
            if n_invalid:
                stack[:, invalid] = 0
            stack[n_f] = valid
            codes.write(job.block_index(blk), stack)         # positional write: safe from any thread
            counts = np.stack([np.bincount(stack[f].ravel(), minlength=256) for f in range(n_f)]).astype(np.float64)
            counts[:, 0] -= n_invalid                      # invalid cells are code 0 in every factor
            inv = None
            if self.polygons_inv:
                ival = job.rasterize_block(blk, self.inv_geoms, self.inv_vals, self.inv_tree)
                ipos = job.rasterize_block(blk, self.inv_geoms, np.arange(1, len(self.inv_geoms) + 1), self.inv_tree,
                                           dtype="int32")
                inv = (ival, ipos)
            return stack, valid, counts, inv

        def consume(blk, res):
            stack, valid, counts, inv = res
            area[:] += counts
            idx, r, c = self.cset.in_block(blk)
            self.s_codes[:, idx] = stack[:n_f, r, c]
            self.s_valid[idx] = valid[r, c]
            if inv is not None:
                ival, ipos = inv
                self.s_invval[idx] = ival[r, c]
                sel = (ival > 0) & valid
                if sel.any():
                    rr, cc = np.nonzero(sel)
                    poly_cells.append((rr + blk.row0, cc + blk.col0, ival[sel], self.inv_fid[ipos[sel] - 1],
                                       stack[:n_f, rr, cc]))

        pipeline(job.blocks, compute, consume, self.progress.sub(35, 70), job.workers)
        self.area = [area[f][:factors[f].n_codes].copy() for f in range(n_f)]
        self.poly_cells = poly_cells
        self.progress.set(70)

    # ---- samples ---------------------------------------------------------------------------------------------
    def samples(self, job):
        roles, n_f = self.roles, len(self.factors)
        inv_sel, cand_sel = roles == 0, roles == 1
        self.zone_sel = (roles == 2) & self.s_valid
        if not self.polygons_inv:
            ok = self.s_valid[inv_sel]
            if (~ok).any():
                self.note(f"[inventory] {int((~ok).sum())} 个点落在 DEM 无数据处, 已忽略 / points on DEM nodata ignored")
            rows, cols = self.inv_rows[ok], self.inv_cols[ok]
            y, codes = self.inv_y[ok], self.s_codes[:, inv_sel][:, ok]
            group = np.arange(y.size)
            src = self.inv_idx[ok]
            pres_flat = rows[y == 1] * job.w + cols[y == 1]
            cand_ok = self.s_valid[cand_sel] & ~np.isin(self.cand_rows * job.w + self.cand_cols, pres_flat)
        else:
            pc = self.poly_cells
            rows = np.concatenate([p[0] for p in pc]) if pc else np.array([], np.int64)
            cols = np.concatenate([p[1] for p in pc]) if pc else np.array([], np.int64)
            val = np.concatenate([p[2] for p in pc]) if pc else np.array([], np.int64)
            fid = np.concatenate([p[3] for p in pc]) if pc else np.array([], np.int64)
            codes = np.concatenate([p[4] for p in pc], axis=1) if pc else np.zeros((n_f, 0), np.uint8)
            y = (val == 2).astype(int)
            group = np.unique(fid, return_inverse=True)[1]
            src = fid
            cand_ok = self.s_valid[cand_sel] & (self.s_invval[cand_sel] == 0)
        n_pres = int((y == 1).sum())
        if n_pres == 0:
            raise input_error(self.inv_name, "DEM 范围内没有滑坡样本", "no landslide inside the DEM",
                              "检查编录与 DEM 的范围和坐标系", "check the extent and CRS of the inventory and the DEM")
        drawn = np.zeros(y.size, bool)
        if not self.has_field:
            need = int(math.ceil(self.s.absence_ratio * n_pres))
            ci = np.flatnonzero(cand_ok)[:need]
            if ci.size < need:
                self.note(f"只抽到 {ci.size} 个非滑坡样本 (需要 {need}) / only {ci.size} absences drawn ({need} wanted)")
            rows = np.concatenate([rows, self.cand_rows[ci]])
            cols = np.concatenate([cols, self.cand_cols[ci]])
            y = np.concatenate([y, np.zeros(ci.size, int)])
            codes = np.concatenate([codes, self.s_codes[:, cand_sel][:, ci]], axis=1)
            group = np.concatenate([group, group.max(initial=-1) + 1 + np.arange(ci.size)])
            src = np.concatenate([np.asarray(src, object), np.full(ci.size, None, object)])
            drawn = np.concatenate([drawn, np.ones(ci.size, bool)])
        if int((y == 0).sum()) == 0:
            raise input_error(self.inv_name, "没有非滑坡样本 (是否滑坡字段全为 1)",
                              "no non-landslide samples (the presence field is 1 everywhere)",
                              "不指定是否滑坡字段, 让程序抽样非滑坡点", "leave PRESENCE_FIELD empty to draw absences")
        self.S = dict(rows=rows, cols=cols, y=y, codes=codes, group=group, src=src, drawn=drawn)

    # ---- fit, cross-validate, zone breaks ------------------------------------------------------------------
    def fit(self):
        s, S = self.s, self.S
        kw = dict(logistic_c=s.logistic_c, empty=s.empty_class_count)
        groups = S["group"] if self.polygons_inv else None
        self.scores, self.fold = compare(S["codes"], S["y"], self.area, self.folds, self.seed, groups=groups,
                                         progress=self.progress, **kw)
        self.kept = choose(self.scores, self.method)
        self.model = self.kept.model
        self.auc_pred, self.fold_aucs = self.kept.auc_prediction, self.kept.fold_aucs
        for line in comparison_lines(self.scores, self.kept, self.method == "auto", self.folds):
            self.note(line)
        self.progress.set(75)
        S["index"] = self.model.score(S["codes"])
        zone_index = self.model.score(self.s_codes[:, self.zone_sel])
        zb = zone_breaks(self.break_method, zone_index, presence_index=S["index"][S["y"] == 1],
                         cutoffs=s.success_cutoffs, seed=self.seed)
        self.zbreaks = zb.astype(np.float32).astype(np.float64)      # the index is float32: compare exactly
        self.progress.set(78)

    # ---- pass 3: index and zones -------------------------------------------------------------------------
    def index_pass(self, job, codes, out_index, out_zones):
        import rasterio
        S, model, zb = self.S, self.model, self.zbreaks
        sset = CellSet(S["rows"], S["cols"], job.bs, job.nbc)
        written = np.full(S["y"].size, np.nan, np.float32)
        zone_of = np.zeros(S["y"].size, np.uint8)
        zone_cells = np.zeros(5, np.float64)

        def compute(blk):
            data = codes.read(job.block_index(blk), blk.shape)
            valid = data[-1].astype(bool)
            index = model.score(data[:-1])
            zones = classify(index, zb, ~valid)
            index[~valid] = INDEX_NODATA
            return index, zones, np.bincount(zones.ravel(), minlength=5)

        with contextlib.ExitStack() as ctx:
            prof_i = raster_profile(job.transform, job.crs, job.w, job.h, "float32", INDEX_NODATA)
            # uncompressed, as gdaldem writes: a float index deflates by only ~20 %, at the cost of a third
            # of the whole run's time on large DEMs; the zones (uint8) compress well and stay deflated
            prof_i.update(compress=None)
            dst_i = ctx.enter_context(rasterio.open(ctx.enter_context(atomic_path(out_index)), "w", **prof_i))
            dst_z = None
            if out_zones:
                dst_z = ctx.enter_context(rasterio.open(
                    ctx.enter_context(atomic_path(out_zones)), "w",
                    **raster_profile(job.transform, job.crs, job.w, job.h, "uint8", 0)))

            def consume(blk, res):
                index, zones, counts = res
                dst_i.write(index, 1, window=blk.window())
                if dst_z is not None:
                    dst_z.write(zones, 1, window=blk.window())
                zone_cells[:] += counts
                idx, r, c = sset.in_block(blk)
                written[idx] = index[r, c]
                zone_of[idx] = zones[r, c]

            pipeline(job.blocks, compute, consume, self.progress.sub(78, 98), job.workers)
            self.progress.check()
        zone_cells[0] = 0
        S["written"], S["zone"], self.zone_cells = written, zone_of, zone_cells

    # ---- result and report ----------------------------------------------------------------------------------
    def result(self, job, out_index, out_zones, out_report, out_samples):
        S, s = self.S, self.s
        auc_success = auc(S["y"], S["written"])
        if not np.allclose(S["written"], S["index"], rtol=1e-6, atol=1e-6):
            self.note("内部检查: 写出的指数与样本指数不一致 / internal check: written index differs from the sample index")
        cell_km2 = job.cell[0] * job.cell[1] / 1e6
        pres = S["y"] == 1
        zone_slides = np.bincount(S["zone"][pres], minlength=5)
        wt = weights_table(self.factors, self.model, self.area, cell_km2)
        zt = zones_table(self.zone_cells, zone_slides, self.zbreaks, cell_km2)
        verdict = assess(self.kept, S["codes"], S["y"], self.factors, self.area, self.folds, grid=True)
        for line in verdict.lines():
            self.note(line)
        summary = {"方法 method": self.kept.method, "方法参数 METHOD": self.method,
                   "可靠性 reliability": verdict.level, "AUC_SUCCESS": auc_success, "AUC_PREDICTION": self.auc_pred,
                   "各折 AUC fold AUCs": [round(a, 4) for a in self.fold_aucs], "折数 folds": self.folds,
                   "随机种子 seed": self.seed, "滑坡样本 landslide samples": int(pres.sum()),
                   "非滑坡样本 non-landslide samples": int((~pres).sum()),
                   "非滑坡样本来源 absences": "编录 inventory" if self.has_field else "抽样 drawn",
                   "分区方法 breaks": self.break_method, "分区界值 zone breaks": [float(b) for b in self.zbreaks],
                   "连续因子分级数 classes": s.n_classes, "因子 factors": [f.name for f in self.factors],
                   "汇流格网 flow grid (m)": job.hydro.cell_size if job.hydro else "-",
                   "高/极高易发区滑坡占比 landslides in high+very high": float(zone_slides[3:].sum() / max(pres.sum(), 1))}
        comparison = comparison_table(self.scores, self.kept, self.method == "auto")
        outputs = {"index": str(out_index), "zones": str(out_zones) if out_zones else None}
        if out_report:
            outputs["report"] = write_report(out_report, wt, zt, summary_table(summary), comparison, verdict.table())
        if out_samples:
            outputs["samples"] = self._write_samples(job, out_samples)
        self.progress.set(100)
        return Result(auc_success, self.auc_pred, list(self.fold_aucs), np.asarray(self.zbreaks), int(pres.sum()),
                      int((~pres).sum()), self.factors, wt, zt, outputs, self.notes, self.kept.method, comparison,
                      verdict)

    def _write_samples(self, job, path):
        """The samples as points (inventory points as given, other samples at cell centres)."""
        import geopandas as gpd
        S = self.S
        x, y = job.transform * (S["cols"] + 0.5, S["rows"] + 0.5)
        geom = np.asarray(gpd.points_from_xy(x, y), object)
        if not self.polygons_inv:
            n_inv = int((~S["drawn"]).sum())
            geom[:n_inv] = self.inv.geometry.to_numpy()[np.asarray(S["src"][:n_inv], np.int64)]
        gdf = gpd.GeoDataFrame({"presence": S["y"], "drawn": S["drawn"].astype(int), "fold": self.fold + 1,
                                "susc_index": S["written"].astype(np.float64), "hazard_class": S["zone"].astype(int)},
                               geometry=geom, crs=job.crs)
        return write_vector(gdf, path)
