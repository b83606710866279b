"""Per-township summary for the print atlas: people per risk level (or hazard class).

>>> s = township_summary("county/townships.gpkg", "out/fourcolor.gpkg")
>>> s.table_key, s.wide.loc[3]          # 'risk_levels'; one township (coverage fid 3): people per level
>>> s.long                               # one row per township and level, as the layout table shows it

Two kinds of source are understood (whichever the layer is):
- **features with a class and a people field** (a four-colour grid or units with ``risk_level`` and
  ``people``; points are fine): polygons are split among townships by area share (people assumed evenly
  spread inside a feature), points go to the township that contains them;
- **units with one people column per class** (riskmap:exposure's OUTPUT_UNITS: ``pop_c0`` … ``pop_c4``
  per hazard class): each unit goes to the township that contains its representative point. When the
  layer holds several unit levels (field ``level``), only the first is used, so nobody is counted twice.

People outside every township are reported in :attr:`Summary.outside`, not dropped silently.
"""
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from . import classes as cl
from .crs import require_crs, to_working, working_crs
from .definitions import webmap as D
from .errors import input_error
from .inputs import VectorInput, load_vectors
from .io import read_vector
from .rounding import whole_table
from .validation import find_field, load_schema
from .webmap_layers import recognise


@dataclass
class Summary:
    table_key: str              # class table in styles/classes.json
    wide: pd.DataFrame          # index = coverage fid; columns: name, one per class (label), total
    long: pd.DataFrame          # unit (fid), name, class (label), people, persons (whole), share (% of persons)
    outside: float              # people in the source outside every township
    source_kind: str            # 'features' or 'wide'
    support: tuple = None       # (中文, English) of what the source counts on, e.g. ('100 m 网格', '100 m grid cells')

    def title(self):
        """'分等级人口 (100 m 网格) / People per level (100 m grid cells)'."""
        from .titles import with_support
        return with_support("分等级人口 / People per level", self.support)


def load_coverage(source, name_field=None):
    """Read and check the atlas coverage (township polygons, schema ``units``: a name, optional code).

    Raises one ValidationError naming the layer for every problem (no CRS, empty, null or invalid
    geometry, no name field)."""
    spec = VectorInput("coverage", source, "units", {"name": name_field} if name_field else {})
    return load_vectors([spec])["coverage"]


def _check_summary(src, label):
    if len(src) == 0:
        raise input_error(label, "汇总图层没有要素", "the summary layer has no features",
                          "选择四色风险或暴露分析的输出图层", "choose a four-colour risk or exposure output")
    invalid = ~shapely.is_valid(src.geometry.to_numpy())
    if invalid.any():
        raise input_error(label, f"{invalid.sum()} 个要素几何无效, 面积无法按乡镇分摊",
                          f"{invalid.sum()} features have invalid geometry; their people cannot be split by area",
                          "运行“修复几何”(native:fixgeometries) 后再用", "run Fix geometries (native:fixgeometries) first",
                          features=list(src.index[invalid]))


def coverage_names(coverage, name_field=None):
    """The township name column of a coverage layer: ``name_field``, else the first alias of the ``units``
    schema's name field (名称, 乡镇 …, name). Aliases come before the canonical 'name' that validation adds, so
    the column found is one the file itself has (the print layout reads the file)."""
    spec = next(f for f in load_schema("units")["fields"] if f["name"] == "name")
    col = find_field(coverage.columns, dict(spec, name=spec["aliases"][0]), name_field)
    if col is None:
        raise input_error(coverage.attrs.get("name", "coverage"), "找不到乡镇名称字段",
                          "no township name field found", "在参数中指定名称字段 (NAME_FIELD)",
                          "name the field in the parameters (NAME_FIELD)", field=name_field or "name")
    return col


def _people_column(columns, people_field=None):
    if people_field:
        return people_field if people_field in columns else None
    lookup = {str(c).strip().lower(): c for c in columns}
    return next((lookup[n.lower()] for n in D.PEOPLE_FIELDS if n.lower() in lookup), None)


def _wide_columns(columns):
    """{class value: column} for per-class people columns (e.g. pop_c0..pop_c4), with the table key."""
    for key, pattern in D.PEOPLE_PER_CLASS_COLUMNS:
        found = {}
        for c in columns:
            m = re.fullmatch(pattern, str(c), flags=re.IGNORECASE)
            if m:
                found[int(m.group(1))] = c
        if found:
            return key, found
    return None, {}


