"""Tables a bureau files, one sheet per township (乡镇风险报表).

>>> run_township_report(townships="townships.gpkg", risk="fourcolor_villages.gpkg",
...                     villages="villages.gpkg", geohazards="threat_points.gpkg",
...                     facilities="facilities.gpkg", output_xlsx="report.xlsx", output_csv_dir="report_csv")

Per township: people, buildings and area per risk level; the villages ranked by risk; the geohazard
points with threatened households and people (computed by riskmap:hazardpointthreat when its output
is given: households_calc, people_calc, danger_zh; otherwise the surveyed 威胁户数 / 威胁人数); and the
schools, hospitals and elderly homes inside red or orange zones (level ≤ ALERT_LEVEL).

``risk`` is a riskmap:fourcolorrisk output (fields risk_level, people, buildings, area_km2,
township_code; unit_code / unit_name on an admin-unit support). On a grid support the villages' figures
are apportioned from the grid pieces by area share (exact when the support was the villages).
"""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from . import classes as class_tables
from .crs import to_working, working_crs
from .definitions import report as D
from .errors import InputError, Problem, ValidationError
from .exposure import UnitSpec, check_used_fields
from .fourcolor import town_of_units
from .inputs import VectorInput
from . import titles
from .io import atomic_path, read_vector, write_table
from .progress import ensure
from .tables import EXCEL_CELL_MAX, excel_safe, protect_formulas
from .rounding import whole_persons, whole_table

THREAT_COMPUTED = ("households_calc", "people_calc", "danger_level", "danger_zh")


def _spec(source, kind, key, field_map=None, repair=False):
    if isinstance(source, UnitSpec):
        fmap = {"name": source.name_field, "code": source.code_field, "parent_code": source.parent_field}
        return VectorInput(key, source.source, kind, {k: v for k, v in fmap.items() if v}, repair=repair, label=source.label)
    return VectorInput(key, source, kind, field_map or {}, repair=repair)


def _load(spec, used, problems, keep_raw=()):
    """Read + validate one layer; ``keep_raw`` columns are taken aside before validation and put back."""
    if not spec.source:
        return None
    try:
        gdf = read_vector(spec.source)
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    raw = {c: gdf[c].to_numpy() for c in keep_raw if c in gdf.columns}
    attrs = dict(gdf.attrs)
    gdf = gdf.drop(columns=list(raw))
    gdf.attrs.update(attrs)
    norm, probs = check_used_fields(gdf, spec, used)
    problems.extend(probs)
    for c, v in raw.items():
        norm[f"_{c}"] = v
    return norm


def _risk_layer(source, problems):
    try:
        gdf = read_vector(source)
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    if "risk_level" not in gdf.columns:
        problems.append(Problem(gdf.attrs.get("name", "RISK"), "缺少字段 risk_level (应为 riskmap:fourcolorrisk 的输出)",
                                "field risk_level is missing (expected a riskmap:fourcolorrisk output)",
                                "先运行 riskmap:fourcolorrisk", "run riskmap:fourcolorrisk first", field="risk_level"))
        return None
    if gdf.crs is None:
        problems.append(Problem(gdf.attrs.get("name", "RISK"), "图层没有坐标参考系 (CRS)", "layer has no CRS",
                                "设置 CRS", "assign the CRS"))
        return None
    for col in ("people", "buildings"):
        if col not in gdf.columns:
            gdf[col] = 0.0
    return gdf


def level_labels():
    return {int(c["value"]): c for c in class_tables.class_table("risk_levels")["classes"]}


def _town_index(geoms, town_geoms):
    """Township index for geometries by a point on their surface (-1 outside)."""
    from .exposure import assign_units
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    return assign_units(pts, town_geoms) - 1


