"""The susceptibility report: the method comparison (first), the reliability verdict, a summary,
weights per factor class, and exposure and landslides per zone.

CSV holds one table with a 'section' column; XLSX holds one sheet each, in that order.
"""
from pathlib import Path

import numpy as np
import pandas as pd

from ..classes import class_table
from ..io import write_sheets, write_table

WEIGHT_NAMES = {"information_value": "信息量 information value", "frequency_ratio": "频率比 frequency ratio",
                "logistic": "回归系数 logistic coefficient"}


def zone_labels():
    """{zone: (中文, English)} for zones 1..4 from styles/classes.json 'hazard_classes'."""
    return {c["value"]: (f"{c['zh']}易发", f"{c['en']} susceptibility")
            for c in class_table("hazard_classes")["classes"] if c["value"] in (1, 2, 3, 4)}


def columns(*specs):
    """Report columns: (value name, share name or None, arrays, scale) → spec list for the tables below.
    ``arrays`` is one array per factor (weights_table) or one per zone (zones_table)."""
    return list(specs)


def _cells(spec_list, pick, total):
    out = {}
    for name, pct, arrays, scale in spec_list:
        a = pick(arrays)
        out[name] = a * scale
        if pct:
            out[pct] = 100.0 * a / max(total(arrays), 1e-12)
    return out


def weights_table(factors, model, area, area_unit_km2=None, cols=None):
    """One row per class of every factor: exposure, landslides, their shares and the weight.

    Grid: ``weights_table(factors, model, area, cell_km2)`` gives area and landslide cells. Mapping
    units pass ``cols`` (see :func:`columns`): units, units with landslides, area, count or failed area."""
    if cols is None:
        cols = columns(("面积 area_km2", "面积占比 area_pct", area, area_unit_km2),
                       ("滑坡数 landslides", "滑坡占比 landslide_pct", model.slide_counts, 1.0))
    rows = []
    for f, fac in enumerate(factors):
        for code in range(fac.n_codes):
            if all(np.asarray(arrays[f])[code] <= 0 for _, _, arrays, _ in cols):
                continue
            row = {"因子 factor": fac.name, "分级代码 class": code, "分级 range": fac.labels[code]}
            row.update(_cells(cols, lambda arrays: float(np.asarray(arrays[f], np.float64)[code]),
                              lambda arrays: float(np.asarray(arrays[f], np.float64).sum())))
            row["权重 weight"] = float(model.tables[f][code])
            rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs["weight_name"] = WEIGHT_NAMES[model.method]
    return df


def zones_table(zone_area, zone_slides, breaks, area_unit_km2=None, cols=None):
    """One row per zone, highest first: exposure and landslides with their shares, and the index range.
    Per-zone arrays have 5 entries (index 0 = nodata, ignored)."""
    labels = zone_labels()
    if cols is None:
        cols = columns(("面积 area_km2", "面积占比 area_pct", zone_area, area_unit_km2),
                       ("滑坡数 landslides", "滑坡占比 landslide_pct", zone_slides, 1.0))
    edges = [-np.inf, *breaks, np.inf]
    rows = []
    for z in (4, 3, 2, 1):
        row = {"分区 zone": z, "名称": labels[z][0], "name": labels[z][1],
               "指数下限 index_from": edges[z - 1], "指数上限 index_to": edges[z]}
        row.update(_cells(cols, lambda a: float(np.asarray(a, np.float64)[z]),
                          lambda a: float(np.asarray(a, np.float64)[1:].sum())))
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(items):
    """Key / value rows: method, AUCs, sample counts, breaks …"""
    return pd.DataFrame([{"项目 item": k, "值 value": v if isinstance(v, str) else repr(v) if isinstance(v, (list, tuple)) else v}
                         for k, v in items.items()])


def write_report(path, weights, zones, summary, comparison=None, reliability=None):
    """XLSX: sheets 'comparison' (first), 'reliability', 'summary', 'weights', 'zones'; CSV: one table
    with a 'section' column in the same order."""
    sheets = {"comparison": comparison, "reliability": reliability, "summary": summary, "weights": weights,
              "zones": zones}
    sheets = {k: v for k, v in sheets.items() if v is not None}
    if Path(path).suffix.lower() == ".xlsx":
        return write_sheets(sheets, path)
    parts = []
    for name, df in sheets.items():
        d = df.copy()
        d.insert(0, "部分 section", name)
        parts.append(d)
    return write_table(pd.concat(parts, ignore_index=True, sort=False), path)
