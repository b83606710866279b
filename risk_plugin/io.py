"""Reading and writing layers, tables and rasters. Every write is atomic: the
file appears complete under its final name, or not at all."""
import os
import warnings
from pathlib import Path

import numpy as np

from .encoding import _redecode, dbf_encoding
from .errors import input_error
from .outputs import SHAPEFILE_SIDECARS, OutputError, atomic_path, on_output, output_transaction  # noqa: F401 (re-exported)
from .tables import write_sheets, write_table  # noqa: F401 (re-exported)

GPKG_SYSTEM_TABLES = ("layer_styles", "qgis_projects")
VECTOR_DRIVERS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".geojson": "GeoJSON", ".json": "GeoJSON",
                  ".fgb": "FlatGeobuf", ".csv": "CSV"}


def layer_name(path):
    """A readable name for messages: file name plus layer, e.g. 'roads.gpkg|roads'."""
    p = str(path)
    return Path(p.split("|")[0]).name + ("|" + p.split("layername=")[-1] if "layername=" in p else "")


RASTER_EXTENSIONS = (".tif", ".tiff", ".img", ".vrt", ".asc", ".nc")


def is_raster_file(source):
    """True for a raster file by its extension; a .vrt is a raster unless it is an OGR (vector) VRT, such as a
    layer written in parts (risk_plugin.vector_parts)."""
    path = split_source(str(source))[0]
    if not path.lower().endswith(RASTER_EXTENSIONS):
        return False
    if path.lower().endswith(".vrt"):
        try:
            with open(path, "rb") as f:
                return b"<OGRVRTDataSource" not in f.read(4096)
        except OSError:             # not there (yet): the extension decides, the reader names the problem
            return True
    return True


def split_source(source):
    """Split a QGIS-style source 'file.gpkg|layername=x' into (path, layer)."""
    parts = str(source).split("|")
    path, layer = parts[0], None
    for part in parts[1:]:
        if part.startswith("layername="):
            layer = part[len("layername="):]
    return path, layer


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


def _pick_layer(path, label):
    """The layer to read from a multi-layer file when none was named: the first data layer (QGIS's
    layer_styles table passed over), with a notice when there are several."""
    import pyogrio
    from . import notices
    try:
        layers = pyogrio.list_layers(path)
    except Exception:  # noqa: BLE001 - unreadable files are reported by the read itself
        return None
    names = [str(n) for n in layers[:, 0] if str(n) not in GPKG_SYSTEM_TABLES]
    if len(names) == 1 and len(layers) > 1:
        return names[0]
    if len(names) > 1:
        notices.warn(label, f"文件含 {len(names)} 个图层 {names}, 未指定图层名, 使用第一个 '{names[0]}'",
                     f"the file holds {len(names)} layers {names} and none was named; using the first, '{names[0]}'",
                     f"用 {Path(path).name}|layername=<图层名> 指定", f"name one as {Path(path).name}|layername=<layer>")
        return names[0]
    return None


warnings.filterwarnings("ignore", message="Measured \\(M\\) geometry types are not supported", module="pyogrio")


def _note_measures(path, layer, label):
    """M values are dropped on reading (shapely and GEOS have no M): said once, in the log."""
    import pyogrio
    from . import notices
    try:
        kind = str(pyogrio.read_info(path, layer=layer).get("geometry_type") or "")
    except Exception:  # noqa: BLE001 - the read itself reported any problem
        return
    if kind.startswith("Measured") or kind.endswith(" M") or kind.endswith("ZM"):
        notices.warn(label, f"几何含 M 值 ({kind}), 分析只用 X/Y (Z 保留), M 值不写入结果",
                     f"the geometries carry M values ({kind}); the analysis uses X/Y (Z kept) and drops M")


def read_vector(source, name=None, **read_kw):
    """Read a vector layer (GPKG, Shapefile, GeoJSON …) into a GeoDataFrame.

    ``source`` may carry a QGIS layer suffix: 'villages.gpkg|layername=villages'; a multi-layer file
    without one gives its first layer, with a notice. Shapefile encodings are detected (GBK without
    .cpg, or under a .cpg that says UTF-8, reads correctly). The index is the data source's FID
    (named 'fid'); an attribute column of the same name stays an ordinary column. ``read_kw`` go to
    pyogrio (``bbox=`` reads the features meeting a box through the layer's spatial index).
    """
    import geopandas as gpd
    import pyogrio

    path, layer = split_source(source)
    name = name or layer_name(source)
    if not os.path.exists(path):
        raise input_error(name, f"文件不存在: {path}", f"file does not exist: {path}",
                          "检查路径", "check the path")
    if layer is None:
        layer = _pick_layer(path, name)
    encoding = dbf_encoding(path, name) if path.lower().endswith(".shp") else None
    kwargs = {"encoding": encoding} if encoding else {}

    def read(**kw):
        return gpd.read_file(path, layer=layer, engine="pyogrio", fid_as_index=True, **read_kw, **kw)

    try:
        try:
            gdf = read(**kwargs)
        except UnicodeDecodeError:
            gdf = _redecode(read(encoding="ISO-8859-1"), encoding or "UTF-8", name)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, UnicodeDecodeError) as exc:
        raise input_error(name, f"无法读取图层: {exc}", f"cannot read layer: {exc}",
                          "用 QGIS 打开检查文件是否损坏", "open it in QGIS to check the file") from exc
    _note_measures(path, layer, name)
    if gdf.crs is not None and gdf.crs.name.lower().startswith("undefined"):
        gdf = gdf.set_crs(None, allow_override=True)   # GeoPackage srs_id 0/-1: no CRS was ever set
    gdf.attrs["source"] = str(source)
    gdf.attrs["name"] = name
    return gdf


