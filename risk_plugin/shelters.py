"""Shelter capacity, walking reach, capacity-constrained allocation, catchments and siting.

Pure arrays in metres; reading and writing layers is in :mod:`risk_plugin.shelter_run`.

>>> cap = capacity([302_100.0], ["emergency"], uniform_per_capita=1.5)     # -> array([201400.])
>>> pairs = reach(shelter_pts, limits, demand_pts, network=net, max_snap=300)
>>> alloc = allocate_nearest(pairs.s, pairs.t, pairs.d, people, cap)       # people per pair
>>> plan = site_greedy(...)                                                 # candidates in order

Allocation rules
----------------
'nearest' (nearest shelter with room): every person–shelter pair within the shelter's service
distance is considered in order of increasing walking distance over the whole county (ties: demand
unit, then shelter, by index); each pair takes as many of the unit's remaining people as the
shelter still has room for. Nobody is turned away from a shelter in favour of someone who lives
farther from it. This is the unique stable assignment when both sides prefer shorter walks; it is
computed by vectorised deferred-acceptance rounds (each demand unit proposes to its next nearest
shelter, each over-full shelter keeps its nearest proposers), which give the same result as the
sequential rule without a Python loop over pairs.

'balanced': the largest number of people served, and among such assignments the smallest total
person-metres walked (a min-cost flow, solved as two linear programmes by HiGHS through
scipy.optimize.linprog). It can serve more people than 'nearest' when a far unit's only shelter is
taken by people who had another choice.
"""
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse

from .definitions import shelters as D
from .errors import parameter_error
from .network import euclidean_pairs
from .progress import ensure

EPS = 1e-9


# ---------------------------------------------------------------------------------------- capacity
def class_table(per_capita=None, service_distance=None, uniform_per_capita=None):
    """Per-class per-capita area (m²/person) and service distance (m): defaults, then overrides."""
    pc = dict(D.PER_CAPITA)
    pc.update({k: float(v) for k, v in (per_capita or {}).items() if v is not None})
    if uniform_per_capita:
        pc = {k: float(uniform_per_capita) for k in pc}
    sd = dict(D.SERVICE_DISTANCE)
    sd.update({k: float(v) for k, v in (service_distance or {}).items() if v is not None})
    for k, v in pc.items():
        if not v > 0:
            raise parameter_error(f"PER_CAPITA ({k})", f"人均有效避难面积必须大于 0, 现为 {v}",
                                  f"per-capita area must be > 0, got {v}", "填写正数", "enter a positive number")
    for k, v in sd.items():
        if not v > 0:
            raise parameter_error(f"SERVICE_DISTANCE ({k})", f"服务距离必须大于 0, 现为 {v}",
                                  f"service distance must be > 0, got {v}", "填写正数 (米)", "enter metres > 0")
    return pc, sd


def capacity(area, classes, per_capita=None, uniform_per_capita=None):
    """Capacity (people) = effective area ÷ per-capita area of the class.

    >>> capacity([302_100.0], ["fixed_short"], uniform_per_capita=1.5)
    array([201400.])
    """
    pc, _ = class_table(per_capita, None, uniform_per_capita)
    classes = np.asarray(classes, dtype=object)
    per = np.array([pc.get(c, np.nan) for c in classes], float) if len(classes) else np.zeros(0)
    return np.asarray(area, float) / per


def service_distance(classes, service_distance=None):
    _, sd = class_table(None, service_distance)
    return np.array([sd.get(c, np.nan) for c in np.asarray(classes, dtype=object)], float)


# ---------------------------------------------------------------------------------------- reach
@dataclass
class Reach:
    """Person–shelter pairs within reach, and how each side sits on the network."""
    s: np.ndarray            # shelter index per pair
    t: np.ndarray            # demand index per pair
    d: np.ndarray            # walking distance (m) per pair
    shelter_snap: object     # network.Snap or None (Euclidean)
    demand_snap: object
    shelter_component: np.ndarray
    demand_component: np.ndarray


