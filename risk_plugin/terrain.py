"""DEM derivatives, computed block by block with an overlapping halo.

>>> with rasterio.open("dem.tif") as src:
...     for blk in blocks(src.height, src.width, halo=5):
...         z = read_block(src, blk)                     # float32, NaN = nodata, halo included
...         s = blk.crop(slope_deg(z, 10.0))             # the block's own cells
>>> grid = hydro_grid("dem.tif", stream_area_m2=1e5)     # global flow routing (risk_plugin.hydrology)

Array functions take a 2-D float32 array (NaN = nodata) and return an array of the same shape;
a neighbour that is nodata or beyond the raster edge takes the centre cell's value (as ``gdaldem
slope -compute_edges``), so only nodata cells are NaN. Flow routing is global: it runs on
the whole DEM, or on a block-averaged copy when the DEM is larger than ``max_cells``
(:func:`hydro_grid`), so nothing bigger than one block of one factor is held at full resolution.
"""
import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .definitions import susceptibility as D
from .progress import ensure

ASPECT_SECTORS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


# --- blocks -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    """A block of a raster: its own cells (row0:row1, col0:col1) and the halo read around it."""
    row0: int
    row1: int
    col0: int
    col1: int
    halo: int
    height: int
    width: int

    @property
    def shape(self):
        return self.row1 - self.row0, self.col1 - self.col0

    def window(self):
        """rasterio Window of the block's own cells."""
        from rasterio.windows import Window
        return Window(self.col0, self.row0, self.col1 - self.col0, self.row1 - self.row0)

    def crop(self, arr):
        """The block's own cells of an array computed on the haloed block."""
        h = self.halo
        return arr[h:arr.shape[0] - h, h:arr.shape[1] - h] if h else arr


def blocks(height, width, block=D.BLOCK_SIZE, halo=1):
    """Blocks covering a height × width raster, row by row."""
    for r in range(0, height, block):
        for c in range(0, width, block):
            yield Block(r, min(r + block, height), c, min(c + block, width), halo, height, width)


