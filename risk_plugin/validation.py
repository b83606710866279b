"""Validate input layers against the schemas in ``data_schemas/``.

Every problem is collected (not just the first) and reported together, naming
layer, field, features and the fix, in Chinese and English. Validation also
normalises: field aliases (统一编号 → code) and allowed values (滑坡 → landslide)
become canonical columns; the input file itself is never modified.
"""
import difflib
import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Problem, ValidationError

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data_schemas"
GEOM_FAMILY = {"Point": "Point", "MultiPoint": "Point", "LineString": "LineString",
               "MultiLineString": "LineString", "Polygon": "Polygon", "MultiPolygon": "Polygon"}


@functools.lru_cache(maxsize=None)
def load_schema(kind):
    """The schema for an input kind, checked against data_schemas/_meta.schema.json."""
    import jsonschema
    meta = json.loads((SCHEMA_DIR / "_meta.schema.json").read_text(encoding="utf-8"))
    path = SCHEMA_DIR / f"{kind}.json"
    if not path.exists():
        raise KeyError(f"no schema for input kind '{kind}' in {SCHEMA_DIR}")
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(schema, meta)
    return schema


def schema_kinds():
    return sorted(p.stem for p in SCHEMA_DIR.glob("*.json") if not p.stem.startswith("_"))


def _norm(text):
    return str(text).strip().lower()


def find_field(columns, spec, override=None):
    """The column holding ``spec``: the user's override, else the name or an alias."""
    if override:
        return override if override in columns else None
    lookup = {_norm(c): c for c in columns}
    for candidate in [spec["name"], *spec.get("aliases", [])]:
        if _norm(candidate) in lookup:
            return lookup[_norm(candidate)]
    return None


def _ids(index, mask):
    return list(index[np.asarray(mask)])