def reach(shelter_pts, limits, demand_pts, network=None, max_snap=D.MAX_SNAP, usable=None, progress=None):
    """All (shelter, demand, distance) pairs with distance <= the shelter's service distance.

    With a :class:`~risk_plugin.network.RoadNetwork` the distance is the walking distance along it
    (both snaps counted); without, the straight-line distance. ``usable`` (bool per shelter)
    leaves out excluded shelters.
    """
    progress = ensure(progress)
    limits = np.asarray(limits, float).copy()
    if usable is not None:
        limits[~np.asarray(usable, bool)] = -1.0
    n_s, n_t = len(shelter_pts), len(demand_pts)
    if network is None:
        ok = limits > 0
        s, t, d = euclidean_pairs(np.asarray(shelter_pts, dtype=object)[ok], demand_pts, limits[ok])
        s = np.flatnonzero(ok)[s]
        progress.set(100)
        return Reach(s, t, d, None, None, np.zeros(n_s, np.int64), np.zeros(n_t, np.int64))
    ssnap = network.snap(shelter_pts, max_snap)
    progress.set(5)
    tsnap = network.snap(demand_pts, max_snap)
    progress.set(15)
    s, t, d = network.pairs_within(ssnap, tsnap, limits, progress=progress.sub(15, 100))
    return Reach(s, t, d, ssnap, tsnap, network.component_of(ssnap), network.component_of(tsnap))


# ---------------------------------------------------------------------------------------- allocation
def _check_pairs(s, t, d, people, cap):
    s, t, d = np.asarray(s, np.int64), np.asarray(t, np.int64), np.asarray(d, float)
    people, cap = np.asarray(people, float), np.asarray(cap, float)
    return s, t, d, people, cap


def allocate_nearest(s, t, d, people, cap, max_rounds=None):
    """People assigned on each pair under the 'nearest shelter with room' rule (module docstring).

    Returns an array aligned with the input pairs.

    >>> allocate_nearest([0, 0], [0, 1], [100., 200.], [30., 30.], [40.])
    array([30., 10.])
    """
    s, t, d, people, cap = _check_pairs(s, t, d, people, cap)
    m = len(s)
    out = np.zeros(m)
    if m == 0:
        return out
    n_t, n_s = len(people), len(cap)
    order = np.lexsort((s, d, t))                # each unit's list, nearest first
    S, T = s[order], t[order]
    units = np.arange(n_t)
    start = np.searchsorted(T, units, "left")
    end = np.searchsorted(T, units, "right")
    # shelter-side preference: rank of each pair within its shelter by (distance, unit)
    sh = np.lexsort((T, d[order], S))
    rank = np.empty(m, np.int64)
    rank[sh] = np.arange(m)
    ptr = start.copy()
    rem = people.copy()
    rem[start == end] = 0.0                      # nothing within reach: stays unserved
    held = np.zeros(m)
    max_rounds = max_rounds or (m + 10)
    for _ in range(max_rounds):  # deferred-acceptance rounds; each round is vectorised
        active = np.flatnonzero((rem > EPS) & (ptr < end))
        if active.size == 0:
            break
        k = ptr[active]
        held[k] += rem[active]
        rem[active] = 0.0
        load = np.bincount(S, weights=held, minlength=n_s)
        over = load > cap + EPS * np.maximum(1.0, cap)
        if not over.any():
            continue
        H = np.flatnonzero((held > 0) & over[S])
        H = H[np.argsort(rank[H], kind="stable")]
        hs, amt = S[H], held[H]
        cum = np.cumsum(amt)
        first = np.r_[True, hs[1:] != hs[:-1]]
        base = np.maximum.accumulate(np.where(first, cum - amt, 0.0))
        before = cum - amt - base
        acc = np.clip(cap[hs] - before, 0.0, amt)
        rej = amt - acc
        held[H] = acc
        r = rej > EPS
        rem += np.bincount(T[H[r]], weights=rej[r], minlength=n_t)
        np.maximum.at(ptr, T[H[r]], H[r] + 1)
    else:
        raise RuntimeError("allocation did not converge")  # cannot happen: pointers only advance
    held[held < EPS] = 0.0
    out[order] = held
    return out


