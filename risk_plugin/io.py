"""Reading and writing layers, tables and rasters. Every write is atomic: the
file appears complete under its final name, or not at all."""
import contextlib
import contextvars
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .errors import input_error

SHAPEFILE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd")
GPKG_SYSTEM_TABLES = ("layer_styles", "qgis_projects")
VECTOR_DRIVERS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".geojson": "GeoJSON", ".json": "GeoJSON",
                  ".fgb": "FlatGeobuf", ".csv": "CSV"}


def layer_name(path):
    """A readable name for messages: file name plus layer, e.g. 'roads.gpkg|roads'."""
    p = str(path)
    return Path(p.split("|")[0]).name + ("|" + p.split("layername=")[-1] if "layername=" in p else "")


def split_source(source):
    """Split a QGIS-style source 'file.gpkg|layername=x' into (path, layer)."""
    parts = str(source).split("|")
    path, layer = parts[0], None
    for part in parts[1:]:
        if part.startswith("layername="):
            layer = part[len("layername="):]
    return path, layer


def dbf_encoding(shp_path):
    """Encoding of a shapefile's attributes: from its .cpg, else sniffed.

    Chinese shapefiles are often GBK/GB18030 without a .cpg; GDAL would then
    assume ISO-8859-1 and garble every name. Written by hand because neither GDAL
    nor pyogrio sniffs the DBF bytes.
    """
    shp = Path(shp_path)
    for cpg in (shp.with_suffix(".cpg"), shp.with_suffix(".CPG")):
        if cpg.exists():
            name = cpg.read_text(errors="ignore").strip().lower()
            if name in ("936", "gbk", "cp936", "gb2312", "gb18030"):
                return "GB18030"
            return name or "UTF-8"
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    ldid = raw[29] if len(raw) > 29 else 0
    if ldid in (0x4D, 0x7A):  # DBF language driver ids for GBK/GB2312
        return "GB18030"
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) > 10 else 0
    body = raw[header_len:]
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        body.decode("gb18030")
        return "GB18030"
    except UnicodeDecodeError:
        return None


def read_vector(source, name=None):
    """Read a vector layer (GPKG, Shapefile, GeoJSON …) into a GeoDataFrame.

    ``source`` may carry a QGIS layer suffix: 'villages.gpkg|layername=villages'.
    Shapefile encodings are detected (GBK without .cpg reads correctly).
    """
    import geopandas as gpd
    import pyogrio

    path, layer = split_source(source)
    name = name or layer_name(source)
    if not os.path.exists(path):
        raise input_error(name, f"文件不存在: {path}", f"file does not exist: {path}",
                          "检查路径", "check the path")
    kwargs = {}
    if layer is None and path.lower().endswith(".gpkg"):
        layer = data_layer(path)
    if path.lower().endswith(".shp"):
        enc = dbf_encoding(path)
        if enc:
            kwargs["encoding"] = enc
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio", fid_as_index=True, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise input_error(name, f"无法读取图层: {exc}", f"cannot read layer: {exc}",
                          "用 QGIS 打开检查文件是否损坏", "open it in QGIS to check the file") from exc
    if gdf.crs is not None and gdf.crs.name.lower().startswith("undefined"):
        gdf = gdf.set_crs(None, allow_override=True)   # GeoPackage srs_id 0/-1: no CRS was ever set
    gdf.attrs["source"] = str(source)
    gdf.attrs["name"] = name
    return gdf


_ON_OUTPUT = contextvars.ContextVar("riskmap_on_output", default=())


@contextlib.contextmanager
def on_output(hook):
    """Within this block, call ``hook(tmp_path, final_path)`` for every file written through :func:`atomic_path`,
    once it is complete and before it moves into place; files the hook writes beside ``tmp_path`` (a .qml) move
    with it. The Processing layer stores each output's style this way (processing/styling.py), so the engine needs
    no QGIS and a file never appears without its style."""
    token = _ON_OUTPUT.set(_ON_OUTPUT.get() + (hook,))
    try:
        yield
    finally:
        _ON_OUTPUT.reset(token)


def data_layer(gpkg):
    """The first data layer of a GeoPackage, passing over QGIS's layer_styles table (which QGIS writes into every
    GeoPackage whose style is saved, riskmap outputs included); None if the file cannot be listed."""
    import pyogrio
    try:
        names = [name for name, _ in pyogrio.list_layers(gpkg)]
    except Exception:  # noqa: BLE001 - read_file reports the problem with the file
        return None
    data = [n for n in names if n not in GPKG_SYSTEM_TABLES]
    return data[0] if data else None


