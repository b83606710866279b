"""Susceptibility on mapping units (slope units, small catchments, any polygons) that already carry
their factor values as fields.

>>> r = unit_susceptibility("units.gpkg", ["slope_mean", "lithology"], "n_slides", "units_out.gpkg",
...                         categorical_fields=["lithology"])
>>> r.auc_success, r.auc_prediction

Numeric factor fields are cut into area-weighted quantile classes, text fields (and those named in
``categorical_fields``) are taken as categories; an empty value is its own class 'no data'. The
area of a class is the summed area of its units (m², in a metric working CRS); the landslides of a
class are the summed LANDSLIDE_FIELD (a count, or 1/0). A unit with landslides > 0 is a positive
for the AUCs. The output is the input layer with ``susc_index``, ``hazard_class`` (1..4) and
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
from ..validation import parse_numbers, resolve_column
from .factors import Factor, quantile_breaks
from .model import auc, cross_validate, fit
from .report import summary_table, weights_table, write_report, zones_table
from .zoning import classify, zone_breaks

INDEX_FIELD, ZONE_FIELD, LABEL_FIELD = "susc_index", "hazard_class", "zone_label"


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


def _codes_for(gdf, name, categorical, n_classes, area):
    """(Factor, codes) for one field."""
    raw = gdf[name]
    num, _ = parse_numbers(raw)          # '1,234' and full-width digits are numbers too
    present = raw.notna() & (raw.astype(str).str.strip() != "")
    if name not in categorical and (num.notna() == present).all() and present.any():
        v = num.to_numpy(np.float64)
        b = quantile_breaks(v, n_classes, area)
        fac = Factor.continuous(name, b, "", float(np.nanmin(v)), float(np.nanmax(v)))
        fac.labels[0] = "无数据 no data"
        return fac, fac.classify(v)
    text = raw.where(present, None).map(lambda x: None if x is None else str(x).strip())
    cats = sorted(text.dropna().unique())
    fac = Factor.categorical(name, cats)
    lookup = {c: i + 1 for i, c in enumerate(cats)}
    return fac, text.map(lambda x: lookup.get(x, 0)).to_numpy(np.uint8)


def unit_susceptibility(units, factor_fields, landslide_field, output, *, method=D.METHOD, folds=D.FOLDS,
                        breaks=D.BREAK_METHOD, seed=D.SEED, n_classes=D.N_CLASSES, categorical_fields=(),
                        out_report=None, work_crs=None, success_cutoffs=D.SUCCESS_CUTOFFS,
                        logistic_c=D.LOGISTIC_C, empty_class_count=D.EMPTY_CLASS_COUNT, progress=None):
    """Index and zone per unit; writes ``output`` (input CRS) and the report; returns a UnitResult."""
    progress = ensure(progress)
    factor_fields = [f for f in (factor_fields or []) if f]
    categorical = [f for f in (categorical_fields or []) if f]
    if not factor_fields:
        raise parameter_error("FACTOR_FIELDS", "至少选择一个因子字段", "choose at least one factor field",
                              "选择坡度、岩性等字段", "choose fields such as mean slope or lithology")
    if method not in D.METHODS:
        raise parameter_error("METHOD", f"未知方法 {method}", f"unknown method {method}", f"可选 {D.METHODS}",
                              f"one of {D.METHODS}")
    if breaks not in D.BREAKS:
        raise parameter_error("BREAKS", f"未知分级方法 {breaks}", f"unknown break method {breaks}",
                              f"可选 {D.BREAKS}", f"one of {D.BREAKS}")
    layers = load_vectors([VectorInput("units", units, "slope_units",
                                       {"landslides": landslide_field} if landslide_field else {})])
    gdf = layers["units"]
    label = gdf.attrs.get("name", "units")
    gdf = _factor_fields(gdf, factor_fields, categorical, label, progress)
    progress.set(10)

    wcrs = working_crs(gdf.crs, gdf.total_bounds, work_crs)
    area = to_working(gdf, wcrs).geometry.area.to_numpy(np.float64)
    slides = gdf["landslides"].to_numpy(np.float64)
    y = (slides > 0).astype(int)
    factors, codes = [], []
    for name in factor_fields:
        fac, c = _codes_for(gdf, name, categorical, int(n_classes), area)
        factors.append(fac)
        codes.append(c)
    codes = np.vstack(codes)
    area_counts = [np.bincount(codes[f], weights=area, minlength=factors[f].n_codes) for f in range(len(factors))]
    progress.set(30)

    kw = dict(logistic_c=logistic_c, empty=empty_class_count)
    model = fit(method, codes, y, area_counts, slides=slides, seed=int(seed), **kw)
    auc_pred, fold_aucs, _ = cross_validate(method, codes, y, area_counts, int(folds), int(seed), slides=slides, **kw)
    progress.set(70)
    index = model.score(codes)
    zb = zone_breaks(breaks, index, presence_index=index[y == 1], sample_weights=area,
                     presence_weights=slides[y == 1], cutoffs=success_cutoffs, seed=int(seed))
    zones = classify(index, zb)
    labels = {c["value"]: f"{c['zh']}易发 / {c['en']}" for c in class_table("hazard_classes")["classes"]}

    out = gdf.drop(columns=[c for c in ("landslides",) if c != landslide_field and c in gdf.columns])
    out[INDEX_FIELD] = index.astype(np.float64)
    out[ZONE_FIELD] = zones.astype(np.int64)
    out[LABEL_FIELD] = [labels[int(z)] for z in zones]
    outputs = {"output": write_vector(out, output)}
    auc_success = auc(y, out[INDEX_FIELD].to_numpy())

    km2 = 1e-6
    zone_area = np.bincount(zones, weights=area, minlength=5)
    zone_slides = np.bincount(zones, weights=slides, minlength=5)
    wt = weights_table(factors, model, area_counts, km2)
    zt = zones_table(zone_area, zone_slides, zb, km2)
    summary = {"方法 method": method, "AUC_SUCCESS": auc_success, "AUC_PREDICTION": auc_pred,
               "各折 AUC fold AUCs": [round(a, 4) for a in fold_aucs], "折数 folds": int(folds), "随机种子 seed": int(seed),
               "单元数 units": int(len(gdf)), "有滑坡单元 units with landslides": int(y.sum()),
               "滑坡数 landslides": float(slides.sum()), "分区方法 breaks": breaks,
               "分区界值 zone breaks": [float(b) for b in zb], "因子 factors": [f.name for f in factors]}
    if out_report:
        outputs["report"] = write_report(out_report, wt, zt, summary_table(summary))
    progress.set(100)
    return UnitResult(auc_success, auc_pred, list(fold_aucs), np.asarray(zb), int(len(gdf)), int(y.sum()),
                      factors, wt, zt, outputs)
