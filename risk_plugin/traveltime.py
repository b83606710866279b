"""Travel time along a road network: a speed per road, one-way roads, slower or closed roads in hazard
zones; minutes from the nearest of many facilities to every point, by one multi-source Dijkstra
(scipy.sparse.csgraph.dijkstra with min_only) per facility group.

>>> net = RoadNetwork.from_lines(roads_w.geometry.values)                  # risk_plugin.network, metres
>>> tn = TimeNetwork.build(net, speed_kmh, direction)                      # per road feature
>>> src, tgt = net.snap(facility_pts, 1000), net.snap(people_pts, 1000)
>>> field = tn.solve(src, walk_kmh=4.32)                                   # every facility in ``src``
>>> minutes, nearest = field.at(tgt)                                       # per target (inf: not reached)

The graph is directed: a segment of a two-way road gives two edges, a one-way road one, a closed road
none; weight = minutes to drive it (length ÷ speed, longer inside a hazard zone). A facility joins the
graph as a virtual node with edges to the two ends of its segment (walk to the road + drive along the
segment in a permitted direction); a target is reached from either end of its segment, or directly
from a facility on the same segment, plus its own walk from the road. Times inside a segment are
proportional to the distance along it.
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from .definitions import reach as D
from .progress import ensure
from .roadclass import BACKWARD, BOTH, CLOSED, FORWARD

TINY = 1e-9   # minutes: a zero weight would read as "no edge" in a sparse matrix
AT_NODE_M = 1e-6   # a point this close to a segment's end stands on the node (a junction shared by several roads)


def kmh_to_m_per_min(kmh):
    return np.asarray(kmh, float) * (1000.0 / 60.0)


def segments_reversed(net, lines):
    """True where a segment runs against the direction its road line was digitised in (noding by
    'intersections' may reverse pieces): its first node lies farther along the line than its second."""
    geoms = np.asarray(lines, dtype=object)[net.seg_feature]
    pu = shapely.points(net.xy[net.seg_u])
    pv = shapely.points(net.xy[net.seg_v])
    return shapely.line_locate_point(geoms, pu) > shapely.line_locate_point(geoms, pv)


def hazard_fraction(net, zones):
    """Share (0..1) of each segment's length inside the union of ``zones`` (polygons, metric CRS)."""
    zones = np.asarray(zones, dtype=object)
    zones = zones[~(shapely.is_missing(zones) | shapely.is_empty(zones))] if len(zones) else zones
    frac = np.zeros(net.n_segments)
    if not len(zones) or not net.n_segments:
        return frac
    parts = shapely.get_parts(shapely.union_all(shapely.make_valid(zones)))
    parts = parts[shapely.get_type_id(parts) == 3]
    segs = shapely.linestrings(np.stack([net.xy[net.seg_u], net.xy[net.seg_v]], axis=1))
    # the zones are the query geometries (prepared once each), the many short segments the tree
    pi, si = shapely.STRtree(segs).query(parts, predicate="intersects")
    if len(pi):
        inside = shapely.length(shapely.intersection(segs[si], parts[pi]))
        frac = np.bincount(si, weights=inside, minlength=net.n_segments) / net.seg_len
    return np.clip(frac, 0.0, 1.0)


@dataclass
class NodeTimes:
    """Minutes from the nearest source to every node, and which source (index into the sources)."""
    tn: "TimeNetwork"
    minutes: np.ndarray       # per node (inf: not reached)
    source: np.ndarray        # per node, -1 where not reached
    src_ids: np.ndarray       # the sources used (indices into the Snap given to solve)
    src_seg: np.ndarray
    src_off: np.ndarray
    src_walk: np.ndarray      # minutes walked from each source to its road

    def at(self, tgt, walk_kmh=D.WALK_SPEED_KMH):
        """(minutes, nearest source) per target Snap (inf / -1 where not reached)."""
        return self.tn.target_times(self, tgt, walk_kmh)


