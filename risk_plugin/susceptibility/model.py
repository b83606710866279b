"""The three susceptibility models on class codes, their AUCs and cross-validation.

Every model is a weight per class of every factor (plus an intercept): the index of a cell is the
sum of its classes' weights (information value, frequency ratio), or the logistic of that sum
(logistic regression). Scoring a block is then one table look-up per factor.

>>> m = fit("information_value", codes, y, area)      # codes: (factors, samples) uint8
>>> m.score(codes)                                      # float32 index per sample
>>> cross_validate("information_value", codes, y, area, folds=5, seed=42)
"""
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from ..definitions import susceptibility as D
from ..errors import parameter_error


def frequency_ratio(area, slides):
    """FR_i = (N_i / N) / (S_i / S) per class; 0 for classes without area.

    >>> frequency_ratio(np.array([50, 30, 20]), np.array([2, 3, 5]))   # -> [0.4, 1.0, 2.5]
    """
    area = np.asarray(area, np.float64)
    slides = np.asarray(slides, np.float64)
    S, N = area.sum(), slides.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        fr = (slides / N) / (area / S)
    return np.where(area > 0, fr, 0.0)


def information_value(area, slides, empty=D.EMPTY_CLASS_COUNT):
    """I_i = ln((N_i / N) / (S_i / S)) per class; a class without landslides counts ``empty``
    landslides; 0 for classes without area."""
    area = np.asarray(area, np.float64)
    slides = np.asarray(slides, np.float64)
    S, N = area.sum(), slides.sum()
    n = np.where(slides > 0, slides, empty)
    with np.errstate(invalid="ignore", divide="ignore"):
        iv = np.log((n / N) / (area / S))
    return np.where(area > 0, iv, 0.0)


@dataclass
class Model:
    """Weights per factor class. ``tables[f][code]`` is the weight of class ``code`` of factor f."""
    method: str
    tables: List[np.ndarray]
    intercept: float = 0.0
    slide_counts: Optional[List[np.ndarray]] = None

    def score(self, codes):
        """Index (float32) for codes of shape (factors, …): Σ weights (+ intercept, logistic)."""
        codes = np.asarray(codes)
        out = np.full(codes.shape[1:], self.intercept, np.float32)
        for f, table in enumerate(self.tables):
            out += np.take(table.astype(np.float32), codes[f])
        if self.method == "logistic":
            out = (np.float32(1) / (np.float32(1) + np.exp(-out))).astype(np.float32)
        return out


def _check_method(method):
    if method not in D.METHODS:
        raise parameter_error("METHOD", f"未知方法 {method}", f"unknown method {method}",
                              f"可选: {D.METHODS}", f"choose one of {D.METHODS}")


def one_hot(codes, sizes):
    """Sparse one-hot design matrix: one column per class of every factor."""
    from scipy import sparse
    codes = np.asarray(codes, np.int64)
    n = codes.shape[1]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    cols = (codes + offsets[:, None]).T.ravel()
    rows = np.repeat(np.arange(n), codes.shape[0])
    return sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, int(np.sum(sizes))))


def fit(method, codes, y, area, slides=None, logistic_c=D.LOGISTIC_C, empty=D.EMPTY_CLASS_COUNT, seed=D.SEED):
    """Fit a model on samples.

    codes: (factors, samples) class codes; y: 1 landslide / 0 not; area: per factor, the exposure S_i
    of each class over the whole study area (cells or m² on the grid; on mapping units the area, or
    the number of units for a presence field); slides: the landslides N_i each sample adds (default y;
    on mapping units a count, a failed area, or 1/0). IV and FR use the landslides and the exposure;
    logistic regression uses presences and absences.
    """
    _check_method(method)
    codes = np.asarray(codes)
    y = np.asarray(y).astype(int)
    w = y.astype(np.float64) if slides is None else np.asarray(slides, np.float64)
    sizes = [len(a) for a in area]
    counts = [np.bincount(codes[f], weights=w, minlength=sizes[f])[:sizes[f]] for f in range(len(area))]
    if method == "information_value":
        return Model(method, [information_value(a, c, empty) for a, c in zip(area, counts)], 0.0, counts)
    if method == "frequency_ratio":
        return Model(method, [frequency_ratio(a, c) for a, c in zip(area, counts)], 0.0, counts)
    from sklearn.linear_model import LogisticRegression
    if len(np.unique(y)) < 2:
        raise parameter_error("INVENTORY", "逻辑回归需要滑坡与非滑坡两类样本", "logistic regression needs "
                              "both landslide and non-landslide samples", "提供 0/1 字段或自动抽样非滑坡点",
                              "give a 0/1 field or let absences be drawn")
    lr = LogisticRegression(C=logistic_c, max_iter=2000, random_state=seed)
    lr.fit(one_hot(codes, sizes), y)
    coef = lr.coef_[0]
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    tables = [coef[bounds[f]:bounds[f + 1]].copy() for f in range(len(sizes))]
    return Model(method, tables, float(lr.intercept_[0]), counts)


def auc(y, index):
    """ROC AUC of ``index`` separating y = 1 from y = 0 (ties count half)."""
    from sklearn.metrics import roc_auc_score
    y = np.asarray(y).astype(int)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, np.asarray(index, np.float64)))


def folds_of(y, folds, seed, groups=None):
    """Fold number (0..folds-1) of every sample: stratified by y, samples of one group together."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
    y = np.asarray(y).astype(int)
    n_min = int(min(np.sum(y == 1), np.sum(y == 0)))
    if folds < 2:
        raise parameter_error("FOLDS", "折数至少为 2", "FOLDS must be at least 2", "设为 5", "use 5")
    if n_min < folds:
        raise parameter_error("FOLDS", f"样本太少: 每类至少需要 {folds} 个, 实有 {n_min}",
                              f"too few samples: each class needs at least {folds}, the smaller has {n_min}",
                              "减少折数或补充样本", "lower FOLDS or add samples")
    out = np.empty(y.size, np.int64)
    idx = np.arange(y.size)
    if groups is None:
        split = StratifiedKFold(folds, shuffle=True, random_state=seed).split(idx, y)
    else:
        split = StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(idx, y, groups)
    for k, (_, test) in enumerate(split):
        out[test] = k
    return out


def cross_validate(method, codes, y, area, folds=D.FOLDS, seed=D.SEED, groups=None, slides=None, fold=None, **kw):
    """Prediction AUC: the mean over folds of the AUC on the held-out fold of a model fitted on
    the other folds. Returns (mean AUC, [AUC per fold], fold of every sample). ``fold`` (the fold of
    every sample, from :func:`folds_of`) lets several methods share the same folds."""
    codes = np.asarray(codes)
    y = np.asarray(y).astype(int)
    if fold is None:
        fold = folds_of(y, folds, seed, groups)
    aucs = []
    for k in range(int(fold.max()) + 1):
        test = fold == k
        train = ~test
        m = fit(method, codes[:, train], y[train], area,
                None if slides is None else np.asarray(slides)[train], seed=seed, **kw)
        aucs.append(auc(y[test], m.score(codes[:, test])))
    return float(np.nanmean(aucs)), aucs, fold