def allocate_balanced(s, t, d, people, cap):
    """People per pair: most people served, then least person-metres (HiGHS min-cost flow)."""
    from scipy.optimize import linprog
    s, t, d, people, cap = _check_pairs(s, t, d, people, cap)
    m = len(s)
    if m == 0:
        return np.zeros(0)
    # only the units and shelters that appear in a pair make rows
    tu, ti = np.unique(t, return_inverse=True)
    su, si = np.unique(s, return_inverse=True)
    cols = np.arange(m)
    A = sparse.csr_matrix((np.ones(2 * m), (np.concatenate([ti, len(tu) + si]), np.concatenate([cols, cols]))),
                          shape=(len(tu) + len(su), m))
    b = np.concatenate([people[tu], cap[su]])
    first = linprog(-np.ones(m), A_ub=A, b_ub=b, bounds=(0, None), method="highs")
    if first.status != 0:
        raise RuntimeError(f"HiGHS (max flow) failed: {first.message}")
    served = -first.fun
    slack = 1e-9 * max(1.0, served)  # within HiGHS feasibility tolerance: serve the maximum, then walk least
    A2 = sparse.vstack([A, -sparse.csr_matrix(np.ones((1, m)))]).tocsr()
    second = linprog(d, A_ub=A2, b_ub=np.concatenate([b, [-(served - slack)]]), bounds=(0, None),
                     method="highs")
    if second.status != 0:
        raise RuntimeError(f"HiGHS (min cost) failed: {second.message}")
    x = np.clip(second.x, 0.0, None)
    x[x < 1e-7] = 0.0
    return x


def allocate(s, t, d, people, cap, rule=D.ALLOCATION):
    if rule == "nearest":
        return allocate_nearest(s, t, d, people, cap)
    if rule == "balanced":
        return allocate_balanced(s, t, d, people, cap)
    raise _unknown_rule(rule)


def _unknown_rule(rule):
    return parameter_error("ALLOCATION", f"未知分配规则 {rule}", f"unknown allocation rule {rule}",
                           f"可选: {D.ALLOCATIONS}", f"choose one of {D.ALLOCATIONS}")


def reach_components(s, t, n_shelters, n_units):
    """Connected component of each pair in the bipartite shelter–demand reach graph (a shelter and a
    unit are joined when the unit is within the shelter's reach), and the number of components.

    People compete only for shelters they can reach, and a shelter only takes people it reaches: under
    the 'nearest' rule a component's allocation depends on its own pairs alone (every step of
    :func:`allocate_nearest` reads and writes only the proposing unit's and the proposed shelter's
    state), so allocating component by component gives the county's allocation.
    """
    from scipy.sparse import csgraph
    s, t = np.asarray(s, np.int64), np.asarray(t, np.int64)
    n = int(n_shelters) + int(n_units)
    g = sparse.coo_matrix((np.ones(len(s), np.int8), (s, n_shelters + t)), shape=(n, n))
    ncomp, label = csgraph.connected_components(g, directed=False)
    return label[s], ncomp


def component_batches(comp, max_pairs):
    """Pair indices in batches of whole components (component order, pair order inside): the
    components that start within the same ``max_pairs`` of the running pair count. A batch holds at
    most ``max_pairs`` + the largest component's pairs: memory is bounded by that, not the county."""
    order = np.argsort(comp, kind="stable")
    c = comp[order]
    if not len(c):
        return []
    first = np.r_[True, c[1:] != c[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(c)), 0))   # each pair's component start
    batch = start // max(int(max_pairs), 1)
    cut = np.flatnonzero(np.r_[True, batch[1:] != batch[:-1]])
    return [np.sort(p) for p in np.split(order, cut[1:])]


def _allocate_batch(piece):
    """One batch of components, its shelters and units renumbered in their order."""
    s, t, d, people, cap = piece
    return allocate_nearest(s, t, d, people, cap)


def allocate_by_component(s, t, d, people, cap, rule=D.ALLOCATION, max_pairs=None, mapper=None):
    """:func:`allocate`, one batch of whole reach components at a time (``mapper(fn, pieces)``, for
    example on Dask; default in this process), at most about ``max_pairs`` (default
    ALLOCATION_BATCH_PAIRS) per batch. 'nearest' only: 'balanced' is one linear programme
    (its optimum decomposes too, but HiGHS may return another of equally good optima) and stays global.

    The same assignment as the global call; the floats can differ in their last bits (the global
    call sums over-full shelters' proposals in one running sum across shelters)."""
    s, t, d, people, cap = _check_pairs(s, t, d, people, cap)
    if rule == "balanced":
        return allocate_balanced(s, t, d, people, cap)
    if rule != "nearest":
        raise _unknown_rule(rule)
    if not len(s):
        return np.zeros(0)
    comp, _ = reach_components(s, t, len(cap), len(people))
    batches = component_batches(comp, max_pairs or D.ALLOCATION_BATCH_PAIRS)
    pieces = []
    for b in batches:
        tu, su = np.unique(t[b]), np.unique(s[b])
        lt, ls = np.searchsorted(tu, t[b]), np.searchsorted(su, s[b])
        pieces.append((ls, lt, d[b], people[tu], cap[su]))      # renumbered, order kept
    results = mapper(_allocate_batch, pieces) if mapper else [_allocate_batch(p) for p in pieces]
    out = np.zeros(len(s))
    for b, x in zip(batches, results):
        out[b] = x
    return out