class TimeNetwork:
    """A directed road graph weighted by travel minutes. Build with :meth:`build`."""

    def __init__(self, net, seg_minutes, forward_ok, backward_ok):
        self.net = net
        self.minutes = np.asarray(seg_minutes, float)          # whole segment, either way it is allowed
        self.fwd = np.asarray(forward_ok, bool) & np.isfinite(self.minutes)
        self.bwd = np.asarray(backward_ok, bool) & np.isfinite(self.minutes)
        u, v = net.seg_u, net.seg_v
        rows = np.concatenate([u[self.fwd], v[self.bwd]])
        cols = np.concatenate([v[self.fwd], u[self.bwd]])
        w = np.maximum(np.concatenate([self.minutes[self.fwd], self.minutes[self.bwd]]), TINY)
        # parallel segments between the same two nodes: keep the quickest per direction
        order = np.lexsort((w, cols, rows))
        rows, cols, w = rows[order], cols[order], w[order]
        first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])] if len(rows) else np.zeros(0, bool)
        self._edges = (rows[first], cols[first], w[first])

    @classmethod
    def build(cls, net, speed_kmh, direction=None, reversed_=None, hazard_frac=None,
              hazard_factor=D.HAZARD_SPEED_FACTOR, close_hazard=False):
        """From per-feature speeds (km/h, 0 = closed) and direction codes (roadclass.FORWARD …), and per-
        segment ``reversed_`` flags and hazard fractions (the share of the segment inside a zone)."""
        f = net.seg_feature
        v = np.asarray(speed_kmh, float)[f]
        with np.errstate(divide="ignore"):
            per_m = np.where(v > 0, 1.0 / kmh_to_m_per_min(np.where(v > 0, v, 1.0)), np.inf)   # minutes per metre
        frac = np.zeros(net.n_segments) if hazard_frac is None else np.asarray(hazard_frac, float)
        if close_hazard:
            per_m = np.where(frac > 0, np.inf, per_m)
            minutes = per_m * net.seg_len
        else:
            slow = np.inf if hazard_factor <= 0 else 1.0 / hazard_factor
            with np.errstate(invalid="ignore"):
                minutes = net.seg_len * per_m * np.where(frac > 0, (1.0 - frac) + frac * slow, 1.0)
            minutes = np.where(np.isnan(minutes), np.inf, minutes)
        d = np.full(net.n_segments, BOTH, np.int64) if direction is None else np.asarray(direction, np.int64)[f]
        if reversed_ is not None:
            d = np.where(np.asarray(reversed_, bool) & (np.abs(d) == 1), -d, d)
        fwd = (d == BOTH) | (d == FORWARD)
        bwd = (d == BOTH) | (d == BACKWARD)
        minutes = np.where(d == CLOSED, np.inf, minutes)
        return cls(net, minutes, fwd, bwd)

    @property
    def n_nodes(self):
        return self.net.n_nodes

    # ------------------------------------------------------------------ sources
    def _attach(self, snap, ids, walk_kmh):
        """Virtual-node edges for sources ``ids`` of ``snap``: (source position, node, minutes)."""
        seg = snap.segment[ids]
        L = self.net.seg_len[seg]
        t = self.minutes[seg]
        walk = snap.distance[ids] / kmh_to_m_per_min(walk_kmh)
        a = snap.offset[ids]
        pos = np.arange(len(ids))
        at_u, at_v = a <= AT_NODE_M, L - a <= AT_NODE_M   # standing on a node: every road from it is open
        to_u = self.bwd[seg] | at_u      # from the point back to the segment's first node
        to_v = self.fwd[seg] | at_v
        with np.errstate(invalid="ignore"):
            du = np.where(at_u, 0.0, a / L * t)
            dv = np.where(at_v, 0.0, (L - a) / L * t)
        rows = np.concatenate([pos[to_u], pos[to_v]])
        cols = np.concatenate([self.net.seg_u[seg][to_u], self.net.seg_v[seg][to_v]])
        w = np.concatenate([walk[to_u] + du[to_u], walk[to_v] + dv[to_v]])
        return rows, cols, np.maximum(w, TINY), walk

    def _graph(self, n_virtual, vr, vc, vw):
        n = self.n_nodes
        r, c, w = self._edges
        size = n + n_virtual
        return sparse.csr_matrix((np.concatenate([w, vw]), (np.concatenate([r, n + vr]), np.concatenate([c, vc]))),
                                 shape=(size, size))

    def solve(self, snap, ids=None, walk_kmh=D.WALK_SPEED_KMH, limit=np.inf):
        """Minutes from the nearest source to every node: one Dijkstra from all sources at once.

        ``ids`` selects sources of ``snap`` (default: every snapped one)."""
        ids = np.flatnonzero(snap.ok) if ids is None else np.asarray(ids, np.int64)
        ids = ids[snap.ok[ids]]
        n = self.n_nodes
        vr, vc, vw, walk = self._attach(snap, ids, walk_kmh)
        if len(ids) == 0 or len(vr) == 0:
            return NodeTimes(self, np.full(n, np.inf), np.full(n, -1, np.int64), ids, snap.segment[ids],
                             snap.offset[ids], walk)
        g = self._graph(len(ids), vr, vc, vw)
        used = np.unique(vr)
        dist, _, src = csgraph.dijkstra(g, directed=True, indices=n + used, min_only=True,
                                        return_predecessors=True, limit=limit)
        dist, src = dist[:n], src[:n]
        source = np.where(src >= n, src - n, -1).astype(np.int64)
        return NodeTimes(self, dist, source, ids, snap.segment[ids], snap.offset[ids], walk)

    # ------------------------------------------------------------------ targets
    def _along(self, seg, b):
        """Minutes from each end of its segment to a point at ``b`` m: (from u going forward, from v going back)."""
        L = self.net.seg_len[seg]
        t = self.minutes[seg]
        with np.errstate(invalid="ignore"):     # 0 × inf on a closed segment, discarded by the mask
            from_u = np.where(b <= AT_NODE_M, 0.0, np.where(self.fwd[seg], b / L * t, np.inf))
            from_v = np.where(L - b <= AT_NODE_M, 0.0, np.where(self.bwd[seg], (L - b) / L * t, np.inf))
        return from_u, from_v

    def target_times(self, field, tgt, walk_kmh=D.WALK_SPEED_KMH):
        n_t = len(tgt)
        best = np.full(n_t, np.inf)
        who = np.full(n_t, -1, np.int64)
        ok = np.flatnonzero(tgt.ok)
        if not len(ok):
            return best, who
        seg, b = tgt.segment[ok], tgt.offset[ok]
        from_u, from_v = self._along(seg, b)
        u, v = self.net.seg_u[seg], self.net.seg_v[seg]
        via_u = field.minutes[u] + from_u
        via_v = field.minutes[v] + from_v
        t = np.minimum(via_u, via_v)
        w = np.where(via_u <= via_v, field.source[u], field.source[v])
        # a facility on the target's own segment: straight along it, if the direction allows
        if len(field.src_ids):
            s_df = pd.DataFrame({"seg": field.src_seg, "a": field.src_off, "walk": field.src_walk,
                                 "k": np.arange(len(field.src_ids))})
            hit = np.isin(seg, field.src_seg)
            if hit.any():
                t_df = pd.DataFrame({"seg": seg[hit], "b": b[hit], "i": np.flatnonzero(hit)})
                m = t_df.merge(s_df, on="seg")
                sg = m["seg"].to_numpy()
                L, tt = self.net.seg_len[sg], self.minutes[sg]
                ahead = m["b"].to_numpy() >= m["a"].to_numpy()
                allowed = np.where(ahead, self.fwd[sg], self.bwd[sg])
                direct = np.where(allowed, m["walk"].to_numpy() + np.abs(m["b"].to_numpy() - m["a"].to_numpy()) / L * tt,
                                  np.inf)
                order = np.lexsort((direct, m["i"].to_numpy()))
                i_s, d_s, k_s = m["i"].to_numpy()[order], direct[order], m["k"].to_numpy()[order]
                first = np.r_[True, i_s[1:] != i_s[:-1]]
                i_s, d_s, k_s = i_s[first], d_s[first], k_s[first]
                better = d_s < t[i_s]
                t[i_s[better]] = d_s[better]
                w[i_s[better]] = k_s[better]
        t = t + tgt.distance[ok] / kmh_to_m_per_min(walk_kmh)
        best[ok] = t
        w = np.where(np.isfinite(t) & (w >= 0), w, -1)
        who[ok] = np.where(w >= 0, field.src_ids[np.clip(w, 0, None)] if len(field.src_ids) else -1, -1)
        return best, who

    # ------------------------------------------------------------------ many sources, one at a time
    def pairs_within(self, src, tgt, limit, walk_kmh=D.WALK_SPEED_KMH, ids=None, progress=None):
        """All (source, target, minutes) with minutes <= ``limit``, each source on its own (for siting).

        Dijkstra runs in blocks of sources with ``limit``; a block's dense result stays under
        definitions.reach.BLOCK_CELLS cells."""
        progress = ensure(progress)
        ids = np.flatnonzero(src.ok) if ids is None else np.asarray(ids, np.int64)
        ids = ids[src.ok[ids]]
        n = self.n_nodes
        out = ([], [], [])
        vr, vc, vw, walk = self._attach(src, ids, walk_kmh)
        if not len(vr):
            return tuple(np.zeros(0, t) for t in (np.int64, np.int64, float))
        g = self._graph(len(ids), vr, vc, vw)
        tok = np.flatnonzero(tgt.ok)
        tseg, tb = tgt.segment[tok], tgt.offset[tok]
        from_u, from_v = self._along(tseg, tb)
        tu, tv = self.net.seg_u[tseg], self.net.seg_v[tseg]
        twalk = tgt.distance[tok] / kmh_to_m_per_min(walk_kmh)
        block = max(1, int(D.BLOCK_CELLS // max(n + len(tok), 1)))
        for b0 in range(0, len(ids), block):   # loop over blocks of sources, each vectorised
            progress.set(100.0 * b0 / len(ids))
            pos = np.arange(b0, min(b0 + block, len(ids)))
            dist = csgraph.dijkstra(g, directed=True, indices=n + pos, limit=limit)[:, :n]
            reach = np.isfinite(dist).any(axis=0)
            sel = np.flatnonzero(reach[tu] | reach[tv] | np.isin(tseg, src.segment[ids[pos]]))
            if not len(sel):
                continue
            t = np.minimum(dist[:, tu[sel]] + from_u[sel], dist[:, tv[sel]] + from_v[sel])
            # same segment, straight along it
            same = src.segment[ids[pos]][:, None] == tseg[sel][None, :]
            if same.any():
                bi, ti = np.nonzero(same)
                sg = tseg[sel][ti]
                a, bb = src.offset[ids[pos]][bi], tb[sel][ti]
                allowed = np.where(bb >= a, self.fwd[sg], self.bwd[sg])
                d = np.where(allowed, walk[pos][bi] + np.abs(bb - a) / self.net.seg_len[sg] * self.minutes[sg], np.inf)
                t[bi, ti] = np.minimum(t[bi, ti], d)
            t = t + twalk[sel][None, :]
            bi, ti = np.nonzero(t <= limit)
            out[0].append(ids[pos][bi])
            out[1].append(tok[sel][ti])
            out[2].append(t[bi, ti])
        progress.set(100.0)
        if not out[0]:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        return tuple(np.concatenate(a) for a in out)
