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


SHAPEFILE_NAME_BYTES = 10    # a DBF field name holds 10 bytes: '行政区划代码' is cut to '行政区划代' (GBK) or '行政区' (UTF-8)


def truncations(name):
    """The forms a shapefile may have cut ``name`` to (GBK and UTF-8, a partial character dropped)."""
    forms = set()
    for enc in ("gb18030", "utf-8"):
        try:
            raw = str(name).encode(enc)
        except UnicodeEncodeError:
            continue
        if len(raw) > SHAPEFILE_NAME_BYTES:
            forms.add(raw[:SHAPEFILE_NAME_BYTES].decode(enc, errors="ignore"))
    return {_norm(f) for f in forms if f}


def _lookup(columns):
    return {_norm(c): c for c in columns}


def find_field(columns, spec, override=None):
    """The column holding ``spec``: the user's override (exact, else ignoring case), else the name or
    an alias (ignoring case). Shapefile-truncated forms are matched by :func:`match_fields`."""
    lookup = _lookup(columns)
    if override:
        return override if override in columns else lookup.get(_norm(override))
    for candidate in [spec["name"], *spec.get("aliases", [])]:
        if _norm(candidate) in lookup:
            return lookup[_norm(candidate)]
    return None


def match_fields(columns, specs, overrides=None):
    """{spec name: (column, how)} for every spec found; ``how`` is 'name', 'case' or 'truncated'.

    A field the layer holds only in a shapefile-truncated form ('SLOPE_MEA' for slope_mean,
    '行政区划代' for 行政区划代码) is matched when exactly one spec could have been cut to it and no
    spec matched the column by its full name."""
    overrides = overrides or {}
    found, claimed = {}, set()
    for spec in specs:
        col = find_field(columns, spec, overrides.get(spec["name"]))
        if col is not None:
            wanted = overrides.get(spec["name"])
            found[spec["name"]] = (col, "case" if wanted and col != wanted else "name")
            claimed.add(col)
    lookup = _lookup(c for c in columns if c not in claimed)
    cut_to = {}
    for spec in specs:
        if spec["name"] in found:
            continue
        names = [overrides[spec["name"]]] if overrides.get(spec["name"]) else [spec["name"], *spec.get("aliases", [])]
        for form in set().union(*(truncations(n) for n in names)):
            if form in lookup:
                cut_to.setdefault(form, set()).add(spec["name"])
    for form, owners in cut_to.items():
        if len(owners) == 1:
            found[owners.pop()] = (lookup[form], "truncated")
    return found


def resolve_column(columns, wanted):
    """The column a user meant by ``wanted``: itself, else the one differing only in case, else the
    one a shapefile cut it to (unique). None if there is none."""
    cols = list(columns)
    if wanted in cols:
        return wanted
    hit = match_fields(cols, [{"name": "_", "aliases": []}], {"_": wanted}).get("_")
    return hit[0] if hit else None


THOUSANDS = r"(?<=\d)[,，](?=\d{3}(?:\D|$))"


# a count's own unit after the number, as survey sheets write it ('300人', '12 户', '1000 orang'); no measure units
COUNT_UNITS = r"(?<=\d)\s*(人|户|栋|幢|间|层|座|所|个|处|名|口|orang|people|persons?|households?)$"


def parse_numbers(values):
    """(numbers, how many came from text): also '1,234', full-width '１２３', ' 12 ', '300人', '1000 orang' as survey
    sheets hold them."""
    num = pd.to_numeric(values, errors="coerce")
    if values.dtype != object:
        return num, 0
    text = values.where(num.isna() & values.notna())
    if not text.notna().any():
        return num, 0
    cleaned = text.astype(str).str.normalize("NFKC").str.strip().str.replace(THOUSANDS, "", regex=True) \
        .str.replace(COUNT_UNITS, "", regex=True)
    again = pd.to_numeric(cleaned.where(text.notna()), errors="coerce")
    fixed = again.notna() & text.notna()
    return num.where(~fixed, again), int(fixed.sum())


def _ids(index, mask):
    return list(index[np.asarray(mask)])


