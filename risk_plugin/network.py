"""Road network: lines → noded graph (scipy.sparse), snapping, multi-source walking distances.

>>> net = RoadNetwork.from_lines(roads.geometry.values)          # metres
>>> snap = net.snap(points, max_snap=300)                         # nearest road, snap distance kept
>>> pairs = net.pairs_within(shelter_snap, demand_snap, limits)    # (source, target, metres)

The graph has one node per road vertex (vertices closer than ``tolerance`` merge) and one edge per
segment between consecutive vertices, undirected, weighted by length. Lines join where they share a
vertex ('vertices', as QGIS's network analysis and OSM) or at every crossing ('intersections').

A point is snapped to the nearest segment within ``max_snap``; its walking distance to anything
is snap distance + distance along the network from the snapped position (so the snap counts).
Distances from many sources run tile by tile: the sources of a tile and the nodes within reach of
them (a square window: a path of length L stays within L of its start) form a small sub-graph on
which scipy.sparse.csgraph.dijkstra runs with a limit.
"""
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from .definitions import shelters as D
from .progress import ensure


@dataclass
class Snap:
    """Points snapped onto the network (arrays of equal length; ``ok`` False where unsnappable)."""
    ok: np.ndarray        # bool
    segment: np.ndarray   # segment index (-1 if not ok)
    offset: np.ndarray    # metres along the segment from its first node
    distance: np.ndarray  # snap distance (m), point → road
    x: np.ndarray         # snapped position
    y: np.ndarray

    def __len__(self):
        return len(self.ok)

    def subset(self, mask):
        return Snap(*(getattr(self, f)[mask] for f in ("ok", "segment", "offset", "distance", "x", "y")))


