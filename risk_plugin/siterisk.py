"""Risk level of enterprises and sites by the LS matrix (R = L × S) or the LEC method (D = L × E × C).

>>> score, level = ls_level([5, 3, 2], [4, 5, 4])          # R = 20, 15, 8 → levels 1, 2, 4
>>> run_siterisk("sites.gpkg", method="LEC", output="site_risk.gpkg")

Thresholds are parameters (definitions/siterisk.py gives the defaults and their sources); colours and
labels come from styles/classes.json 'risk_levels'.
"""
import numpy as np

from . import notices
from .definitions import siterisk as D
from .errors import Problem, parameter_error
from .exposure import check_choice, load_used_fields
from .fourcolor import level_label_arrays
from .inputs import VectorInput
from .io import write_vector
from .paramtext import numbers
from .progress import ensure


def parse_breaks(text, name, default):
    """Three strictly descending lower bounds of levels 1, 2, 3."""
    values = numbers(text, name, count=3) if text not in (None, "") else tuple(default)
    if not all(a > b for a, b in zip(values, values[1:])):
        raise parameter_error(name, f"应为 3 个递减的数 (1 级、2 级、3 级的下限): {values}",
                              f"needs 3 descending numbers (lower bounds of levels 1, 2, 3): {values}",
                              "如 20,15,9", "e.g. 20,15,9")
    return values


def level_from_score(score, breaks):
    """Level 1..4: 1 where score >= breaks[0], 2 where >= breaks[1], 3 where >= breaks[2], else 4."""
    score = np.asarray(score, dtype=float)
    return 1 + sum((score < b).astype(np.int64) for b in breaks)


def ls_level(l, s, breaks=D.LS_BREAKS):
    score = np.asarray(l, float) * np.asarray(s, float)
    return score, level_from_score(score, breaks)


def lec_level(l, e, c, breaks=D.LEC_BREAKS):
    score = np.asarray(l, float) * np.asarray(e, float) * np.asarray(c, float)
    return score, level_from_score(score, breaks)


FIELDS = {"LS": ("ls_l", "ls_s"), "LEC": ("lec_l", "lec_e", "lec_c")}


def _check_values(gdf, method, label, field_names):
    problems, notes = [], []
    index = np.asarray(gdf.index)
    for canon, user in zip(FIELDS[method], field_names):
        if canon not in gdf.columns:
            problems.append(Problem(label, f"缺少 {method} 法所需字段 {user or canon}", f"field {user or canon} needed by the {method} method is missing",
                                    "在参数中指定该字段", "name the field in the parameters", field=user or canon))
            continue
        v = gdf[canon].to_numpy(dtype=float)
        empty = np.isnan(v)
        if empty.any():
            problems.append(Problem(label, "分值为空", "score is empty", "补全分值", "fill in the scores",
                                    field=user or canon, features=list(index[empty])))
        if method == "LS":
            lo, hi = D.LS_SCALE
            bad = ~empty & ((v < lo) | (v > hi) | (v != np.round(v)))
            if bad.any():
                problems.append(Problem(label, f"LS 分值应为 {lo}–{hi} 的整数", f"LS scores must be integers {lo}–{hi}",
                                        "改正分值", "correct the scores", field=user or canon, features=list(index[bad])))
        else:
            bad = ~empty & (v <= 0)
            if bad.any():
                problems.append(Problem(label, "LEC 分值应大于 0", "LEC scores must be > 0", "改正分值", "correct the scores",
                                        field=user or canon, features=list(index[bad])))
            scale = {"lec_l": D.LEC_L, "lec_e": D.LEC_E, "lec_c": D.LEC_C}[canon]
            odd = ~empty & ~bad & ~np.isin(v, scale)
            if odd.any():
                notes.append(f"[{label}] {user or canon}: {int(odd.sum())} 个分值不在标准分值表 {scale} 中 / "
                             f"{int(odd.sum())} scores are not on the standard scale {scale}")
    return problems, notes


def run_siterisk(sites, method=D.METHOD, l_field=None, s_field=None, e_field=None, c_field=None,
                 ls_breaks=None, lec_breaks=None, output=None, output_crs=None, repair=False, progress=None):
    """Score every site, grade it 1..4 and write ``output``; returns SITES and SITES_LEVEL_1..4."""
    progress = ensure(progress)
    method = str(method).upper()
    check_choice("METHOD", method, D.METHODS)
    breaks = parse_breaks(ls_breaks, "LS_BREAKS", D.LS_BREAKS) if method == "LS" else \
        parse_breaks(lec_breaks, "LEC_BREAKS", D.LEC_BREAKS)
    users = (l_field, s_field) if method == "LS" else (l_field, e_field, c_field)
    unused = {"LS": {"E_FIELD": e_field, "C_FIELD": c_field}, "LEC": {"S_FIELD": s_field}}[method]
    for param, value in unused.items():
        if value:
            notices.warn(f"参数/parameter {param}", f"字段 '{value}' 未使用: {method} 法不需要 {param}",
                         f"field '{value}' is not used: the {method} method does not need {param}",
                         "换用另一方法, 或清空该参数", "choose the other METHOD, or leave the parameter empty")
    fmap = {k: v for k, v in zip(FIELDS[method], users) if v}
    layers, problems = load_used_fields([VectorInput("sites", sites, "sites", fmap, repair=repair)],
                                        {"sites": {"name", "industry", *FIELDS[method]}})
    if problems:
        from .errors import ValidationError
        raise ValidationError(problems)
    gdf = layers["sites"]
    label = gdf.attrs.get("name", "sites")
    problems, notes = _check_values(gdf, method, label, users)
    if problems:
        from .errors import ValidationError
        raise ValidationError(problems)
    for n in notes:
        progress.info(n)
    if method == "LS":
        score, level = ls_level(gdf["ls_l"], gdf["ls_s"], breaks)
    else:
        score, level = lec_level(gdf["lec_l"], gdf["lec_e"], gdf["lec_c"], breaks)
    zh, en, color = level_label_arrays()
    keep = gdf.attrs.get("source_columns", [c for c in gdf.columns if c != gdf.geometry.name])
    out = gdf[keep + [gdf.geometry.name]].copy()   # the user's fields, then the results
    out["method"] = method
    out["score"] = np.round(score, 4)
    out["risk_level"] = level
    out["risk_zh"], out["risk_en"], out["color"] = zh[level], en[level], color[level]
    progress.check()
    if output:
        write_vector(out.to_crs(output_crs) if output_crs else out, output)
    progress.set(100)
    result = {"SITES": int(len(out))}
    for lv in range(1, 5):
        result[f"SITES_LEVEL_{lv}"] = int((level == lv).sum())
    result["layer"] = out
    return result