class LayerCheck:
    """Checks one vector layer against its schema and builds the normalised frame."""

    def __init__(self, gdf, kind, layer, field_map=None, repair=False):
        self.gdf, self.kind, self.layer = gdf, kind, layer
        self.schema = load_schema(kind)
        self.field_map = {k: v for k, v in (field_map or {}).items() if v}
        self.repair = repair
        self.problems, self.notes = [], []

    def problem(self, zh, en, fix_zh="", fix_en="", field=None, features=()):
        self.problems.append(Problem(self.layer, zh, en, fix_zh, fix_en, field, list(features)))

    def run(self):
        gdf = self.gdf
        if gdf.crs is None:
            self.problem("图层没有坐标参考系 (CRS)", "layer has no CRS",
                         "在 QGIS 中“指定投影”设置正确的 CRS (如 EPSG:4490/4545)",
                         "assign the correct CRS in QGIS (e.g. EPSG:4490/4545)")
        if len(gdf) == 0:
            self.problem("图层为空, 没有要素", "layer is empty (no features)",
                         "检查是否选错图层或过滤条件", "check the layer choice and any filter")
            return gdf
        out = self._geometry(gdf.copy())
        for spec in self.schema.get("fields", []):
            self._field(out, spec)
        return out

    def _geometry(self, gdf):
        geom = gdf.geometry
        null = geom.isna().to_numpy() | geom.is_empty.to_numpy()
        if null.any():
            self.problem(f"{null.sum()} 个要素几何为空", f"{null.sum()} features have null or empty geometry",
                         "删除或补绘这些要素", "delete or redraw these features", features=_ids(gdf.index, null))
        allowed = self.schema.get("geometry")
        if allowed:
            fam = geom.geom_type.map(GEOM_FAMILY)
            bad = (~fam.isin(allowed)).to_numpy() & ~null
            if bad.any():
                self.problem(f"几何类型应为 {allowed}, 实际有 {sorted(set(geom.geom_type[bad]))}",
                             f"geometry must be {allowed}, found {sorted(set(geom.geom_type[bad]))}",
                             "选择正确的图层", "choose the right layer", features=_ids(gdf.index, bad))
        invalid = ~geom.is_valid.to_numpy() & ~null
        if invalid.any():
            if self.repair:
                gdf.loc[invalid, gdf.geometry.name] = geom[invalid].make_valid()
                self.notes.append(f"[{self.layer}] 已修复 {invalid.sum()} 个无效几何 / repaired {invalid.sum()} invalid geometries")
            else:
                self.problem(f"{invalid.sum()} 个要素几何无效 (如自相交)", f"{invalid.sum()} features have invalid geometry (e.g. self-intersection)",
                             "运行“修复几何”(native:fixgeometries) 或勾选 REPAIR", "run Fix geometries (native:fixgeometries) or set REPAIR",
                             features=_ids(gdf.index, invalid))
        return gdf

    def _field(self, gdf, spec):
        name = spec["name"]
        col = find_field(gdf.columns, spec, self.field_map.get(name))
        label = f"{spec['zh']} / {spec['en']} ({name})"
        if col is None:
            wanted = self.field_map.get(name)
            if spec["required"] or wanted:
                cols = [c for c in gdf.columns if c != gdf.geometry.name]
                names = [wanted] if wanted else [name, *spec.get("aliases", [])]
                close = sorted({c for n in names for c in difflib.get_close_matches(n, cols, n=3, cutoff=0.5)})
                hint_zh = f"; 可能是: {close}" if close else ""
                hint_en = f"; did you mean: {close}" if close else ""
                self.problem(f"缺少必填字段 {label}{hint_zh}", f"required field {label} is missing{hint_en}",
                             f"添加该字段, 或在参数中指定对应字段 (可用别名: {spec.get('aliases', [])})",
                             f"add the field or name the matching field in the parameters (aliases: {spec.get('aliases', [])})",
                             field=wanted or name)
            return
        values = gdf[col]
        present = values.notna() & (values.astype(str).str.strip() != "")
        if spec["required"] and (~present).any():
            self.problem(f"必填字段 {label} 有空值", f"required field {label} has empty values",
                         "补全这些要素的值", "fill in these values", field=col, features=_ids(gdf.index, ~present))
        if spec["type"] in ("integer", "number"):
            num = pd.to_numeric(values, errors="coerce")
            bad = (num.isna() & present).to_numpy()
            if bad.any():
                self.problem(f"字段 {label} 应为数值, 有 {bad.sum()} 个非数值", f"field {label} must be numeric; {bad.sum()} values are not",
                             "改正这些值或把字段类型改为数值", "correct these values or convert the field to a number",
                             field=col, features=_ids(gdf.index, bad))
            if "minimum" in spec:
                low = (num < spec["minimum"]).to_numpy()
                if low.any():
                    self.problem(f"字段 {label} 有 {low.sum()} 个值小于 {spec['minimum']}",
                                 f"field {label} has {low.sum()} values below {spec['minimum']}",
                                 "改正这些值", "correct these values", field=col, features=_ids(gdf.index, low))
            gdf[name] = num
        else:
            gdf[name] = values.where(present, None).map(lambda v: v if v is None else str(v).strip())
        if "allowed" in spec:
            mapping = {_norm(k): v for k, v in spec["allowed"].items()}
            keys = values.map(lambda v: _norm(v) if pd.notna(v) else None)
            if spec["type"] != "string":
                keys = pd.to_numeric(values, errors="coerce").map(lambda v: str(int(v)) if pd.notna(v) and float(v).is_integer() else None)
            mapped = keys.map(mapping)
            bad = (mapped.isna() & present).to_numpy()
            if bad.any():
                shown = sorted(set(map(str, values[bad])))[:10]
                self.problem(f"字段 {label} 有不允许的值 {shown}", f"field {label} has values outside the allowed set: {shown}",
                             f"允许的值: {sorted(spec['allowed'])}", f"allowed values: {sorted(spec['allowed'])}",
                             field=col, features=_ids(gdf.index, bad))
            gdf[name] = mapped
        if spec.get("unique"):
            dup = gdf[name].duplicated(keep=False).to_numpy() & present.to_numpy()
            if dup.any():
                self.problem(f"字段 {label} 有重复值 {sorted(set(map(str, gdf[name][dup])))[:10]}",
                             f"field {label} has duplicate values {sorted(set(map(str, gdf[name][dup])))[:10]}",
                             "每个要素应有唯一编号", "give every feature a unique id", field=col, features=_ids(gdf.index, dup))


def check_vector(gdf, kind, layer=None, field_map=None, repair=False):
    """Check one layer; return (normalised GeoDataFrame, problems, notes)."""
    check = LayerCheck(gdf, kind, layer or gdf.attrs.get("name", kind), field_map, repair)
    out = check.run()
    out.attrs.update(gdf.attrs)
    return out, check.problems, check.notes


