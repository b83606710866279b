"""riskmap:webmap: an offline folium/Leaflet page, checked in a real headless Chromium.

A small hand-built county (EPSG:4545) puts each class at a known place, so the browser checks are
computed: the colour drawn at a four-colour cell is its styles/classes.json colour blended at the
layer opacity, a raster overlay lands where its quadrant is, a click on a point opens its popup.
"""
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REPO

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
XSS = "<img src=x onerror=alert(1)>"
XSS2 = "</script><script>window.__xss=1</script>"
XSS_LAYER = "<b onmouseover=alert(2)>四色风险</b>"
TITLE = "测试县 <i>风险图</i>"
CRS = "EPSG:4545"
X0, Y0 = 560000.0, 3260000.0
CELLS = [(X0 + 250 + 1500 * i, Y0 + 1000, X0 + 1250 + 1500 * i, Y0 + 2000) for i in range(4)]   # risk 1..4
POINTS = [(X0 + 1000, Y0 + 2600, XSS, "大型"), (X0 + 3000, Y0 + 2600, XSS2, "small"),
          (X0 + 5000, Y0 + 2600, "安全点", "特大型")]
RASTER_CELL = 50.0


# --- data ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def county(engine, tmp_path_factory):
    import geopandas as gpd
    import shapely
    from rasterio.transform import from_origin
    from riskmap.risk_plugin.io import write_raster, write_vector
    d = tmp_path_factory.mktemp("webmap_county")
    towns = gpd.GeoDataFrame({"行政区划代码": ["500299100", "500299101", "500299102"],
                              "名称": ["清溪镇", "石门乡", "桃源镇"]},
                             geometry=[shapely.box(X0 + 2000 * i, Y0, X0 + 2000 * (i + 1), Y0 + 3000) for i in range(3)],
                             crs=CRS)
    risk = gpd.GeoDataFrame({"risk_level": [1, 2, 3, 4], "people": [120, 45.5, 8, 0],
                             "乡镇": ["清溪镇", "清溪镇", "石门乡", "桃源镇"]},
                            geometry=[shapely.box(*c) for c in CELLS], crs=CRS)
    pts = gpd.GeoDataFrame({"统一编号": ["A1", "B2", "C3"], "名称": [p[2] for p in POINTS],
                            "险情等级": [p[3] for p in POINTS], "威胁人数": [520, 12, 1500]},
                           geometry=[shapely.Point(p[0], p[1]) for p in POINTS], crs=CRS)
    # a wiggly road: 1 vertex every 2 m, so simplification has something to remove
    t = np.linspace(0, 6000, 3001)
    road = gpd.GeoDataFrame({"道路等级": ["县道"], "名称": ["X001"]},
                            geometry=[shapely.LineString(np.c_[X0 + t, Y0 + 2300 + 1.0 * np.sin(t / 3.0)])], crs=CRS)
    # zoning raster: a strip below the cells, hazard class 1..4 by quarter, nodata elsewhere
    width, height = int(6000 / RASTER_CELL), int(900 / RASTER_CELL)
    zone = np.repeat(np.repeat(np.array([[1, 2, 3, 4]], dtype=np.uint8), height, axis=0), width // 4, axis=1)
    paths = {
        "townships": write_vector(towns, d / "townships.gpkg"),
        "risk": write_vector(risk, d / "fourcolor.gpkg"),
        "points": write_vector(pts, d / "geohazard_points.gpkg"),
        "roads": write_vector(road, d / "roads.gpkg"),
        "zoning": write_raster(zone, d / "zoning.tif", from_origin(X0, Y0 + 900, RASTER_CELL, RASTER_CELL), CRS, 0),
    }
    return paths


@pytest.fixture(scope="module")
def page(engine, county, tmp_path_factory):
    from riskmap.risk_plugin.webmap import export_webmap
    out = tmp_path_factory.mktemp("webmap") / "map.html"
    result = export_webmap([(county["zoning"], "综合区划"), (county["risk"], XSS_LAYER), county["townships"],
                            county["roads"], county["points"]], out, title=TITLE, source="测试数据 & <源>",
                           date="2024-06-01", simplify_tolerance=5.0)
    return out, result


# --- browser -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), \
        "Chromium and chromedriver are needed (Debian: apt-get install chromium chromium-driver; see Makefile DEBS)"
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9",
                "--proxy-bypass-list=<-loopback>", "--window-size=1400,900", "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def open_page(driver, path, fit_county=True):
    """Open a page; with ``fit_county`` the test county fills the middle of the window, clear of the
    title, legend and layer control."""
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get_log("performance")   # drop what came before
    driver.get(Path(path).as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && typeof riskmapMap !== 'undefined'"))
    driver.execute_script("window.__alerted = []; window.alert = function (m) { window.__alerted.push(String(m)); };"
                          "riskmapMap.closePopup();")
    if fit_county:
        fit(driver)


def fit(driver):
    """The test county in the middle of the window, clear of the title, legend and layer control."""
    (w, s), (e, n) = lonlat(X0, Y0), lonlat(X0 + 6000, Y0 + 3000)
    driver.execute_script("riskmapMap.closePopup(); riskmapMap.fitBounds([[arguments[0], arguments[1]],"
                          " [arguments[2], arguments[3]]], {paddingTopLeft: [330, 170], paddingBottomRight: [260, 60],"
                          " animate: false});", s, w, n, e)


def requests_made(driver):
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def screen_of(png):
    from rasterio.io import MemoryFile
    with MemoryFile(png) as mem, mem.open() as src:
        return np.moveaxis(src.read()[:3], 0, -1)


def screen(driver):
    """The window as an (h, w, 3) uint8 array."""
    return screen_of(driver.get_screenshot_as_png())


def container_point(driver, lon, lat):
    return driver.execute_script(
        "var p = riskmapMap.latLngToContainerPoint([arguments[1], arguments[0]]);"
        "var r = riskmapMap.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top];", lon, lat)


def lonlat(x, y):
    from pyproj import Transformer
    return Transformer.from_crs(CRS, 4326, always_xy=True).transform(x, y)


def hex_rgb(color):
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def pixel(img, xy):
    x, y = int(round(xy[0])), int(round(xy[1]))
    return img[y - 1:y + 2, x - 1:x + 2].reshape(-1, 3).mean(axis=0)


def click_at(driver, xy):
    """A real mouse click at window coordinates (the browser's hit-testing decides what is hit)."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    ab = ActionBuilder(driver)
    ab.pointer_action.move_to_location(int(round(xy[0])), int(round(xy[1])))
    ab.pointer_action.click()
    ab.perform()


def open_popup(driver, xy):
    """Click at ``xy`` and return the popup that opens (Leaflet fades an old one out for 200 ms first)."""
    from selenium.webdriver.support.ui import WebDriverWait
    driver.execute_script("riskmapMap.closePopup();")
    WebDriverWait(driver, 10).until(lambda d: not d.find_elements("css selector", ".leaflet-popup"))
    click_at(driver, xy)
    WebDriverWait(driver, 10).until(lambda d: [e for e in d.find_elements("css selector", ".leaflet-popup-content")
                                               if e.is_displayed() and e.text.strip()])
    # the map may pan the popup clear of the controls (webmap.js popupsClearOfControls): wait until it stands still
    rect = "var r = document.querySelector('.leaflet-popup').getBoundingClientRect(); return [r.left, r.top];"
    last = [None]

    def still(d):
        now = d.execute_script(rect)
        moving = d.execute_script("return !!(riskmapMap._panAnim && riskmapMap._panAnim._inProgress);")
        done, last[0] = now == last[0] and not moving, now
        return done
    WebDriverWait(driver, 10, poll_frequency=0.15).until(still)
    return driver.find_element("css selector", ".leaflet-popup-content")


def popup_rows(driver):
    return dict(driver.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-popup-content tr')).map(function (r) {"
        " return [r.cells[0].textContent, r.cells[1].textContent]; });"))


def classes_json():
    return json.loads((REPO / "styles" / "classes.json").read_text(encoding="utf-8"))


# --- the engine, without a browser ------------------------------------------------------------------------
def test_class_matching_by_value_label_and_alias(engine):
    from riskmap.risk_plugin.classes import class_table, match_classes
    risk = class_table("risk_levels")
    assert match_classes(risk, [1, "2", 3.0, "低风险", "重大", "Major risk", None, 7, "x"]).tolist() == \
        [0, 1, 2, 3, 0, 0, -1, -1, -1]
    danger = class_table("danger_levels")
    assert match_classes(danger, ["giant", "大型", "Medium", "小型"]).tolist() == [0, 1, 2, 3]
    util = class_table("shelter_utilisation")
    assert match_classes(util, [0.0, 0.8, 0.81, 1.0, 1.01, None]).tolist() == [0, 0, 1, 1, 2, -1]


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_png_encoder_round_trips(engine):
    from rasterio.io import MemoryFile
    from riskmap.risk_plugin.webmap_layers import png_paletted
    index = np.array([[0, 1, 255], [2, 2, 0]], dtype=np.uint8)
    palette = [(255, 0, 0, 255), (0, 255, 0, 128), (0, 0, 255, 255)]
    with MemoryFile(png_paletted(index, palette)) as mem, mem.open() as src:
        rgba = src.read()
        if src.count == 1:   # GDAL may expose the palette: expand it
            cmap = src.colormap(1)
            rgba = np.moveaxis(np.array([[cmap[v] for v in row] for row in rgba[0]]), -1, 0)
    assert rgba[:, 0, 0].tolist() == [255, 0, 0, 255]
    assert rgba[:, 0, 1].tolist() == [0, 255, 0, 128]
    assert rgba[3, 0, 2] == 0                     # 255 = transparent
    assert rgba[:, 1, 0].tolist() == [0, 0, 255, 255]


def test_raster_overlay_is_placed_and_classed(engine, county):
    from riskmap.risk_plugin.webmap_layers import prepare_raster
    from rasterio.warp import transform_bounds
    lay = prepare_raster(county["zoning"], target_crs="EPSG:3857", tolerance=5.0)   # named "zoning"
    w, s, e, n = transform_bounds(CRS, "EPSG:4326", X0, Y0, X0 + 6000, Y0 + 900)
    s_, w_, n_, e_ = lay.bounds
    # the lon/lat box around the strip, within one 50 m cell (≈ 0.0005°)
    assert max(abs(w_ - w), abs(e_ - e), abs(s_ - s), abs(n_ - n)) < 6e-4
    assert lay.style.key == "hazard_classes"
    assert [x.label for x in lay.legend] == ["低 / Low", "中 / Moderate", "高 / High", "极高 / Very high"]


def test_simplification_keeps_within_tolerance(engine, county):
    import geopandas as gpd
    import shapely
    from riskmap.risk_plugin.webmap_layers import prepare_vector
    raw = gpd.read_file(county["roads"]).geometry.iloc[0]
    lay = prepare_vector(county["roads"], tolerance=5.0)
    simple = gpd.GeoSeries([shapely.from_geojson(lay.geometries[0])], crs=4326).to_crs(CRS).iloc[0]
    assert len(simple.coords) < len(raw.coords) / 20          # 3001 vertices of a 1 m wiggle → a few
    assert raw.hausdorff_distance(simple) <= 5.0 + 0.5          # within tolerance (+ 6-decimal rounding)
    kept = prepare_vector(county["roads"], tolerance=0)
    assert len(shapely.from_geojson(kept.geometries[0]).coords) == len(raw.coords)


def test_large_class_layer_is_dissolved_by_class_and_township(engine, county, tmp_path):
    import geopandas as gpd
    from riskmap.risk_plugin.io import write_vector
    from riskmap.risk_plugin.webmap_layers import prepare_vector
    lay = prepare_vector(county["risk"], tolerance=0)
    assert not lay.dissolved and lay.class_index.tolist() == [0, 1, 2, 3]
    # 4 cells + 2 more level-1 cells in 清溪镇: 6 features > 3 → (class, 乡镇) groups, people summed
    risk = gpd.read_file(county["risk"])
    extra = risk.iloc[[0, 0]].copy()
    extra["people"] = [30.0, 0.5]
    extra.geometry = extra.geometry.translate(0, 1100)
    path = write_vector(gpd.GeoDataFrame(pd.concat([risk, extra]), crs=risk.crs), tmp_path / "grid.gpkg")
    lay = prepare_vector(path, tolerance=0, max_features=3)
    assert lay.dissolved and len(lay) == 4
    # popups by aliases only (risk_plugin.aliases): people in whole persons
    rows = {(int(c), r[lay.popup_labels.index("乡镇 / Township")]): r for c, r in zip(lay.class_index, lay.popup_rows)}
    assert set(rows) == {(0, "清溪镇"), (1, "清溪镇"), (2, "石门乡"), (3, "桃源镇")}
    major = rows[(0, "清溪镇")]
    assert major[lay.popup_labels.index("人口 / People")] == 151          # 120 + 30 + 0.5 = 150.5 people
    assert major[lay.popup_labels.index("合并图斑数 / Merged features")] == 3
    assert lay.lookup is None        # no riskmap grid (no grid_row / grid_col): the merged polygons have the popups


def test_recognition_of_styles(engine, county):
    from riskmap.risk_plugin.webmap_layers import prepare_vector, recognise
    assert prepare_vector(county["points"]).style.key == "danger_levels"
    assert prepare_vector(county["townships"]).style.key == "townships"
    assert recognise(["名称", "利用率"], "x", lambda c: [0.5, 1.2]).key == "shelter_utilisation"
    # a '类别' field whose values are no shelter class does not make a shelter layer
    assert recognise(["类别"], "土地利用", lambda c: ["耕地", "林地"]).key == "other"
    assert recognise(["shelter_class", "name"], "shelter_catchments", lambda c: ["emergency"]).key == "catchments"
    # rasters: whole numbers 0..4 are classes (risk by name), anything else a ramp
    from riskmap.risk_plugin.webmap_layers import recognise_raster
    assert recognise_raster("composite_zoning", [0, 1, 4]).key == "hazard_classes"
    assert recognise_raster("fourcolor_risk", [1, 2, 4]).key == "risk_levels"
    assert recognise_raster("fourcolor_risk", [0, 1, 2]).key == "hazard_classes"
    assert recognise_raster("flood_depth_100", [0.0, 0.3, 2.5]).key == "continuous_ramp"
    assert recognise_raster("population", [0, 12, 230]).key == "continuous_ramp"


def test_parameter_errors(engine, county, tmp_path):
    from riskmap.risk_plugin.errors import ParameterError
    from riskmap.risk_plugin.webmap import export_webmap
    with pytest.raises(ParameterError, match="TIANDITU_KEY"):
        export_webmap([county["townships"]], tmp_path / "a.html", basemap="tianditu", tianditu_key="")
    with pytest.raises(ParameterError, match="BASEMAP"):
        export_webmap([county["townships"]], tmp_path / "a.html", basemap="amap")
    assert not (tmp_path / "a.html").exists()


def test_tianditu_uses_cgcs2000_lonlat_tiles(engine, county, tmp_path):
    from riskmap.risk_plugin.webmap import export_webmap
    out = tmp_path / "t.html"
    export_webmap([county["townships"], county["zoning"]], out, basemap="tianditu", tianditu_key="0123456789abcdef")
    html = out.read_text(encoding="utf-8")
    assert "crs: L.CRS.EPSG4326" in html
    tiles = re.findall(r'"(https://t\{s\}\.tianditu\.gov\.cn/[^"]+)"', html)
    assert len(tiles) == 2 and all("TILEMATRIXSET=c" in t and "tk=0123456789abcdef" in t for t in tiles)
    assert '"zoomOffset": 1' in html


def test_osm_basemap_is_an_optional_online_layer(engine, county, tmp_path):
    from riskmap.risk_plugin.webmap import export_webmap, external_references
    out = tmp_path / "osm.html"
    export_webmap([county["townships"]], out, basemap="osm")
    html = out.read_text(encoding="utf-8")
    assert "crs: L.CRS.EPSG3857" in html and '"https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in html
    assert external_references(html) == []        # tiles are fetched by script, at run time, only if online


def test_html_is_self_contained_and_escaped(page):
    from riskmap.risk_plugin.webmap import external_references
    path, result = page
    html = path.read_text(encoding="utf-8")
    assert external_references(html) == []
    assert not re.search(r"(cdn\.|jsdelivr|cloudflare|unpkg|googleapis|bootstrapcdn)", html)
    # the guard itself finds what it must
    assert external_references('<script src="https://x/l.js"></script><style>a{background:url(http://x/i.png)}</style>') \
        == ['<script src=https://x/l.js>', "url(http://x/i.png"]
    # no attribute value appears raw in the page
    for raw in (XSS, XSS2, "<i>风险图</i>", "<源>", "<b onmouseover"):
        assert raw not in html
    assert "<title>测试县 &lt;i&gt;风险图&lt;/i&gt;</title>" in html
    assert result["features"] == 4 + 3 + 1 + 3 and path.stat().st_size < 1_500_000
    shown = {lay["name"]: lay["shown"] for lay in result["layers"]}
    # human titles, never file names: the base layer's name, the input kind of data_schemas/ (risk_plugin.titles)
    assert shown == {"综合区划": False, XSS_LAYER: True, "乡镇界 / Township boundary": True, "道路 / Roads": True,
                     "地质灾害隐患点 / Geohazard points": True}
    assert "geohazard_points" not in [lay["name"] for lay in result["layers"]]


# --- in Chromium ---------------------------------------------------------------------------------------------
def test_page_loads_with_networking_disabled(browser, page):
    open_page(browser, page[0])
    assert browser.execute_script("return L.version") == "1.9.4"
    urls = requests_made(browser)
    assert any(u.startswith("file://") for u in urls)
    assert [u for u in urls if re.match(r"(https?|wss?|ftp):", u)] == []
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
    n_layers = browser.execute_script("var n = 0; riskmapMap.eachLayer(function () { n++; }); return n;")
    assert n_layers > 11      # 5 layer groups + their 11 features
    assert browser.execute_script("return document.title") == "测试县 <i>风险图</i>"
    title = browser.find_element("id", "riskmap-title").text
    assert "测试县 <i>风险图</i>" in title and "2024-06-01" in title and "测试数据 & <源>" in title


def test_legend_shows_four_colours_from_styles(browser, page):
    open_page(browser, page[0])
    legend = browser.find_element("id", "riskmap-legend")
    assert legend.is_displayed()
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('#riskmap-legend .riskmap-legend-row')).map(function (r) {"
        " return [r.textContent.trim(), getComputedStyle(r.querySelector('.riskmap-swatch')).backgroundColor]; });")
    shown = dict(rows)
    for cls in classes_json()["risk_levels"]["classes"]:
        label = f"{cls['zh']} / {cls['en']}"
        r, g, b = hex_rgb(cls["color"]).astype(int)
        assert shown[label] == f"rgb({r}, {g}, {b})", label
    assert "乡镇界 / Township boundary" in shown and "大型 / Large" in shown and "极高 / Very high" in shown


def test_classes_are_drawn_in_their_colours_and_layers_toggle(browser, page):
    open_page(browser, page[0])
    opacity = 0.65
    # the zoning raster starts off (the four-colour layer covers the same ground): tick it on
    labels = browser.find_elements("css selector", ".leaflet-control-layers-overlays label")
    zoning = next(lab for lab in labels if lab.text.strip() == "综合区划").find_element("css selector", "input")
    assert not zoning.is_selected()
    zoning.click()
    img = screen(browser)
    bg = pixel(img, container_point(browser, *lonlat(X0 + 1000, Y0 + 2150)))   # inside a township, nothing drawn
    risk = classes_json()["risk_levels"]["classes"]
    centres = [container_point(browser, *lonlat((c[0] + c[2]) / 2, (c[1] + c[3]) / 2)) for c in CELLS]
    for cls, xy in zip(risk, centres):
        expected = opacity * hex_rgb(cls["color"]) + (1 - opacity) * bg
        assert np.abs(pixel(img, xy) - expected).max() < 8, (cls["zh"], pixel(img, xy), expected)
    hazard = classes_json()["hazard_classes"]["classes"]
    for q in range(4):   # raster quarters, centre of each
        xy = container_point(browser, *lonlat(X0 + 750 + 1500 * q, Y0 + 450))
        expected = opacity * hex_rgb(hazard[q + 1]["color"][:7]) + (1 - opacity) * bg
        assert np.abs(pixel(img, xy) - expected).max() < 8, (q, pixel(img, xy), expected)

    # the layer control shows the escaped layer name as text; untick it: the cells and their legend go
    labels = browser.find_elements("css selector", ".leaflet-control-layers-overlays label")
    names = [lab.text.strip() for lab in labels]
    assert XSS_LAYER in names
    box = labels[names.index(XSS_LAYER)].find_element("css selector", "input")
    legend_risk = browser.execute_script(
        "return Array.from(document.querySelectorAll('.riskmap-legend-section')).filter(function (s) {"
        " return s.textContent.indexOf('重大风险') >= 0; })[0].id;")
    box.click()
    assert not browser.find_element("id", legend_risk).is_displayed()
    img_off = screen(browser)
    for xy in centres:
        assert np.abs(pixel(img_off, xy) - bg).max() < 8
    box.click()
    assert browser.find_element("id", legend_risk).is_displayed()
    img_on = screen(browser)
    expected = opacity * hex_rgb(risk[0]["color"]) + (1 - opacity) * bg
    assert np.abs(pixel(img_on, centres[0]) - expected).max() < 8


def test_popup_opens_and_payloads_stay_text(browser, page):
    open_page(browser, page[0])
    for x, y, name, _ in POINTS[:2]:
        fit(browser)        # a popup pans the map clear of the controls: back to the same view for each click
        content = open_popup(browser, container_point(browser, *lonlat(x, y)))
        assert name in content.text               # the payload is shown, as text
        assert content.text.startswith("地质灾害隐患点 / Geohazard points")     # the layer's title, not its file
        assert content.find_elements("css selector", "img, script, b") == []
    fit(browser)
    content = open_popup(browser, container_point(browser, *lonlat(*POINTS[0][:2])))
    rows = popup_rows(browser)
    # aliases only, each value once: the class label heads the popup, the raw 险情等级 field is not repeated
    assert rows == {"险情等级 / Danger level": "大型 / Large", "名称 / Name": XSS, "统一编号 / Unified id": "A1",
                    "威胁人数 (调查) / People threatened (surveyed)": "520"}
    # a click on a four-colour cell (a lower pane, under the township outlines) gives its class
    c = CELLS[1]
    fit(browser)
    open_popup(browser, container_point(browser, *lonlat((c[0] + c[2]) / 2, (c[1] + c[3]) / 2)))
    rows = popup_rows(browser)
    assert rows == {"风险等级 (四色) / Risk level (four-color)": "较大风险 / Considerable risk",
                    "乡镇 / Township": "清溪镇", "人口 / People": "46"}           # 45.5 people, in whole persons
    assert browser.execute_script("return window.__alerted.length + (window.__xss ? 1 : 0)") == 0
    assert browser.find_elements("css selector", "img[src='x']") == []


def test_demo_county_map_and_screenshot(alg, demo_county, browser, tmp_path):
    """The small demo county through the chain (flood classes → four-colour risk grid) and its layers in one
    map: under 15 MB, opens offline, and gives the README screenshot."""
    import geopandas as gpd
    from riskmap.risk_plugin.webmap import export_webmap
    flood = alg("riskmap:floodhazard", {"DEPTH": demo_county["flood_depth_100"], "OUTPUT": str(tmp_path / "flood.tif")})
    risk = alg("riskmap:fourcolorrisk", {"HAZARD": flood["OUTPUT"], "POPULATION": demo_county["population"],
                                         "BUILDINGS": demo_county["buildings"], "FACILITIES": demo_county["facilities"],
                                         "TOWNSHIPS": demo_county["townships"], "SUPPORT": 0, "CELL_SIZE": 100,
                                         "OUTPUT": str(tmp_path / "fourcolor_grid.gpkg")})["OUTPUT"]
    paths = [risk] + [demo_county[n] for n in ("townships", "villages", "roads", "rivers", "shelters", "geohazard_points")]
    out = tmp_path / "demo.html"
    result = export_webmap([flood["OUTPUT"]] + paths, out, title="演示县自然灾害风险图 / Demo county risk map",
                           source="riskmap 演示数据 / demo data", date="2024-06-01")
    assert result["features"] == sum(len(gpd.read_file(p)) for p in paths)
    assert out.stat().st_size < 15e6
    open_page(browser, out, fit_county=False)
    assert [u for u in requests_made(browser) if re.match(r"(https?|wss?|ftp):", u)] == []
    img = screen(browser)
    assert img.std() > 20                         # not a blank page
    target = REPO / "docs" / "images" / "webmap.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or not np.array_equal(screen_of(target.read_bytes()), img):   # same pixels: keep the file
        target.write_bytes(browser.get_screenshot_as_png())


def test_webmap_through_qgis_process(qgis_process, county, tmp_path):
    out = tmp_path / "qp.html"
    code, results, log = qgis_process.run("riskmap:webmap", {
        "LAYERS": [county["risk"], county["townships"], county["points"], county["zoning"]],
        "TITLE": "qgis_process 测试", "SOURCE": "test", "BASEMAP": 0, "OUTPUT": str(out)})
    assert code == 0
    assert results["FEATURES"] == 4 + 3 + 3
    assert out.exists() and abs(results["SIZE_MB"] - out.stat().st_size / 1e6) < 0.01
    from riskmap.risk_plugin.webmap import external_references
    assert external_references(out.read_text(encoding="utf-8")) == []


# --- a map a leader reads: the clicked grid cell, catchments off, popups clear of the controls -------------------
@pytest.fixture(scope="module")
def grid_page(alg, demo_county, tmp_path_factory):
    """A 50 m four-colour grid of the demo county (> 20 000 pieces: drawn dissolved) with the shelter catchments."""
    import geopandas as gpd
    import shapely
    from riskmap.risk_plugin.io import write_vector
    from riskmap.risk_plugin.webmap import export_webmap
    d = tmp_path_factory.mktemp("grid_page")
    flood = alg("riskmap:floodhazard", {"DEPTH": demo_county["flood_depth_100"], "OUTPUT": str(d / "flood.tif")})
    grid = alg("riskmap:fourcolorrisk", {"HAZARD": flood["OUTPUT"], "POPULATION": demo_county["population"],
                                         "BUILDINGS": demo_county["buildings"], "TOWNSHIPS": demo_county["townships"],
                                         "SUPPORT": 0, "CELL_SIZE": 50, "OUTPUT": str(d / "fourcolor_grid.gpkg")})["OUTPUT"]
    shelters = gpd.read_file(demo_county["shelters"]).head(3)
    catch = gpd.GeoDataFrame({"name": shelters["名称"], "shelter_class": "emergency", "service_m": 500.0},
                             geometry=shelters.geometry.buffer(800), crs=shelters.crs)
    catchments = write_vector(catch, d / "shelter_catchments.gpkg")
    out = d / "grid.html"
    result = export_webmap([grid, demo_county["townships"], catchments], out, title="网格 / grid", date="2024-06-01")
    return out, result, gpd.read_file(grid, layer="fourcolor_grid")


def test_a_click_on_a_dissolved_grid_reports_the_cell_clicked(browser, grid_page):
    """The grid is drawn merged by level and township, but a click shows the piece under the mouse: its own
    people (whole persons), level and township, also for a cell split by a township boundary."""
    import shapely
    out, result, cells = grid_page
    (lay,) = [x for x in result["layers"] if x["style"] == "risk_levels"]
    assert lay["dissolved"] and lay["name"] == "风险四色图 (50 m 网格) / Four-color risk map (50 m grid cells)"
    counts = cells.groupby(["grid_row", "grid_col"]).size()
    split = cells.set_index(["grid_row", "grid_col"]).loc[counts[counts > 1].index].reset_index()
    picks = list(cells.sort_values("people", ascending=False).head(3).index) + list(
        cells.index[cells.set_index(["grid_row", "grid_col"]).index.isin(split.head(1).set_index(
            ["grid_row", "grid_col"]).index)])
    assert len(picks) >= 5
    open_page(browser, out, fit_county=False)
    levels = {c["value"]: f"{c['zh']} / {c['en']}" for c in classes_json()["risk_levels"]["classes"]}
    for i in picks:
        cell = cells.loc[i]
        lon, lat = shapely.get_coordinates(
            cells.loc[[i]].to_crs(4326).geometry.representative_point())[0]
        browser.execute_script("riskmapMap.closePopup(); riskmapMap.setView([arguments[1], arguments[0]], 16,"
                               " {animate: false});", lon, lat)
        open_popup(browser, container_point(browser, lon, lat))
        rows = popup_rows(browser)
        assert rows["风险等级 (四色) / Risk level (four-color)"] == levels[int(cell["risk_level"])]
        assert rows["人口 / People"] == str(int(np.floor(cell["people"] + 0.5)))     # that cell, in whole persons
        assert rows["乡镇 / Township"] == cell["township_name"]
        assert all(" / " in key for key in rows) and "risk_zh" not in " ".join(rows)    # aliases only


def test_grid_lookup_maps_every_cell_centre_to_its_cell(engine, grid_page):
    """The page's lon/lat → (column, row) polynomials put every piece's inner point in its own cell."""
    import geopandas as gpd
    import shapely
    from riskmap.risk_plugin.webmap_layers import POLY_TERMS, prepare_vector
    out, _, cells = grid_page
    lay = prepare_vector(cells.attrs.get("source") or str(out.parent / "fourcolor_grid.gpkg"))
    k = lay.lookup
    pts = gpd.GeoSeries(cells.geometry.representative_point(), crs=cells.crs).to_crs(4326)
    x = (pts.x.to_numpy() - k["mid"][0]) / k["scale"][0]
    y = (pts.y.to_numpy() - k["mid"][1]) / k["scale"][1]
    terms = np.column_stack([x ** a * y ** b for a, b in POLY_TERMS])
    col, row = (np.floor(terms @ np.array(c)).astype(int) for c in k["fit"])
    assert (col == cells["grid_col"].to_numpy()).all() and (row == cells["grid_row"].to_numpy()).all()
    assert len(k["c"]) == len(cells) and sum(1 for v in k["index"] if v != 0) == cells.groupby(
        ["grid_row", "grid_col"]).ngroups
    assert shapely.is_valid(cells.geometry.to_numpy()).all()


def test_catchments_start_off_and_are_not_the_low_risk_blue(browser, grid_page):
    out, result, _ = grid_page
    shown = {x["name"]: x["shown"] for x in result["layers"]}
    assert shown["避难场所服务范围 / Shelter catchments"] is False
    table = classes_json()
    catch = table["base_layers"]["catchments"]["color"].upper()
    class_colours = {c["color"][:7].upper() for t in table.values() if isinstance(t, dict) and "classes" in t
                     for c in t["classes"]}
    assert catch not in class_colours
    open_page(browser, out, fit_county=False)
    drawn = browser.execute_script("var colour = arguments[0], n = 0; riskmapMap.eachLayer(function (l) {"
                                   " if (l.options && l.options.color && l.options.color.toUpperCase() === colour) n++; });"
                                   " return n;", catch)
    assert drawn == 0                                # not on the map when the page opens
    browser.execute_script("Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label')).forEach("
                           "function (l) { if (l.textContent.indexOf('Shelter catchments') >= 0)"
                           " l.querySelector('input').click(); });")
    on = browser.execute_script("var colour = arguments[0], n = 0; riskmapMap.eachLayer(function (l) {"
                                " if (l.options && l.options.color && l.options.color.toUpperCase() === colour) n++; });"
                                " return n;", catch)
    assert on == 3                                   # ticked: the three catchments, in their own colour
    browser.execute_script("Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label')).forEach("
                           "function (l) { if (l.textContent.indexOf('Shelter catchments') >= 0)"
                           " l.querySelector('input').click(); });")
    labels = browser.execute_script("return Array.from(document.querySelectorAll("
                                    "'.leaflet-control-layers-overlays label')).map(function (l) {"
                                    " return [l.textContent.trim(), l.querySelector('input').checked]; });")
    assert ["避难场所服务范围 / Shelter catchments", False] in labels    # in the layer list, unticked


def test_popups_stay_clear_of_the_layer_control(browser, page):
    """A popup opened under the layer list (top right) is panned below it: it never slides underneath."""
    open_page(browser, page[0], fit_county=False)
    x, y, _, _ = POINTS[2]
    lon, lat = lonlat(x, y)
    box = browser.execute_script("var r = document.querySelector('.leaflet-control-layers').getBoundingClientRect();"
                                 " return [r.left, r.top, r.right, r.bottom];")
    # put the point right under the middle of the layer list, then click it there
    browser.execute_script("var m = riskmapMap, c = m.getContainer().getBoundingClientRect();"
                           "var target = L.point((arguments[2] + arguments[4]) / 2 - c.left, arguments[5] - 5 - c.top);"
                           "var p = m.latLngToContainerPoint([arguments[1], arguments[0]]);"
                           "m.panBy(p.subtract(target), {animate: false});", lon, lat, *box)
    xy = container_point(browser, lon, lat)
    assert box[0] <= xy[0] <= box[2] and xy[1] <= box[3]           # the point is under the layer list
    browser.execute_script("var lon = arguments[0], lat = arguments[1], best = null, dist = 1e9;"
                           " riskmapMap.eachLayer(function (l) {"
                           " if (l.getLatLng && l.feature && l.getPopup && l.getPopup()) {"
                           "  var d = Math.abs(l.getLatLng().lng - lon) + Math.abs(l.getLatLng().lat - lat);"
                           "  if (d < dist) { dist = d; best = l; } } }); best.openPopup();", lon, lat)
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 10).until(lambda d: d.find_elements("css selector", ".leaflet-popup-content"))
    import time
    time.sleep(0.6)                                                   # the pan animation
    popup = browser.execute_script("var r = document.querySelector('.leaflet-popup').getBoundingClientRect();"
                                   " return [r.left, r.top, r.right, r.bottom];")
    overlap = not (popup[2] <= box[0] or popup[0] >= box[2] or popup[3] <= box[1] or popup[1] >= box[3])
    assert not overlap, (popup, box)


def test_layer_written_in_parts_is_a_vector_in_the_web_map(engine, county, tmp_path):
    """A four-colour layer written as ``….vrt`` (GeoPackage parts under an OGR union VRT, the province
    output) is a vector layer in the web map with the four-colour style and the same features; a raster
    VRT over the zoning GeoTIFF stays a raster."""
    import geopandas as gpd
    import pyogrio
    from osgeo import gdal
    from riskmap.risk_plugin.io import is_raster_file, write_vector
    from riskmap.risk_plugin.webmap_layers import prepare_vector
    risk = gpd.read_file(county["risk"])
    vrt = write_vector(risk, tmp_path / "fourcolor.vrt")
    assert [p.name for p in (tmp_path / "fourcolor_parts").iterdir()] == ["part_00000.gpkg"]
    assert not is_raster_file(vrt) and pyogrio.read_info(vrt)["features"] == 4
    lay = prepare_vector(vrt, tolerance=0)
    assert lay.style.key == prepare_vector(county["risk"], tolerance=0).style.key
    assert lay.class_index.tolist() == [0, 1, 2, 3]
    raster_vrt = str(tmp_path / "zoning.vrt")
    gdal.BuildVRT(raster_vrt, [county["zoning"]]).FlushCache()
    assert is_raster_file(raster_vrt) and is_raster_file(county["zoning"]) and not is_raster_file(county["risk"])
