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
        values = list(values)
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
        # the breaks are float64; comparing float32 values to them is exact (no rounding of v)
        codes = (np.searchsorted(self.breaks, v, side="right") + 1).astype(np.uint8)
        codes[np.isnan(v)] = 0
        return codes


class CategoryCoder:
    """Maps raw category values (integers of a raster) to codes 1..n, growing block by block;
    values are numbered in order of first appearance. Nodata maps to 0."""

    def __init__(self, name):
        self.name = name
        self.values = np.array([], dtype=np.float64)   # sorted known values
        self.codes = np.array([], dtype=np.uint8)      # code of each sorted value
        self.order = []                                # values in code order

    def encode(self, arr, nodata_mask):
        vals = np.asarray(arr, np.float64)
        new = np.setdiff1d(np.unique(vals[~nodata_mask]), self.values)
        if new.size:
            if len(self.order) + new.size > MAX_CATEGORIES:
                Factor.categorical(self.name, range(len(self.order) + new.size))  # raises
            start = len(self.order) + 1
            self.order.extend(new.tolist())
            allv = np.concatenate([self.values, new])
            allc = np.concatenate([self.codes, np.arange(start, start + new.size, dtype=np.uint8)])
            o = np.argsort(allv, kind="stable")
            self.values, self.codes = allv[o], allc[o]
        out = np.zeros(vals.shape, np.uint8)
        if self.values.size:
            pos = np.clip(np.searchsorted(self.values, vals), 0, self.values.size - 1)
            out = np.where(nodata_mask, 0, self.codes[pos]).astype(np.uint8)
        return out

    def factor(self):
        labels = [int(v) if float(v).is_integer() else v for v in self.order]
        return Factor.categorical(self.name, labels)