def allowed_text(allowed, per_class=3):
    """The allowed values of a field for a message: all of them when few, else each class with a few of the
    values that mean it ('rc (钢混, 钢混/框架, 框架 …)'), so a 57-value list stays readable."""
    if len(allowed) <= 12:
        return str(sorted(map(str, allowed)))
    by_class = {}
    for value, cls in allowed.items():
        by_class.setdefault(str(cls), []).append(str(value))
    parts = []
    for cls, values in by_class.items():
        others = [v for v in values if v != cls]
        more = " …" if len(others) > per_class else ""
        parts.append(f"{cls} ({', '.join(others[:per_class])}{more})" if others else cls)
    return "; ".join(parts)


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
        if gdf.crs is not None:
            self._coordinates(gdf)
        out = self._geometry(gdf.copy())
        specs = self.schema.get("fields", [])
        matched = match_fields([c for c in out.columns if c != out.geometry.name], specs, self.field_map)
        for spec in specs:
            self._field(out, spec, matched)
        return out

    def _numbers(self, values, col, label):
        """Numbers, also from text as survey sheets hold it: '1,234', full-width '１２３', ' 12 '."""
        num, n = parse_numbers(values)
        if n:
            shown = sorted(set(map(str, values[values.notna() & pd.to_numeric(values, errors="coerce").isna()
                                               & num.notna()])))[:5]
            self.notes.append(f"[{self.layer}] 字段 {label} 的 {n} 个文字值已读作数字 (如 {shown}) / "
                              f"{n} text values of {label} read as numbers (e.g. {shown})")
        return num

    def _coordinates(self, gdf):
        """Degrees must look like degrees: metre coordinates under EPSG:4490 would be reprojected into nonsense."""
        from pyproj import CRS
        try:
            geographic = CRS.from_user_input(gdf.crs).is_geographic
        except Exception:  # noqa: BLE001 - an unreadable CRS is reported by the reprojection itself
            return
        if geographic:
            b = gdf.total_bounds
            if np.isfinite(b).all() and not (-180.5 <= b[0] and b[2] <= 360.5 and -90.5 <= b[1] and b[3] <= 90.5):
                self.problem(*degree_range_problem(gdf.crs, b))

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

    def _field(self, gdf, spec, matched):
        name = spec["name"]
        col, how = matched.get(name, (None, None))
        label = f"{spec['zh']} / {spec['en']} ({name})"
        if how == "truncated":
            self.notes.append(f"[{self.layer}] 字段 '{col}' 按 {label} 使用 (shapefile 截断的字段名) / field '{col}' "
                              f"used as {label} (a name cut by the shapefile 10-byte limit)")
        if col is None:
            wanted = self.field_map.get(name)
            if spec["required"] or wanted:
                cols = [c for c in gdf.columns if c != gdf.geometry.name]
                names = [wanted] if wanted else [name, *spec.get("aliases", [])]
                close = sorted({c for n in names for c in difflib.get_close_matches(n, cols, n=3, cutoff=0.5)})
                if wanted:   # the user named a field that is not there: say which ones could be meant
                    alias_hits = [c for c in cols if _norm(c) in {_norm(a) for a in [name, *spec.get("aliases", [])]}]
                    close = sorted(set(close) | set(alias_hits))
                hint_zh = f"; 可能是: {close}" if close else f"; 图层字段: {cols[:15]}"
                hint_en = f"; did you mean: {close}" if close else f"; the layer's fields: {cols[:15]}"
                if wanted:
                    self.problem(f"参数指定的字段 '{wanted}' ({label}) 不在图层中{hint_zh}",
                                 f"the field '{wanted}' named for {label} is not in the layer{hint_en}",
                                 "在参数中选择图层中存在的字段 (区分大小写、注意 shapefile 字段名最多 10 字节)",
                                 "choose a field the layer has (shapefile names are cut to 10 bytes)", field=wanted)
                else:
                    self.problem(f"缺少必填字段 {label}{hint_zh}", f"required field {label} is missing{hint_en}",
                                 f"添加该字段, 或在参数中指定对应字段 (可用别名: {spec.get('aliases', [])})",
                                 f"add the field or name the matching field in the parameters (aliases: {spec.get('aliases', [])})",
                                 field=name)
            return
        values = gdf[col]
        present = values.notna() & (values.astype(str).str.strip() != "")
        if spec["required"] and (~present).any():
            self.problem(f"必填字段 {label} 有空值", f"required field {label} has empty values",
                         "补全这些要素的值", "fill in these values", field=col, features=_ids(gdf.index, ~present))
        if spec["type"] in ("integer", "number"):
            num = self._numbers(values, col, label)
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
                allowed = allowed_text(spec["allowed"])
                self.problem(f"字段 {label} 有不允许的值 {shown}", f"field {label} has values outside the allowed set: {shown}",
                             f"允许的值: {allowed}", f"allowed values: {allowed}", field=col, features=_ids(gdf.index, bad))
            gdf[name] = mapped
        if spec.get("unique"):
            dup = gdf[name].duplicated(keep=False).to_numpy() & present.to_numpy()
            if dup.any():
                self.problem(f"字段 {label} 有重复值 {sorted(set(map(str, gdf[name][dup])))[:10]}",
                             f"field {label} has duplicate values {sorted(set(map(str, gdf[name][dup])))[:10]}",
                             "每个要素应有唯一编号", "give every feature a unique id", field=col, features=_ids(gdf.index, dup))