@dataclass
class Allocation:
    """Per-demand and per-shelter summaries of an allocation."""
    x: np.ndarray               # people per pair
    served: np.ndarray          # per demand unit
    within_reach: np.ndarray    # bool per demand unit
    shelter_of: np.ndarray      # main shelter per demand unit (-1 none)
    dist_to: np.ndarray         # distance to it (nan none)
    nearest: np.ndarray         # nearest usable shelter within reach (-1 none)
    nearest_dist: np.ndarray
    assigned: np.ndarray        # per shelter
    reachable_people: np.ndarray  # per shelter: people within its reach
    first_choice: np.ndarray    # per shelter: people for whom it is the nearest


def summarise(s, t, d, x, people, n_shelters):
    n_t = len(people)
    served = np.bincount(t, weights=x, minlength=n_t)
    within = np.zeros(n_t, bool)
    within[t] = True
    shelter_of = np.full(n_t, -1, np.int64)
    dist_to = np.full(n_t, np.nan)
    nearest = np.full(n_t, -1, np.int64)
    nearest_dist = np.full(n_t, np.nan)
    if len(t):
        o = np.lexsort((s, d, t))
        f = np.r_[True, t[o][1:] != t[o][:-1]]
        nearest[t[o][f]] = s[o][f]
        nearest_dist[t[o][f]] = d[o][f]
        pos = x > 0
        if pos.any():
            o2 = np.lexsort((d[pos], -x[pos], t[pos]))
            tt, ss, dd = t[pos][o2], s[pos][o2], d[pos][o2]
            f2 = np.r_[True, tt[1:] != tt[:-1]]
            shelter_of[tt[f2]] = ss[f2]
            dist_to[tt[f2]] = dd[f2]
    assigned = np.bincount(s, weights=x, minlength=n_shelters)
    reachable = np.bincount(s, weights=people[t], minlength=n_shelters)
    first_choice = np.bincount(nearest[nearest >= 0], weights=people[nearest >= 0], minlength=n_shelters)
    return Allocation(x, served, within, shelter_of, dist_to, nearest, nearest_dist, assigned, reachable,
                      first_choice)


# ---------------------------------------------------------------------------------------- catchments
def catchments(shelter_pts, limits, network=None, snap=None, width=D.CATCHMENT_WIDTH, usable=None,
               progress=None):
    """Service-area polygon per shelter (None where it reaches nothing).

    Along the network: the road reachable within the service distance (snap counted), buffered by
    ``width``. Without roads: a circle of the service distance.
    """
    limits = np.asarray(limits, float).copy()
    n = len(limits)
    if usable is not None:
        limits[~np.asarray(usable, bool)] = -1.0
    out = np.full(n, None, dtype=object)
    if network is None:
        ok = limits > 0
        out[ok] = shapely.buffer(np.asarray(shelter_pts, dtype=object)[ok], limits[ok], quad_segs=16)
        return out
    src, a, b = network.reachable_pieces(snap, limits, progress=progress)
    if len(src) == 0:
        return out
    order = np.argsort(src, kind="stable")
    src, a, b = src[order], a[order], b[order]
    # buffer each straight piece, then union per shelter (GEOS cascaded union of one collection per
    # row); several times faster than buffering a MultiLineString of thousands of pieces
    pieces = shapely.buffer(shapely.linestrings(np.stack([a, b], axis=1)), width, quad_segs=4)
    ids = np.unique(src)
    groups = shapely.geometrycollections(pieces, indices=np.searchsorted(ids, src))
    out[ids] = shapely.union_all(groups.reshape(-1, 1), axis=1)
    return out


# ---------------------------------------------------------------------------------------- siting
@dataclass
class SitingStep:
    k: int
    candidate: int
    gain_estimate: float     # residual people within its reach, capped by capacity, when chosen
    served_total: float      # people served after adding it (full re-allocation)
    added: float             # served_total minus the previous step's


