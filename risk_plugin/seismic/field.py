"""The seismic hazard as one object, whatever it came from: a PGA or intensity raster, zoning polygons
(GB 18306 PGA or intensity zones), or a scenario earthquake (epicentre, magnitude, depth).

>>> src = open_hazard(hazard="zoning.gpkg")                        # or a raster path
>>> src = open_hazard(epicentre=(577600, 3265000, "EPSG:4545"), magnitude=6.5, depth=10)
>>> intensity, pga = src.at_points(x, y, "EPSG:4545")              # NaN where the hazard says nothing
>>> intensity, pga = src.on_grid(transform, (h, w), "EPSG:4545")   # one block of a target grid

Values become intensities here (PGA × site factor Fa → intensity by GB 18306 表 G.1 or GB/T 17742);
rounding to degrees and everything after it happen downstream.
"""
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import shapely
from pyproj import CRS, Transformer

from ..definitions import seismic as D
from ..errors import InputError, Problem, ValidationError, parameter_error
from ..io import layer_name, split_source
from . import attenuation
from .intensity import parse_intensity, parse_pga, pga_to_intensity, site_factor


@dataclass
class Conversion:
    """How raw hazard values become intensity."""
    measure: str = D.MEASURE
    pga_unit: str = D.PGA_UNIT
    pga_rule: str = D.PGA_RULE
    site_class: str = D.SITE_CLASS

    def check(self):
        for name, value, allowed in (("MEASURE", self.measure, D.MEASURES), ("PGA_UNIT", self.pga_unit, tuple(D.PGA_UNITS)),
                                     ("PGA_RULE", self.pga_rule, D.PGA_RULES), ("SITE_CLASS", self.site_class, D.SITE_CLASSES)):
            if value not in allowed:
                raise parameter_error(name, f"取值 {value!r} 无效", f"invalid value {value!r}", f"可选: {list(allowed)}",
                                      f"choose one of {list(allowed)}")
        return self

    def from_pga(self, pga_g):
        """(intensity, site PGA g) from II-class PGA in g."""
        pga = np.asarray(pga_g, float) * site_factor(pga_g, self.site_class)
        return pga_to_intensity(pga, self.pga_rule), pga


