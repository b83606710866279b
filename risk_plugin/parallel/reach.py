"""Shelter reach on Dask, partitioned by township with a buffer, so that no demand near a border is lost.

A drop-in version of :func:`risk_plugin.shelters.reach` (same arguments, same :class:`Reach`):
:func:`risk_plugin.shelter_run.shelter_coverage` calls it as ``shelters.reach`` and everything else
(allocation by capacity, statuses, tables) runs unchanged on the driver.

Partitions. Every demand unit belongs to exactly one partition: the first township polygon holding it
(layer order), else the nearest township. A partition's task gets

- its demand units (as geometries, not yet snapped; made from the driver's x, y when it holds coordinates);
- every shelter within R of their extent, R = the largest service distance of a usable shelter,
  with its snap (shelters are few: the driver snaps them all once, every shelter needs its row);
- the road segments within R + MAX_SNAP of that extent, plus the segments its shelters are snapped
  to, as a sub-graph with the full graph's coordinates and lengths, segments in global order.

The task snaps its demand units to its sub-graph and returns their snaps with its pairs; the driver
never snaps the demand. It takes each result as it arrives (the snaps into its arrays, the pairs kept in
piece order) and drops it, so it never holds every piece's result at once.

Why the snap is the global one. ``RoadNetwork.snap`` picks, among the segments within MAX_SNAP of a
geometry, the one at the smallest distance, ties to the lowest segment index. Every segment within
MAX_SNAP of a demand unit of the partition meets the partition's extent grown by MAX_SNAP, so it is in
the sub-graph; the sub-graph keeps the segments in their global order (a sorted index list), so ties go
the same way, and the segment's coordinates are the same numbers, so distance, offset and snapped
position are the same bit for bit. Demand units farther than MAX_SNAP from every road have no segment
in reach in either graph: unsnapped in both.

Why nothing is lost. A walk of length d <= R from a shelter to a demand unit (snap + road + snap) never
leaves the disc of radius d around the demand unit: every point of it is within R of the partition's
extent. So the shelter is in the partition's set, every segment of the walk is in its sub-graph, and
the shortest walk found there is the one found on the whole graph (Dijkstra's distances are the unique
solution of d(v) = min over neighbours u of d(u) + w(u, v), which the sub-graph contains for every node
on such a walk). The union of the partitions' pairs is therefore the set of pairs of the one-process
run, with the same distances (bit for bit; tests/test_dask.py checks). Only their order differs, so
per-shelter and per-unit sums can differ in the last bits of a float (allocation under the 'nearest'
rule sorts the pairs itself).
"""
import numpy as np
import shapely

from .. import shelters as _shelters
from ..definitions import shelters as D
from ..network import RoadNetwork, Snap, euclidean_pairs
from ..progress import ensure
from .dispatch import Geometries

IN_FLIGHT = 3      # pieces per worker made ahead of the results: the driver holds these, not every partition
TILE_M = 5000.0   # partition side without townships: a few service distances (GB 50413: 500 m – 2 km)

def partition_of(points, polygons, tile_m=TILE_M):
    """Partition index per point: the first polygon holding it, else the nearest polygon; without
    polygons, square tiles of ``tile_m`` metres. Empty geometries go to partition 0."""
    from ..exposure import assign_units
    points = np.asarray(points, dtype=object)
    if not len(points):
        return np.zeros(0, np.int64)
    if polygons is None or not len(polygons):
        x, y = shapely.get_x(shapely.centroid(points)), shapely.get_y(shapely.centroid(points))
        ok = np.isfinite(x) & np.isfinite(y)
        key = np.zeros((len(points), 2), np.int64)
        key[ok] = np.floor(np.column_stack([x[ok], y[ok]]) / tile_m).astype(np.int64)
        return np.unique(key, axis=0, return_inverse=True)[1].ravel().astype(np.int64)
    polygons = np.asarray(polygons, dtype=object)
    tree = shapely.STRtree(polygons)
    part = assign_units(points, polygons, tree) - 1
    out = np.flatnonzero(part < 0)
    if len(out):
        ok = ~(shapely.is_missing(points[out]) | shapely.is_empty(points[out]))
        if ok.any():
            pi, gi = tree.query_nearest(points[out[ok]], all_matches=False)
            part[out[ok][pi]] = gi
    return np.where(part < 0, 0, part)


