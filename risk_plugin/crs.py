"""Choosing a metric working CRS. Distances and areas are computed in metres,
never in degrees: CGCS2000 3-degree Gauss-Krüger inside China, UTM elsewhere."""
from pyproj import CRS

from .errors import input_error

CGCS2000 = CRS.from_epsg(4490)
# EPSG:4534..4554 = CGCS2000 / 3-degree Gauss-Kruger CM 75E..135E (no zone prefix).
GK3_FIRST_EPSG, GK3_FIRST_CM = 4534, 75


def gk3_epsg(lon):
    """EPSG code of the CGCS2000 3-degree GK zone whose central meridian is nearest ``lon``."""
    cm = int(round(lon / 3.0) * 3)
    cm = min(max(cm, 75), 135)
    return GK3_FIRST_EPSG + (cm - GK3_FIRST_CM) // 3


def utm_epsg(lon, lat):
    zone = int((lon + 180) // 6) + 1
    return (32600 if lat >= 0 else 32700) + zone


def in_china(lon, lat):
    return 73 <= lon <= 136 and 3 <= lat <= 54


def is_metric(crs):
    crs = CRS.from_user_input(crs)
    return crs.is_projected and all(
        (ax.unit_name or "").lower() in ("metre", "meter", "m") for ax in crs.axis_info[:2])


def require_crs(gdf_or_crs, layer):
    crs = getattr(gdf_or_crs, "crs", gdf_or_crs)
    if crs is None:
        raise input_error(layer, "图层没有坐标参考系 (CRS)", "layer has no coordinate reference system (CRS)",
                          "在 QGIS 中用“指定投影”为图层设置正确的 CRS (如 EPSG:4490 或 EPSG:4545)",
                          "assign the right CRS in QGIS (Assign Projection), e.g. EPSG:4490 or EPSG:4545")
    return CRS.from_user_input(crs)


def working_crs(crs, bounds, requested=None):
    """The CRS to compute in.

    ``requested`` wins if given. A projected metric CRS is kept. A geographic one
    is replaced by the CGCS2000 GK zone (inside China) or the UTM zone of the
    centre of ``bounds`` (minx, miny, maxx, maxy), given in ``crs``.
    """
    if requested:
        req = CRS.from_user_input(requested)
        if not is_metric(req):
            raise input_error("参数/parameter WORKING_CRS", f"{req.name} 不是以米为单位的投影坐标系",
                              f"{req.name} is not a projected CRS in metres",
                              "选择投影坐标系, 如 EPSG:4545", "choose a projected CRS, e.g. EPSG:4545")
        return req
    crs = CRS.from_user_input(crs)
    if is_metric(crs):
        return crs
    from pyproj import Transformer
    cx, cy = (bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0
    if not crs.is_geographic:
        cx, cy = Transformer.from_crs(crs, 4326, always_xy=True).transform(cx, cy)
    if in_china(cx, cy):
        return CRS.from_epsg(gk3_epsg(cx))
    return CRS.from_epsg(utm_epsg(cx, cy))


def to_working(gdf, work_crs):
    """Reproject a GeoDataFrame into the working CRS (no copy if already there)."""
    return gdf if gdf.crs is not None and CRS.from_user_input(gdf.crs) == work_crs else gdf.to_crs(work_crs)