def village_table(villages, risk, risk_town, towns_n, unit_support):
    """Per village: most severe level, people / buildings per level; ranked within each township."""
    labels = level_labels()
    if unit_support:
        # the risk polygons are the villages themselves
        v_idx = np.arange(len(risk))
        share = np.ones(len(risk))
        src = np.arange(len(risk))
        names = risk.get("unit_name", pd.Series([""] * len(risk))).astype(str).to_numpy()
        codes = risk.get("unit_code", pd.Series([""] * len(risk))).astype(str).to_numpy()
        vtown = risk_town
    else:
        vg = np.asarray(villages.geometry.values, dtype=object)
        rg = np.asarray(risk.geometry.values, dtype=object)
        src, v_idx = shapely.STRtree(vg).query(rg, predicate="intersects")
        inter = shapely.area(shapely.intersection(rg[src], vg[v_idx]))
        rarea = shapely.area(rg[src])
        share = np.where(rarea > 0, inter / np.where(rarea > 0, rarea, 1), 0.0)
        ok = share >= D.MIN_SHARE            # slivers along shared edges are not in the village
        src, v_idx, share = src[ok], v_idx[ok], share[ok]
        names = villages["name"].astype(str).to_numpy()
        codes = villages["code"].astype(str).to_numpy() if "code" in villages else np.array([""] * len(villages))
        vtown = villages["_town"].to_numpy()
    n = len(names)
    level = risk["risk_level"].to_numpy(np.int64)[src]
    people = risk["people"].to_numpy(float)[src] * share
    bld = risk["buildings"].to_numpy(float)[src] * share
    worst = np.full(n, 5, np.int64)
    np.minimum.at(worst, v_idx, level)
    rows = {"town": vtown, "code": codes, "name": names,
            "worst": np.where(worst > 4, 4, worst)}
    for lv in range(1, 5):
        rows[f"people_l{lv}"] = np.bincount(v_idx[level == lv], weights=people[level == lv], minlength=n)
    rows["people"] = np.bincount(v_idx, weights=people, minlength=n)
    rows["buildings"] = np.bincount(v_idx, weights=bld, minlength=n)
    df = pd.DataFrame(rows)
    df = df.sort_values(["town", "worst", "people_l1", "people_l2", "people_l3", "people"],
                        ascending=[True, True, False, False, False, False], kind="stable")
    df["rank"] = df.groupby("town").cumcount() + 1
    df["worst_zh"] = df["worst"].map(lambda v: labels[int(v)]["zh"])
    return df


