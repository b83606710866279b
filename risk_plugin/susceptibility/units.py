"""Susceptibility on mapping units (slope units, small catchments, any polygons) that already carry
their factor values as fields.

>>> r = unit_susceptibility("units.gpkg", ["slope_mean", "lithology"], "n_slides", "units_out.gpkg",
...                         categorical_fields=["lithology"])
>>> r.rule, r.method, r.auc_success, r.auc_prediction, r.verdict.level

What a class's share of landslides is compared with depends on the landslide field (UNIT_RULE, see
risk_plugin/definitions/susceptibility.py for the reasons and sources):
- presence (a 0/1 field): units with a landslide in the class ÷ units in the class;
- count (whole numbers ≥ 0): landslides in the class ÷ area of the class (landslide density);
- area (LANDSLIDE_AREA_FIELD, m²): failed area in the class ÷ area of the class.
'auto' picks the rule from the field; the log and the report say which rule was used and why.
Numeric factor fields are cut into N_CLASSES area-weighted quantile classes (each class about the
same area, as on the grid); text fields (and those in ``categorical_fields``) are categories;
an empty value is its own class 'no data'. A unit with a landslide is a positive for the AUCs and for
logistic regression. The output is the input layer with ``susc_index``, ``hazard_class`` (1..4) and
``zone_label``.
"""
import difflib
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from ..classes import class_table
from ..crs import to_working, working_crs
from ..definitions import susceptibility as D
from ..errors import Problem, ValidationError, parameter_error
from ..inputs import VectorInput, load_vectors
from ..io import write_vector
from ..progress import ensure
from ..validation import find_field, load_schema, parse_numbers, resolve_column
from .factors import Factor, quantile_breaks
from .model import auc
from .reliability import assess
from .report import columns, summary_table, weights_table, write_report, zones_table
from .selection import choose, compare, comparison_lines, comparison_table
from .zoning import classify, zone_breaks

INDEX_FIELD, ZONE_FIELD, LABEL_FIELD = "susc_index", "hazard_class", "zone_label"
RULE_TEXT = {"presence": ("有滑坡单元占比 ÷ 单元数占比", "share of units with landslides ÷ share of units"),
             "count": ("滑坡数占比 ÷ 面积占比 (滑坡密度)", "share of landslides ÷ share of area (landslide density)"),
             "area": ("滑坡面积占比 ÷ 面积占比", "share of failed area ÷ share of area")}


@dataclass
class UnitResult:
    auc_success: float
    auc_prediction: float
    fold_aucs: List[float]
    breaks: np.ndarray
    n_units: int
    n_positive: int
    factors: List[Factor]
    weights: object
    zones: object
    outputs: Dict[str, Optional[str]] = field(default_factory=dict)
    method: str = ""               # the method kept (METHOD, or the best one for METHOD=auto)
    rule: str = ""                 # presence | count | area
    comparison: object = None      # DataFrame: the three methods on the same folds
    verdict: object = None         # reliability.Verdict
    notes: List[str] = field(default_factory=list)


def _factor_fields(gdf, names, categorical, layer, progress=None):
    """Check the factor fields are there; a field differing only in case or cut by a shapefile
    ('SLOPE_MEAN', 'elev_mea') is renamed to the name asked for, with a note. Returns the frame."""
    problems = []
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    for name in list(names) + [c for c in categorical if c not in names]:
        found = resolve_column(cols, name)
        if found is not None and found != name:
            gdf = gdf.rename(columns={found: name})
            ensure(progress).info(f"[{layer}] 字段 '{found}' 用作 {name} / field '{found}' used as {name}")
        elif found is None:
            close = difflib.get_close_matches(name, cols, n=3, cutoff=0.5)
            problems.append(Problem(layer, f"没有因子字段 {name}" + (f"; 可能是: {close}" if close else ""),
                                    f"factor field {name} is missing" + (f"; did you mean: {close}" if close else ""),
                                    "在 FACTOR_FIELDS 中选择已有字段", "choose existing fields in FACTOR_FIELDS", field=name))
    if problems:
        raise ValidationError(problems)
    return gdf