def degree_range_problem(crs, bounds):
    """(zh, en, fix_zh, fix_en) for coordinates outside ±180°/±90° under a geographic CRS."""
    from pyproj import CRS
    name = CRS.from_user_input(crs).to_string()
    x, y = bounds[0], bounds[1]
    return (f"坐标 ({x:.0f}, {y:.0f}) 超出经纬度范围, 而坐标系 {name} 以度为单位: 数据多半是投影坐标 (米), 坐标系设错了",
            f"coordinates ({x:.0f}, {y:.0f}) are outside the range of degrees, but the CRS {name} is in degrees: the "
            "data are most likely projected (metres) under a wrong CRS",
            "用“指定投影”(不是重投影) 设为数据实际的投影坐标系, 如 CGCS2000 3 度带 EPSG:4545 (中央经线 108°E)",
            "assign (not reproject) the projected CRS the data were made in, e.g. CGCS2000 3-degree GK EPSG:4545 (CM 108°E)")


def require_degrees_in_range(crs, bounds, layer):
    """Raise InputError when a geographic CRS holds coordinates outside ±180° / ±90° (metres mislabelled)."""
    from pyproj import CRS
    from .errors import InputError
    if crs is None or not CRS.from_user_input(crs).is_geographic:
        return
    b = np.asarray(bounds, dtype=float)
    if np.isfinite(b).all() and not (-180.5 <= b[0] and b[2] <= 360.5 and -90.5 <= b[1] and b[3] <= 90.5):
        raise InputError(Problem(layer, *degree_range_problem(crs, b)))


def check_vector(gdf, kind, layer=None, field_map=None, repair=False):
    """Check one layer; return (normalised GeoDataFrame, problems, notes)."""
    from . import notices
    check = LayerCheck(gdf, kind, layer or gdf.attrs.get("name", kind), field_map, repair)
    out = check.run()
    out.attrs.update(gdf.attrs)
    for note in check.notes:          # what validation did to make the layer usable goes to the log
        notices.emit(note)
    return out, check.problems, check.notes


# Values that mean "no data" in rasters from the usual tools (ArcGIS, ENVI, SRTM, GDAL float min), as
# found in files that forgot to declare them.
NODATA_SENTINELS = (-9999.0, -99999.0, -32768.0, -32767.0, -3.4028234663852886e38, -1.7976931348623157e308)
SAMPLE_CELLS = 4_000_000


def raster_sample(src):
    """Band 1, masked: whole when it has at most 4 M cells, else read decimated to about 4 M cells."""
    if src.width * src.height <= SAMPLE_CELLS:
        return src.read(1, masked=True)
    f = (src.width * src.height / SAMPLE_CELLS) ** 0.5
    return src.read(1, masked=True, out_shape=(max(1, int(src.height / f)), max(1, int(src.width / f))))


def undeclared_nodata(values, layer):
    """A problem when the raster holds a usual nodata value (-9999, -32768, float min …) but declares none."""
    values = np.asarray(values)
    if values.dtype.kind not in "iuf":
        return []
    for v in NODATA_SENTINELS:
        if values.dtype.kind in "iu" and not np.iinfo(values.dtype).min <= v <= np.iinfo(values.dtype).max:
            continue
        hit = values <= np.float32(-3.4e38) if v < -1e38 else values == np.asarray(v).astype(values.dtype)
        n = int(np.count_nonzero(hit))
        if n:
            break
    else:
        return []
    return [Problem(layer, f"栅格含 {n:,} 个值为 {v:g} 的像元 (常见的无数据值), 但没有声明 nodata: 这些像元会被当作真实数值 "
                           "(如水深 -9999 m 被当作无水、人口为负)",
                    f"the raster holds {n:,} cells of {v:g} (a usual nodata value) but declares no nodata: they would be "
                    "read as real values (a depth of -9999 m as dry land, negative people)",
                    f"声明 nodata 后再运行: QGIS “转换(格式转换)” (gdal:translate) 设 NODATA={v:g}, 或 gdal_edit.py -a_nodata {v:g}",
                    f"declare the nodata value first: gdal:translate with NODATA={v:g}, or gdal_edit.py -a_nodata {v:g}")]


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
        if src.crs is not None and src.crs.is_geographic:
            b = src.bounds
            if not (-180.5 <= b.left and b.right <= 360.5 and -90.5 <= b.bottom and b.top <= 90.5):
                problems.append(Problem(layer, *degree_range_problem(src.crs, (b.left, b.bottom, b.right, b.top))))
        sample = raster_sample(src)
        if np.ma.getmaskarray(sample).all():
            problems.append(Problem(layer, "栅格全部为无数据 (nodata)", "raster is nodata everywhere",
                                    "检查 nodata 设置与数据范围", "check the nodata value and extent"))
        elif src.nodata is None:
            problems.extend(undeclared_nodata(np.ma.getdata(sample), layer))
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
    from .io import read_vector, write_table, write_vector
    schema = load_schema(kind)
    label = label or Path(str(source).split("|")[0]).name
    if schema["layer_type"] == "raster":
        problems = check_raster(str(source).split("|")[0], kind, label)
    else:
        gdf = read_vector(source, label)        # a file that cannot be read at all is an error, not a report
        norm, problems, _ = check_vector(gdf, kind, label, field_map, repair)
        if repair and repaired_path:
            write_vector(norm, repaired_path)
    if report_path:
        write_table(problems_table(problems), report_path)
    return problems