def run_township_report(townships, risk, villages=None, geohazards=None, facilities=None,
                        alert_level=D.ALERT_LEVEL, output_xlsx=None, output_csv_dir=None, repair=False, progress=None,
                        other_risk=()):
    """Write the per-township workbook (a summary, one sheet per township, the reconciliation of supports) and the
    CSV tables; returns TOWNSHIPS, VILLAGES_LEVEL_1, GEOHAZARD_POINTS, PEOPLE_THREATENED, FACILITIES_ALERT.

    ``other_risk``: further riskmap:fourcolorrisk outputs of the same county on another support (the grid beside the
    villages): the sheet 口径对照 sets their people per level per township beside RISK's, whole persons both."""
    progress = ensure(progress)
    problems = []
    towns = _load(_spec(townships, "units", "townships", repair=repair), None, problems)
    risk_gdf = _risk_layer(risk, problems)
    others = [_risk_layer(o, problems) for o in (other_risk or []) if o]
    vil = _load(_spec(villages, "units", "villages", repair=repair), None, problems) if villages else None
    geo = _load(_spec(geohazards, "geohazard_points", "geohazards", repair=repair),
                {"code", "name", "hazard_type", "scale", "households", "people", "danger_level", "township", "village"},
                problems, keep_raw=THREAT_COMPUTED) if geohazards else None
    fac = _load(_spec(facilities, "facilities", "facilities", repair=repair), {"name", "facility_type"}, problems) \
        if facilities else None
    if problems:
        raise ValidationError(problems)
    wcrs = working_crs(towns.crs, towns.total_bounds)
    towns = to_working(towns, wcrs).reset_index(drop=True)
    tg = towns.geometry.values
    risk_gdf = to_working(risk_gdf, wcrs).reset_index(drop=True)
    tcodes = towns["code"].astype(str).to_numpy() if "code" in towns else np.array([""] * len(towns))
    tnames = towns["name"].astype(str).to_numpy()
    # township of each risk polygon: its township_code when it names one of TOWNSHIPS, else by location
    risk_town = _town_index(risk_gdf.geometry.values, tg)
    if "township_code" in risk_gdf.columns:
        lookup = {c: i for i, c in enumerate(tcodes)}
        by_code = risk_gdf["township_code"].astype(str).map(lookup)
        risk_town = np.where(by_code.notna(), by_code.fillna(-1).astype(np.int64), risk_town)
    progress.set(20)

    labels = level_labels()
    unit_support = vil is None and "unit_name" in risk_gdf.columns
    vt = None
    if vil is not None:
        vil = to_working(vil, wcrs).reset_index(drop=True)
        vil["_town"] = town_of_units(vil, towns)
    if vil is not None or unit_support:
        vt = village_table(vil, risk_gdf, risk_town, len(towns), unit_support)
    progress.set(40)

    # people, area and buildings per level per township
    lv = risk_gdf["risk_level"].to_numpy(np.int64)
    area = risk_gdf["area_km2"].to_numpy(float) if "area_km2" in risk_gdf else shapely.area(risk_gdf.geometry.values) / 1e6

    # geohazard points
    gt = None
    if geo is not None:
        geo = to_working(geo, wcrs).reset_index(drop=True)
        gtown = _town_index(geo.geometry.values, tg)
        if "township" in geo.columns:      # outside every polygon: by the 乡镇 field
            by_name = geo["township"].map({n: i for i, n in enumerate(tnames)})
            gtown = np.where(gtown < 0, by_name.fillna(-1).astype(np.int64), gtown)
        computed = "_people_calc" in geo.columns
        hh = geo["_households_calc"] if computed and "_households_calc" in geo else geo.get("households")
        ppl = geo["_people_calc"] if computed else geo.get("people")
        if "_danger_zh" in geo:
            danger = geo["_danger_zh"]
        elif "danger_level" in geo:
            danger = geo["danger_level"].map(lambda v: D.SCALE_ZH.get(v, "") if v else "")
        else:
            danger = pd.Series([""] * len(geo))
        gt = pd.DataFrame({"town": gtown, "code": geo.get("code", pd.Series([""] * len(geo))).astype(str),
                           "name": geo.get("name", pd.Series([""] * len(geo))).astype(str),
                           "hazard_type": geo.get("hazard_type", pd.Series([""] * len(geo))).astype(str),
                           "scale": geo.get("scale", pd.Series([""] * len(geo))).astype(str),
                           "households": pd.to_numeric(hh, errors="coerce") if hh is not None else np.nan,
                           "people": pd.to_numeric(ppl, errors="coerce") if ppl is not None else np.nan,
                           "source": "计算 computed" if computed else "调查 surveyed",
                           "danger": danger.astype(str)})
        gt["hazard_type"] = gt["hazard_type"].map(lambda v: D.HAZARD_TYPE_ZH.get(v, v))
        gt["scale"] = gt["scale"].map(lambda v: D.SCALE_ZH.get(v, v))
        gt = gt.sort_values(["town", "people"], ascending=[True, False], kind="stable")
    progress.set(60)

    # key facilities inside red / orange zones
    ft = None
    if fac is not None:
        fac = to_working(fac, wcrs).reset_index(drop=True)
        hot = np.flatnonzero(lv <= int(alert_level))
        pts = shapely.point_on_surface(np.asarray(fac.geometry.values, dtype=object))
        fi, ri = shapely.STRtree(np.asarray(risk_gdf.geometry.values, dtype=object)[hot]).query(pts, predicate="intersects") \
            if len(hot) else (np.zeros(0, np.int64), np.zeros(0, np.int64))
        best = pd.DataFrame({"f": fi, "level": lv[hot][ri]}).groupby("f")["level"].min()
        sel = best.index.to_numpy()
        ftown = _town_index(fac.geometry.values[sel], tg) if len(sel) else np.zeros(0, np.int64)
        vname = np.array([NO_VILLAGE] * len(sel), dtype=object)
        from .exposure import assign_units
        if vil is not None and len(sel):
            vi = assign_units(pts[sel], vil.geometry.values) - 1
            vname = np.where(vi >= 0, vil["name"].astype(str).to_numpy()[np.clip(vi, 0, None)], OUTSIDE_VILLAGES)
        elif unit_support and len(sel):      # the risk polygons are the villages themselves
            vi = assign_units(pts[sel], risk_gdf.geometry.values) - 1
            names = risk_gdf["unit_name"].astype(str).to_numpy()
            vname = np.where(vi >= 0, names[np.clip(vi, 0, None)], OUTSIDE_VILLAGES)
        ft = pd.DataFrame({"town": ftown, "name": fac["name"].astype(str).to_numpy()[sel],
                           "type": [D.FACILITY_ZH.get(t, t) for t in fac["facility_type"].to_numpy()[sel]],
                           "level": best.to_numpy(), "village": vname})
        ft["level_zh"] = ft["level"].map(lambda v: labels[int(v)]["zh"])
        ft = ft.sort_values(["town", "level", "type"], kind="stable")
    progress.set(75)

    # people per level per township in whole persons (risk_plugin.rounding): the township × level table is rounded
    # (each township's levels add up to its rounded total, the townships to the county's), as the atlas, the
    # reconciliation and the make-demo summary round it; the villages of a township then share each level's
    # whole persons by the largest remainder, so the village section adds up to the township's
    support = titles.support_note(risk_gdf.columns, area, risk_gdf["unit_code"].tolist()
                                  if "unit_code" in risk_gdf.columns else None) or ("四色图单元", "four-colour units")
    people_i = whole_table(level_matrix(risk_town, lv, risk_gdf["people"].to_numpy(float), len(towns)))
    buildings_i = whole_table(level_matrix(risk_town, lv, risk_gdf["buildings"].to_numpy(float), len(towns)))
    if vt is not None:
        vt = vt.copy()
        whole = np.zeros((len(vt), 4), np.int64)
        bld = np.zeros(len(vt), np.int64)
        vtown = vt["town"].to_numpy()
        levels_f = vt[[f"people_l{k}" for k in range(1, 5)]].to_numpy(float)
        for t in np.unique(vtown):
            sel = vtown == t
            for k in range(4):
                whole[sel, k] = whole_persons(levels_f[sel, k], people_i[t, k] if t >= 0 else None)
            bld[sel] = whole_persons(vt["buildings"].to_numpy(float)[sel], int(buildings_i[t].sum()) if t >= 0 else None)
        for k in range(4):
            vt[f"persons_l{k + 1}"] = whole[:, k]
        vt["persons"] = whole.sum(axis=1)
        vt["buildings_whole"] = bld
    area_lv = level_matrix(risk_town, lv, area, len(towns))
    outside_people = float(risk_gdf["people"].to_numpy(float)[risk_town < 0].sum())

    sheets, summary = {}, []
    for t in range(len(towns)):
        sections = []
        levels_df = pd.DataFrame({"风险等级 level": [labels[k]["zh"] for k in range(1, 5)],
                                  "面积(km²) area": np.round(area_lv[t], 4), "人口 people": people_i[t],
                                  "建筑 buildings": buildings_i[t]})
        sections.append(("一、各风险等级人口、建筑与面积 / People, buildings and area per risk level", levels_df,
                         {"风险等级 level": TOTAL, "面积(km²) area": round(float(area_lv[t].sum()), 4),
                          "人口 people": int(people_i[t].sum()), "建筑 buildings": int(buildings_i[t].sum())}))
        v_df = None
        if vt is not None:
            sub = vt[vt["town"] == t]
            v_df = pd.DataFrame({"排序 rank": sub["rank"], "村/社区 village": sub["name"], "代码 code": sub["code"],
                                 "最高风险等级 worst level": sub["worst_zh"],
                                 "重大风险区人口 people in 重大": sub["persons_l1"],
                                 "较大风险区人口 people in 较大": sub["persons_l2"],
                                 "一般风险区人口 people in 一般": sub["persons_l3"],
                                 "低风险区人口 people in 低": sub["persons_l4"],
                                 "总人口 people": sub["persons"], "建筑 buildings": sub["buildings_whole"]})
            total = {"排序 rank": TOTAL, "村/社区 village": f"{len(v_df)} 个村 / villages", "代码 code": "",
                     "最高风险等级 worst level": ""}
            total.update({c: int(v_df[c].sum()) for c in v_df.columns[4:]})
            sections.append(("二、村(社区)风险排序 / Villages ranked by risk", v_df, total))
        g_df = None
        if gt is not None:
            sub = gt[gt["town"] == t]
            g_df = pd.DataFrame({"统一编号 code": sub["code"], "名称 name": sub["name"], "灾害类型 type": sub["hazard_type"],
                                 "规模等级 scale": sub["scale"], "威胁户数 households": sub["households"],
                                 "威胁人数 people": sub["people"], "人数来源 source": sub["source"],
                                 "险情等级 danger level": sub["danger"]})
            total = {"统一编号 code": TOTAL, "名称 name": f"{len(g_df)} 处 / points", "灾害类型 type": "", "规模等级 scale": "",
                     "威胁户数 households": float(np.nansum(g_df["威胁户数 households"])),
                     "威胁人数 people": float(np.nansum(g_df["威胁人数 people"])), "人数来源 source": "",
                     "险情等级 danger level": ""}
            sections.append(("三、地质灾害隐患点及威胁户数、人数 / Geohazard points and threatened households and people",
                             g_df, total))
        f_df = None
        if ft is not None:
            sub = ft[ft["town"] == t]
            f_df = pd.DataFrame({"名称 name": sub["name"], "类型 type": sub["type"], "风险等级 level": sub["level_zh"],
                                 "所在村 village": sub["village"]})
            counts = f_df["类型 type"].value_counts()
            sections.append(("四、红色、橙色风险区内的学校、医院、养老院 / Schools, hospitals and elderly homes in red or orange zones",
                             f_df, {"名称 name": TOTAL, "类型 type": f"{len(f_df)} 处 / sites",
                                    "风险等级 level": "", "所在村 village": "、".join(f"{k} {v}" for k, v in counts.items())}))
        note = support_sentence(support)
        sheets[_sheet_name(tnames[t], tcodes[t], sheets)] = (f"{tnames[t]} ({tcodes[t]}) 风险报表 / risk report", note,
                                                             sections)
        summary.append({"乡镇 township": tnames[t], "代码 code": tcodes[t],
                        **{f"{labels[k]['zh']}人口 people L{k}": int(people_i[t, k - 1]) for k in range(1, 5)},
                        "总人口 people": int(people_i[t].sum()),
                        "重大风险村 villages L1": int((vt[vt["town"] == t]["worst"] == 1).sum()) if vt is not None else None,
                        "隐患点 geohazard points": len(g_df) if g_df is not None else None,
                        "威胁人数 people threatened": float(g_df["威胁人数 people"].sum()) if g_df is not None else None,
                        "红橙区重点设施 facilities in red/orange": len(f_df) if f_df is not None else None})
    summary_df = pd.DataFrame(summary)
    summary_total = {"乡镇 township": "全县合计 / County total", "代码 code": ""}
    summary_total.update({c: (None if summary_df[c].isna().all() else float(summary_df[c].sum()))
                          for c in summary_df.columns[2:]})
    reconcile = reconcile_table(tnames, tcodes, [(support, people_i, outside_people)] +
                                [_other_support(o, towns, tcodes, tg) for o in others if o is not None])
    progress.set(85)
    progress.check()
    if output_xlsx:
        _write_workbook(output_xlsx, summary_df, summary_total, support, sheets, reconcile)
    if output_csv_dir:
        _write_csvs(Path(output_csv_dir), summary_df, sheets, reconcile)
    progress.set(100)
    return {"TOWNSHIPS": len(towns),
            "VILLAGES_LEVEL_1": int((vt["worst"] == 1).sum()) if vt is not None else None,
            "GEOHAZARD_POINTS": int(len(gt)) if gt is not None else None,
            "PEOPLE_THREATENED": float(np.nansum(gt["people"])) if gt is not None else None,
            "FACILITIES_ALERT": int(len(ft)) if ft is not None else None,
            "summary": summary_df, "sheets": sheets, "villages": vt, "geohazards": gt, "facilities": ft,
            "reconcile": reconcile, "support": support}


