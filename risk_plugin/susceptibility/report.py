"""The susceptibility report: weights per factor class, area and landslides per zone, and a summary.

CSV holds one table with a 'section' column (weights / zones / summary); XLSX holds one sheet each.
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


def weights_table(factors, model, area, area_unit_km2):
    """One row per class of every factor: area, landslides, their shares and the weight."""
    rows = []
    for f, (fac, a) in enumerate(zip(factors, area)):
        slides = model.slide_counts[f]
        for code in range(fac.n_codes):
            if a[code] <= 0 and slides[code] <= 0:
                continue
            rows.append({"因子 factor": fac.name, "分级代码 class": code, "分级 range": fac.labels[code],
                         "面积 area_km2": a[code] * area_unit_km2,
                         "面积占比 area_pct": 100.0 * a[code] / a.sum(),
                         "滑坡数 landslides": slides[code],
                         "滑坡占比 landslide_pct": 100.0 * slides[code] / max(slides.sum(), 1e-12),
                         "权重 weight": float(model.tables[f][code])})
    df = pd.DataFrame(rows)
    df.attrs["weight_name"] = WEIGHT_NAMES[model.method]
    return df


def zones_table(zone_area, zone_slides, breaks, area_unit_km2):
    """One row per zone, highest first: area and landslides with their shares, and the index range."""
    labels = zone_labels()
    zone_area = np.asarray(zone_area, np.float64)
    zone_slides = np.asarray(zone_slides, np.float64)
    edges = [-np.inf, *breaks, np.inf]
    rows = []
    for z in (4, 3, 2, 1):
        rows.append({"分区 zone": z, "名称": labels[z][0], "name": labels[z][1],
                     "指数下限 index_from": edges[z - 1], "指数上限 index_to": edges[z],
                     "面积 area_km2": zone_area[z] * area_unit_km2,
                     "面积占比 area_pct": 100.0 * zone_area[z] / max(zone_area[1:].sum(), 1e-12),
                     "滑坡数 landslides": zone_slides[z],
                     "滑坡占比 landslide_pct": 100.0 * zone_slides[z] / max(zone_slides[1:].sum(), 1e-12)})
    return pd.DataFrame(rows)


def summary_table(items):
    """Key / value rows: method, AUCs, sample counts, breaks …"""
    return pd.DataFrame([{"项目 item": k, "值 value": v if isinstance(v, str) else repr(v) if isinstance(v, (list, tuple)) else v}
                         for k, v in items.items()])


def write_report(path, weights, zones, summary):
    """CSV: one table with a 'section' column; XLSX: sheets 'weights', 'zones', 'summary'."""
    if Path(path).suffix.lower() == ".xlsx":
        return write_sheets({"weights": weights, "zones": zones, "summary": summary}, path)
    parts = []
    for name, df in (("summary", summary), ("weights", weights), ("zones", zones)):
        d = df.copy()
        d.insert(0, "部分 section", name)
        parts.append(d)
    return write_table(pd.concat(parts, ignore_index=True, sort=False), path)