def _codes_for(gdf, name, categorical, n_classes, weights):
    """(Factor, codes) for one field; numeric fields in quantile classes of equal ``weights``."""
    raw = gdf[name]
    num, _ = parse_numbers(raw)          # '1,234' and full-width digits are numbers too
    present = raw.notna() & (raw.astype(str).str.strip() != "")
    if name not in categorical and (num.notna() == present).all() and present.any():
        v = num.to_numpy(np.float64)
        b = quantile_breaks(v, n_classes, weights)
        fac = Factor.continuous(name, b, "", float(np.nanmin(v)), float(np.nanmax(v)))
        fac.labels[0] = "无数据 no data"
        return fac, fac.classify(v)
    text = raw.where(present, None).map(lambda x: None if x is None else str(x).strip())
    cats = sorted(text.dropna().unique())
    fac = Factor.categorical(name, cats)
    lookup = {c: i + 1 for i, c in enumerate(cats)}
    return fac, text.map(lambda x: lookup.get(x, 0)).to_numpy(np.uint8)


def resolve_rule(rule, values, has_area, field_name, ids):
    """(rule, reason zh, reason en, notes) for the landslide values of the units.

    >>> resolve_rule("auto", np.array([0, 1, 1]), False, "landslide", [0, 1, 2])[0]   # 'presence'
    """
    v = np.asarray(values, np.float64)
    binary = bool(np.isin(v, (0.0, 1.0)).all())
    whole = bool((v == np.floor(v)).all())
    notes = []
    if rule not in D.UNIT_RULES:
        raise parameter_error("UNIT_RULE", f"未知统计规则 {rule}", f"unknown unit rule {rule}", f"可选 {D.UNIT_RULES}",
                              f"one of {D.UNIT_RULES}")
    if rule == "auto":
        if has_area:
            return "area", "给出了滑坡面积字段", "LANDSLIDE_AREA_FIELD is given", notes
        if binary:
            return "presence", f"字段 {field_name} 只有 0 和 1", f"field {field_name} holds only 0 and 1", notes
        if whole:
            return "count", f"字段 {field_name} 为非负整数", f"field {field_name} holds whole numbers ≥ 0", notes
        bad = np.flatnonzero(v != np.floor(v))
        raise parameter_error(
            "LANDSLIDE_FIELD", f"字段 {field_name} 有小数 (如单元 {ids[bad[0]]} 为 {v[bad[0]]:g}, 共 {bad.size} 个): "
            "既不是有无 (0/1) 也不是滑坡数", f"field {field_name} has fractions (e.g. {v[bad[0]]:g} in unit {ids[bad[0]]}, "
            f"{bad.size} units): it is neither a presence (0/1) nor a count",
            "若是滑坡面积 (m²), 把它设为 LANDSLIDE_AREA_FIELD; 若是加权计数, 设 UNIT_RULE=count",
            "if it is a failed area (m²) give it as LANDSLIDE_AREA_FIELD; if it is a weighted count set UNIT_RULE=count")
    if rule == "area" and not has_area:
        raise parameter_error("LANDSLIDE_AREA_FIELD", "UNIT_RULE=area 需要滑坡面积字段", "UNIT_RULE=area needs the failed "
                              "area of every unit", "设置 LANDSLIDE_AREA_FIELD (m²)", "set LANDSLIDE_AREA_FIELD (m²)")
    if rule == "presence" and not binary:
        notes.append(f"字段 {field_name} 不止 0/1: 值 > 0 的单元记为有滑坡 / field {field_name} is not 0/1: units with a "
                     "value > 0 count as units with landslides")
    if rule == "count" and binary:
        notes.append(f"⚠ 字段 {field_name} 只有 0/1 却按滑坡数统计 (除以面积): 大单元权重偏低, 0/1 字段宜用 presence / field "
                     f"{field_name} holds only 0/1 but is counted per area: large units weigh less; presence suits a 0/1 field")
    if rule == "count" and not whole:
        notes.append(f"字段 {field_name} 有小数, 按给定值求和 (加权计数) / field {field_name} has fractions, summed as given "
                     "(a weighted count)")
    return rule, "UNIT_RULE 指定", "given by UNIT_RULE", notes


def _added_by_validation(gdf, name, field_map):
    """Whether canonical column ``name`` was added by validation (an alias or a named field) rather
    than being the layer's own field of that name."""
    if name not in gdf.columns:
        return False
    src = field_map.get(name)
    if src is None:
        spec = next(f for f in load_schema("slope_units")["fields"] if f["name"] == name)
        src = find_field([c for c in gdf.columns if c != name], spec)
    return src is not None and src != name