TOTAL = "合计 / Total"
NO_VILLAGE = "(未提供村界 / no village layer)"
OUTSIDE_VILLAGES = "(不在任何村内 / outside every village)"


def level_matrix(town, level, values, n_towns):
    """(n_towns, 4) sums of ``values`` per township × risk level 1..4 (township -1 = outside: left out)."""
    out = np.zeros((n_towns, 4))
    ok = (town >= 0) & (level >= 1) & (level <= 4)
    np.add.at(out, (town[ok], level[ok] - 1), values[ok])
    return out


def support_sentence(support):
    zh, en = support
    how = ("每个单元按其最高风险等级计全部人口", "each unit's people all at its most severe level") \
        if "网格" not in zh else ("每个网格一个风险等级", "one level per cell")
    return f"人口口径: 按{zh}统计 ({how[0]}) / People counted on {en} ({how[1]}); 人数为整人 (最大余数法取整) / whole persons"


def _other_support(gdf, towns, tcodes, tg):
    """(support, whole persons per township × level, people outside) of another four-colour output."""
    other = to_working(gdf, working_crs(towns.crs, towns.total_bounds)).reset_index(drop=True)
    town = _town_index(other.geometry.values, tg)
    if "township_code" in other.columns:
        lookup = {c: i for i, c in enumerate(tcodes)}
        by_code = other["township_code"].astype(str).map(lookup)
        town = np.where(by_code.notna(), by_code.fillna(-1).astype(np.int64), town)
    area = other["area_km2"].to_numpy(float) if "area_km2" in other else shapely.area(other.geometry.values) / 1e6
    support = titles.support_note(other.columns, area, other["unit_code"].tolist()
                                  if "unit_code" in other.columns else None) or ("四色图单元", "four-colour units")
    people = other["people"].to_numpy(float)
    matrix = level_matrix(town, other["risk_level"].to_numpy(np.int64), people, len(towns))
    return support, whole_table(matrix), float(people[town < 0].sum())


