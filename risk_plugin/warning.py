"""Who hears a siren or a loudspeaker: audible radius by device type, terrain blocking by line of
sight on a DEM (vectorised: every device–listener pair sampled along its line at once), and the
monitoring of geohazard points by devices inside their threat zones.

>>> radius = audible_radius(types, overrides={"loudspeaker": 200})
>>> d, t, dist = pairs_within(device_pts, radius, listener_pts)
>>> blocked = line_of_sight_blocked(dem_path, dev_xy[d], dev_z, tgt_xy[t], 1.5)
>>> heard = dist <= np.where(blocked, radius[d] * shrink(20.0), radius[d])
"""
import numpy as np
import shapely

from . import paramtext
from .definitions import warning as D
from .errors import parameter_error
from .progress import ensure


def radius_table(overrides=None):
    """{device type: radius m}: defaults with overrides (dict or text 'siren=800; loudspeaker=200')."""
    table = dict(D.AUDIBLE_RADIUS_M)
    if isinstance(overrides, str):
        overrides = {k: v[0] for k, v in paramtext.mapping(overrides, "RADII", allowed=table, count=1).items()}
    for k, v in (overrides or {}).items():
        if k not in table:
            raise parameter_error("RADII", f"未知设备类型 {k}", f"unknown device type {k}", f"可选 {D.DEVICE_TYPES}",
                                  f"choose one of {D.DEVICE_TYPES}")
        if not float(v) > 0:
            raise parameter_error("RADII", f"{k} 的半径必须大于 0", f"radius of {k} must be > 0", "填写米数", "enter metres")
        table[k] = float(v)
    return table


def shrink(loss_db, per_doubling=D.LOSS_PER_DOUBLING_DB):
    """Radius factor for an extra loss of ``loss_db`` (10 dB per doubling: 20 dB → 0.25)."""
    return 2.0 ** (-float(loss_db) / per_doubling)


def pairs_within(sources, radius, targets):
    """(source, target, distance) for every target within its source's radius (STRtree dwithin)."""
    sources = np.asarray(sources, dtype=object)
    targets = np.asarray(targets, dtype=object)
    if not len(sources) or not len(targets):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    s, t = shapely.STRtree(targets).query(sources, predicate="dwithin", distance=np.asarray(radius, float))
    return s.astype(np.int64), t.astype(np.int64), shapely.distance(sources[s], targets[t])


def _sample(dem, transform, x, y):
    """DEM value under each (x, y) (NaN outside the window or on nodata)."""
    inv = ~transform
    col, row = inv * (x, y)
    col, row = np.floor(col).astype(np.int64), np.floor(row).astype(np.int64)
    h, w = dem.shape
    inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    out = np.full(len(x), np.nan)
    out[inside] = dem[row[inside], col[inside]]
    return out


def blocked_in_window(dem, transform, ax, ay, az, bx, by, bz, step):
    """True where the terrain rises above the straight line from (ax, ay, az) to (bx, by, bz) (heights
    above sea level) anywhere between them; the DEM is sampled every ``step`` m along each line."""
    d = np.hypot(bx - ax, by - ay)
    n = np.maximum(np.ceil(d / step).astype(np.int64), 1)       # intervals; n - 1 interior samples
    inner = n - 1
    total = int(inner.sum())
    blocked = np.zeros(len(d), bool)
    if total == 0:
        return blocked
    owner = np.repeat(np.arange(len(d)), inner)
    start = np.cumsum(inner) - inner
    k = np.arange(total) - start[owner] + 1
    t = k / n[owner]
    x = ax[owner] + (bx - ax)[owner] * t
    y = ay[owner] + (by - ay)[owner] * t
    line = az[owner] + (bz - az)[owner] * t
    ground = _sample(dem, transform, x, y)
    above = np.nan_to_num(ground - line, nan=-np.inf) > 0
    return np.bincount(owner, weights=above, minlength=len(d)) > 0


def line_of_sight_blocked(dem_path, ax, ay, a_height, bx, by, b_height, tile=4000.0, progress=None):
    """Terrain blocking for pairs of points (device at a, listener at b; heights above ground, m).

    The DEM is read in windows: pairs are grouped by the tile of their device, and each tile reads the
    DEM over its devices' reach only. Returns a bool per pair."""
    import rasterio
    from rasterio.windows import from_bounds
    progress = ensure(progress)
    n = len(ax)
    out = np.zeros(n, bool)
    if n == 0:
        return out
    key = np.floor(ax / tile).astype(np.int64) * 1_000_003 + np.floor(ay / tile).astype(np.int64)
    order = np.argsort(key, kind="stable")
    cuts = np.flatnonzero(np.diff(key[order])) + 1
    groups = np.split(order, cuts)
    with rasterio.open(dem_path) as src:
        step = float(abs(src.res[0]))
        for gi, sel in enumerate(groups):   # loop over DEM tiles, each vectorised over its pairs
            progress.set(100.0 * gi / len(groups))
            x0 = min(ax[sel].min(), bx[sel].min()) - 2 * step
            x1 = max(ax[sel].max(), bx[sel].max()) + 2 * step
            y0 = min(ay[sel].min(), by[sel].min()) - 2 * step
            y1 = max(ay[sel].max(), by[sel].max()) + 2 * step
            win = from_bounds(x0, y0, x1, y1, transform=src.transform).round_offsets().round_lengths()
            dem = src.read(1, window=win, masked=True, boundless=True).astype(np.float64).filled(np.nan)
            tr = src.window_transform(win)
            za = _sample(dem, tr, ax[sel], ay[sel]) + a_height[sel]
            zb = _sample(dem, tr, bx[sel], by[sel]) + b_height[sel]
            both = np.isfinite(za) & np.isfinite(zb)
            part = np.zeros(len(sel), bool)
            idx = np.flatnonzero(both)
            # chunks bound the samples held at once
            per = np.maximum(np.ceil(np.hypot(bx[sel] - ax[sel], by[sel] - ay[sel]) / step), 1)[idx]
            chunk = (np.cumsum(per) - 1) // D.LOS_CHUNK_SAMPLES
            for c in np.split(idx, np.flatnonzero(np.diff(chunk)) + 1) if len(idx) else []:
                s = sel[c]
                part[c] = blocked_in_window(dem, tr, ax[s], ay[s], za[c], bx[s], by[s], zb[c], step)
            out[sel] = part
    progress.set(100.0)
    return out


def monitored_points(point_geoms, radius, device_geoms):
    """Number of monitoring devices within each point's threat radius (device inside the zone)."""
    s, _, _ = pairs_within(point_geoms, radius, device_geoms)
    return np.bincount(s, minlength=len(point_geoms))