def partition_of_xy(x, y, polygons, tile_m=TILE_M):
    """:func:`partition_of` for points given by their (finite) coordinates: the same partitions, the points
    made a chunk at a time (a point's own centroid is itself)."""
    from .demand import in_chunks
    if polygons is None or not len(polygons):
        if not len(x):
            return np.zeros(0, np.int64)
        key = np.floor(np.column_stack([x, y]) / tile_m).astype(np.int64)
        return np.unique(key, axis=0, return_inverse=True)[1].ravel().astype(np.int64)
    return in_chunks(partition_of, x, y, polygons, tile_m)


def _grow(bounds, by):
    x0, y0, x1, y1 = bounds
    return shapely.box(x0 - by, y0 - by, x1 + by, y1 + by)


def _sub_snap(snap, idx, seg_lut):
    sub = snap.subset(idx)
    seg = sub.segment.copy()
    seg[sub.ok] = seg_lut[seg[sub.ok]]
    return Snap(sub.ok, seg, sub.offset, sub.distance, sub.x, sub.y)


def _pairs_network(piece):
    """Worker: snap the partition's demand to its sub-graph; its (shelter, demand, metres) pairs in
    local indices and the demand's snap (segments local to the sub-graph)."""
    xy, u, v, length, feature, ssnap, demand, limits, max_snap = piece
    net = RoadNetwork(xy, u, v, length, feature)
    tsnap = net.snap(demand.array, max_snap)
    return (*net.pairs_within(ssnap, tsnap, limits), tsnap)


def _pairs_euclidean(piece):
    src, tgt, limits = piece
    return euclidean_pairs(src.array, tgt.array, limits)