def site_greedy(k_max, people, existing, cand, rule=D.ALLOCATION, progress=None):
    """Greedy maximal covering with capacity.

    ``existing`` and ``cand`` are (s, t, d, cap) tuples of pairs and capacities for existing
    shelters and for candidates. At each step the candidate with the most unserved people within
    its reach (capped by its capacity) is added; then everybody is re-allocated with ``rule`` and the
    real gain recorded. Returns (served with existing shelters only, [SitingStep, ...]).
    """
    progress = ensure(progress)
    es, et, ed, ecap = existing
    cs, ct, cd, ccap = cand
    n_e, n_c = len(ecap), len(ccap)
    chosen = []
    x = allocate(es, et, ed, people, ecap, rule)
    served_unit = np.bincount(et, weights=x, minlength=len(people))
    base = float(served_unit.sum())
    prev = base
    steps = []
    open_ = np.zeros(n_c, bool)
    for k in range(1, int(k_max) + 1):  # K steps; each is vectorised over candidates and pairs
        progress.set(100.0 * (k - 1) / max(k_max, 1))
        residual = np.clip(people - served_unit, 0.0, None)
        gain = np.minimum(np.bincount(cs, weights=residual[ct], minlength=n_c), ccap)
        gain[open_] = -1.0
        if n_c == 0 or gain.max() <= EPS:
            break
        best = int(np.argmax(gain))
        open_[best] = True
        chosen.append(best)
        sel = open_[cs]
        s_all = np.concatenate([es, n_e + cs[sel]])
        t_all = np.concatenate([et, ct[sel]])
        d_all = np.concatenate([ed, cd[sel]])
        cap_all = np.concatenate([ecap, ccap])
        x = allocate(s_all, t_all, d_all, people, cap_all, rule)
        served_unit = np.bincount(t_all, weights=x, minlength=len(people))
        total = float(served_unit.sum())
        steps.append(SitingStep(k, best, float(gain[best]), total, total - prev))
        prev = total
    progress.set(100)
    return base, steps


def site_exact(k, people, existing, cand, time_limit=60.0):
    """Best ``k`` candidates by mixed-integer programming (HiGHS through scipy.optimize.milp).

    Maximises people served under a flow-optimal (balanced) assignment, existing shelters included.
    Returns (chosen candidate indices, people served).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    es, et, ed, ecap = existing
    cs, ct, cd, ccap = cand
    n_t, n_e, n_c = len(people), len(ecap), len(ccap)
    me, mc = len(es), len(cs)
    nv = me + mc + n_c                       # flows on existing pairs, candidate pairs, open flags
    c = np.concatenate([-np.ones(me + mc), np.zeros(n_c)])
    rows, cols, vals = [], [], []
    # demand rows: sum of flows <= people
    rows += [et, ct]
    cols += [np.arange(me), me + np.arange(mc)]
    vals += [np.ones(me), np.ones(mc)]
    # existing shelter rows: flows <= capacity
    rows.append(n_t + es)
    cols.append(np.arange(me))
    vals.append(np.ones(me))
    # candidate rows: flows - capacity * open <= 0
    rows += [n_t + n_e + cs, n_t + n_e + np.arange(n_c)]
    cols += [me + np.arange(mc), me + mc + np.arange(n_c)]
    vals += [np.ones(mc), -ccap]
    # count row: sum open <= k
    rows.append(np.full(n_c, n_t + n_e + n_c))
    cols.append(me + mc + np.arange(n_c))
    vals.append(np.ones(n_c))
    A = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(n_t + n_e + n_c + 1, nv))
    ub = np.concatenate([people, ecap, np.zeros(n_c), [k]])
    integrality = np.concatenate([np.zeros(me + mc), np.ones(n_c)])
    upper = np.concatenate([np.full(me + mc, np.inf), np.ones(n_c)])
    res = milp(c, constraints=LinearConstraint(A, -np.inf, ub), integrality=integrality,
               bounds=Bounds(np.zeros(nv), upper), options={"time_limit": time_limit})
    if res.x is None:
        raise RuntimeError(f"HiGHS (MILP) found no solution: {res.message}")
    chosen = np.flatnonzero(res.x[me + mc:] > 0.5)
    return chosen, float(-res.fun), bool(res.status == 0)