def township_summary(coverage, source, name_field=None, people_field=None):
    """People per class per township of ``coverage`` from ``source`` (see the module docstring)."""
    cov = read_vector(coverage) if not hasattr(coverage, "geometry") else coverage
    src = read_vector(source) if not hasattr(source, "geometry") else source
    cov_name, src_name = cov.attrs.get("name", "coverage"), src.attrs.get("name", "summary")
    require_crs(cov, cov_name)
    require_crs(src, src_name)
    names = cov[coverage_names(cov, name_field)].astype(str)
    wcrs = working_crs(cov.crs, cov.total_bounds)
    towns = to_working(cov.geometry, wcrs).to_numpy()
    src = src[~(src.geometry.isna() | src.geometry.is_empty)]
    _check_summary(src, src_name)

    key, per_class = _wide_columns(src.columns)
    if per_class:
        if "level" in src.columns:
            src = src[src["level"] == src["level"].min()]
        table = cl.class_table(key)
        values = [c["value"] for c in table["classes"]]
        people = np.column_stack([pd.to_numeric(src[per_class[v]], errors="coerce").fillna(0).to_numpy(float)
                                  if v in per_class else np.zeros(len(src)) for v in values])
        geoms = shapely.point_on_surface(to_working(src.geometry, wcrs).to_numpy())
        kind = "wide"
        split = _by_point(geoms, towns)
        idx_src, idx_town, frac = split
        amount = people[idx_src] * frac[:, None]
        grid = np.zeros((len(towns), len(values)))
        np.add.at(grid, idx_town, amount)
        total = people.sum()
    else:
        style = recognise(src.columns, src_name, lambda c: src[c].dropna().unique()[:1000])
        if style.kind != "classes":
            raise input_error(src_name, "汇总图层没有可识别的等级字段 (如 risk_level, hazard_class)",
                              "the summary layer has no recognised class field (e.g. risk_level, hazard_class)",
                              "选择四色风险或暴露分析的输出图层", "choose a four-colour risk or exposure output")
        pcol = _people_column(src.columns, people_field)
        if pcol is None:
            raise input_error(src_name, f"汇总图层没有人口字段 (可用: {list(D.PEOPLE_FIELDS)})",
                              f"the summary layer has no people field (any of {list(D.PEOPLE_FIELDS)})",
                              "在参数中指定人口字段", "name the people field in the parameters", field=people_field)
        key, kind = style.key, "features"
        table = cl.class_table(key)
        cls = cl.match_classes(table, src[style.field])
        people = pd.to_numeric(src[pcol], errors="coerce").fillna(0).to_numpy(float)
        ok = cls >= 0
        geoms = to_working(src.geometry, wcrs).to_numpy()[ok]
        cls, people = cls[ok], people[ok]
        polygonal = shapely.get_type_id(geoms) >= 3
        grid = np.zeros((len(towns), len(table["classes"])))
        for mask, fn in ((polygonal, _by_area), (~polygonal, _by_point)):
            if mask.any():
                i_src, i_town, frac = fn(geoms[mask], towns)
                np.add.at(grid, (i_town, cls[mask][i_src]), people[mask][i_src] * frac)
        total = people.sum()
    labels = [cl.label(c) for c in table["classes"]]
    # drop classes that mean "none" (hazard class 0, transparent) from the table, unless they hold people
    keep = [i for i, c in enumerate(table["classes"]) if not (len(c["color"]) == 9 and c["color"].endswith("00"))
            or grid[:, i].sum() > 0]
    wide = pd.DataFrame(grid[:, keep], index=cov.index, columns=[labels[i] for i in keep])
    wide.insert(0, "name", names.to_numpy())
    wide["total"] = grid.sum(axis=1)
    # whole persons: each township's row adds up to its rounded total, the townships to the county's
    persons = whole_table(grid[:, keep])
    rows = []
    for t, (fid, row) in enumerate(wide.iterrows()):   # a few townships × 4 classes: the table the layout shows
        whole = int(persons[t].sum())
        for j, i in enumerate(keep):
            rows.append({"unit": int(fid), "name": row["name"], "class": labels[i], "color": table["classes"][i]["color"][:7],
                         "people": float(row[labels[i]]), "persons": int(persons[t, j]),
                         "share": 100.0 * persons[t, j] / whole if whole > 0 else 0.0})
    long = pd.DataFrame(rows)
    from .titles import support_note
    area = src["area_km2"].to_numpy() if "area_km2" in src.columns else None
    codes = src["unit_code"].tolist() if "unit_code" in src.columns else None
    return Summary(key, wide, long, float(total - grid.sum()), kind, support_note(src.columns, area, codes))


def _by_area(geoms, towns):
    """(source index, town index, share of the source's area in the town) for polygons."""
    tree = shapely.STRtree(towns)
    i_src, i_town = tree.query(geoms, predicate="intersects")
    area = shapely.area(geoms)[i_src]
    inter = shapely.area(shapely.intersection(geoms[i_src], towns[i_town]))
    frac = np.divide(inter, area, out=np.zeros_like(inter), where=area > 0)
    return i_src, i_town, frac


def _by_point(points, towns):
    """(source index, town index, 1.0) for points (a point on a shared border goes to one town)."""
    tree = shapely.STRtree(towns)
    i_src, i_town = tree.query(points, predicate="intersects")
    _, first = np.unique(i_src, return_index=True)
    return i_src[first], i_town[first], np.ones(len(first))
