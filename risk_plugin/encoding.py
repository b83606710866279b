"""Shapefile attribute encodings: what a .cpg says, checked against the DBF bytes; names cut
mid-character by the format's 10-byte field-name limit."""
from pathlib import Path

from . import notices

GBK_NAMES = ("936", "gbk", "cp936", "gb2312", "gb18030", "ansi 936")
SNIFF_BYTES = 4_000_000


def _decodes(data, encoding):
    """True if ``data`` (a prefix of a file, or (field names, records)) is valid ``encoding``; a
    character cut at the end (of the prefix, or of each name) is fine."""
    import codecs
    parts = [*data[0], data[1]] if isinstance(data, tuple) else [data]
    try:
        for part in parts:
            codecs.getincrementaldecoder(encoding)().decode(part, final=False)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def _utf8_text(data):
    """True if ``data`` holds non-ASCII text that is valid UTF-8 (GBK text almost never is)."""
    parts = [*data[0], data[1]] if isinstance(data, tuple) else [data]
    return any(b > 127 for p in parts for b in p) and _decodes(data, "utf-8")


def _dbf_bytes(shp_path):
    """(field-name bytes, first records' bytes) of a shapefile's .dbf, or (None, None)."""
    shp = Path(shp_path)
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return None, None, None
    with open(dbf, "rb") as fh:
        raw = fh.read(SNIFF_BYTES)
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) > 10 else 0
    names = [raw[i:i + 11].split(b"\0")[0] for i in range(32, max(header_len - 1, 32), 32)]
    return raw[29] if len(raw) > 29 else 0, names, raw[header_len:]


def dbf_encoding(shp_path, label=None):
    """Encoding of a shapefile's attributes: what its .cpg says, checked against the bytes; else sniffed.

    Chinese shapefiles are often GBK/GB18030 without a .cpg (GDAL would then assume ISO-8859-1 and
    garble every name), or GBK under a .cpg that says UTF-8 (exported by one tool, renamed by
    another): both are read as GB18030, the second with a notice. Written by hand because neither
    GDAL nor pyogrio looks at the DBF bytes.
    """
    shp = Path(shp_path)
    label = label or shp.name
    ldid, names, body = _dbf_bytes(shp)
    sample = (names or [], body or b"")
    for cpg in (shp.with_suffix(".cpg"), shp.with_suffix(".CPG")):
        if cpg.exists():
            name = cpg.read_text(errors="ignore").strip().lower()
            declared = "GB18030" if name in GBK_NAMES else (name or "UTF-8")
            if body is None or _decodes(sample, declared) and not (declared == "GB18030" and _utf8_text(sample)):
                return declared
            if declared == "GB18030":
                notices.warn(label, f"{cpg.name} 声明编码为 GBK, 但属性实际是 UTF-8: 已按 UTF-8 读取",
                             f"{cpg.name} says GBK but the attributes are UTF-8: read as UTF-8",
                             f"把 {cpg.name} 的内容改为 UTF-8", f"change {cpg.name} to UTF-8")
                return "UTF-8"
            if _decodes(sample, "gb18030"):
                notices.warn(label, f"{cpg.name} 声明编码为 {declared}, 但属性实际是 GBK/GB18030: 已按 GB18030 读取",
                             f"{cpg.name} says {declared} but the attributes are GBK/GB18030: read as GB18030",
                             f"把 {cpg.name} 的内容改为 GBK (或删除它)", f"change {cpg.name} to GBK (or delete it)")
                return "GB18030"
            return declared
    if body is None:
        return None
    if ldid in (0x4D, 0x7A):  # DBF language driver ids for GBK/GB2312
        return "GB18030"
    if _decodes(sample, "utf-8"):
        return "UTF-8"
    if _decodes(sample, "gb18030"):
        return "GB18030"
    return None


def _redecode(gdf, encoding, label):
    """Field names and text read as Latin-1 (which never fails) decoded as ``encoding``.

    Used when a shapefile holds bytes that are not valid in its encoding: most often a Chinese field
    name cut mid-character by the format's 10-byte limit ('行政区划代码' → '行政区' + one byte).
    """
    renamed, cut_names = {}, []
    for col in gdf.columns:
        if col == gdf.geometry.name or not isinstance(col, str):
            continue
        raw = col.encode("latin-1")
        try:
            renamed[col] = raw.decode(encoding)
        except UnicodeDecodeError:
            renamed[col] = raw.decode(encoding, errors="ignore")
            cut_names.append(renamed[col])
    seen = {}
    for old, new in renamed.items():       # two names cut to the same prefix stay apart
        seen[new] = seen.get(new, 0) + 1
        if seen[new] > 1:
            renamed[old] = f"{new}~{seen[new]}"
    gdf = gdf.rename(columns=renamed)
    bad_values = 0
    for col in gdf.columns:
        if gdf[col].dtype == object and col != gdf.geometry.name:
            s = gdf[col]
            is_text = s.map(lambda v: isinstance(v, str))
            if is_text.any():
                raw = s[is_text].str.encode("latin-1")
                dec = raw.str.decode(encoding, errors="replace")
                bad_values += int(dec.str.contains("\ufffd", regex=False).sum())
                gdf.loc[is_text, col] = dec
    if cut_names:
        notices.warn(label, f"字段名 {cut_names} 被 shapefile 的 10 字节限制截断在半个汉字处, 已去掉残缺字节",
                     f"field names {cut_names} were cut mid-character by the shapefile 10-byte limit; the partial "
                     "byte was dropped", "改用 GeoPackage, 或在参数中指定字段", "use a GeoPackage, or name the fields in the parameters")
    if bad_values:
        notices.warn(label, f"{bad_values} 个属性值含有不属于 {encoding} 编码的字节, 已用 � 替代",
                     f"{bad_values} attribute values hold bytes that are not valid {encoding}; shown as �",
                     "检查 .cpg 编码声明, 或在 QGIS 中用正确编码另存", "check the .cpg, or re-save the layer in QGIS with the right encoding")
    return gdf


