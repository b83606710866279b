"""Offline web map of riskmap results (folium / Leaflet), for briefings on a laptop with no network.

>>> export_webmap(["out/fourcolor.gpkg", ("county/townships.gpkg", "乡镇界")], "out/webmap.html",
...               title="某县自然灾害风险图", source="某县应急管理局")
{'path': 'out/webmap.html', 'size_bytes': 2345678, 'features': 1234, 'layers': [...]}

One self-contained HTML file:
- Leaflet 1.9.4 (vendored in risk_plugin/vendor/leaflet, BSD-2), its images, our page script
  (risk_plugin/webmap.js) and stylesheet (styles/webmap.css) are inlined. Nothing is fetched from a CDN;
  the default basemap is none, so the page works with the network cable pulled.
- Optional online basemaps: OpenStreetMap, or Tianditu (天地图, the user's key) on its CGCS2000
  lon/lat tiles ('c' matrix set, Leaflet's EPSG:4326 CRS). No GCJ-02 basemap (Amap/Gaode) is offered:
  see docs/webmap-basemaps.md.
- Title, date, data source, CRS note, a legend (labels and colours from styles/classes.json), a layer
  control, a metric scale bar, popups with key attributes.
- Attribute values reach the page only as JSON data (``<``, ``>``, ``&`` escaped as \\u003c …) and are put
  into popups with ``textContent``; titles, names and labels written into the HTML are
  ``html.escape``-d. A feature named ``<img src=x onerror=alert(1)>`` shows as that text.
"""
import datetime
import html
import json
import re
from pathlib import Path

import folium
from branca.element import Element, MacroElement
from folium.map import Layer
from jinja2 import Template

from . import classes as cl
from .definitions import webmap as D
from .errors import parameter_error
from .io import atomic_path
from .progress import ensure
from .webmap_layers import display_name, is_raster, png_data_url, prepare_raster, prepare_vector

HERE = Path(__file__).resolve().parent
LEAFLET_DIR = HERE / "vendor" / "leaflet"
LEAFLET_VERSION = "1.9.4"
PAGE_JS = HERE / "webmap.js"
PAGE_CSS = cl.STYLES_DIR / "webmap.css"

DEFAULT_TITLE = "县域自然灾害综合风险图 / County natural-hazard risk map"
PANES = {"raster": 350, "polygon": 410, "line": 420, "boundary": 430, "point": 440}
BASE_LINE = {"townships": 3.0, "villages": 1.2, "roads": 1.5, "rivers": 2.0}