@dataclass
class SeismicSource:
    kind: str                                 # 'raster' | 'polygons' | 'scenario'
    label: str
    conv: Conversion
    measure: str = "intensity"                # resolved: 'pga' or 'intensity'
    path: Optional[str] = None
    gdf: Optional[object] = None              # polygons with columns _intensity, _pga, _period
    scenario: Optional[dict] = None
    notes: list = field(default_factory=list)
    _projected: dict = field(default_factory=dict, repr=False)

    def polygons_in(self, crs):
        """(GeoDataFrame in ``crs``, its geometries, STRtree), cached per CRS."""
        key = CRS.from_user_input(crs).to_wkt()
        if key not in self._projected:
            g = self.gdf.to_crs(crs) if CRS.from_user_input(self.gdf.crs) != CRS.from_user_input(crs) else self.gdf
            geoms = g.geometry.to_numpy()
            self._projected[key] = (g, geoms, shapely.STRtree(geoms))
        return self._projected[key]

    # --- extent -------------------------------------------------------------------------------------
    def bounds_in(self, crs):
        crs = CRS.from_user_input(crs)
        if self.kind == "raster":
            import rasterio
            from rasterio.warp import transform_bounds
            with rasterio.open(self.path) as src:
                return transform_bounds(src.crs, crs, *src.bounds)
        if self.kind == "polygons":
            return tuple(self.gdf.to_crs(crs).total_bounds)
        sc = self.scenario
        r = float(attenuation.axis_radius(sc["relation"].major, sc["magnitude"], 6.0)) * 1000.0
        x, y = Transformer.from_crs(sc["crs"], crs, always_xy=True).transform(sc["x"], sc["y"])
        return (x - r, y - r, x + r, y + r)

    # --- values -------------------------------------------------------------------------------------
    def _convert(self, raw):
        if self.measure == "pga":
            return self.conv.from_pga(raw)
        return np.asarray(raw, float), None

    def at_points(self, x, y, crs):
        """(intensity, PGA g or None) at points given in ``crs``; NaN outside the hazard."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        crs = CRS.from_user_input(crs)
        if self.kind == "scenario":
            return self._scenario(x, y, crs), None
        if self.kind == "raster":
            import rasterio
            from ..hazardsource import sample_points
            with rasterio.open(self.path) as src:
                px, py = (x, y) if crs == CRS.from_user_input(src.crs) else \
                    Transformer.from_crs(crs, src.crs, always_xy=True).transform(x, y)
                raw = sample_points(src, px, py, fill=np.nan)
            return self._convert(raw)
        _, geoms, tree = self.polygons_in(crs)
        pts = shapely.points(x, y)
        pi, gi = tree.query(pts, predicate="intersects")
        inten = np.full(len(x), np.nan)
        pga = np.full(len(x), np.nan) if self.measure == "pga" else None
        if len(pi):
            vals = self.gdf["_intensity"].to_numpy(float)[gi]
            inten = _max_at(inten, pi, vals)
            if pga is not None:
                pga = _max_at(pga, pi, self.gdf["_pga"].to_numpy(float)[gi])
        return inten, pga

    def on_grid(self, transform, shape, crs):
        """(intensity float32, PGA float32 or None) at the cell centres of a target grid block."""
        crs = CRS.from_user_input(crs)
        h, w = shape
        if self.kind == "scenario" or self.kind == "raster":
            xs = transform.c + (np.arange(w) + 0.5) * transform.a
            ys = transform.f + (np.arange(h) + 0.5) * transform.e
            gx, gy = np.meshgrid(xs, ys)
            i, p = self.at_points(gx.ravel(), gy.ravel(), crs)
            return i.reshape(shape).astype(np.float32), None if p is None else p.reshape(shape).astype(np.float32)
        from ..burn import rasterize
        from ..hazardsource import _grid_box
        g, geoms, tree = self.polygons_in(crs)
        idx = tree.query(_grid_box(transform, shape))
        if not len(idx):
            nan = np.full(shape, np.nan, np.float32)
            return nan, (nan.copy() if self.measure == "pga" else None)

        def burn(col):
            v = g[col].to_numpy(float)[idx]
            keep = np.isfinite(v)
            if not keep.any():
                return np.full(shape, np.nan, np.float32)
            order = np.argsort(v[keep], kind="stable")        # the highest value is burnt last and wins
            return rasterize(geoms[idx][keep][order], v[keep][order].astype(np.float32), out_shape=shape,
                             transform=transform, fill=np.nan, dtype="float32")
        return burn("_intensity"), (burn("_pga") if self.measure == "pga" else None)

    def period_on_grid(self, transform, shape, crs):
        """Characteristic period (s) of polygon zoning at cell centres (NaN where not given)."""
        if self.kind != "polygons" or not np.isfinite(self.gdf["_period"].to_numpy(float)).any():
            return None
        from ..burn import rasterize
        from ..hazardsource import _grid_box
        g, geoms, tree = self.polygons_in(crs)
        idx = tree.query(_grid_box(transform, shape))
        v = np.full(len(g), np.nan)
        v[idx] = g["_period"].to_numpy(float)[idx]
        keep = np.isfinite(v)
        if not keep.any():
            return None
        order = np.argsort(v[keep], kind="stable")
        return rasterize(geoms[keep][order], v[keep][order].astype(np.float32), out_shape=shape,
                         transform=transform, fill=np.nan, dtype="float32")

    def _scenario(self, x, y, crs):
        sc = self.scenario
        wx, wy = (x, y) if crs == sc["work_crs"] else Transformer.from_crs(crs, sc["work_crs"], always_xy=True).transform(x, y)
        return attenuation.intensity_at(wx, wy, (sc["wx"], sc["wy"]), sc["strike"], sc["magnitude"], sc["relation"])

    def isoseismals(self, crs, degrees=range(6, 13)):
        """Isoseismal ellipses of a scenario in ``crs``: [(degree, polygon)]."""
        sc = self.scenario
        ells = attenuation.isoseismals((sc["wx"], sc["wy"]), sc["strike"], sc["magnitude"], sc["relation"], degrees)
        if CRS.from_user_input(crs) == sc["work_crs"]:
            return ells
        tr = Transformer.from_crs(sc["work_crs"], crs, always_xy=True).transform
        return [(d, shapely.ops.transform(tr, g)) for d, g in ells]


def _max_at(out, idx, vals):
    """out[idx] = max(out[idx], vals) with NaN in ``out`` meaning 'nothing yet' (np.fmax.at)."""
    np.fmax.at(out, idx, vals)
    return out


def _looks_raster(path):
    from ..exposure import _looks_raster as looks
    return looks(path)


def open_hazard(hazard=None, conv=None, pga_field=None, intensity_field=None, period_field=None,
                epicentre=None, magnitude=None, depth=None, attenuation_key=D.ATTENUATION_DEFAULT,
                strike=None, faults=None, repair=False, progress=None):
    """Read and check the hazard (a raster or polygon layer, or a scenario); one ValidationError lists
    every problem. ``epicentre`` is (x, y, crs)."""
    conv = (conv or Conversion()).check()
    notes = []
    if bool(hazard) == (epicentre is not None):
        raise parameter_error("HAZARD / EPICENTRE", "请给出地震危险性图层 (HAZARD) 或设定地震 (EPICENTRE + MAGNITUDE) 之一",
                              "give either a hazard layer (HAZARD) or a scenario earthquake (EPICENTRE + MAGNITUDE), not both",
                              "选择 HAZARD, 或清空它并填写 EPICENTRE、MAGNITUDE", "choose HAZARD, or clear it and fill in EPICENTRE and MAGNITUDE")
    if epicentre is not None:
        return _scenario(epicentre, magnitude, depth, attenuation_key, strike, faults, conv, repair, notes)
    label = layer_name(hazard)
    if _looks_raster(hazard):
        return _raster(hazard, label, conv, notes)
    return _polygons(hazard, label, conv, pga_field, intensity_field, period_field, repair, notes)


def _raster(path, label, conv, notes):
    import rasterio
    from ..hazardsource import check_north_up
    from ..inputs import RasterInput, check_rasters
    check_rasters([RasterInput("hazard", path, "seismic_raster", label=f"HAZARD {label}")])
    base = split_source(path)[0]
    with rasterio.open(base) as src:
        check_north_up(src, label)
        h, w = src.height, src.width
        sample = src.read(1, out_shape=(min(h, 1024), min(w, 1024)), masked=True)
    vals = np.ma.compressed(sample).astype(float)
    vals = vals[np.isfinite(vals)]
    measure = _measure(conv, vals, label, field=None)
    if measure == "pga" and vals.size and vals.max() * D.PGA_UNITS[conv.pga_unit] > D.AUTO_PGA_MAX_G * 1.5:
        raise InputError(Problem(f"HAZARD {label}", f"峰值加速度达 {vals.max():g} {conv.pga_unit}, 超出合理范围",
                                 f"PGA reaches {vals.max():g} {conv.pga_unit}, beyond any real value",
                                 "检查 PGA_UNIT (g / m/s² / gal) 或把 MEASURE 设为 烈度", "check PGA_UNIT (g, m/s2, gal) or set MEASURE to intensity"))
    if measure == "intensity" and vals.size and (vals.min() < 0 or vals.max() > 12):
        raise InputError(Problem(f"HAZARD {label}", f"烈度值超出 I..XII: {vals.min():g}..{vals.max():g}",
                                 f"intensities outside I..XII: {vals.min():g}..{vals.max():g}",
                                 "检查栅格单位或 MEASURE 参数", "check the raster's unit or the MEASURE parameter"))
    notes.append(f"[{label}] {'峰值加速度 / PGA' if measure == 'pga' else '烈度 / intensity'}")
    return SeismicSource("raster", label, conv, measure, path=base, notes=notes)


def _measure(conv, vals, label, field):
    if conv.measure != "auto":
        return conv.measure
    if not vals.size:
        return "intensity"
    return "pga" if np.nanmax(vals) * D.PGA_UNITS[conv.pga_unit] <= D.AUTO_PGA_MAX_G else "intensity"


def _polygons(path, label, conv, pga_field, intensity_field, period_field, repair, notes):
    from ..inputs import VectorInput, load_vectors
    fmap = {"pga": pga_field, "intensity": intensity_field, "period": period_field}
    gdf = load_vectors([VectorInput("hazard", path, "seismic_zones", {k: v for k, v in fmap.items() if v},
                                    repair=repair, label=label)])["hazard"]
    problems = []
    has_pga, has_int = "pga" in gdf.columns, "intensity" in gdf.columns
    if conv.measure == "pga" and not has_pga or conv.measure == "intensity" and not has_int or not (has_pga or has_int):
        want = {"pga": "地震动峰值加速度 (PGA)", "intensity": "地震烈度"}.get(conv.measure, "地震动峰值加速度或地震烈度")
        raise InputError(Problem(label, f"缺少{want}字段", "no PGA or intensity field found" if conv.measure == "auto" else
                                 f"the {conv.measure} field is missing",
                                 "在 PGA_FIELD / INTENSITY_FIELD 中指定字段 (如 峰值加速度、烈度)",
                                 "name it in PGA_FIELD / INTENSITY_FIELD (e.g. 峰值加速度, 烈度)",
                                 field=pga_field or intensity_field or "pga/intensity"))
    measure = conv.measure if conv.measure != "auto" else ("pga" if has_pga else "intensity")
    out = gdf[[gdf.geometry.name]].copy()
    if measure == "pga":
        raw, bad = parse_pga(gdf["pga"], conv.pga_unit)
        if bad.any():
            problems.append(Problem(label, "峰值加速度无法识别 (应如 0.15、0.15g、≥0.40g)", "PGA values cannot be read (write 0.15, 0.15g, ≥0.40g)",
                                    "改正这些值", "correct these values", field=pga_field or "pga", features=list(gdf.index[bad])))
        elif np.nanmax(raw, initial=0) > D.AUTO_PGA_MAX_G:
            problems.append(Problem(label, f"峰值加速度达 {np.nanmax(raw):g} g, 单位可能不是 g", f"PGA reaches {np.nanmax(raw):g} g: the unit may not be g",
                                    "检查 PGA_UNIT (g / m/s² / gal)", "check PGA_UNIT (g, m/s2, gal)", field=pga_field or "pga"))
        inten, pga = conv.from_pga(raw)
        out["_pga"] = pga
    else:
        inten, bad = parse_intensity(gdf["intensity"])
        if bad.any():
            problems.append(Problem(label, "烈度无法识别 (应如 7、Ⅶ、VII度)", "intensity values cannot be read (write 7, Ⅶ, VII度)",
                                    "改正这些值", "correct these values", field=intensity_field or "intensity",
                                    features=list(gdf.index[bad])))
        out["_pga"] = np.nan
    out["_intensity"] = inten
    if "period" in gdf.columns:
        per, pbad = parse_pga(gdf["period"].map(lambda v: None if v is None else str(v).lower().rstrip("s").strip()), "g")
        if pbad.any() or (np.nanmax(per, initial=0) > 10):
            problems.append(Problem(label, "特征周期应为秒数 (如 0.35、0.45s)", "characteristic periods must be seconds (e.g. 0.35, 0.45s)",
                                    "改正这些值", "correct these values", field=period_field or "period",
                                    features=list(gdf.index[pbad])))
        out["_period"] = per
    else:
        out["_period"] = np.nan
    empty = ~np.isfinite(inten) & ~bad
    if empty.all():
        problems.append(Problem(label, "所有要素的危险性字段都为空", "the hazard field is empty in every feature",
                                "填写峰值加速度或烈度", "fill in the PGA or the intensity", field=measure))
    if problems:
        raise ValidationError(problems)
    if empty.any():
        notes.append(f"[{label}] {int(empty.sum())} 个分区无值, 视为未覆盖 / {int(empty.sum())} zones have no value: not covered")
    out.attrs.update(gdf.attrs)
    return SeismicSource("polygons", label, conv, measure, path=path, gdf=out, notes=notes)


def _scenario(epicentre, magnitude, depth, key, strike, faults, conv, repair, notes):
    from ..crs import working_crs
    rel = attenuation.relation(key)
    if magnitude is None or not D.MAGNITUDE_RANGE[0] <= float(magnitude) <= D.MAGNITUDE_RANGE[1]:
        raise parameter_error("MAGNITUDE", f"震级 {magnitude} 超出衰减关系的适用范围 {D.MAGNITUDE_RANGE}",
                              f"magnitude {magnitude} is outside the range of the relation {D.MAGNITUDE_RANGE}",
                              "填写面波震级 Ms, 如 6.5", "give the surface-wave magnitude Ms, e.g. 6.5")
    depth = float(depth) if depth is not None else 10.0
    if not D.DEPTH_RANGE_KM[0] < depth <= D.DEPTH_RANGE_KM[1]:
        raise parameter_error("DEPTH", f"震源深度 {depth:g} km 超出浅源地震范围 {D.DEPTH_RANGE_KM}",
                              f"focal depth {depth:g} km is outside the shallow-crustal range {D.DEPTH_RANGE_KM} of the relations",
                              "衰减关系只适用于浅源地震", "the relations hold for shallow crustal earthquakes only")
    x, y, crs = epicentre
    if crs is None:
        raise parameter_error("EPICENTRE", "震中坐标没有坐标系", "the epicentre has no CRS", "写成 x,y [EPSG:4545]",
                              "write it as x,y [EPSG:4545]")
    crs = CRS.from_user_input(crs)
    wcrs = working_crs(crs, (x, y, x, y))
    wx, wy = (x, y) if wcrs == crs else Transformer.from_crs(crs, wcrs, always_xy=True).transform(x, y)
    source = "STRIKE"
    if strike is None or (isinstance(strike, float) and np.isnan(strike)) or strike < 0:
        strike, source = D.STRIKE_DEFAULT, "default"
        if faults:
            from ..inputs import VectorInput, load_vectors
            f = load_vectors([VectorInput("faults", faults, "faults", repair=repair, label=layer_name(faults))])["faults"]
            az = attenuation.strike_from_faults((wx, wy), f.to_crs(wcrs).geometry.to_numpy())
            if az is not None:
                strike, source = az, "fault"
            else:
                notes.append("断层离震中超过 50 km, 长轴取正北 / no fault within 50 km of the epicentre: long axis north")
    i0 = attenuation.epicentral_intensity(float(magnitude), rel)
    notes.append(f"Ms {float(magnitude):g}, 深度 depth {depth:g} km, 长轴方位 strike {float(strike):.1f}° ({source}), "
                 f"震中烈度 epicentral intensity {i0:.2f} ({key})")
    sc = {"x": float(x), "y": float(y), "crs": crs, "work_crs": wcrs, "wx": float(wx), "wy": float(wy),
          "magnitude": float(magnitude), "depth": depth, "relation": rel, "strike": float(strike),
          "strike_source": source, "epicentral_intensity": i0}
    return SeismicSource("scenario", f"Ms{float(magnitude):g} {key}", conv, "intensity", scenario=sc, notes=notes)