def unit_susceptibility(units, factor_fields, landslide_field, output, *, method=D.METHOD, folds=D.FOLDS,
                        breaks=D.BREAK_METHOD, seed=D.SEED, n_classes=D.N_CLASSES, categorical_fields=(),
                        out_report=None, work_crs=None, success_cutoffs=D.SUCCESS_CUTOFFS,
                        logistic_c=D.LOGISTIC_C, empty_class_count=D.EMPTY_CLASS_COUNT, unit_rule=D.UNIT_RULE,
                        landslide_area_field=None, progress=None):
    """Index and zone per unit; writes ``output`` (input CRS) and the report; returns a UnitResult.

    landslide_field: landslides per unit (0/1 or a count); landslide_area_field: failed area per unit
    (m²); unit_rule: auto / presence / count / area (what IV and FR count, see the module doc)."""
    progress = ensure(progress)
    notes = []

    def note(msg):
        notes.append(msg)
        progress.info(msg)

    factor_fields = [f for f in (factor_fields or []) if f]
    categorical = [f for f in (categorical_fields or []) if f]
    if not factor_fields:
        raise parameter_error("FACTOR_FIELDS", "至少选择一个因子字段", "choose at least one factor field",
                              "选择坡度、岩性等字段", "choose fields such as mean slope or lithology")
    for name, value, allowed in (("METHOD", method, D.METHODS), ("BREAKS", breaks, D.BREAKS),
                                 ("UNIT_RULE", unit_rule, D.UNIT_RULES)):
        if value not in allowed:
            raise parameter_error(name, f"未知取值 {value}", f"unknown value {value}", f"可选 {allowed}", f"one of {allowed}")
    field_map = {}
    if landslide_field or landslide_area_field:
        # only a failed area given: it also marks the units with landslides (area > 0)
        field_map["landslides"] = landslide_field or landslide_area_field
    if landslide_area_field:
        field_map["landslide_area"] = landslide_area_field
    layers = load_vectors([VectorInput("units", units, "slope_units", field_map)])
    gdf = layers["units"]
    label = gdf.attrs.get("name", "units")
    gdf = _factor_fields(gdf, factor_fields, categorical, label, progress)
    progress.set(10)

    wcrs = working_crs(gdf.crs, gdf.total_bounds, work_crs)
    area = to_working(gdf, wcrs).geometry.area.to_numpy(np.float64)
    ids = list(gdf.index)
    raw = gdf["landslides"].to_numpy(np.float64)
    has_area_col = "landslide_area" in gdf.columns and gdf["landslide_area"].notna().any()
    use_area = bool(landslide_area_field) or (unit_rule == "area" and has_area_col)
    if has_area_col and not use_area:
        note(f"[{label}] 发现滑坡面积字段, 未使用; 设 LANDSLIDE_AREA_FIELD 可按滑坡面积统计 / a failed-area field was "
             "found but not used; set LANDSLIDE_AREA_FIELD to compare failed area with class area")
    src_name = field_map.get("landslides") or find_field(
        [c for c in gdf.columns if c != "landslides"],
        next(f for f in load_schema("slope_units")["fields"] if f["name"] == "landslides")) or "landslides"
    rule, why_zh, why_en, rule_notes = resolve_rule(unit_rule, raw, use_area, src_name, ids)
    for n in rule_notes:
        note(f"[{label}] {n}")
    if rule == "area":
        failed = gdf["landslide_area"].to_numpy(np.float64)
        blank = np.isnan(failed)
        if blank.any():
            note(f"[{label}] {int(blank.sum())} 个单元滑坡面积为空, 记为 0 / units with an empty failed area count as 0")
            failed = np.where(blank, 0.0, failed)
        over = failed > area * D.FAILED_AREA_TOLERANCE
        if over.any():
            first = [ids[i] for i in np.flatnonzero(over)[:10]]
            note(f"⚠ [{label}] {int(over.sum())} 个单元的滑坡面积大于单元面积 (如 {first}): 单位是否为 m²? / {int(over.sum())} "
                 f"units have a failed area larger than the unit (e.g. {first}): is the field in m²?")
        events = failed
        if landslide_field:
            disagree = int(((raw > 0) != (failed > 0)).sum())
            if disagree:
                note(f"[{label}] {disagree} 个单元的滑坡数与滑坡面积不一致, 以滑坡面积为准 / units where the landslide field "
                     "and the failed area disagree; the failed area decides")
    elif rule == "presence":
        events = (raw > 0).astype(np.float64)
    else:
        events = raw
    y = (events > 0).astype(int)
    note(f"[{label}] 统计规则 / rule: {rule} ({why_zh} / {why_en}): IV、FR 比较 {RULE_TEXT[rule][0]} / IV and FR compare "
         f"{RULE_TEXT[rule][1]}")

    # numeric factors in classes of equal area, whatever the rule: equal unit counts instead measured
    # worse on the Yongxin slope units (presence rule, IV prediction AUC 0.836 against 0.874;
    # docs/susceptibility-validation.md)
    factors, codes = [], []
    for name in factor_fields:
        fac, c = _codes_for(gdf, name, categorical, int(n_classes), area)
        factors.append(fac)
        codes.append(c)
    codes = np.vstack(codes)
    per_factor = lambda w: [np.bincount(codes[f], weights=w, minlength=factors[f].n_codes)
                            for f in range(len(factors))]
    unit_counts, area_counts = per_factor(np.ones(len(gdf))), per_factor(area)
    exposure = unit_counts if rule == "presence" else area_counts
    progress.set(30)

    kw = dict(logistic_c=logistic_c, empty=empty_class_count)
    scores, _ = compare(codes, y, exposure, int(folds), int(seed), slides=events, progress=progress, **kw)
    kept = choose(scores, method)
    for line in comparison_lines(scores, kept, method == "auto", int(folds)):
        note(line)
    model = kept.model
    progress.set(70)
    index = model.score(codes)
    zb = zone_breaks(breaks, index, presence_index=index[y == 1], sample_weights=area,
                     presence_weights=events[y == 1], cutoffs=success_cutoffs, seed=int(seed))
    zones = classify(index, zb)
    labels = {c["value"]: f"{c['zh']}易发 / {c['en']}" for c in class_table("hazard_classes")["classes"]}

    out = gdf.drop(columns=[c for c in ("landslides", "landslide_area") if _added_by_validation(gdf, c, field_map)])
    out[INDEX_FIELD] = index.astype(np.float64)
    out[ZONE_FIELD] = zones.astype(np.int64)
    out[LABEL_FIELD] = [labels[int(z)] for z in zones]
    outputs = {"output": write_vector(out, output)}
    auc_success = auc(y, out[INDEX_FIELD].to_numpy())

    km2 = 1e-6
    event_col = {"presence": None, "count": ("滑坡数 landslides", "滑坡占比 landslide_pct", 1.0),
                 "area": ("滑坡面积 landslide_area_km2", "滑坡面积占比 landslide_area_pct", km2)}[rule]
    per_zone = lambda w: np.bincount(zones, weights=w, minlength=5)
    wcols = [("单元数 units", "单元占比 unit_pct", unit_counts, 1.0),
             ("有滑坡单元 landslide_units", "有滑坡单元占比 landslide_unit_pct", per_factor(y.astype(np.float64)), 1.0),
             ("面积 area_km2", "面积占比 area_pct", area_counts, km2)]
    zcols = [("单元数 units", "单元占比 unit_pct", per_zone(np.ones(len(gdf))), 1.0),
             ("有滑坡单元 landslide_units", "有滑坡单元占比 landslide_unit_pct", per_zone(y.astype(np.float64)), 1.0),
             ("面积 area_km2", "面积占比 area_pct", per_zone(area), km2)]
    if event_col:
        wcols.append((*event_col[:2], per_factor(events), event_col[2]))
        zcols.append((*event_col[:2], per_zone(events), event_col[2]))
    wt = weights_table(factors, model, None, cols=columns(*wcols))
    zt = zones_table(None, None, zb, cols=columns(*zcols))
    verdict = assess(kept, codes, y, factors, exposure, int(folds), unit_area=area, unit_rule=rule)
    for line in verdict.lines():
        note(line)
    summary = {"方法 method": kept.method, "方法参数 METHOD": method, "统计规则 rule": rule,
               "规则依据 why": f"{why_zh} / {why_en}", "IV/FR 比较 compare": " / ".join(RULE_TEXT[rule]),
               "可靠性 reliability": verdict.level, "AUC_SUCCESS": auc_success, "AUC_PREDICTION": kept.auc_prediction,
               "各折 AUC fold AUCs": [round(a, 4) for a in kept.fold_aucs], "折数 folds": int(folds), "随机种子 seed": int(seed),
               "单元数 units": int(len(gdf)), "有滑坡单元 units with landslides": int(y.sum()),
               "滑坡数 landslides": float(raw.sum()) if rule != "area" else "-",
               "滑坡面积 failed area (km2)": float(events.sum() * km2) if rule == "area" else "-",
               "分区方法 breaks": breaks, "分区界值 zone breaks": [float(b) for b in zb],
               "因子 factors": [f.name for f in factors]}
    comparison = comparison_table(scores, kept, method == "auto", {"统计规则 rule": rule})
    if out_report:
        outputs["report"] = write_report(out_report, wt, zt, summary_table(summary), comparison, verdict.table())
    progress.set(100)
    return UnitResult(auc_success, kept.auc_prediction, list(kept.fold_aucs), np.asarray(zb), int(len(gdf)),
                      int(y.sum()), factors, wt, zt, outputs, kept.method, rule, comparison, verdict, notes)