def read_block(src, blk, band=1):
    """The block plus its halo as float32, NaN for nodata and beyond the raster edge, except the
    first ring beyond the edge, which is linearly extrapolated (2·edge − next) as ``gdaldem
    -compute_edges`` does, so that 3×3 gradients at the edge are not flattened."""
    from rasterio.windows import Window
    h = blk.halo
    r0, r1 = max(blk.row0 - h, 0), min(blk.row1 + h, blk.height)
    c0, c1 = max(blk.col0 - h, 0), min(blk.col1 + h, blk.width)
    arr = src.read(band, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
    z = arr.astype(np.float32).filled(np.nan)
    pad = ((r0 - (blk.row0 - h), (blk.row1 + h) - r1), (c0 - (blk.col0 - h), (blk.col1 + h) - c1))
    if any(p for pair in pad for p in pair):
        z = np.pad(z, pad, constant_values=np.nan)
        (top, bottom), (left, right) = pad
        n, m = z.shape
        if top and n - top - bottom >= 2:
            z[top - 1] = 2 * z[top] - z[top + 1]
        if bottom and n - top - bottom >= 2:
            z[n - bottom] = 2 * z[n - bottom - 1] - z[n - bottom - 2]
        if left and m - left - right >= 2:
            z[:, left - 1] = 2 * z[:, left] - z[:, left + 1]
        if right and m - left - right >= 2:
            z[:, m - right] = 2 * z[:, m - right - 1] - z[:, m - right - 2]
    return z


def outside(blk, shape):
    """Mask of the cells of a haloed block array that lie beyond the raster edge."""
    h = blk.halo
    rows = np.arange(blk.row0 - h, blk.row0 - h + shape[0])
    cols = np.arange(blk.col0 - h, blk.col0 - h + shape[1])
    return ((rows < 0) | (rows >= blk.height))[:, None] | ((cols < 0) | (cols >= blk.width))[None, :]


# --- local derivatives --------------------------------------------------------------------------------
def _neighbours(z):
    """The nine 3×3 neighbour arrays z1..z9 (z1 north-west … z9 south-east), each of the shape of z.
    A neighbour that is nodata or beyond the edge takes the centre value, as ``gdaldem
    -compute_edges`` does."""
    p = np.pad(z, 1, constant_values=np.nan)
    h, w = z.shape
    out = []
    for r in range(3):
        for c in range(3):
            n = p[r:r + h, c:c + w]
            out.append(np.where(np.isnan(n), z, n) if (r, c) != (1, 1) else z)
    return out


def _views(z):
    """z1..z9 as views of a NaN-padded copy: exact everywhere but on the outer ring."""
    p = np.pad(z, 1, constant_values=np.nan)
    h, w = z.shape
    return [p[r:r + h, c:c + w] for r in range(3) for c in range(3)]


def _derive(n, cx, cy, want):
    z1, z2, z3, z4, z5, z6, z7, z8, z9 = n
    out = {}
    if "slope" in want or "aspect" in want or "tan_slope" in want:
        # Horn (1981) gradients dz/dx (east) and dz/dy (north), as gdaldem
        dzdx = ((z3 + 2 * z6 + z9) - (z1 + 2 * z4 + z7)) / np.float32(8 * cx)
        dzdy = ((z1 + 2 * z2 + z3) - (z7 + 2 * z8 + z9)) / np.float32(8 * cy)
        grad = np.hypot(dzdx, dzdy)                       # tan of the slope angle
        if "tan_slope" in want:
            out["tan_slope"] = grad.astype(np.float32, copy=False)
        if "slope" in want:
            out["slope"] = np.degrees(np.arctan(grad)).astype(np.float32)
        if "aspect" in want:
            asp = np.degrees(np.arctan2(-dzdx, -dzdy)).astype(np.float32) % np.float32(360)
            asp[(dzdx == 0) & (dzdy == 0)] = -1
            out["aspect"] = asp
    if "plan_curvature" in want or "profile_curvature" in want:
        # Zevenbergen & Thorne (1987) on the mean cell size L: D, E, F ∝ 1/L², G, H ∝ 1/L, so the
        # curvatures are the same ratios of the unscaled terms divided by L² (fewer array passes)
        L2 = np.float32(((cx + cy) / 2.0) ** 2)
        d = (z4 + z6) / 2 - z5
        e = (z2 + z8) / 2 - z5
        f = (-z1 + z3 + z7 - z9) / 4
        g = (z6 - z4) / 2
        h = (z2 - z8) / 2
        g2, h2, gh = g * g, h * h, g * h
        den = (g2 + h2) * (L2 / np.float32(100))       # × 100: 1/100 m
        flat = ~(den > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            prof = (-2 * (d * g2 + e * h2 + f * gh) / den).astype(np.float32)
            plan = (2 * (d * h2 + e * g2 - f * gh) / den).astype(np.float32)
        prof[flat] = 0
        plan[flat] = 0
        nod = np.isnan(z5) | np.isnan(den)
        prof[nod] = np.nan
        plan[nod] = np.nan
        out["plan_curvature"], out["profile_curvature"] = plan, prof
    return out


def surface(z, cell_size, want=("slope",)):
    """Slope (°), its tangent (tan_slope), aspect (° from north, -1 flat), plan and profile curvature (1/100 m) from one pass
    over the 3×3 neighbourhood: ``surface(z, 10.0, ("slope", "aspect"))`` → {"slope": …, "aspect": …}.
    ``cell_size`` is a number or (x size, y size)."""
    cx, cy = (cell_size, cell_size) if np.isscalar(cell_size) else cell_size
    z = np.asarray(z, np.float32)
    if min(z.shape) < 3 or np.isnan(z).any():
        return _derive(_neighbours(z), cx, cy, want)
    # no nodata: neighbours as views (no copies); only the outer ring needs the centre-value rule
    out = _derive(_views(z), cx, cy, want)
    for src, dst in (((slice(0, 2), slice(None)), (0, slice(None))), ((slice(-2, None), slice(None)), (-1, slice(None))),
                     ((slice(None), slice(0, 2)), (slice(None), 0)), ((slice(None), slice(-2, None)), (slice(None), -1))):
        ring = _derive(_neighbours(z[src]), cx, cy, want)
        for k in out:
            out[k][dst] = ring[k][dst]
    return out


def gradients(z, cell_size):
    """Horn (1981) gradients dz/dx (east) and dz/dy (north), as gdaldem. ``cell_size`` is a number
    or (x size, y size)."""
    cx, cy = (cell_size, cell_size) if np.isscalar(cell_size) else cell_size
    z1, z2, z3, z4, _, z6, z7, z8, z9 = _neighbours(z)
    dzdx = ((z3 + 2 * z6 + z9) - (z1 + 2 * z4 + z7)) / np.float32(8 * cx)
    dzdy = ((z1 + 2 * z2 + z3) - (z7 + 2 * z8 + z9)) / np.float32(8 * cy)
    return dzdx, dzdy


def slope_deg(z, cell_size):
    """Slope in degrees (Horn 1981, as ``gdaldem slope``)."""
    return surface(z, cell_size, ("slope",))["slope"]


def aspect_deg(z, cell_size):
    """Aspect in degrees clockwise from north (direction the slope faces); -1 where flat."""
    return surface(z, cell_size, ("aspect",))["aspect"]


def aspect_sector(aspect, slope, flat_deg=D.FLAT_SLOPE_DEG):
    """Aspect class: 0 flat (slope < flat_deg), 1 N, 2 NE … 8 NW (45° sectors centred on the compass
    points); 255 where nodata."""
    sector = (np.floor((np.nan_to_num(aspect) + 22.5) / 45.0) % 8 + 1).astype(np.uint8)
    sector[slope < flat_deg] = 0
    sector[np.isnan(slope)] = 255
    return sector


def curvatures(z, cell_size):
    """Plan and profile curvature (Zevenbergen & Thorne 1987) in 1/100 m, ArcGIS signs: profile
    curvature is negative where the slope is convex downslope (accelerating flow), plan curvature
    positive where the contour is convex (divergent flow)."""
    out = surface(z, cell_size, ("plan_curvature", "profile_curvature"))
    return out["plan_curvature"], out["profile_curvature"]


def relief_cells(window_m, cell_size):
    """Odd window width in cells for a relief window of ``window_m`` metres (at least 3)."""
    n = max(3, int(round(window_m / cell_size)))
    return n if n % 2 else n + 1


def local_relief(z, window_cells):
    """Max − min elevation in a window_cells × window_cells square, ignoring nodata; the window is
    clipped at the array's edge."""
    n = int(window_cells)
    z = np.asarray(z, np.float32)
    nan = np.isnan(z)
    h = n // 2
    # NaN padding: fmax/fmin ignore it, so windows are clipped at the edge and nodata is skipped
    p = np.pad(z, ((h, n - 1 - h), (h, n - 1 - h)), constant_values=np.nan)
    hi = _window_reduce(_window_reduce(p, n, 0, np.fmax), n, 1, np.fmax)
    lo = _window_reduce(_window_reduce(p, n, 0, np.fmin), n, 1, np.fmin)
    rel = hi - lo
    rel[nan] = np.nan
    return rel


def _window_reduce(a, n, axis, op):
    """op (fmax/fmin) over every run of n cells along ``axis``; the result is n − 1 shorter. Windows
    of 2, 4, 8 … cells from pairs of shifted arrays, then one last overlapping step: log₂ n array
    passes (7× faster than ndimage.maximum_filter's, which are per cell and window)."""
    def cut(x, i0, i1):
        return x[i0:i1] if axis == 0 else x[:, i0:i1]
    w, out = 1, a
    while 2 * w <= n:
        m = out.shape[axis]
        out = op(cut(out, 0, m - w), cut(out, w, m))
        w *= 2
    if n - w:
        m = out.shape[axis]
        out = op(cut(out, 0, m - (n - w)), cut(out, n - w, m))
    return out


def twi(sca, tan_slope, min_tan=1e-3):
    """Topographic wetness index ln(a / tan β); a = specific catchment area (m), tan β (the gradient
    magnitude, ``surface(…, ("tan_slope",))``) floored at ``min_tan`` so flats stay finite."""
    tanb = np.maximum(tan_slope, np.float32(min_tan))
    return np.log(sca / tanb).astype(np.float32)


# --- global flow routing ------------------------------------------------------------------------------
@dataclass
class HydroGrid:
    """Flow routing on the DEM grid coarsened by an integer factor ``k`` (k = 1: the DEM grid).

    ``sca``: specific catchment area (m²/m) per coarse cell; ``streams``: stream mask;
    ``stream_distance``: distance (m) from each coarse cell to the nearest stream cell.
    """
    k: int
    cell_size: float
    transform: object
    sca: np.ndarray
    streams: np.ndarray
    stream_distance: np.ndarray
    valid: np.ndarray

    def take(self, arr, blk):
        """Values of a coarse array on the full-resolution cells of block ``blk`` (own cells only)."""
        return upsample(arr, self.k, blk)

    def distance_to(self, mask):
        """Euclidean distance (m, float32) from every coarse cell to the nearest True cell of ``mask``."""
        return distance_to(mask, self.cell_size)


def upsample(arr, k, blk):
    """Values of a k × k times coarser array (same origin) on the own cells of block ``blk``: the
    coarse cells under the block, each repeated k × k times (8× faster than fancy indexing)."""
    if k == 1:
        return arr[blk.row0:blk.row1, blk.col0:blk.col1]
    sub = arr[blk.row0 // k:-(-blk.row1 // k), blk.col0 // k:-(-blk.col1 // k)]
    r0, c0 = blk.row0 % k, blk.col0 % k
    return np.repeat(np.repeat(sub, k, axis=0), k, axis=1)[r0:r0 + blk.row1 - blk.row0, c0:c0 + blk.col1 - blk.col0]


def distance_to(mask, cell_size):
    """Euclidean distance (m, float32) to the nearest True cell (scipy distance_transform_edt);
    +inf everywhere when the mask is empty."""
    mask = np.asarray(mask, bool)
    if not mask.any():
        return np.full(mask.shape, np.inf, np.float32)
    return (ndimage.distance_transform_edt(~mask) * cell_size).astype(np.float32)


def coarse_factor(height, width, max_cells=D.HYDRO_MAX_CELLS):
    """Smallest integer k so that ceil(h/k)·ceil(w/k) <= max_cells."""
    k = max(1, int(math.ceil(math.sqrt(height * width / float(max_cells)))))
    while math.ceil(height / k) * math.ceil(width / k) > max_cells:
        k += 1
    return k


def read_coarse(src, k, progress=None, strip_rows=None):
    """The DEM averaged over k × k cells (NaN where every cell is nodata), read in strips.
    k = 1 reads the DEM as float32. The whole k × k blocks come from GDAL's average resampling
    (nodata ignored; 6× faster than numpy here); a last partial row or column of blocks, when the
    size is not a multiple of k, is averaged with numpy over the cells it has."""
    progress = ensure(progress)
    from rasterio.enums import Resampling
    from rasterio.windows import Window
    h, w = src.height, src.width
    hc, wc = -(-h // k), -(-w // k)
    hf, wf = h // k, w // k                      # whole blocks
    out = np.full((hc, wc), np.nan, np.float32)
    step = max(1, (strip_rows or 1024) // k) * k

    def read(window, shape=None):
        kw = dict(out_shape=shape, resampling=Resampling.average) if shape else {}
        return src.read(1, window=window, masked=True, **kw).astype(np.float32).filled(np.nan)

    def partial_mean(z):                         # z: rows × cols, averaged over k × k (padded) blocks
        pad = ((0, -z.shape[0] % k), (0, -z.shape[1] % k))
        z = np.pad(z, pad, constant_values=np.nan)
        z = z.reshape(z.shape[0] // k, k, z.shape[1] // k, k)
        n = (~np.isnan(z)).sum(axis=(1, 3))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, np.nansum(z, axis=(1, 3)) / n, np.nan)

    for r in range(0, hf * k, step):
        progress.set(100.0 * r / h)
        rows = min(step, hf * k - r)
        if k == 1:
            out[r:r + rows] = read(Window(0, r, w, rows))
            continue
        if wf:
            out[r // k:(r + rows) // k, :wf] = read(Window(0, r, wf * k, rows), (rows // k, wf))
        if wc > wf:
            out[r // k:(r + rows) // k, wf] = partial_mean(read(Window(wf * k, r, w - wf * k, rows)))[:, 0]
    if hc > hf:
        out[hf] = partial_mean(read(Window(0, hf * k, w, h - hf * k)))[0]
    progress.set(100)
    return out


def hydro_grid(dem_path, stream_area_m2=D.STREAM_AREA_M2, max_cells=D.HYDRO_MAX_CELLS, progress=None):
    """Fill, D8 routing, flow accumulation and streams (risk_plugin.hydrology) on the DEM, or on a
    block-averaged copy when it has more than ``max_cells`` cells.

    >>> g = hydro_grid("dem.tif", stream_area_m2=1e5)
    >>> g.k, g.sca.max(), g.streams.sum()
    """
    import rasterio
    from . import hydrology
    progress = ensure(progress)
    with rasterio.open(dem_path, num_threads="all_cpus") as src:      # GDAL decodes tiles on every core
        k = coarse_factor(src.height, src.width, max_cells)
        cell = abs(src.transform.a) * k
        transform = src.transform * src.transform.scale(k, k)
        z = read_coarse(src, k, progress.sub(0, 20))
    nodata = np.isnan(z)
    progress.set(20)
    filled = hydrology.fill_depressions(z, nodata)
    progress.set(40)
    recv = hydrology.d8_receivers(filled, cell, nodata)
    del filled
    progress.set(70)
    acc = hydrology.flow_accumulation(recv)
    del recv
    progress.set(85)
    threshold = max(1.0, stream_area_m2 / (cell * cell))
    streams = hydrology.stream_mask(acc, threshold) & ~nodata
    sca = (acc * np.float32(cell)).astype(np.float32)   # cells · cell² / contour width (one cell)
    del acc
    dist = distance_to(streams, cell)
    progress.set(100)
    return HydroGrid(k, cell, transform, sca, streams, dist, ~nodata)
