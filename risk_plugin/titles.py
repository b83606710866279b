"""Human bilingual titles of layers, the same in the web map and the print atlas: never a file name.

>>> layer_title("out/fourcolor_grid.gpkg", style)        # '风险四色图 (100 m 网格) / Four-color risk map (100 m grid)'

In order:
1. the title the algorithm that wrote the file stamped in it (GeoPackage: gpkg_contents.identifier; GeoTIFF: the
   TITLE tag; processing/styling.py writes both, from the output parameter's bilingual description);
2. the name the user gave the layer in QGIS, when it is more than the file's own name;
3. what the layer is: the input kind of data_schemas/ its fields match, a base layer's name or a class table's
   title (styles/classes.json).
A four-colour layer always says what it counts on (:func:`support_note`): the same people per level differ between
grid cells and whole villages, and a reader must know which one a number is.
"""
import functools
import math
import re
from pathlib import Path

from . import classes as cl
from .io import data_layer, split_source

CJK = re.compile(r"[\u4e00-\u9fff]")


def stamped_title(source):
    """The title written into the file, or None."""
    path, layer = split_source(str(source))
    try:
        if Path(path).suffix.lower() in (".tif", ".tiff"):
            import rasterio
            with rasterio.open(path) as src:
                return src.tags().get("TITLE") or None
        if Path(path).suffix.lower() == ".gpkg":
            import pyogrio
            layer = layer or data_layer(path)
            meta = pyogrio.read_info(path, layer=layer).get("layer_metadata") or {}
            ident = meta.get("IDENTIFIER")
            return ident if ident and ident != layer else None
    except Exception:  # noqa: BLE001 - an unreadable title is no title
        return None
    return None


def file_stem(source):
    path, layer = split_source(str(source))
    return layer or Path(path).stem


def is_human(name, source):
    """A layer name worth keeping: not empty, not the file's (or its table's) own name."""
    if not name:
        return False
    name = str(name).strip()
    return bool(name) and name not in (file_stem(source), Path(split_source(str(source))[0]).stem) \
        and (bool(CJK.search(name)) or " / " in name or " " in name)


def support_note(columns, area_km2=None, unit_codes=None):
    """(中文, English) of what a four-colour layer counts on, from its fields: ('100 m 网格', '100 m grid cells'),
    ('村/社区', 'villages'), ('乡镇/街道', 'townships') or ('行政单元', 'admin units'); None when it is not a
    riskmap:fourcolorrisk output. Villages and townships are told apart by their GB/T 10114 12-digit codes
    (a township's ends in 000)."""
    cols = {str(c).lower() for c in columns}
    if {"grid_row", "grid_col"} <= cols:
        import pandas as pd
        area = pd.to_numeric(pd.Series(list(area_km2 if area_km2 is not None else [])), errors="coerce").dropna()
        if len(area) and area.max() > 0:
            cell = 1000.0 * math.sqrt(float(area.max()))
            cell = round(cell / 10.0) * 10.0 if cell >= 50 else round(cell)
            return f"{cell:g} m 网格", f"{cell:g} m grid cells"
        return "网格", "grid cells"
    if {"unit_name", "unit_code"} & cols and "risk_level" in cols:
        codes = [str(c) for c in (unit_codes if unit_codes is not None else []) if c is not None]
        if codes and all(len(c) == 12 and c.isdigit() for c in codes):
            if all(c[9:] != "000" for c in codes):
                return "村/社区", "villages"
            if all(c[9:] == "000" and c[6:9] != "000" for c in codes):
                return "乡镇/街道", "townships"
        return "行政单元", "admin units"
    return None


def with_support(title, note):
    """'风险四色图 / Four-color risk map' + note → '风险四色图 (100 m 网格) / Four-color risk map (100 m grid cells)'."""
    if not note or note[0] in title or note[1] in title:
        return title
    if " / " in title:
        zh, en = title.split(" / ", 1)
        return f"{zh} ({note[0]}) / {en} ({note[1]})"
    return f"{title} ({note[0]} / {note[1]})"


@functools.lru_cache(maxsize=1)
def _schemas():
    from .validation import load_schema, schema_kinds
    return [load_schema(k) for k in schema_kinds()]


def schema_title(columns, geometry=True, weak=True):
    """'乡镇/街道 / Townships' for a layer whose fields match an input kind of data_schemas/ (every required field and
    at least two fields found), or None. A kind with no required field is a weak match (two common fields such as
    名称 and 统一编号 fit many layers): left out with ``weak=False``."""
    from .validation import find_field
    best, score = None, 1
    for schema in _schemas():
        if (schema.get("layer_type") == "raster") == geometry or not schema.get("fields"):
            continue
        found = [f for f in schema["fields"] if find_field(columns, f) is not None]
        required = [f for f in schema["fields"] if f.get("required")]
        if not required and not weak:
            continue
        if all(find_field(columns, f) is not None for f in required) and len(found) > score:
            best, score = schema, len(found)
    return f"{best['zh']} / {best['en']}" if best else None


def style_title(style, columns=()):
    """Title from the style: a base layer's name, a class table's title, or the input kind the fields match."""
    if style is None:
        return None
    if style.kind == "base" and style.key != "other":
        st = cl.base_style(style.key)
        return f"{st['zh']} / {st['en']}"
    if style.kind == "classes":       # what a layer of these classes is ('风险四色图'), else the table's title
        table = cl.class_table(style.key)
        if table.get("layer_zh") and table.get("layer_en"):
            return f"{table['layer_zh']} / {table['layer_en']}"
        return cl.title(table)
    return schema_title(columns) if columns is not None else None


def layer_title(source, style=None, name=None, columns=(), area_km2=None, unit_codes=None):
    """The layer's title (see the module docstring)."""
    title = stamped_title(source)
    if not title and is_human(name, source):
        title = str(name).strip()
    if not title:
        base = style is not None and style.kind == "base" and style.key != "other"
        title = style_title(style, columns) if base else None           # 乡镇界, 道路 …
        title = title or schema_title(columns, weak=False)              # the input kind: 地质灾害隐患点 …
        title = title or (style_title(style, columns) if style is not None and style.key != "other" else None)
        title = title or schema_title(columns)
        title = title or (str(name).strip() if name else file_stem(source))
    return with_support(title, support_note(columns, area_km2, unit_codes))


def frame_title(gdf, source=None, style=None, name=None):
    """:func:`layer_title` for a GeoDataFrame read from ``source``."""
    source = source or gdf.attrs.get("source", "")
    area = gdf["area_km2"].to_numpy() if "area_km2" in gdf.columns else None
    codes = gdf["unit_code"].tolist() if "unit_code" in gdf.columns else None
    return layer_title(source, style, name, list(gdf.columns), area, codes)
