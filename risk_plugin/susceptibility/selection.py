"""METHOD=auto: information value, frequency ratio and logistic regression fitted and cross-validated
on the same folds; the best prediction AUC is kept. The comparison is computed for an explicit
METHOD too (it costs a few fits on the samples), so the report always shows it first.

>>> scores, fold = compare(codes, y, exposure, folds=5, seed=42)
>>> best = choose(scores, "auto")              # the highest mean prediction AUC
>>> comparison_table(scores, best)             # one row per method
"""
from dataclasses import dataclass, field
from typing import List

import numpy as np
import pandas as pd

from ..definitions import susceptibility as D
from .model import Model, auc, cross_validate, fit, folds_of

NAMES = {"information_value": ("信息量法", "information value"), "frequency_ratio": ("频率比法", "frequency ratio"),
         "logistic": ("逻辑回归", "logistic regression")}


@dataclass
class MethodScore:
    """One method fitted on all samples (success AUC) and cross-validated (prediction AUC per fold)."""
    method: str
    auc_success: float
    auc_prediction: float
    fold_aucs: List[float]
    model: Model = field(repr=False, default=None)

    @property
    def fold_sd(self):
        a = np.asarray(self.fold_aucs, np.float64)
        return float(np.nanstd(a, ddof=1)) if np.isfinite(a).sum() > 1 else float("nan")

    @property
    def fold_range(self):
        a = np.asarray(self.fold_aucs, np.float64)
        return (float(np.nanmin(a)), float(np.nanmax(a))) if np.isfinite(a).any() else (float("nan"),) * 2


def compare(codes, y, exposure, folds=D.FOLDS, seed=D.SEED, groups=None, slides=None, methods=D.MODEL_METHODS,
            progress=None, **kw):
    """Every method of ``methods`` on the same folds. Returns ([MethodScore], fold of every sample)."""
    codes = np.asarray(codes)
    y = np.asarray(y).astype(int)
    fold = folds_of(y, folds, seed, groups)
    scores = []
    for m in methods:
        if progress is not None:
            progress.check()
        model = fit(m, codes, y, exposure, slides, seed=seed, **kw)
        mean, aucs, _ = cross_validate(m, codes, y, exposure, folds, seed, slides=slides, fold=fold, **kw)
        scores.append(MethodScore(m, auc(y, model.score(codes)), mean, list(aucs), model))
    return scores, fold


def choose(scores, method=D.METHOD):
    """The score of ``method``; for 'auto' the highest mean prediction AUC (ties: the first listed)."""
    if method != "auto":
        return next(s for s in scores if s.method == method)
    key = [s.auc_prediction if np.isfinite(s.auc_prediction) else -np.inf for s in scores]
    return scores[int(np.argmax(key))]


def comparison_table(scores, chosen, auto=True, extra=None):
    """The report's first sheet: one row per method, the kept one marked."""
    rows = []
    for s in scores:
        lo, hi = s.fold_range
        row = {"方法 method": s.method, "名称": NAMES[s.method][0], "name": NAMES[s.method][1],
               "AUC_SUCCESS": s.auc_success, "AUC_PREDICTION": s.auc_prediction,
               "各折标准差 fold_sd": s.fold_sd, "最低折 fold_min": lo, "最高折 fold_max": hi,
               "各折 AUC fold_aucs": ", ".join(f"{a:.4f}" for a in s.fold_aucs),
               "选用 kept": ("✓ 自动选择 / auto" if auto else "✓ 指定 / given") if s is chosen else ""}
        row.update(extra or {})
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_lines(scores, chosen, auto, folds):
    """The comparison as log lines (Chinese and English)."""
    lines = [f"方法比较 (同一 {folds} 折交叉验证) / method comparison (the same {folds} folds):"]
    for s in scores:
        lo, hi = s.fold_range
        mark = "  ← 选用 / kept" if s is chosen else ""
        lines.append(f"  {NAMES[s.method][0]} / {NAMES[s.method][1]}: AUC_SUCCESS {s.auc_success:.4f}, "
                     f"AUC_PREDICTION {s.auc_prediction:.4f} (各折 / folds {lo:.3f}–{hi:.3f}, SD {s.fold_sd:.3f}){mark}")
    if auto:
        lines.append(f"METHOD=auto: 选用预测 AUC 最高的{NAMES[chosen.method][0]} / kept {NAMES[chosen.method][1]}, "
                     "the highest prediction AUC")
    else:
        best = choose(scores, "auto")
        if best is not chosen and best.auc_prediction > chosen.auc_prediction + 0.02:
            lines.append(f"提示: {NAMES[best.method][0]}的预测 AUC 更高 ({best.auc_prediction:.3f}), 可设 METHOD=auto / "
                         f"note: {NAMES[best.method][1]} predicts better ({best.auc_prediction:.3f}); try METHOD=auto")
    return lines
