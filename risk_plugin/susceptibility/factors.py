"""Factors and their classes: continuous factors in quantile classes, aspect in compass sectors,
categorical factors as they are.

Every factor's classes are small integer codes (uint8) so that a block of the whole factor stack
costs one byte per factor and cell:
- continuous: codes 1..n (code 0 unused), from interior quantile breaks;
- sector (aspect): 0 flat, 1 N … 8 NW;
- categorical: 0 = no data / outside every polygon, 1..n = the categories.

>>> f = Factor.continuous("slope", quantile_breaks(sample, 8), unit="°")
>>> codes = f.classify(slope_block)
"""
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from ..terrain import ASPECT_SECTORS

SECTOR_LABELS = ["平坡 flat"] + [f"{s}" for s in ASPECT_SECTORS]
MAX_CATEGORIES = 254


def quantile_breaks(values, n, weights=None):
    """Interior breaks cutting ``values`` into ``n`` classes of (about) equal count, or equal
    ``weights`` (e.g. area); repeated breaks (ties) are merged, so fewer classes may result."""
    v = np.asarray(values, np.float64).ravel()
    ok = np.isfinite(v)
    if weights is None:
        v = v[ok]
        if v.size == 0:
            return np.array([])
        b = np.quantile(v, np.linspace(0, 1, n + 1)[1:-1])
    else:
        w = np.asarray(weights, np.float64).ravel()[ok]
        v = v[ok]
        if v.size == 0:
            return np.array([])
        order = np.argsort(v, kind="stable")
        v, w = v[order], w[order]
        cum = np.cumsum(w) / w.sum()
        b = v[np.minimum(np.searchsorted(cum, np.linspace(0, 1, n + 1)[1:-1], side="left"), v.size - 1)]
    b = np.unique(b)
    return b[b > v.min()] if v.size else b


def _fmt(x):
    if not np.isfinite(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:.4g}"


@dataclass
class Factor:
    """One factor: its name, kind, class labels (one per code) and, for continuous ones, breaks."""
    name: str
    kind: str                      # 'continuous' | 'sector' | 'categorical'
    labels: List[str]
    breaks: Optional[np.ndarray] = None
    unit: str = ""
    values: Optional[list] = field(default=None, repr=False)   # categorical: value per code

    @property
    def n_codes(self):
        return len(self.labels)

    @classmethod
    def continuous(cls, name, breaks, unit="", lo=-np.inf, hi=np.inf):
        edges = [lo, *np.asarray(breaks, float), hi]
        labels = ["—"] + [f"[{_fmt(a)}, {_fmt(b)})" for a, b in zip(edges[:-1], edges[1:])]
        return cls(name, "continuous", labels, np.asarray(breaks, np.float64), unit)

    @classmethod
    def sector(cls, name="aspect"):
        return cls(name, "sector", list(SECTOR_LABELS), unit="°")

    @classmethod
    def categorical(cls, name, values):
        """Categories ``values`` get codes 1..n in the given order; code 0 is 'no data'."""
        values = [int(v) if isinstance(v, (float, np.floating, np.integer)) and float(v).is_integer() else v
                  for v in values]
        if len(values) > MAX_CATEGORIES:
            from ..errors import parameter_error
            raise parameter_error(name, f"分类因子类别过多 ({len(values)} > {MAX_CATEGORIES}), 可能是连续值",
                                  f"categorical factor has too many categories ({len(values)} > {MAX_CATEGORIES}); "
                                  "is it continuous?", "合并类别或作为连续因子使用", "merge classes or use it as a continuous factor")
        return cls(name, "categorical", ["无数据 no data"] + [str(v) for v in values], values=values)

    def classify(self, values):
        """Class codes (uint8) of continuous values; NaN gets 0."""
        if self.kind != "continuous":
            raise TypeError(f"{self.name} is {self.kind}: its values are codes already")
        v = np.asarray(values)
        if not np.issubdtype(v.dtype, np.floating):
            v = v.astype(np.float64)
        # code = 1 + number of breaks <= v (as searchsorted side='right'); one comparison per break is
        # ten times faster than searchsorted on a block. Breaks are compared in v's dtype: the grid
        # rounds its breaks to float32 beforehand, so the comparison is exact.
        codes = np.ones(v.shape, np.uint8)
        for b in self.breaks:
            codes += (v >= v.dtype.type(b)).view(np.uint8)
        codes[np.isnan(v)] = 0
        return codes


def encode_categories(arr, nodata_mask, values):
    """Codes 1..n of raw category values (``values`` sorted, as found by a scan); 0 for nodata and
    for values not in ``values``."""
    vals = np.asarray(arr)
    values = np.asarray(values)
    if values.size == 0:
        return np.zeros(vals.shape, np.uint8)
    pos = np.clip(np.searchsorted(values, vals), 0, values.size - 1)
    hit = (values[pos] == vals) & ~np.asarray(nodata_mask, bool)
    return np.where(hit, pos + 1, 0).astype(np.uint8)