def reconcile_table(tnames, tcodes, supports):
    """One row per township and level (and township and county totals): the people of each support side by side,
    and each other support's difference from the first."""
    labels = level_labels()
    rows = []
    first = supports[0]

    def row(town, code, level, values):
        r = {"乡镇 township": town, "代码 code": code, "风险等级 level": level}
        for (sup, _, _), v in zip(supports, values):
            r[f"人口 ({sup[0]}) people ({sup[1]})"] = int(v)
        for (sup, _, _), v in zip(supports[1:], values[1:]):
            r[f"差 ({sup[0]} − {first[0][0]}) difference"] = int(v - values[0])
        return r
    for t in range(len(tnames)):
        for k in range(4):
            rows.append(row(tnames[t], tcodes[t], labels[k + 1]["zh"], [m[t, k] for _, m, _ in supports]))
        rows.append(row(tnames[t], tcodes[t], TOTAL, [m[t].sum() for _, m, _ in supports]))
    for k in range(4):
        rows.append(row("全县合计 / County total", "", labels[k + 1]["zh"], [m[:, k].sum() for _, m, _ in supports]))
    rows.append(row("全县合计 / County total", "", TOTAL, [m.sum() for _, m, _ in supports]))
    return pd.DataFrame(rows)


def _sheet_name(name, code, existing):
    base = re.sub(r"[\[\]:*?/\\]", "", str(name))[:28] or str(code)[:28]
    cand, i = base, 2
    while cand in existing or cand == D.SUMMARY_SHEET:
        cand, i = f"{base[:26]}_{i}", i + 1
    return cand


