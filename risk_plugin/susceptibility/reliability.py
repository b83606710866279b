"""A weak model says so: is the zoning reliable, and if not, why (detected from the data) and what to try.

>>> v = assess(best, codes, y, factors, exposure, unit_area=area, unit_rule="presence")
>>> v.level                  # 'reliable' | 'weak' | 'unreliable'
>>> v.lines()                # bilingual log lines; v.table() for the report

Unreliable: prediction AUC < WEAK_AUC, or fold AUCs with SD > FOLD_SD_MAX. Weak: prediction AUC <
ACCEPTABLE_AUC. Thresholds and their sources: risk_plugin/definitions/susceptibility.py.
"""
from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np
import pandas as pd

from ..definitions import susceptibility as D
from .model import auc

LEVELS = {"reliable": ("可靠", "reliable"), "weak": ("较弱", "weak"), "unreliable": ("不可靠", "unreliable")}


@dataclass
class Verdict:
    level: str
    triggers: List[Tuple[str, str]] = field(default_factory=list)     # why the level (zh, en)
    causes: List[Tuple[str, str]] = field(default_factory=list)       # what in the data explains it
    advice: List[Tuple[str, str]] = field(default_factory=list)       # what to try

    @property
    def reliable(self):
        return self.level != "unreliable"

    def headline(self):
        zh, en = LEVELS[self.level]
        if self.level == "reliable":
            return f"易发性分区{zh} / the susceptibility zoning is {en}"
        if self.level == "weak":
            return "⚠ 模型较弱, 分区仅供参考 / WARNING: the model is weak; use the zoning with care"
        return "⚠ 易发性分区不可靠 / WARNING: the susceptibility zoning is unreliable"

    def lines(self):
        out = [self.headline()]
        out += [f"  原因 / why: {zh} / {en}" for zh, en in self.triggers + self.causes]
        out += [f"  建议 / try: {zh} / {en}" for zh, en in self.advice]
        return out

    def table(self):
        rows = [{"项目 item": "结论 verdict", "中文": LEVELS[self.level][0], "English": LEVELS[self.level][1]}]
        rows += [{"项目 item": "原因 why", "中文": zh, "English": en} for zh, en in self.triggers + self.causes]
        rows += [{"项目 item": "建议 try", "中文": zh, "English": en} for zh, en in self.advice]
        return pd.DataFrame(rows)


def _add(items, entry):
    if entry not in items:
        items.append(entry)


def assess(score, codes, y, factors, exposure, folds=D.FOLDS, unit_area=None, unit_rule=None, grid=False):
    """The verdict on the kept model ``score`` (a selection.MethodScore).

    codes, y: the samples; factors, exposure: per factor its classes and the exposure of every class
    (area on the grid, units or area on mapping units) for the one-class check; unit_area (mapping
    units): the area of every unit; unit_rule: presence / count / area."""
    pred, sd = score.auc_prediction, score.fold_sd
    lo, hi = score.fold_range
    triggers = []
    if not np.isfinite(pred) or pred < D.WEAK_AUC:
        triggers.append((f"预测 AUC {pred:.3f} 低于 {D.WEAK_AUC:g}: 分区与随机分区相差无几",
                         f"the prediction AUC {pred:.3f} is below {D.WEAK_AUC:g}: the zoning is little better than chance"))
    if np.isfinite(sd) and sd > D.FOLD_SD_MAX:
        triggers.append((f"各折 AUC 相差很大 ({lo:.2f}–{hi:.2f}, 标准差 {sd:.3f} > {D.FOLD_SD_MAX:g})",
                         f"the folds disagree widely ({lo:.2f}–{hi:.2f}, SD {sd:.3f} > {D.FOLD_SD_MAX:g})"))
    if triggers:
        level = "unreliable"
    elif pred < D.ACCEPTABLE_AUC:
        level = "weak"
        triggers.append((f"预测 AUC {pred:.3f} 低于 {D.ACCEPTABLE_AUC:g} (Hosmer & Lemeshow 的“可接受”下限)",
                         f"the prediction AUC {pred:.3f} is below {D.ACCEPTABLE_AUC:g}, the lower bound of acceptable "
                         "discrimination (Hosmer & Lemeshow 2000)"))
    else:
        return Verdict("reliable")
    v = Verdict(level, triggers)
    _causes(v, score, np.asarray(codes), np.asarray(y).astype(int), factors, exposure, int(folds), unit_area,
            unit_rule, grid)
    return v