def js_json(value):
    """JSON safe inside a <script> element: '<', '>' and '&' become \\u escapes, so no value can
    close the script or open a tag (as Jinja's ``tojson``)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def esc(text):
    return html.escape(str(text), quote=True)


def leaflet_css():
    """Leaflet's stylesheet with its images inlined as data: URLs."""
    css = (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")

    def inline(match):
        png = (LEAFLET_DIR / "images" / match.group(1)).read_bytes()
        return f"url({png_data_url(png)})"
    return re.sub(r"url\(images/([\w.-]+\.png)\)", inline, css)


FETCH_ATTRIBUTES = ("src", "href", "data", "srcset", "poster", "background", "action")


def external_references(page):
    """Everything in an HTML page that makes a browser fetch a resource when it opens: sources of
    script/img/link/iframe/… elements, and url() / @import in stylesheets and style attributes.
    data: URLs and in-page anchors are fine; <a href> is a link the user may click, not a fetch."""
    from html.parser import HTMLParser

    found = []

    def css(text):
        found.extend(m.group(0) for m in re.finditer(r"url\(\s*[\"']?\s*(?!data:|#)[^)\"'\s]+|@import", text, re.I))

    class Scan(HTMLParser):
        in_style = False

        def handle_starttag(self, tag, attrs):
            self.in_style = tag == "style"
            for key, value in attrs:
                if key == "style" and value:
                    css(value)
                elif tag != "a" and key in FETCH_ATTRIBUTES and value and not re.match(r"\s*(data:|#|$)", value):
                    found.append(f"<{tag} {key}={value[:80]}>")

        def handle_endtag(self, tag):
            self.in_style = False

        def handle_data(self, data):
            if self.in_style:
                css(data)

    Scan(convert_charrefs=True).feed(page)
    return found


# --- styles -----------------------------------------------------------------------------------------
def _class_style(color, family, fill_opacity):
    if family == "point":
        return {"color": "#333333", "weight": 1, "fillColor": color[:7], "fillOpacity": 0.95, "opacity": 1}
    if family == "line":
        return {"color": color[:7], "weight": 3, "opacity": 0.95}
    alpha = fill_opacity if len(color) <= 7 else fill_opacity * int(color[7:9], 16) / 255.0
    return {"color": "#555555", "weight": 0.4, "opacity": 0.6, "fillColor": color[:7], "fillOpacity": round(alpha, 3)}


def _base_style(key, family):
    st = cl.base_style(key)
    color = st.get("outline") or st.get("color", "#666666")
    if family == "point":
        return {"color": "#222222", "weight": 1, "fillColor": st.get("color", "#666666"), "fillOpacity": 0.9}
    if family == "line":
        return {"color": st.get("color", color), "weight": BASE_LINE.get(key, 1.5), "opacity": 0.9}
    if key in ("townships", "villages"):
        dash = None if key == "townships" else "4 3"
        return {"color": color, "weight": BASE_LINE[key], "fill": False, "opacity": 0.9, "dashArray": dash}
    return {"color": color, "weight": 1.2, "fillColor": st.get("color", color), "fillOpacity": st.get("fill_opacity", 0.2),
            "dashArray": st.get("dash")}


def _pane(layer):
    if layer.style.kind == "base" and layer.style.key in ("townships", "villages") and layer.family == "polygon":
        return "boundary"
    return layer.family


def _legend_vector(layer):
    """(section title, [(label, colour, shape)]) for a vector layer."""
    shape = {"point": "circle", "line": "line", "polygon": "box"}[layer.family]
    if layer.style.kind == "classes":
        table = cl.class_table(layer.style.key)
        present = sorted(set(int(i) for i in layer.class_index if i >= 0))
        rows = [(cl.label(table["classes"][i]), table["classes"][i]["color"][:7], shape) for i in present
                if not table["classes"][i]["color"].upper().endswith("00") or len(table["classes"][i]["color"]) == 7]
        if (layer.class_index < 0).any():
            rows.append(("未分类 / Unclassified", "#999999", shape))
        return cl.title(table), rows
    st = cl.base_style(layer.style.key)
    label = f"{st['zh']} / {st['en']}" if layer.style.key != "other" else layer.name
    if layer.style.key in ("townships", "villages") and layer.family == "polygon":
        shape = "outline"
    color = st.get("outline") or st.get("color") if shape == "outline" else st.get("color", "#666666")
    return None, [(label, color, shape)]


# --- page ----------------------------------------------------------------------------------------------
class _Raw(Element):
    """A branca element that renders a fixed string (never through Jinja: vendored JS may hold '{{')."""

    def __init__(self, text, name):
        super().__init__()
        self._text, self._name = text, name

    def render(self, **kwargs):
        return self._text


def _title_html(title, date, source, crs_note):
    return (f'<div id="riskmap-title" class="riskmap-box" style="display:none">'
            f'<h1>{esc(title)}</h1><div class="riskmap-meta">'
            f'<div>制图日期 / Date: {esc(date)}</div>'
            f'<div>数据来源 / Data source: {esc(source) if source else "—"}</div>'
            f'<div>{esc(crs_note)}</div></div></div>')


def _legend_html(sections):
    parts = ['<div id="riskmap-legend" class="riskmap-box" style="display:none"><h2>图例 / Legend</h2>']
    for sec in sections:
        parts.append(f'<div class="riskmap-legend-section" id="{sec["id"]}">')
        if sec["title"]:
            parts.append(f'<h3>{esc(sec["title"])}</h3>')
        for label, color, shape in sec["rows"]:
            style = f"border-color:{esc(color)}" if shape in ("line", "outline") else f"background:{esc(color)}"
            parts.append(f'<div class="riskmap-legend-row"><span class="riskmap-swatch {shape}" style="{style}"></span>'
                         f'<span>{esc(label)}</span></div>')
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def _crs_note(basemap):
    if basemap == "tianditu":
        return "坐标系 / CRS: CGCS2000 经纬度 (天地图 c 瓦片) / CGCS2000 lon/lat (Tianditu 'c' tiles)"
    return ("坐标系 / CRS: CGCS2000 ≈ WGS 84 (差异 < 1 m), Web 墨卡托显示 / "
            "CGCS2000 ≈ WGS 84 (< 1 m apart), shown in Web Mercator")


def export_webmap(layers, output, title=DEFAULT_TITLE, source="", basemap="none", tianditu_key=None,
                  simplify_tolerance=D.SIMPLIFY_TOLERANCE_M, date=None, progress=None):
    """Write one self-contained HTML map of ``layers`` to ``output``; returns a summary dict.

    ``layers``: paths (``file.gpkg``, ``file.gpkg|layername=x``, ``file.tif``) or (path, display name).
    ``basemap``: 'none' (default, fully offline), 'osm' or 'tianditu' (needs ``tianditu_key``).
    ``simplify_tolerance``: metres, Douglas-Peucker on lines and polygons; rasters are resampled to a cell no
    finer than this. ``date``: shown on the page (default today).
    """
    progress = ensure(progress)
    basemap = (basemap or "none").lower()
    if basemap not in D.BASEMAPS:
        raise parameter_error("BASEMAP", f"未知底图 {basemap}", f"unknown basemap {basemap}",
                              f"可选: {D.BASEMAPS}", f"choose one of {D.BASEMAPS}")
    key = (tianditu_key or "").strip()
    if basemap == "tianditu" and not re.fullmatch(r"[0-9A-Za-z]{8,64}", key):
        raise parameter_error("TIANDITU_KEY", "使用天地图底图需要有效的天地图密钥 (tk)",
                              "the Tianditu basemap needs a valid Tianditu key (tk)",
                              "在 https://console.tianditu.gov.cn 申请“浏览器端”密钥并填入",
                              "get a browser key at https://console.tianditu.gov.cn and enter it")
    if simplify_tolerance is None or simplify_tolerance < 0:
        raise parameter_error("SIMPLIFY_TOLERANCE", "简化容差不能为负", "the simplification tolerance cannot be negative",
                              "输入 0 (不简化) 或正数 (米)", "enter 0 (no simplification) or a positive number of metres")
    specs = [(s, None) if isinstance(s, (str, Path)) else (s[0], s[1]) for s in layers]
    if not specs:
        raise parameter_error("LAYERS", "没有选择图层", "no layers chosen", "至少选择一个图层", "choose at least one layer")
    date = date or datetime.date.today().isoformat()
    target_crs = "EPSG:4326" if basemap == "tianditu" else "EPSG:3857"

    prepared = []
    for i, (src, name) in enumerate(specs):
        progress.set(80.0 * i / len(specs))
        progress.info(f"图层 / layer {i + 1}/{len(specs)}: {display_name(src)}")
        part = progress.sub(80.0 * i / len(specs), 80.0 * (i + 1) / len(specs))
        if is_raster(src):
            prepared.append(prepare_raster(str(src), name, target_crs, simplify_tolerance, progress=part))
        else:
            lay = prepare_vector(str(src), name, simplify_tolerance, progress=part)
            for note in lay.notes:
                progress.info(note)
            prepared.append(lay)
    progress.set(80)

    m = folium.Map(location=None, tiles=None, zoom_control=False, control_scale=False, prefer_canvas=False,
                   zoom_snap=0.25, crs="EPSG4326" if basemap == "tianditu" else "EPSG3857",
                   max_zoom=17 if basemap == "tianditu" else 19)
    m.default_js, m.default_css = [], []          # folium would link its CDN scripts: Leaflet is inlined instead
    fig = m.get_root()
    fig.title = esc(title)
    fig.header.add_child(_Raw(
        f'<meta name="generator" content="riskmap webmap, Leaflet {LEAFLET_VERSION}" />\n'
        f"<style>\n{leaflet_css()}\n</style>\n<style>\n{PAGE_CSS.read_text(encoding='utf-8')}\n</style>\n"
        f"<script>\n{(LEAFLET_DIR / 'leaflet.js').read_text(encoding='utf-8')}\n</script>\n"
        f"<script>\n{PAGE_JS.read_text(encoding='utf-8')}\n</script>\n", "riskmap_assets"), name="riskmap_assets", index=0)

    if basemap == "osm":
        folium.TileLayer(D.OSM_TILES, attr=esc(D.OSM_ATTRIBUTION), name="OpenStreetMap 底图 / basemap",
                         overlay=True, control=True, max_zoom=19).add_to(m)
    elif basemap == "tianditu":
        for lyr, label in D.TIANDITU_LAYERS:
            folium.TileLayer(D.TIANDITU_TILES.format(layer=lyr, key=key), attr=esc(D.TIANDITU_ATTRIBUTION),
                             name=label, overlay=True, control=True, subdomains=D.TIANDITU_SUBDOMAINS,
                             zoom_offset=1, max_zoom=17, min_zoom=0).add_to(m)

    # One pane per drawing order, so toggling a layer never lifts it above the others. Panes ignore the
    # mouse; the features in them take it (SVG paths with .leaflet-interactive), so a click reaches the
    # feature under it whatever pane it is in.
    panes_js = "".join(f'var p = {{{{this._parent.get_name()}}}}.createPane("riskmap-{k}"); p.style.zIndex = {z}; '
                       f'p.style.pointerEvents = "none";\n' for k, z in PANES.items())
    panes = MacroElement()
    panes._template = Template("{% macro script(this, kwargs) %}" + panes_js + "{% endmacro %}")
    m.add_child(panes, name="riskmap_panes")

    sections, bounds, n_features, summary = [], [], 0, []
    order = sorted(range(len(prepared)), key=lambda i: ["raster", "polygon", "boundary", "line", "point"].index(
        "raster" if not hasattr(prepared[i], "family") else _pane(prepared[i])))
    for i in order:
        lay = prepared[i]
        if hasattr(lay, "png"):
            el = _ImageLayer(lay, D.FILL_OPACITY, _shown(lay, prepared))
            s, w, n, e = lay.bounds
            title_ = cl.title(cl.class_table(lay.style.key)) if lay.style.kind == "classes" else None
            sections.append({"title": title_ or lay.name, "rows": [(x.label, x.color[:7], "box") for x in lay.legend],
                             "layers": [el]})
            summary.append({"name": lay.name, "kind": "raster", "style": lay.style.key, "size": list(lay.size),
                            "shown": el.show})
        else:
            el = _VectorLayer(lay, _shown(lay, prepared))
            import shapely
            geoms = shapely.from_geojson(lay.geometries)
            w, s, e, n = shapely.total_bounds(geoms)
            head, rows = _legend_vector(lay)
            sections.append({"title": head, "rows": rows, "layers": [el]})
            n_features += len(lay)
            summary.append({"name": lay.name, "kind": lay.family, "style": lay.style.key, "features": len(lay),
                            "dissolved": lay.dissolved, "shown": el.show})
        bounds.append((s, w, n, e))
        m.add_child(el)
    # one legend section per class table (several layers may share it)
    merged = {}
    for sec in sections:
        entry = merged.setdefault(sec["title"] or tuple(sec["rows"]), {"title": sec["title"], "rows": [], "layers": []})
        entry["rows"] += [r for r in sec["rows"] if r not in entry["rows"]]
        entry["layers"] += sec["layers"]
    legend = list(merged.values())
    # class tables first (four-colour risk on top), base layers after
    legend.sort(key=lambda s: 0 if s["title"] else 1)
    for j, sec in enumerate(legend):
        sec["id"] = f"riskmap-legend-{j}"

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    fig.html.add_child(_Raw(_title_html(title, date, source, _crs_note(basemap)) + _legend_html(legend),
                                 "riskmap_furniture"), name="riskmap_furniture")
    s = min(b[0] for b in bounds)
    w = min(b[1] for b in bounds)
    n = max(b[2] for b in bounds)
    e = max(b[3] for b in bounds)
    m.fit_bounds([[s, w], [n, e]], padding_top_left=(270, 30), padding_bottom_right=(200, 10))  # clear of the panels
    sync = ",".join(f'{{id:"{sec["id"]}",layers:[' + ",".join(el.get_name() for el in sec["layers"]) + "]}"
                    for sec in legend)
    furniture = MacroElement()
    furniture._template = Template(
        "{% macro script(this, kwargs) %}"
        "var riskmapMap = {{this._parent.get_name()}};\n"
        "riskmapMap.attributionControl.setPrefix('Leaflet " + LEAFLET_VERSION + "');\n"
        "riskmap.control(riskmapMap, document.getElementById('riskmap-title'), 'topleft');\n"
        "L.control.zoom({position: 'topleft'}).addTo(riskmapMap);\n"
        "L.control.scale({metric: true, imperial: false, maxWidth: 160, position: 'bottomleft'}).addTo(riskmapMap);\n"
        "riskmap.control(riskmapMap, document.getElementById('riskmap-legend'), 'bottomleft');\n"
        "riskmap.syncLegend(riskmapMap, [" + sync + "]);\n"
        "riskmap.popupsClearOfControls(riskmapMap);\n"
        "{% endmacro %}")
    m.add_child(furniture, name="riskmap_furniture_js")

    progress.set(90)
    page = fig.render()
    if basemap == "none":
        refs = external_references(page)
        if refs:  # a guard on our own template: an offline page must not fetch anything
            raise RuntimeError(f"offline web map would fetch: {refs[:5]}")
    with atomic_path(output) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
    progress.set(100)
    size = Path(output).stat().st_size
    return {"path": str(output), "size_bytes": size, "features": n_features, "layers": summary,
            "basemap": basemap, "leaflet": LEAFLET_VERSION}


def _radius(n):
    """Circle radius (px) by the number of points: a few shelters stand out, thousands of buildings do not merge."""
    return 6 if n <= 500 else 4 if n <= 5000 else 2.5


def _shown(lay, prepared):
    """Whether a layer is on when the page opens (all are in the layer control).

    Off at first: point layers with more than D.SHOW_MAX_POINTS points (every building), hazard rasters
    when the map has a four-colour risk layer, which covers the same ground and is the briefing's headline, and
    shelter catchments, which would veil the risk colours (D.START_HIDDEN).
    """
    if hasattr(lay, "png"):
        return not any(getattr(o, "style", None) and o.style.key == "risk_levels" and hasattr(o, "family")
                       for o in prepared)
    if lay.style.kind == "base" and lay.style.key in D.START_HIDDEN:
        return False
    return not (lay.family == "point" and len(lay) > D.SHOW_MAX_POINTS)


# --- folium elements -------------------------------------------------------------------------------------
class _VectorLayer(Layer):
    """A vector layer drawn by riskmap.vectorLayer (webmap.js) from compact data."""

    def __init__(self, lay, show=True):
        super().__init__(name=esc(lay.name), overlay=True, control=True, show=show)
        self._name = "RiskmapVector"
        fam = lay.family
        opts = {"name": lay.name, "pane": f"riskmap-{_pane(lay)}", "radius": _radius(len(lay)),
                "labels": lay.popup_labels, "labelColumn": lay.label_column,
                "popup": bool(lay.popup_labels) or lay.style.kind == "classes"}
        if lay.style.kind == "classes":
            table = cl.class_table(lay.style.key)
            opts["styles"] = [_class_style(c["color"], fam, D.FILL_OPACITY) for c in table["classes"]]
            if fam == "polygon" and len(lay) > D.OUTLINE_MAX_FEATURES:
                opts["styles"] = [dict(s, stroke=False) for s in opts["styles"]]
            opts["style"] = _class_style("#999999", fam, D.FILL_OPACITY)
            opts["classTitle"] = cl.title(table)
            opts["classLabels"] = [cl.label(c) for c in table["classes"]]
            classes = [int(i) for i in lay.class_index]
        else:
            opts["styles"] = []
            opts["style"] = _base_style(lay.style.key, fam)
            opts["classTitle"], opts["classLabels"] = "", []
            classes = None
            if lay.style.key in ("townships", "villages"):
                opts["popup"] = False  # outlines only: clicks fall through to the layers below
                opts["interactive"] = False
        if lay.lookup is not None:     # a dissolved grid: drawn merged, a click finds its cell (webmap.js gridClick)
            opts["popup"], opts["interactive"] = False, False
        data = ("{g:[" + ",".join(lay.geometries) + "],c:" + js_json(classes) + ",v:" + js_json(lay.popup_rows) +
                ",k:" + js_json(lay.lookup) + "}")
        data = data.replace("<", "\\u003c").replace(">", "\\u003e")   # geometries are numbers; belt and braces
        self._data, self._opts = data, js_json(opts)
        self._template = Template("{% macro script(this, kwargs) %}"
                                  "var {{this.get_name()}} = riskmap.vectorLayer({{this._data}}, {{this._opts}});\n"
                                  "{% endmacro %}")


class _ImageLayer(Layer):
    """A raster as a Leaflet image overlay (data: URL PNG)."""

    def __init__(self, lay, opacity, show=True):
        super().__init__(name=esc(lay.name), overlay=True, control=True, show=show)
        self._name = "RiskmapImage"
        s, w, n, e = lay.bounds
        self._url = js_json(png_data_url(lay.png))
        self._bounds = js_json([[s, w], [n, e]])
        self._opts = js_json({"opacity": opacity, "pane": "riskmap-raster", "interactive": False})
        self._template = Template("{% macro script(this, kwargs) %}"
                                  "var {{this.get_name()}} = L.imageOverlay({{this._url}}, {{this._bounds}}, {{this._opts}});\n"
                                  "{% endmacro %}")