def _write_workbook(path, summary, summary_total, support, sheets, reconcile):
    """The summary (with the county total), one sheet per township with titled sections and their totals, and the
    reconciliation of supports; formatted to be filed and printed (risk_plugin.xlsx_format)."""
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from . import xlsx_format as X

    def title(ws, text, note):
        text = str(text)[:EXCEL_CELL_MAX]          # a township name longer than a cell holds (its table says so)
        ws.cell(row=1, column=1, value=text).font = Font(bold=True, size=14)
        ws.cell(row=2, column=1, value=note).font = Font(italic=True, color="555555")
        ws.cell(row=2, column=1).alignment = Alignment(wrap_text=False)

    def table(ws, top, df, total=None, widths=None):
        """The header at row ``top``, the rows below, the total row last; returns the next free row."""
        df = excel_safe(df, ws.title)
        for j, col in enumerate(df.columns, start=1):
            ws.cell(row=top, column=j, value=str(col))
        rows = df.astype(object).where(df.notna(), None).itertuples(index=False, name=None)
        r = top
        for r, values in enumerate(rows, start=top + 1):
            for j, v in enumerate(values, start=1):
                ws.cell(row=r, column=j, value=_cell(v))
        last = top + len(df)
        totals = []
        if total is not None:
            last += 1
            for j, col in enumerate(df.columns, start=1):
                ws.cell(row=last, column=j, value=_cell(total.get(col)))
            totals = [last]
        if len(df) == 0 and total is None:
            ws.cell(row=top + 1, column=1, value="(无 / none)")
            last = top + 1
        X.format_table(ws, top, top + 1, max(last, top + 1), last_col=len(df.columns), total_rows=totals, widths=widths)
        return last + 2

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = D.SUMMARY_SHEET
    title(ws, "乡镇风险报表汇总 / Township risk report: summary", support_sentence(support))
    widths = {}
    end = table(ws, 4, summary, summary_total, widths)
    X.set_widths(ws, widths)
    ws.freeze_panes = "C5"
    ws.auto_filter.ref = f"A4:{ws.cell(row=4, column=len(summary.columns)).column_letter}{3 + len(summary)}"
    X.print_setup(ws, 4, landscape=True)
    for name, (text, note, sections) in sheets.items():
        ws = wb.create_sheet(name)
        title(ws, text, note)
        row, widths, village_header = 4, {}, None
        for heading, df, total in sections:
            ws.cell(row=row, column=1, value=heading).font = Font(bold=True, size=12)
            if heading.startswith("二、") and len(df):
                village_header = (row + 1, len(df.columns), len(df))
            row = table(ws, row + 1, df, total, widths)
        X.set_widths(ws, widths)
        ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width or 0, 14)
        ws.freeze_panes = "A3"                       # the title and the note stay in view
        if village_header:                           # the longest section can be filtered and sorted
            top, ncol, n = village_header
            ws.auto_filter.ref = f"A{top}:{ws.cell(row=top, column=ncol).column_letter}{top + n}"
        X.print_setup(ws, 2, landscape=True)
    ws = wb.create_sheet(D.RECONCILE_SHEET)
    title(ws, "口径对照: 各乡镇分等级人口 / Reconciliation: people per level per township on each support",
          D.RECONCILE_NOTE)
    widths = {}
    totals = [4 + i + 1 for i, lvl in enumerate(reconcile["风险等级 level"]) if lvl == TOTAL]
    for j, col in enumerate(reconcile.columns, start=1):
        ws.cell(row=4, column=j, value=str(col))
    reconcile = excel_safe(reconcile, D.RECONCILE_SHEET)
    for i, values in enumerate(reconcile.itertuples(index=False, name=None), start=5):
        for j, v in enumerate(values, start=1):
            ws.cell(row=i, column=j, value=_cell(v))
    X.format_table(ws, 4, 5, 4 + len(reconcile), last_col=len(reconcile.columns), total_rows=totals, widths=widths)
    X.set_widths(ws, widths)
    ws.freeze_panes = "D5"
    ws.auto_filter.ref = f"A4:{ws.cell(row=4, column=len(reconcile.columns)).column_letter}{4 + len(reconcile)}"
    X.print_setup(ws, 4, landscape=True)
    protect_formulas(wb)                            # a township named '=…' is a name, not a formula
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return str(path)


