"""Four susceptibility zones from the index: 1 低易发 … 4 极高易发 (styles/classes.json 'hazard_classes').

Three ways to place the three breaks (a zone is 1 + the number of breaks the index exceeds):
natural (Jenks), quantile (equal area) and success (cut-offs on the success-rate curve).

>>> b = zone_breaks("success", cell_index, presence_index=idx[y == 1])
>>> zones = classify(index, b)                         # uint8 1..4
"""
import numpy as np

from ..definitions import susceptibility as D
from ..errors import parameter_error


def classify(index, breaks, nodata_mask=None):
    """Zone 1..4 (uint8): 1 + number of breaks strictly below the index; 0 where nodata."""
    v = np.asarray(index)
    z = np.ones(v.shape, np.uint8)
    for b in np.asarray(breaks, np.float64):     # one comparison per break: faster than searchsorted
        z += (v > b).view(np.uint8)
    if nodata_mask is not None:
        z[nodata_mask] = 0
    return z


def success_breaks(presence_index, cutoffs=D.SUCCESS_CUTOFFS, weights=None):
    """Breaks so that the cells with index >= t_p hold at least share p of the landslides, t_p the
    highest such index, for p in ``cutoffs`` (descending zones 4, 3, 2)."""
    v = np.asarray(presence_index, np.float32)
    w = np.ones(v.size) if weights is None else np.asarray(weights, np.float64)
    order = np.argsort(-v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w) / w.sum()
    out = []
    for p in sorted(cutoffs, reverse=True):          # 0.95 → lowest break, 0.5 → highest
        t = v[min(np.searchsorted(cum, p - 1e-12, side="left"), v.size - 1)]
        out.append(float(np.nextafter(np.float32(t), np.float32(-np.inf))))
    return np.array(out)


def jenks_breaks(values, k=4, weights=None):
    """Fisher–Jenks natural breaks: the upper bounds of the first k-1 of k classes that minimise the
    within-class sum of squared deviations (Fisher 1958; Jenks 1977), exactly, as mapclassify's
    FisherJenks. Dynamic programme over the sorted distinct values with numpy (one m × m matrix of
    class costs), because mapclassify's pure-Python loops take seconds without numba."""
    v = np.asarray(values, np.float64)
    w = np.ones(v.size) if weights is None else np.asarray(weights, np.float64)
    ok = np.isfinite(v)
    x, inv = np.unique(v[ok], return_inverse=True)
    cnt = np.bincount(inv, weights=w[ok], minlength=x.size)
    m = x.size
    if m <= k:
        return x[:-1]
    xc = x - np.average(x, weights=cnt)                 # centred: no cancellation in S2 - S1²/W
    W = np.concatenate([[0.0], np.cumsum(cnt)])
    S1 = np.concatenate([[0.0], np.cumsum(cnt * xc)])
    S2 = np.concatenate([[0.0], np.cumsum(cnt * xc * xc)])
    i = np.arange(m)[:, None]                           # first value of the class
    j = np.arange(m)[None, :]                           # last value of the class
    with np.errstate(invalid="ignore", divide="ignore"):
        ssd = (S2[j + 1] - S2[i]) - (S1[j + 1] - S1[i]) ** 2 / (W[j + 1] - W[i])
    ssd = np.where(i <= j, np.maximum(ssd, 0.0), np.inf)
    cost = ssd[0].copy()                                # one class holding values 0..j
    starts = []
    for _ in range(1, k):
        prev = np.concatenate([[np.inf], cost[:-1]])    # cost of the classes before start i: values 0..i-1
        total = prev[:, None] + ssd                     # (start i, end j)
        best = np.argmin(total, axis=0)
        cost = total[best, np.arange(m)]
        starts.append(best)
    bounds, end = [], m - 1
    for best in reversed(starts):                       # walk back from the last class
        start = best[end]
        bounds.append(x[start - 1])
        end = start - 1
    return np.array(sorted(bounds))


def natural_breaks(values, k=4, sample=D.JENKS_SAMPLE, seed=D.SEED):
    """Jenks natural breaks on a reproducible random sample of ``sample`` values."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if v.size > sample:
        v = np.random.default_rng(seed).choice(v, sample, replace=False)
    return jenks_breaks(v, k)


def weighted_quantiles(values, weights, qs):
    """Quantiles of ``values`` with ``weights`` (the smallest value whose cumulative weight reaches q)."""
    v = np.asarray(values, np.float64)
    w = np.asarray(weights, np.float64)
    ok = np.isfinite(v)
    v, w = v[ok], w[ok]
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w) / w.sum()
    return v[np.minimum(np.searchsorted(cum, qs, side="left"), v.size - 1)]


def zone_breaks(method, index_sample, presence_index=None, sample_weights=None, presence_weights=None,
                cutoffs=D.SUCCESS_CUTOFFS, seed=D.SEED):
    """The three breaks between zones 1|2, 2|3, 3|4 by ``method`` ('natural', 'quantile', 'success').

    When the index has fewer distinct values than zones, the missing breaks are -inf: the lowest
    zones stay empty and the highest index is always zone 4."""
    b = _breaks(method, index_sample, presence_index, sample_weights, presence_weights, cutoffs, seed)
    b = np.asarray(b, np.float64)
    return np.concatenate([np.full(3 - b.size, -np.inf), b]) if b.size < 3 else b


def _breaks(method, index_sample, presence_index, sample_weights, presence_weights, cutoffs, seed):
    if method == "natural":
        return natural_breaks(index_sample, 4, seed=seed)
    if method == "quantile":
        v = np.asarray(index_sample, np.float64)
        if sample_weights is None:
            return np.quantile(v[np.isfinite(v)], [0.25, 0.5, 0.75])
        return weighted_quantiles(v, sample_weights, [0.25, 0.5, 0.75])
    if method == "success":
        if presence_index is None or len(presence_index) == 0:
            raise parameter_error("BREAKS", "成功率曲线分级需要滑坡样本", "success-rate cut-offs need landslides",
                                  "改用自然断点", "use natural breaks")
        c = tuple(cutoffs)
        if len(c) != 3 or not all(0 < x < 1 for x in c):
            raise parameter_error("SUCCESS_CUTOFFS", "需要 3 个介于 0 和 1 之间的比例", "need 3 shares between 0 and 1",
                                  "如 0.5,0.8,0.95", "e.g. 0.5,0.8,0.95")
        return success_breaks(presence_index, c, presence_weights)
    raise parameter_error("BREAKS", f"未知分级方法 {method}", f"unknown break method {method}",
                          f"可选: {D.BREAKS}", f"choose one of {D.BREAKS}")