def _causes(v, score, codes, y, factors, exposure, folds, unit_area, unit_rule, grid):
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    units = unit_area is not None
    # too few of the rarer outcome per class weight (events per variable)
    occupied = [np.unique(codes[f]).size for f in range(codes.shape[0])]
    weights = max(sum(max(k - 1, 0) for k in occupied), 1)
    rare, rare_is_pos = (n_pos, True) if n_pos <= n_neg else (n_neg, False)
    if rare / weights < D.MIN_EVENTS_PER_WEIGHT:
        what_zh = ("有滑坡单元" if units else "滑坡样本") if rare_is_pos else ("无滑坡单元" if units else "非滑坡样本")
        what_en = ("units with landslides" if units else "landslide samples") if rare_is_pos else \
            ("units without landslides" if units else "non-landslide samples")
        v.causes.append((f"{what_zh}太少: {rare} 个对 {weights} 个分级权重 (每个不足 {D.MIN_EVENTS_PER_WEIGHT} 个)",
                         f"too few {what_en}: {rare} for {weights} class weights (fewer than "
                         f"{D.MIN_EVENTS_PER_WEIGHT} per weight, Peduzzi et al. 1996)"))
        if rare_is_pos:
            _add(v.advice, ("补充滑坡编录, 或减少因子与分级数 (N_CLASSES)",
                            "add landslides to the inventory, or use fewer factors or fewer classes (N_CLASSES)"))
        elif units:
            _add(v.advice, ("用更小的单元, 或给出滑坡数 / 滑坡面积字段", "use smaller units, or give a count or a failed-area field"))
        else:
            _add(v.advice, ("不指定是否滑坡字段让程序抽样非滑坡点, 或提高 ABSENCE_RATIO",
                            "leave PRESENCE_FIELD empty to draw absences, or raise ABSENCE_RATIO"))
    if rare / max(folds, 1) < D.MIN_EVENTS_PER_WEIGHT:
        v.causes.append((f"每折只有约 {rare // max(folds, 1)} 个{'有滑坡' if rare_is_pos else '无滑坡'}样本, 各折 AUC 噪声大",
                         f"each fold holds only about {rare // max(folds, 1)} "
                         f"{'positive' if rare_is_pos else 'negative'} samples: the fold AUCs are noisy"))
        _add(v.advice, ("减少折数 (FOLDS) 或补充样本", "lower FOLDS or add samples"))
    # a factor with (almost) one class
    flat = []
    for fac, ex in zip(factors, exposure):
        ex = np.asarray(ex, np.float64)
        if ex.sum() > 0 and ex.max() / ex.sum() >= D.ONE_CLASS_SHARE:
            flat.append(fac.name)
    if flat:
        basis_zh, basis_en = ("面积", "area") if grid or unit_rule != "presence" else ("单元", "units")
        v.causes.append((f"因子 {flat} 几乎只有一个分级 (≥ {D.ONE_CLASS_SHARE:.0%} 的{basis_zh}在同一级), 无法区分",
                         f"factor(s) {flat} have (almost) one class (≥ {D.ONE_CLASS_SHARE:.0%} of the {basis_en} in one "
                         "class): they cannot separate anything"))
        _add(v.advice, ("去掉这些因子, 或换用在研究区内有变化的因子", "drop them, or use factors that vary over the area"))
    # units too large relative to the landslides
    if units:
        share = n_pos / max(n_pos + n_neg, 1)
        if share >= D.MOST_UNITS_POSITIVE:
            v.causes.append((f"{share:.0%} 的单元有滑坡: 单元相对滑坡太大, 有/无 (0/1) 区分不了什么",
                             f"{share:.0%} of the units hold a landslide: the units are large relative to the landslides "
                             "and presence (0/1) tells little apart"))
        a_auc = auc(y, np.asarray(unit_area, np.float64))
        if np.isfinite(a_auc) and a_auc > D.WEAK_AUC and a_auc >= score.auc_prediction:
            v.causes.append((f"仅凭单元面积区分有无滑坡的 AUC 为 {a_auc:.2f}, 不低于模型: 单元因为大才有滑坡",
                             f"unit area alone separates units with and without landslides with AUC {a_auc:.2f}, as well "
                             "as the model: units hold landslides because they are large"))
        if share >= D.MOST_UNITS_POSITIVE or (np.isfinite(a_auc) and a_auc > D.WEAK_AUC and a_auc >= score.auc_prediction):
            _add(v.advice, ("用更小的斜坡单元, 或给出滑坡数 (UNIT_RULE=count) 或滑坡面积 (LANDSLIDE_AREA_FIELD)",
                            "use smaller slope units, or give a landslide count (UNIT_RULE=count) or the failed area "
                            "(LANDSLIDE_AREA_FIELD)"))
    # over-fitting
    gap = score.auc_success - score.auc_prediction
    if np.isfinite(gap) and gap > D.OVERFIT_GAP:
        v.causes.append((f"成功率 AUC {score.auc_success:.2f} 比预测 AUC 高 {gap:.2f}: 模型记住了样本 (过拟合)",
                         f"the success AUC {score.auc_success:.2f} exceeds the prediction AUC by {gap:.2f}: the model "
                         "learns the sample, not the terrain (over-fitting)"))
        _add(v.advice, ("减少分级数 (N_CLASSES) 或因子", "lower N_CLASSES or use fewer factors"))
    if not v.causes:
        v.causes.append(("数据中未发现单一原因: 这些因子解释不了这些滑坡",
                         "no single cause found in the data: these factors do not explain these landslides"))
    _add(v.advice, ("增加岩性、距断层或道路距离、土地利用等因子; 检查编录的位置与坐标系",
                    "add factors such as lithology, distance to faults or roads, land use; check the inventory's "
                    "positions and CRS"))