def _cell(v):
    """A value openpyxl writes as a number where it is one (numpy scalars too)."""
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if np.isnan(v) else (int(v) if float(v).is_integer() else float(v))
    return v


def _write_csvs(folder, summary, sheets, reconcile):
    """The same content as tables: summary, people per level, villages, geohazard points, facilities, and the
    reconciliation of supports (whole persons; no total rows: sum them where they are needed)."""
    write_table(summary, folder / "township_summary.csv")
    by_section = {}
    for name, (_, _, sections) in sheets.items():
        for heading, df, _ in sections:
            key = heading.split(" / ")[-1]
            by_section.setdefault(key, []).append(df.assign(**{"乡镇 township": name}))
    files = {"People, buildings and area per risk level": "people_by_level.csv",
             "Villages ranked by risk": "villages_ranked.csv",
             "Geohazard points and threatened households and people": "geohazard_points.csv",
             "Schools, hospitals and elderly homes in red or orange zones": "facilities_red_orange.csv"}
    for key, parts in by_section.items():
        df = pd.concat(parts, ignore_index=True)
        cols = ["乡镇 township"] + [c for c in df.columns if c != "乡镇 township"]
        write_table(df[cols], folder / files.get(key, f"{key}.csv"))
    write_table(reconcile[reconcile["乡镇 township"] != "全县合计 / County total"], folder / "reconcile_supports.csv")