class RoadNetwork:
    """An undirected road graph in metres. Build with :meth:`from_lines`."""

    def __init__(self, xy, seg_u, seg_v, seg_len, seg_feature):
        self.xy = xy                     # (N, 2) node coordinates
        self.seg_u, self.seg_v = seg_u, seg_v
        self.seg_len = seg_len
        self.seg_feature = seg_feature   # index of the input feature each segment comes from
        n = len(xy)
        # csr keeps, for each node pair, the shortest of any parallel segments; both directions stored
        a = np.minimum(seg_u, seg_v).astype(np.int64)
        b = np.maximum(seg_u, seg_v).astype(np.int64)
        order = np.lexsort((seg_len, b, a))
        key = a[order] * n + b[order]
        first = np.ones(len(order), bool)
        first[1:] = key[1:] != key[:-1]
        keep = order[first]
        rows = np.concatenate([a[keep], b[keep]])
        cols = np.concatenate([b[keep], a[keep]])
        w = np.concatenate([seg_len[keep], seg_len[keep]])
        self.csr = sparse.csr_matrix((w, (rows, cols)), shape=(n, n))
        self.ncomp, self.node_component = csgraph.connected_components(self.csr, directed=False)
        # node → segments incidence (for catchments)
        ns = len(seg_u)
        self.incidence = sparse.csr_matrix(
            (np.ones(2 * ns, np.int8), (np.concatenate([seg_u, seg_v]), np.tile(np.arange(ns), 2))),
            shape=(n, ns))
        self._tree = None
        self._kd = None

    # ------------------------------------------------------------------ building
    @classmethod
    def from_lines(cls, geoms, tolerance=D.NODE_TOLERANCE, noding=D.NODING):
        """Build from an array of (Multi)LineStrings in a metric CRS.

        ``noding``: 'vertices' joins lines only at shared vertices; 'intersections' splits every
        line where it crosses another first (shapely.node).
        """
        geoms = np.asarray(geoms, dtype=object)
        valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        feat = np.flatnonzero(valid)
        geoms = geoms[valid]
        if noding == "intersections" and len(geoms):
            noded = shapely.get_parts(shapely.node(shapely.multilinestrings(shapely.get_parts(geoms))))
            # noded pieces lose their feature; give each the feature of the line it lies on
            tree = shapely.STRtree(geoms)
            mid = shapely.line_interpolate_point(noded, 0.5, normalized=True)
            nearest = tree.query_nearest(mid, all_matches=False)
            order = np.argsort(nearest[0])
            parts, part_feat = noded[nearest[0][order]], feat[nearest[1][order]]
        else:
            parts, idx = shapely.get_parts(geoms, return_index=True)
            part_feat = feat[idx]
        keep = shapely.length(parts) > 0
        parts, part_feat = parts[keep], part_feat[keep]
        coords, vidx = shapely.get_coordinates(parts, return_index=True)
        key = np.round(coords / tolerance).astype(np.int64)
        _, first, node = np.unique(key, axis=0, return_index=True, return_inverse=True)
        node = node.ravel()
        xy = coords[first]
        same = vidx[1:] == vidx[:-1]
        k = np.flatnonzero(same)
        u, v = node[k], node[k + 1]
        seg_line = vidx[k]
        length = np.hypot(*(coords[k + 1] - coords[k]).T)
        pos = (u != v) & (length > 0)
        u, v, length, seg_line = u[pos], v[pos], length[pos], seg_line[pos]
        return cls(xy, u.astype(np.int64), v.astype(np.int64), length, part_feat[seg_line])

    @property
    def n_nodes(self):
        return len(self.xy)

    @property
    def n_segments(self):
        return len(self.seg_u)

    def segment_component(self):
        return self.node_component[self.seg_u]

    # ------------------------------------------------------------------ snapping
    def snap(self, points, max_snap=D.MAX_SNAP):
        """Snap geometries (shapely array, metric CRS) to the nearest segment within ``max_snap`` m.

        A point snaps to its projection on the nearest road; a polygon to the road point nearest to
        its boundary (snap distance 0 if a road touches it)."""
        points = np.asarray(points, dtype=object)
        n = len(points)
        out = Snap(np.zeros(n, bool), np.full(n, -1, np.int64), np.zeros(n), np.full(n, np.inf),
                   np.full(n, np.nan), np.full(n, np.nan))
        if n == 0 or self.n_segments == 0:
            return out
        self._segment_tree()
        pi, seg, dist = self._nearest_segments(points, float(max_snap))
        if not len(pi):
            return out
        geom = points[pi]
        poly = shapely.get_type_id(geom) != 0
        if poly.any():  # a polygon (a square, a school yard) is entered where it comes closest to the road
            geom = geom.copy()
            geom[poly] = shapely.get_point(shapely.shortest_line(geom[poly], self._segments[seg[poly]]), 1)
        offset = np.clip(shapely.line_locate_point(self._segments[seg], geom), 0.0, self.seg_len[seg])
        t = offset / self.seg_len[seg]
        a, b = self.xy[self.seg_u[seg]], self.xy[self.seg_v[seg]]
        out.ok[pi] = True
        out.segment[pi] = seg
        out.offset[pi] = offset
        out.distance[pi] = dist
        out.x[pi] = a[:, 0] + t * (b[:, 0] - a[:, 0])
        out.y[pi] = a[:, 1] + t * (b[:, 1] - a[:, 1])
        return out

    def _segment_tree(self):
        if self._tree is None:  # one straight segment per tree item: distances are cheap to test
            self._segments = shapely.linestrings(np.stack([self.xy[self.seg_u], self.xy[self.seg_v]], axis=1))
            self._tree = shapely.STRtree(self._segments)
        return self._tree

    def segments_near(self, geometry):
        """Indices of the segments whose bounding box meets ``geometry``'s (a superset of those
        within it), in increasing order."""
        return np.sort(self._segment_tree().query(geometry)).astype(np.int64)

    def _nearest_segments(self, geoms, max_snap):
        """(geometry index, segment, distance) of the nearest segment within ``max_snap`` of each
        geometry that has one. Equally near segments (overlapping roads, a point on a shared vertex):
        the first in layer and vertex order wins, as in QGIS's QgsVectorLayerDirector, so that both
        snap the same way.

        A ``dwithin`` query at a radius growing ×4 from SNAP_FIRST_RADIUS, then exact distances of the
        candidates: every segment within the radius is a candidate, so the nearest is among them. GEOS's
        nearest-neighbour search (STRtree.query_nearest) is 6× slower when most points lie near a road
        (416 k points: 1.5 s against 0.25 s); it serves only a radius beyond SNAP_MAX_RADIUS."""
        todo = np.arange(len(geoms))
        found = []
        r = min(max_snap, D.SNAP_FIRST_RADIUS)
        while len(todo):
            if r > D.SNAP_MAX_RADIUS:
                (pi, seg), dist = self._tree.query_nearest(geoms[todo], max_distance=max_snap, return_distance=True,
                                                           all_matches=True)
            else:
                pi, seg = self._tree.query(geoms[todo], predicate="dwithin", distance=r)
                dist = shapely.distance(geoms[todo][pi], self._segments[seg])
            if len(pi):
                order = np.lexsort((seg, dist, pi))
                pi, seg, dist = pi[order], seg[order], dist[order]
                first = np.r_[True, pi[1:] != pi[:-1]]
                found.append((todo[pi[first]], seg[first], dist[first]))
                todo = np.delete(todo, pi[first])
            if r >= max_snap or r > D.SNAP_MAX_RADIUS:
                break
            r = min(max_snap, r * 4)
        if not found:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        pi, seg, dist = (np.concatenate(a) for a in zip(*found))
        order = np.argsort(pi)
        return pi[order], seg[order], dist[order]

    def component_of(self, snap):
        comp = np.full(len(snap), -1, np.int64)
        comp[snap.ok] = self.node_component[self.seg_u[snap.segment[snap.ok]]]
        return comp

    # ------------------------------------------------------------------ distances
    def _window(self, tree, cx, cy, half):
        return np.asarray(tree.query_ball_point([cx, cy], r=half, p=np.inf), dtype=np.int64)

    def _blocks(self, src, limits, targets, progress, with_segments=False):
        """For each block of sources: (source ids, distances (block × window nodes), node → window
        index lookup, targets in the window, segments touching the window).

        Sources are grouped in square tiles as wide as the largest limit; a tile's window is its
        sources' bounding box grown by the tile's largest limit (a path of length L stays within L of
        its start). Dijkstra runs on the window's sub-graph, every source a virtual node joined to the
        ends of its segment (snap distance included), in blocks small enough that the dense result
        stays under DISTANCE_BLOCK_CELLS. The loop is over tiles and blocks, each fully vectorised.
        """
        progress = ensure(progress)
        if self._kd is None:
            self._kd = cKDTree(self.xy)
        ok = np.flatnonzero(src.ok & (limits > src.distance))
        if ok.size == 0:
            return
        tgt_kd = cKDTree(np.column_stack([targets.x[targets.ok], targets.y[targets.ok]])) \
            if targets is not None and targets.ok.any() else None
        tgt_ids = np.flatnonzero(targets.ok) if targets is not None else None
        lmax_all = float(limits[ok].max())
        tile = max(lmax_all, 250.0)
        tx = np.floor(src.x[ok] / tile).astype(np.int64)
        ty = np.floor(src.y[ok] / tile).astype(np.int64)
        order = np.lexsort((ty, tx))
        ok, tx, ty = ok[order], tx[order], ty[order]
        tile_key = tx * 1_000_003 + ty
        starts = np.flatnonzero(np.r_[True, tile_key[1:] != tile_key[:-1]])
        ends = np.r_[starts[1:], len(ok)]
        lut = np.full(self.n_nodes, -1, np.int64)
        for ti, (s0, s1) in enumerate(zip(starts, ends)):  # loop over tiles (each one vectorised)
            progress.set(100.0 * ti / len(starts))
            ids = ok[s0:s1]
            lmax = float(limits[ids].max())
            x0, x1 = src.x[ids].min(), src.x[ids].max()
            y0, y1 = src.y[ids].min(), src.y[ids].max()
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            half = max(x1 - x0, y1 - y0) / 2 + lmax + 1.0
            nodes = self._window(self._kd, cx, cy, half)
            lut[nodes] = np.arange(len(nodes))
            rows = self.csr[nodes].tocoo()
            lc = lut[rows.col]
            keep = lc >= 0
            base_r, base_c, base_w = rows.row[keep], lc[keep], rows.data[keep]
            tsel = None
            if tgt_kd is not None:
                tsel = tgt_ids[self._window(tgt_kd, cx, cy, half)]
            segs = None
            if with_segments:
                segs = np.unique(self.incidence[nodes].indices)
            nloc = len(nodes)
            width = nloc + max(len(tsel) if tsel is not None else 0, len(segs) if segs is not None else 0)
            chunk = max(1, int(D.DISTANCE_BLOCK_CELLS // max(width, 1)))
            for c0 in range(0, len(ids), chunk):
                block = ids[c0:c0 + chunk]
                nb = len(block)
                seg = src.segment[block]
                su, sv = lut[self.seg_u[seg]], lut[self.seg_v[seg]]
                vid = nloc + np.arange(nb)
                w_u = src.distance[block] + src.offset[block]
                w_v = src.distance[block] + self.seg_len[seg] - src.offset[block]
                # a zero weight would read as "no edge" in a sparse matrix: keep a micrometre
                w_u, w_v = np.maximum(w_u, 1e-6), np.maximum(w_v, 1e-6)
                vr = np.concatenate([vid[su >= 0], su[su >= 0], vid[sv >= 0], sv[sv >= 0]])
                vc = np.concatenate([su[su >= 0], vid[su >= 0], sv[sv >= 0], vid[sv >= 0]])
                vw = np.concatenate([w_u[su >= 0], w_u[su >= 0], w_v[sv >= 0], w_v[sv >= 0]])
                size = nloc + nb
                sub = sparse.csr_matrix((np.concatenate([base_w, vw]),
                                         (np.concatenate([base_r, vr]), np.concatenate([base_c, vc]))),
                                        shape=(size, size))
                dist = csgraph.dijkstra(sub, directed=True, indices=vid, limit=float(limits[block].max()))
                yield block, dist[:, :nloc], lut, tsel, segs
            lut[nodes] = -1
        progress.set(100.0)

    def pairs_within(self, src, tgt, limits, progress=None):
        """All (source, target, distance) with walking distance <= the source's limit.

        ``src`` and ``tgt`` are :class:`Snap` results; ``limits`` (m) per source. The distance is
        source snap + along the network + target snap. Returns three arrays.
        """
        limits = np.asarray(limits, float)
        out_s, out_t, out_d = [], [], []
        for block, dist, lut, tsel, _ in self._blocks(src, limits, tgt, progress):
            if tsel is None or len(tsel) == 0:
                continue
            dist_t = self._target_distance(src, block, dist, lut, tgt, tsel)
            bi, ti = np.nonzero(dist_t <= limits[block][:, None])
            out_s.append(block[bi])
            out_t.append(tsel[ti])
            out_d.append(dist_t[bi, ti])
        if not out_s:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(out_s), np.concatenate(out_t), np.concatenate(out_d)

    def _target_distance(self, src, block, dist, lut, tgt, tsel):
        seg = tgt.segment[tsel]
        lu, lv = lut[self.seg_u[seg]], lut[self.seg_v[seg]]
        full = np.hstack([dist, np.full((len(block), 1), np.inf)])  # column -1: outside the window
        du, dv = full[:, lu], full[:, lv]
        b = tgt.offset[tsel]
        d = np.minimum(du + b, dv + (self.seg_len[seg] - b))
        same = src.segment[block][:, None] == seg[None, :]
        if same.any():
            direct = src.distance[block][:, None] + np.abs(src.offset[block][:, None] - b[None, :])
            d = np.where(same, np.minimum(d, direct), d)
        return d + tgt.distance[tsel][None, :]

    def reachable_pieces(self, src, limits, progress=None):
        """Road pieces reachable from each source within its limit.

        Returns (source ids, start xy (n, 2), end xy (n, 2)) of straight pieces: whole segments,
        the reachable ends of partly reached segments, and the piece around each source's own
        snapped position.
        """
        limits = np.asarray(limits, float)
        out_s, out_a, out_b = [], [], []
        for block, dist, lut, _, segs in self._blocks(src, limits, None, progress, with_segments=True):
            lu, lv = lut[self.seg_u[segs]], lut[self.seg_v[segs]]
            inf = np.full((len(block), 1), np.inf)
            full = np.hstack([dist, inf])
            du, dv = full[:, lu], full[:, lv]
            L = self.seg_len[segs][None, :]
            lim = limits[block][:, None]
            ru = np.clip(lim - du, 0.0, None)
            rv = np.clip(lim - dv, 0.0, None)
            whole = ru + rv >= L
            # pieces as (t0, t1) fractions along the segment: whole, reached from u, reached from v
            from_u = ~whole & (ru > 0)
            from_v = ~whole & (rv > 0)
            frac_u, frac_v = ru / L, 1.0 - rv / L
            t0 = np.concatenate([np.zeros(np.count_nonzero(whole)), np.zeros(np.count_nonzero(from_u)),
                                 frac_v[from_v]])
            t1 = np.concatenate([np.ones(np.count_nonzero(whole)), frac_u[from_u],
                                 np.ones(np.count_nonzero(from_v))])
            nz = [np.nonzero(m) for m in (whole, from_u, from_v)]
            bi = np.concatenate([z[0] for z in nz])
            si = np.concatenate([z[1] for z in nz])
            seg = segs[si]
            # the source's own segment, around the snapped position
            own = src.segment[block]
            r = limits[block] - src.distance[block]
            ol = self.seg_len[own]
            ot0 = np.clip(src.offset[block] - r, 0, ol) / ol
            ot1 = np.clip(src.offset[block] + r, 0, ol) / ol
            bi = np.concatenate([bi, np.arange(len(block))])
            seg = np.concatenate([seg, own])
            t0 = np.concatenate([t0, ot0])
            t1 = np.concatenate([t1, ot1])
            real = t1 > t0
            bi, seg, t0, t1 = bi[real], seg[real], t0[real], t1[real]
            a, b = self.xy[self.seg_u[seg]], self.xy[self.seg_v[seg]]
            out_s.append(block[bi])
            out_a.append(a + (b - a) * t0[:, None])
            out_b.append(a + (b - a) * t1[:, None])
        if not out_s:
            return np.zeros(0, np.int64), np.zeros((0, 2)), np.zeros((0, 2))
        return np.concatenate(out_s), np.concatenate(out_a), np.concatenate(out_b)


def euclidean_pairs(src, tgt, limits):
    """(source, target, distance) with straight-line distance <= the source's limit (no roads).

    ``src`` and ``tgt`` are shapely geometry arrays (a polygon source is measured from its edge)."""
    limits = np.asarray(limits, float)
    src, tgt = np.asarray(src, dtype=object), np.asarray(tgt, dtype=object)
    if len(src) == 0 or len(tgt) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    tree = shapely.STRtree(tgt)
    s, t = tree.query(src, predicate="dwithin", distance=limits)
    d = shapely.distance(src[s], tgt[t])
    return s.astype(np.int64), t.astype(np.int64), d