@contextlib.contextmanager
def atomic_path(final_path):
    """Yield a temporary path beside ``final_path``; move it into place on success.

    On any exception the temporary file(s) are removed and ``final_path`` is left
    as it was. Shapefile sidecars move together. Hooks of :func:`on_output` run just before the move.
    """
    final = Path(final_path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=".riskmap-tmp-", dir=final.parent))
    tmp = tmpdir / final.name
    try:
        yield str(tmp)
        for hook in _ON_OUTPUT.get():
            hook(str(tmp), str(final))
        produced = sorted(tmpdir.iterdir())
        if not produced:
            raise RuntimeError(f"nothing was written for {final}")
        if final.suffix.lower() == ".shp":
            for ext in SHAPEFILE_SIDECARS:
                old = final.with_suffix(ext)
                if old.exists() and not (tmpdir / old.name).exists():
                    old.unlink()
        for item in produced:
            os.replace(item, final.parent / item.name)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


WRITE_CHUNK = 50_000     # features per write when progress is reported (a 360 000-cell grid: 8 steps)


def write_vector(gdf, path, layer=None, progress=None):
    """Write a GeoDataFrame atomically; the driver follows the extension. With ``progress`` a large GeoPackage is
    written in chunks of WRITE_CHUNK features (appended), reporting after each, and cancel is honoured between."""
    ext = Path(path).suffix.lower()
    driver = VECTOR_DRIVERS.get(ext, "GPKG")
    with atomic_path(path) as tmp:
        kwargs = {"layer": layer or Path(path).stem} if driver == "GPKG" else {}
        if driver == "ESRI Shapefile":
            kwargs["encoding"] = "UTF-8"
        if progress is None or driver != "GPKG" or len(gdf) <= WRITE_CHUNK:
            gdf.to_file(tmp, driver=driver, engine="pyogrio", **kwargs)
        else:
            for start in range(0, len(gdf), WRITE_CHUNK):
                progress.set(100.0 * start / len(gdf))
                gdf.iloc[start:start + WRITE_CHUNK].to_file(tmp, driver=driver, engine="pyogrio",
                                                             append=start > 0, **kwargs)
        if progress is not None:
            progress.set(100.0)
    return str(path)


def write_table(df, path):
    """Write a DataFrame as CSV (UTF-8 with BOM, so Excel shows Chinese) or XLSX."""
    ext = Path(path).suffix.lower()
    with atomic_path(path) as tmp:
        if ext == ".xlsx":
            df.to_excel(tmp, index=False, engine="openpyxl")
            _format_xlsx(tmp)
        else:
            df.to_csv(tmp, index=False, encoding="utf-8-sig")
    return str(path)


def write_sheets(sheets, path):
    """Write several DataFrames into one XLSX, one sheet each ({name: df})."""
    import pandas as pd
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, df in sheets.items():
                df.to_excel(writer, sheet_name=str(name)[:31], index=False)
        _format_xlsx(tmp)
    return str(path)


def _format_xlsx(path):
    """Widths, frozen headers, filters, number formats, four-colour fills, A4 print setup (xlsx_format)."""
    from .xlsx_format import format_workbook
    format_workbook(path)


def raster_profile(transform, crs, width, height, dtype, nodata=None, count=1):
    """A GeoTIFF profile: tiled, compressed, BigTIFF when needed. Deflate level 1 on every core
    (GDAL NUM_THREADS): 8× faster than the default level 6 on a 100 M-cell class raster, 25 % larger."""
    big = width * height * np.dtype(dtype).itemsize * count > 3_500_000_000
    return {"driver": "GTiff", "width": int(width), "height": int(height), "count": count,
            "dtype": np.dtype(dtype).name, "crs": crs, "transform": transform, "nodata": nodata,
            "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate", "zlevel": 1,
            "num_threads": "all_cpus", "BIGTIFF": "YES" if big else "IF_SAFER"}


def write_raster(array, path, transform, crs, nodata=None):
    """Write a 2-D array as a single-band GeoTIFF, atomically."""
    import rasterio
    prof = raster_profile(transform, crs, array.shape[1], array.shape[0], array.dtype, nodata)
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **prof) as dst:
            dst.write(array, 1)
    return str(path)


def open_raster(path, name=None):
    """Open a raster with a clear error when it cannot be read."""
    import rasterio
    name = name or layer_name(path)
    try:
        return rasterio.open(split_source(path)[0])
    except rasterio.errors.RasterioIOError as exc:
        raise input_error(name, f"无法读取栅格: {exc}", f"cannot read raster: {exc}",
                          "检查路径与格式 (GeoTIFF)", "check the path and format (GeoTIFF)") from exc