def make_reach(dispatcher, partitions=None, buffer_m=None, tile_m=TILE_M, demand_xy=None):
    """A :func:`risk_plugin.shelters.reach` partitioned by ``partitions`` (polygons in the working CRS,
    townships for example; None: square tiles of ``tile_m``) with tasks on ``dispatcher``.
    ``buffer_m`` replaces the automatic buffer R (the largest service distance); it exists to show what
    a too small buffer loses. ``demand_xy()``: the demand's (x, y) arrays when the driver holds coordinates
    instead of points (:mod:`.demand`); each piece's points are then made from them."""
    partitions = None if partitions is None else np.asarray(partitions, dtype=object)

    def reach(shelter_pts, limits, demand_pts, network=None, max_snap=D.MAX_SNAP, usable=None, progress=None):
        progress = ensure(progress)
        shelter_pts = np.asarray(shelter_pts, dtype=object)
        demand_pts = np.asarray(demand_pts, dtype=object)
        limits = np.asarray(limits, float).copy()
        if usable is not None:
            limits[~np.asarray(usable, bool)] = -1.0
        n_s, n_t = len(shelter_pts), len(demand_pts)
        xy = demand_xy() if demand_xy is not None else None
        if xy is not None and len(xy[0]) == n_t:
            x, y = xy
            part = partition_of_xy(x, y, partitions, tile_m)
            points = lambda i: shapely.points(x[i], y[i])                               # noqa: E731
            extent = lambda i: np.array([x[i].min(), y[i].min(), x[i].max(), y[i].max()])  # noqa: E731
        else:
            part = partition_of(demand_pts, partitions, tile_m)
            points = lambda i: demand_pts[i]                                             # noqa: E731
            extent = lambda i: shapely.total_bounds(demand_pts[i])                       # noqa: E731
        live = limits > 0
        R = float(limits[live].max()) if live.any() else 0.0
        halo = R if buffer_m is None else float(buffer_m)
        s_tree = shapely.STRtree(shelter_pts)
        ssnap = tsnap = None
        if network is not None:
            ssnap = network.snap(shelter_pts, max_snap)        # the demand is snapped on the workers
            tsnap = Snap(np.zeros(n_t, bool), np.full(n_t, -1, np.int64), np.zeros(n_t), np.full(n_t, np.inf),
                         np.full(n_t, np.nan), np.full(n_t, np.nan))    # RoadNetwork.snap's "not snapped"
        progress.set(15)
        parts = np.unique(part) if (live.any() or network is not None) else np.zeros(0, np.int64)
        order = np.argsort(part, kind="stable")
        bounds_of = np.r_[0, np.cumsum(np.bincount(part, minlength=int(part.max()) + 1 if len(part) else 0))]
        index = []

        def pieces():
            """One partition's piece at a time (the driver holds a few, not all)."""
            for p in parts:
                t_idx = order[bounds_of[p]:bounds_of[p + 1]]
                bounds = extent(t_idx)
                if not np.all(np.isfinite(bounds)):
                    continue                                 # only empty geometries: not snapped, nothing to reach
                s_idx = np.sort(s_tree.query(_grow(bounds, halo))) if live.any() else np.zeros(0, np.int64)
                s_idx = s_idx[live[s_idx]]                   # envelopes: a superset is safe
                if network is None:
                    if len(s_idx):
                        index.append((s_idx, t_idx, None))
                        yield Geometries(shelter_pts[s_idx]), Geometries(points(t_idx)), limits[s_idx]
                    continue
                # the demand's snap needs the segments within max_snap of the extent, the walks those within halo
                segs = network.segments_near(_grow(bounds, max(halo, 0.0) + max_snap))
                segs = np.unique(np.r_[segs, ssnap.segment[s_idx][ssnap.ok[s_idx]]]).astype(np.int64)  # global order
                if not len(segs):
                    continue                                 # no road within max_snap: unsnapped in the full graph too
                nodes = np.unique(np.r_[network.seg_u[segs], network.seg_v[segs]])
                node_lut = np.full(network.n_nodes, -1, np.int64)
                node_lut[nodes] = np.arange(len(nodes))
                seg_lut = np.full(network.n_segments, -1, np.int64)
                seg_lut[segs] = np.arange(len(segs))
                index.append((s_idx, t_idx, segs))
                yield (network.xy[nodes], node_lut[network.seg_u[segs]], node_lut[network.seg_v[segs]],
                       network.seg_len[segs], network.seg_feature[segs], _sub_snap(ssnap, s_idx, seg_lut),
                       Geometries(points(t_idx)), limits[s_idx], float(max_snap))

        pairs = {}

        def take(i, r):
            """A piece's result as it arrives: its pairs in global indices; its demand snaps straight into
            tsnap (global segments); the piece's index and the result itself are then dropped."""
            si, ti, segs = index[i]
            pairs[i] = (si[r[0]], ti[r[1]], r[2])
            if network is not None:
                ts = r[3]
                tsnap.ok[ti], tsnap.offset[ti], tsnap.distance[ti] = ts.ok, ts.offset, ts.distance
                tsnap.x[ti], tsnap.y[ti] = ts.x, ts.y
                tsnap.segment[ti] = np.where(ts.ok, segs[np.clip(ts.segment, 0, None)], -1)
            index[i] = None

        kernel = _pairs_euclidean if network is None else _pairs_network
        dispatcher.map_stream("reach", kernel, pieces(), len(parts), IN_FLIGHT * dispatcher.n_workers,
                              progress=progress.sub(15, 100), on_result=take, keep=False)
        got = [pairs[i] for i in sorted(pairs)]                # the pairs in piece order, as before
        s = np.concatenate([g[0] for g in got]).astype(np.int64) if got else np.zeros(0, np.int64)
        t = np.concatenate([g[1] for g in got]).astype(np.int64) if got else np.zeros(0, np.int64)
        d = np.concatenate([g[2] for g in got]).astype(float) if got else np.zeros(0)
        if network is None:
            return _shelters.Reach(s, t, d, None, None, np.zeros(n_s, np.int64), np.zeros(n_t, np.int64))
        return _shelters.Reach(s, t, d, ssnap, tsnap, network.component_of(ssnap), network.component_of(tsnap))

    return reach