def _fid_safe(gdf, driver, label):
    """(frame, write_index) for pyogrio: an attribute column named like the GeoPackage FID column
    ('fid', any case: SQLite names are case-insensitive) is renamed fid_1, fid_2 … with a notice, and
    the index (the source FID) is written as the FID only when it is a unique integer."""
    from . import notices
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    lower = {str(c).lower() for c in cols}
    if driver == "GPKG":
        clash = [c for c in cols if str(c).lower() == "fid"]
        if clash:
            mapping = {}
            for c in clash:
                k = 1
                while f"fid_{k}" in lower:
                    k += 1
                mapping[c] = f"fid_{k}"
                lower.add(f"fid_{k}")
            gdf = gdf.rename(columns=mapping)
            notices.warn(label, f"属性字段 {list(mapping)} 与 GeoPackage 的 fid 主键同名, 输出中改名为 {list(mapping.values())}",
                         f"attribute column(s) {list(mapping)} clash with the GeoPackage fid key; written as "
                         f"{list(mapping.values())}")
    index = gdf.index
    named = index.name is not None and str(index.name).lower() not in lower
    unique_int = index.is_unique and index.dtype.kind in "iu"
    if driver == "GPKG":
        return gdf, bool(named and str(index.name).lower() == "fid" and unique_int)
    return gdf, bool(named and unique_int)


def geometry_kind(gdf):
    """The one geometry type of a layer ('Point', 'MultiPolygon' …), for typing an empty layer derived from it."""
    kinds = set(gdf.geom_type.dropna())
    return kinds.pop() if len(kinds) == 1 else "Unknown"


WRITE_CHUNK = 50_000     # features per write when progress is reported (a 360 000-cell grid: 8 steps)


def write_vector(gdf, path, layer=None, progress=None, geometry_type=None):
    """Write a GeoDataFrame atomically; the driver follows the extension. With ``progress`` a large GeoPackage is
    written in chunks of WRITE_CHUNK features (appended), reporting after each, and cancel is honoured between.
    ``geometry_type`` ('Point', 'MultiPolygon' …) types a layer that may be empty: QGIS does not load an empty
    layer of unknown geometry type (``Processing: the following layers were not correctly generated``).
    A ``.vrt`` path is written as :mod:`risk_plugin.vector_parts` (a GeoPackage part and the .vrt over it)."""
    ext = Path(path).suffix.lower()
    if ext == ".vrt":                 # a .vrt over GeoPackage parts (risk_plugin.vector_parts): here one part
        from .vector_parts import parts_output
        with parts_output(path) as parts:
            write_vector(gdf, parts.path(0), layer=parts.layer, progress=progress, geometry_type=geometry_type)
        return str(path)
    driver = VECTOR_DRIVERS.get(ext, "GPKG")
    gdf, with_index = _fid_safe(gdf, driver, layer_name(path))
    with atomic_path(path) as tmp:
        kwargs = {"layer": layer or Path(path).stem} if driver == "GPKG" else {}
        if geometry_type and len(gdf) == 0:
            kwargs["geometry_type"] = geometry_type
        if driver == "ESRI Shapefile":
            kwargs["encoding"] = "UTF-8"
        if progress is None or driver != "GPKG" or len(gdf) <= WRITE_CHUNK:
            gdf.to_file(tmp, driver=driver, engine="pyogrio", index=with_index, **kwargs)
        else:
            for start in range(0, len(gdf), WRITE_CHUNK):
                progress.set(100.0 * start / len(gdf))
                gdf.iloc[start:start + WRITE_CHUNK].to_file(tmp, driver=driver, engine="pyogrio", index=with_index,
                                                             append=start > 0, **kwargs)
        if progress is not None:
            progress.set(100.0)
    return str(path)


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