def check_raster(path, kind, layer=None, metric=None):
    """Problems with a raster input (CRS, metres where needed, all-nodata)."""
    import rasterio
    from .crs import is_metric
    layer = layer or Path(str(path)).name
    schema = load_schema(kind)
    problems = []
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        return [Problem(layer, f"无法读取栅格: {exc}", f"cannot read raster: {exc}", "检查路径与格式", "check path and format")]
    with src:
        if src.crs is None:
            problems.append(Problem(layer, "栅格没有坐标参考系 (CRS)", "raster has no CRS",
                                    "用“指定投影”设置 CRS", "assign the CRS (Assign Projection)"))
        elif (metric if metric is not None else schema.get("metric")) and not is_metric(src.crs):
            problems.append(Problem(layer, f"{src.crs.to_string()} 不是以米为单位的投影坐标系; 坡度等需要米",
                                    f"{src.crs.to_string()} is not a projected CRS in metres; slope and distances need metres",
                                    "用“重投影栅格”(gdal:warpreproject) 投影到 CGCS2000 高斯-克吕格 (如 EPSG:4545) 或 UTM",
                                    "reproject (gdal:warpreproject) to a CGCS2000 Gauss-Krüger zone (e.g. EPSG:4545) or UTM"))
        if src.width * src.height <= 4_000_000:
            arr = src.read(1, masked=True)
            if arr.mask.all():
                problems.append(Problem(layer, "栅格全部为无数据 (nodata)", "raster is nodata everywhere",
                                        "检查 nodata 设置与数据范围", "check the nodata value and extent"))
    return problems


def check_aligned(rasters):
    """Problems if rasters [(name, path)] differ in CRS, cell size or grid origin."""
    import rasterio
    problems, ref = [], None
    for name, path in rasters:
        with rasterio.open(path) as src:
            grid = (src.crs, src.transform, src.width, src.height)
        if ref is None:
            ref = (name, grid)
            continue
        if grid[0] != ref[1][0] or not grid[1].almost_equals(ref[1][1]) or grid[2:] != ref[1][2:]:
            problems.append(Problem(name, f"与 {ref[0]} 的栅格不对齐 (CRS、像元大小或范围不同)",
                                    f"does not align with {ref[0]} (different CRS, cell size or extent)",
                                    "用“对齐栅格”(gdal:warpreproject 指定目标范围和分辨率) 对齐后再运行",
                                    "align them first (gdal:warpreproject with the target extent and resolution)"))
    return problems


def require(problems):
    """Raise one ValidationError listing every problem, if there are any."""
    if problems:
        raise ValidationError(problems)


def validate_vector(gdf, kind, layer=None, field_map=None, repair=False):
    """Check a layer and return the normalised frame, or raise ValidationError."""
    out, problems, _ = check_vector(gdf, kind, layer, field_map, repair)
    require(problems)
    return out


def problems_table(problems):
    """Problems as a table for CSV/XLSX: one row per problem, bilingual columns."""
    rows = [{"图层 layer": p.layer, "字段 field": p.field or "",
             "要素 features": ", ".join(map(str, p.features[:50])), "要素数 n_features": len(p.features),
             "问题": p.zh, "problem": p.en, "处理办法": p.fix_zh, "fix": p.fix_en} for p in problems]
    return pd.DataFrame(rows, columns=["图层 layer", "字段 field", "要素 features", "要素数 n_features",
                                       "问题", "problem", "处理办法", "fix"])


def validate_source(source, kind, label=None, field_map=None, repair=False, repaired_path=None, report_path=None):
    """Validate one file (vector or raster) against schema ``kind``.

    Returns the list of problems. Writes the problem table to ``report_path``
    (CSV/XLSX) and, when ``repair`` is set and the layer is a vector, the
    repaired normalised copy to ``repaired_path``; the input is never touched.
    """
    from .errors import InputError
    from .io import read_vector, write_table, write_vector
    schema = load_schema(kind)
    label = label or Path(str(source).split("|")[0]).name
    if schema["layer_type"] == "raster":
        problems = check_raster(str(source).split("|")[0], kind, label)
    else:
        try:
            gdf = read_vector(source)
        except InputError as exc:
            gdf, problems = None, exc.problems
        if gdf is not None:
            norm, problems, _ = check_vector(gdf, kind, label, field_map, repair)
            if repair and repaired_path:
                write_vector(norm, repaired_path)
    if report_path:
        write_table(problems_table(problems), report_path)
    return problems
