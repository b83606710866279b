"""Every algorithm against every bad input that applies (issue 7), table-driven.

The good parameters are the `make demo` steps (tools/demo_steps/), run on a small demo
county. Each bad input replaces the first vector or raster input of a step. The outcome
must be one of two things: a QgsProcessingException whose message is bilingual and names
the layer (never a Python traceback), with no output file left behind; or documented,
correct handling (for a re-encoded or multipart copy of the same data: the same numbers).
Inputs are never modified.
"""
import hashlib
import importlib.util
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely

from conftest import REPO, run_alg

SMALL_COUNTY = {"SIZE_KM": 8, "CELL_SIZE": 20, "TOWNSHIPS": 4, "VILLAGES_PER_TOWNSHIP": 5,
                "BUILDINGS_PER_VILLAGE": 150, "SEED": 7}
CJK = re.compile(r"[\u4e00-\u9fff]")


def demo_steps():
    steps = []
    for path in sorted((REPO / "tools" / "demo_steps").glob("[0-9]*.py")):
        spec = importlib.util.spec_from_file_location(f"demo_step_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        steps.extend(module.STEPS)
    return steps


def fill(value, data, out):
    if isinstance(value, (list, tuple)):
        return [fill(v, data, out) for v in value]
    return value.format(data=data, out=out) if isinstance(value, str) else value


class Chain:
    """The demo steps run in this process on the small county, lazily and in order, so a test
    for one algorithm needs only the steps up to it."""

    def __init__(self, folder):
        self.out, self.data = folder, folder / "county"
        self.pending = demo_steps()
        self.done = []          # [(step, params, results)]

    def until(self, alg_id=None):
        while self.pending and not any(s["alg"] == alg_id for s, _, _ in self.done):
            step = self.pending.pop(0)
            params = {k: fill(v, self.data, self.out) for k, v in step["params"].items()}
            if step["alg"] == "riskmap:democounty":
                params.update(SMALL_COUNTY)
            self.done.append((step, params, run_alg(step["alg"], params)))
        return self.done


@pytest.fixture(scope="module")
def chain(riskmap, tmp_path_factory):
    # spaces and Chinese in every path of every parameter (issue 16)
    return Chain(tmp_path_factory.mktemp("链 数据 chain"))


def test_demo_chain_runs_in_processing(chain):
    done = chain.until(None)
    algs = [s["alg"] for s, _, _ in done]
    assert algs[0] == "riskmap:democounty" and len(done) == len(demo_steps())
    for step, params, results in done:
        for key in step.get("report", []):
            assert isinstance(results[key], (int, float)), (step["alg"], key, results.get(key))



# --- bad inputs -----------------------------------------------------------------------------------
def v_no_crs(gdf):
    return gdf.set_crs(None, allow_override=True)


def v_geographic(gdf):
    return gdf.to_crs(4490)


def v_empty(gdf):
    return gdf.iloc[:0]


def v_null_geometry(gdf):
    gdf = gdf.copy()
    gdf.loc[gdf.index[0], gdf.geometry.name] = None
    return gdf


def v_invalid_geometry(gdf):
    gdf = gdf.copy()
    x, y = shapely.get_coordinates(gdf.geometry.iloc[0].representative_point())[0]
    bowtie = shapely.Polygon([(x, y), (x + 50, y + 50), (x + 50, y), (x, y + 50), (x, y)])
    if gdf.geom_type.iloc[0].endswith("Polygon"):
        gdf.loc[gdf.index[0], gdf.geometry.name] = bowtie
    else:   # self-intersecting line, or a point that is not finite
        gdf.loc[gdf.index[0], gdf.geometry.name] = shapely.LineString([(x, y), (x + 50, y + 50), (x + 50, y), (x, y + 50)]) \
            if "Line" in gdf.geom_type.iloc[0] else shapely.Point(np.nan, np.nan)
    return gdf


def v_no_fields(gdf):
    return gdf[[gdf.geometry.name]]


def v_multipart(gdf):
    """Each feature as a one-part Multi* geometry: the same data, a different geometry type."""
    gdf = gdf.copy()
    geoms = gdf.geometry.values
    each = np.arange(len(gdf))
    make = {"Polygon": shapely.multipolygons, "LineString": shapely.multilinestrings, "Point": shapely.multipoints}
    kind = gdf.geom_type.iloc[0]
    if kind in make:
        gdf[gdf.geometry.name] = make[kind](geoms, indices=each)
    return gdf


def _attr_columns(gdf, numeric):
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    return [c for c in cols if (np.issubdtype(gdf[c].dtype, np.number) == numeric)]


def v_wrong_type(gdf):
    """Numeric fields stored as text, one value not a number (as in hand-edited survey sheets)."""
    gdf = gdf.copy()
    for c in _attr_columns(gdf, numeric=True):
        gdf[c] = gdf[c].astype(str)
        gdf.loc[gdf.index[0], c] = "约30"
    return gdf


def v_bad_values(gdf):
    gdf = gdf.copy()
    for c in _attr_columns(gdf, numeric=False):
        gdf.loc[gdf.index[0], c] = "其他/other?"
    return gdf


def v_negative(gdf):
    gdf = gdf.copy()
    for c in _attr_columns(gdf, numeric=True):
        gdf[c] = -gdf[c].abs()
    return gdf


def v_duplicate(gdf):
    import pandas as pd
    return gpd.GeoDataFrame(pd.concat([gdf, gdf.iloc[:1]], ignore_index=True), crs=gdf.crs)


def v_moved_away(gdf):
    """The same layer 500 km away: it covers nothing the other inputs cover."""
    return gdf.set_geometry(gdf.geometry.translate(500_000, 0))


def v_fid_columns(gdf):
    """fid / FID / OBJECTID / id attribute columns with duplicates and text, as exports from other tools carry."""
    gdf = gdf.copy()
    n = len(gdf)
    have = {str(c).lower() for c in gdf.columns}
    for i, (col, values) in enumerate([("fid", [f"A{i // 2}" for i in range(n)]), ("OBJECTID", np.ones(n, dtype=np.int64)),
                                       ("id", np.arange(n) // 3)]):
        if col.lower() in have:
            gdf[next(c for c in gdf.columns if str(c).lower() == col.lower())] = values
        else:
            gdf.insert(i, col, values)
    return gdf


def v_z_geometries(gdf):
    gdf = gdf.copy()
    gdf[gdf.geometry.name] = shapely.force_3d(gdf.geometry.values, 123.0)
    return gdf


def v_mixed_parts(gdf):
    """Every other feature as a one-part Multi* geometry: single and multi in one layer."""
    gdf = v_multipart(gdf)
    single = gdf.copy()
    odd = np.arange(len(gdf)) % 2 == 1
    if gdf.geom_type.iloc[0].startswith("Multi"):
        parts = shapely.get_parts(gdf.geometry.values[odd])
        if len(parts) == odd.sum():
            single.loc[odd, gdf.geometry.name] = parts
    return single


def v_numbers_as_text(gdf):
    """Numeric fields as text the way survey sheets hold them: '1,234' and full-width digits."""
    gdf = gdf.copy()
    full = str.maketrans("0123456789.-", "０１２３４５６７８９．－")
    for i, c in enumerate(_attr_columns(gdf, numeric=True)):
        v = gdf[c]
        text = v.map(lambda x: f"{x:,}" if float(x).is_integer() else repr(x)) if i % 2 == 0 else \
            v.map(lambda x: str(x).translate(full))
        gdf[c] = text.astype(object).where(v.notna(), None)     # an empty cell stays empty, not the text 'nan'
    return gdf


VECTOR_CASES = {  # name: (mutation, same numbers expected when it succeeds)
    "no_crs": (v_no_crs, False), "geographic_crs": (v_geographic, False), "empty": (v_empty, False),
    "null_geometry": (v_null_geometry, False), "invalid_geometry": (v_invalid_geometry, False),
    "missing_fields": (v_no_fields, False), "multipart": (v_multipart, True), "gbk_shapefile": (None, True),
    "wrong_field_type": (v_wrong_type, False), "values_outside_allowed_set": (v_bad_values, False),
    "negative_numbers": (v_negative, False), "duplicate_feature": (v_duplicate, False),
    "covers_nothing": (v_moved_away, False),
    "metres_labelled_degrees": (lambda g: g.set_crs(4490, allow_override=True), False),
    # foreign files (issue 15): each must work, with the same numbers
    "fid_columns": (v_fid_columns, True), "z_geometries": (v_z_geometries, True), "mixed_parts": (v_mixed_parts, True),
    "numbers_as_text": (v_numbers_as_text, True), "layer_name_spaces_chinese": (None, True),
    "second_layer_of_gpkg": (None, True), "utf8_shapefile_cut_names": (None, True),
    "gbk_under_utf8_cpg": (None, True), "m_geometries": (None, True), "upper_case_cut_names": (None, True),
}
ORIGINAL_VECTOR_CASES = ["no_crs", "geographic_crs", "empty", "null_geometry", "invalid_geometry", "missing_fields",
                         "multipart", "gbk_shapefile", "wrong_field_type", "values_outside_allowed_set",
                         "negative_numbers", "duplicate_feature", "covers_nothing"]
ORIGINAL_RASTER_CASES = ["no_crs", "nodata_everywhere", "misaligned", "outside_the_county"]
MUST_WORK = {"m_geometries", "upper_case_cut_names", "multipart", "gbk_shapefile", "fid_columns", "z_geometries", "mixed_parts", "numbers_as_text",
             "layer_name_spaces_chinese", "second_layer_of_gpkg", "utf8_shapefile_cut_names", "gbk_under_utf8_cpg"}


def make_vector(case, path, tmp):
    """The bad copy of ``path`` and the value to pass for it (a path, or path|layername=…)."""
    import subprocess
    from riskmap.risk_plugin.io import data_layer
    layer = data_layer(path) if str(path).endswith(".gpkg") else None   # riskmap GeoPackages also hold layer_styles
    src = [str(path)] + ([layer] if layer else [])                      # ogr2ogr: the data layer only
    gdf = gpd.read_file(path, layer=layer)
    if case in ("gbk_shapefile", "gbk_under_utf8_cpg", "utf8_shapefile_cut_names"):
        out = tmp / f"{case}.shp"
        enc = "UTF-8" if case == "utf8_shapefile_cut_names" else "CP936"
        subprocess.run(["ogr2ogr", "-lco", f"ENCODING={enc}", str(out), *src], check=True, capture_output=True)
        out.with_suffix(".cpg").unlink(missing_ok=True)
        if case != "gbk_shapefile":
            out.with_suffix(".cpg").write_text("UTF-8")
        return out, str(out)
    if case == "m_geometries":
        out = tmp / "measured.gpkg"
        subprocess.run(["ogr2ogr", "-dim", "XYM", str(out), *src], check=True, capture_output=True)
        return out, str(out)
    if case == "upper_case_cut_names":   # SLOPE_MEAN for slope_mean, cut to 10 characters by a shapefile
        staged = tmp / "staged.gpkg"
        gdf.rename(columns={c: c.upper() for c in gdf.columns if c != gdf.geometry.name and c.isascii()}).to_file(staged)
        out = tmp / "UPPER.shp"
        subprocess.run(["ogr2ogr", "-lco", "ENCODING=CP936", str(out), str(staged)], check=True, capture_output=True)
        staged.unlink()
        return out, str(out)
    if case == "layer_name_spaces_chinese":
        out = tmp / "村 界 图层.gpkg"
        gdf.to_file(out, layer="调查 图层 v2")
        return out, f"{out}|layername=调查 图层 v2"
    if case == "second_layer_of_gpkg":
        out = tmp / "several_layers.gpkg"
        gdf.iloc[:1].to_file(out, layer="aaa_decoy")            # listed first
        gdf.to_file(out, layer="wanted", mode="a")
        return out, f"{out}|layername=wanted"
    if case == "fid_columns":          # a GeoPackage cannot hold a text 'fid': a GBK shapefile, as they come
        staged = tmp / "staged.gpkg"
        v_fid_columns(gdf).rename(columns={"fid": "fidtxt"}).to_file(staged)
        out = tmp / "fid_columns.shp"
        subprocess.run(["ogr2ogr", "-lco", "ENCODING=CP936", str(out), str(staged)], check=True, capture_output=True)
        staged.unlink()
        dbf = out.with_suffix(".dbf")       # rename the DBF field fidtxt -> fid in the header (11-byte name slot)
        dbf.write_bytes(dbf.read_bytes().replace(b"fidtxt".ljust(11, b"\0"), b"fid".ljust(11, b"\0"), 1))
        return out, str(out)
    out = tmp / f"{case}.gpkg"
    VECTOR_CASES[case][0](gdf).to_file(out)
    return out, str(out)


def make_raster(case, path, tmp):
    out = tmp / f"{case}.tif"
    with rasterio.open(path) as src:
        prof, arr = src.profile.copy(), src.read(1)
    nodata = prof.get("nodata")
    if case == "no_crs":
        prof["crs"] = None
    elif case == "nodata_everywhere":
        prof["nodata"] = nodata if nodata is not None else (
            -9999.0 if np.issubdtype(arr.dtype, np.floating) else np.iinfo(arr.dtype).max)
        arr = np.full_like(arr, prof["nodata"])
    elif case == "misaligned":
        t = prof["transform"]
        prof["transform"] = rasterio.Affine(t.a, t.b, t.c + t.a / 2, t.d, t.e, t.f - t.e / 3)
    elif case == "outside_the_county":
        t = prof["transform"]
        prof["transform"] = rasterio.Affine(t.a, t.b, t.c + 500_000, t.d, t.e, t.f)
    elif case == "metres_labelled_degrees":
        prof["crs"] = "EPSG:4490"
    elif case == "undeclared_nodata":      # a strip of -9999 with no nodata declared (issue 16)
        arr = arr.astype(np.float32)
        arr[: max(1, arr.shape[0] // 10)] = -9999.0
        prof.update(dtype="float32", nodata=None)
    with rasterio.open(out, "w", **prof) as dst:
        dst.write(arr, 1)
    return out


RASTER_CASES = ["no_crs", "nodata_everywhere", "misaligned", "outside_the_county", "metres_labelled_degrees",
                "undeclared_nodata"]


def _input_params(alg_id, params):
    """(first vector input name, first raster input name) of the algorithm with a file value."""
    from qgis.core import (QgsApplication, QgsProcessingParameterFeatureSource, QgsProcessingParameterMultipleLayers,
                           QgsProcessingParameterRasterLayer, QgsProcessingParameterVectorLayer,
                           QgsProcessingParameterMapLayer)
    alg = QgsApplication.processingRegistry().algorithmById(alg_id)
    vec = ras = None
    for p in alg.parameterDefinitions():
        value = params.get(p.name())
        first = value[0] if isinstance(value, list) and value else value
        if not isinstance(first, str) or not Path(first).exists():
            continue
        is_tif = first.lower().endswith(".tif")
        if isinstance(p, (QgsProcessingParameterFeatureSource, QgsProcessingParameterVectorLayer)) or (
                isinstance(p, (QgsProcessingParameterMultipleLayers, QgsProcessingParameterMapLayer)) and not is_tif):
            vec = vec or p.name()
        elif isinstance(p, QgsProcessingParameterRasterLayer) or (
                isinstance(p, (QgsProcessingParameterMultipleLayers, QgsProcessingParameterMapLayer)) and is_tif):
            ras = ras or p.name()
    return vec, ras, alg


def _cases():
    steps = [s for s in demo_steps() if s["alg"] not in ("riskmap:democounty",)]
    seen, cases = set(), []
    for i, s in enumerate(steps):
        if s["alg"] in seen:
            continue
        seen.add(s["alg"])
        ours = s["alg"].startswith("riskmap:")      # QGIS's own steps of the chain get the original table
        cases += [pytest.param(s["alg"], "vector", c, id=f"{s['alg'].split(':')[1]}-vector-{c}") for c in VECTOR_CASES
                  if ours or c in ORIGINAL_VECTOR_CASES]
        cases += [pytest.param(s["alg"], "raster", c, id=f"{s['alg'].split(':')[1]}-raster-{c}") for c in RASTER_CASES
                  if ours or c in ORIGINAL_RASTER_CASES]
    return cases


def _digest(path):
    p = Path(path)
    files = [p] if p.suffix != ".shp" else sorted(p.parent.glob(p.stem + ".*"))
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()


@pytest.mark.parametrize("alg_id,layer_type,case", _cases())
def test_bad_input(chain, tmp_path, alg_id, layer_type, case):
    from qgis.core import QgsProcessingDestinationParameter, QgsProcessingException
    step, params, baseline = next((s, p, r) for s, p, r in chain.until(alg_id) if s["alg"] == alg_id)
    vec, ras, alg = _input_params(alg_id, params)
    name = vec if layer_type == "vector" else ras
    if name is None:
        pytest.skip(f"{alg_id} has no {layer_type} input")
    original = params[name][0] if isinstance(params[name], list) else params[name]
    if layer_type == "vector":
        bad, value = make_vector(case, original, tmp_path)
    else:
        bad = make_raster(case, original, tmp_path)
        value = str(bad)
    new = dict(params)
    new[name] = [value] + params[name][1:] if isinstance(params[name], list) else value
    outdir = tmp_path / "out"
    outdir.mkdir()
    for p in alg.destinationParameterDefinitions():
        if isinstance(new.get(p.name()), str) and new[p.name()]:
            new[p.name()] = str(outdir / Path(new[p.name()]).name)
    before = _digest(bad)
    try:
        results = run_alg(alg_id, new)
    except QgsProcessingException as exc:
        msg = str(exc)
        assert case not in MUST_WORK or not alg_id.startswith("riskmap:"), f"{case} must work: {msg}"
        assert "Traceback" not in msg and "内部错误" not in msg, msg
        assert CJK.search(msg) and re.search(r"[A-Za-z]{4,}", msg), f"not bilingual: {msg}"
        assert bad.name in msg or bad.stem in msg or name in msg, f"does not name the layer: {msg}"
        left = [p.name for p in outdir.rglob("*")]
        assert left == [], f"partial outputs left: {left}"
    else:
        if VECTOR_CASES.get(case, (None, False))[1] and layer_type == "vector":
            for key in step.get("report", []):
                if key == "SIZE_MB":    # the web map's size grows with the extra columns it shows
                    continue
                assert results[key] == pytest.approx(baseline[key], rel=1e-6, abs=1e-6), (key, results[key], baseline[key])
    assert _digest(bad) == before, "the input was modified"
    if alg_id.startswith("riskmap:"):       # QGIS's own algorithms leave GDAL's statistics sidecars
        assert sorted(p.name for p in bad.parent.glob("*.aux.xml")) == [], "GDAL left a sidecar beside the input"


def _cell_size_algs():
    from qgis.core import QgsApplication
    return [s["alg"] for s in demo_steps() if "CELL_SIZE" in s["params"] and s["alg"] != "riskmap:democounty"]


@pytest.mark.parametrize("alg_id", _cell_size_algs())
def test_huge_cell_count_is_refused_clearly(chain, tmp_path, alg_id):
    """A 1 cm grid over a county is billions of cells: a clear error, not an out-of-memory crash."""
    from qgis.core import QgsProcessingException
    from qgis.core import QgsApplication
    step, params, _ = next((s, p, r) for s, p, r in chain.until(alg_id) if s["alg"] == alg_id)
    alg = QgsApplication.processingRegistry().algorithmById(alg_id)
    new = dict(params, CELL_SIZE=0.01)
    for p in alg.destinationParameterDefinitions():
        if isinstance(new.get(p.name()), str) and new[p.name()]:
            new[p.name()] = str(tmp_path / Path(new[p.name()]).name)
    with pytest.raises(QgsProcessingException) as err:
        run_alg(alg_id, new)
    msg = str(err.value)
    assert "CELL_SIZE" in msg and "Traceback" not in msg, msg   # QGIS's own range check, or ours (bilingual)
    assert list(tmp_path.iterdir()) == []


# --- issue 16: bad input tried from outside -------------------------------------------------------
class LogFeedback:
    """A QgsProcessingFeedback that keeps every line (warnings included)."""

    def __new__(cls):
        from qgis.core import QgsProcessingFeedback

        class _F(QgsProcessingFeedback):
            def __init__(self):
                super().__init__()
                self.lines = []

            def pushInfo(self, text):  # noqa: N802
                self.lines.append(text)

            def pushWarning(self, text):  # noqa: N802
                self.lines.append("WARNING " + text)

            def reportError(self, text, fatalError=False):  # noqa: N802, N803
                self.lines.append("ERROR " + text)

        return _F()


def run_logged(alg_id, params):
    import processing
    from qgis.core import QgsProcessingContext
    fb = LogFeedback()
    results = processing.run(alg_id, params, context=QgsProcessingContext(), feedback=fb)
    return results, "\n".join(fb.lines)


def step_params(chain, alg_id, index=0):
    """(step, params, results) of the index-th demo step of ``alg_id``, run in the chain."""
    chain.until(alg_id)
    while sum(s["alg"] == alg_id for s, _, _ in chain.done) <= index and chain.pending:
        chain.until(chain.pending[0]["alg"])
    return [d for d in chain.done if d[0]["alg"] == alg_id][index]


def redirect_outputs(alg_id, params, folder):
    from qgis.core import QgsApplication
    alg = QgsApplication.processingRegistry().algorithmById(alg_id)
    new = dict(params)
    for p in alg.destinationParameterDefinitions():
        if isinstance(new.get(p.name()), str) and new[p.name()]:
            new[p.name()] = str(folder / Path(new[p.name()]).name)
    return new


def _first_file_input(alg_id, params):
    vec, ras, alg = _input_params(alg_id, params)
    name = vec or ras
    value = params[name]
    return name, (value[0] if isinstance(value, list) else value)


@pytest.mark.parametrize("alg_id", sorted({s["alg"] for s in demo_steps()
                                            if s["alg"].startswith("riskmap:") and s["alg"] != "riskmap:democounty"}))
def test_an_output_that_is_an_input_is_refused(chain, tmp_path, alg_id):
    """Every algorithm: an output path equal to an input's file is refused before any work; the input stays."""
    import shutil
    from qgis.core import QgsApplication, QgsProcessingException
    step, params, _ = step_params(chain, alg_id)
    params = redirect_outputs(alg_id, params, tmp_path)
    name, source = _first_file_input(alg_id, params)
    copy = tmp_path / Path(source).name
    shutil.copy(source, copy)
    params[name] = [str(copy)] + params[name][1:] if isinstance(params[name], list) else str(copy)
    alg = QgsApplication.processingRegistry().algorithmById(alg_id)
    dest = next(p.name() for p in alg.destinationParameterDefinitions()
                if p.type() in ("vectorDestination", "rasterDestination", "fileDestination", "sink")
                and isinstance(params.get(p.name()), str))
    params[dest] = str(copy)
    before = _digest(copy)
    with pytest.raises(QgsProcessingException) as err:
        run_alg(alg_id, params)
    msg = str(err.value)
    assert dest in msg and name in msg and "同一个文件" in msg and "same file" in msg, msg
    assert _digest(copy) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [copy.name]


HOSTILE = ['=HYPERLINK("http://example.invalid/x","点我 click")', "=cmd|' /C calc'!A0", "+1+2"]


def _hostile_townships(path, tmp):
    gdf = gpd.read_file(path)
    names = list(gdf["名称"])
    for i, text in enumerate(HOSTILE):
        names[i] = text
    names[len(HOSTILE)] = "长" * 40_000       # longer than an Excel cell holds
    gdf["名称"] = names
    out = tmp / "hostile_townships.gpkg"
    gdf.to_file(out)
    return out


def _xlsx_cells(path):
    import openpyxl
    book = openpyxl.load_workbook(path)
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_text_that_looks_like_a_formula_stays_text(chain, tmp_path):
    """OWASP CSV injection: names such as =HYPERLINK(…) are text in every XLSX and neutralised in CSV;
    a name longer than 32,767 characters is cut in the XLSX with a warning, kept whole in the CSV."""
    import csv
    _, ex, _ = step_params(chain, "riskmap:exposure")
    _, rep, _ = step_params(chain, "riskmap:townshipreport")
    towns = _hostile_townships(ex["UNITS"][0], tmp_path)
    runs = [("riskmap:exposure", dict(ex, UNITS=[str(towns)], OUTPUT_UNITS=str(tmp_path / "e.gpkg"),
                                      OUTPUT_TABLE=str(tmp_path / "e.xlsx"))),
            ("riskmap:exposure", dict(ex, UNITS=[str(towns)], OUTPUT_UNITS=str(tmp_path / "e2.gpkg"),
                                      OUTPUT_TABLE=str(tmp_path / "e.csv"))),
            ("riskmap:townshipreport", dict(rep, TOWNSHIPS=str(towns), OUTPUT=str(tmp_path / "r.xlsx"),
                                            OUTPUT_CSV=str(tmp_path / "r_csv")))]
    logs = [run_logged(a, p)[1] for a, p in runs]
    for xlsx in ("e.xlsx", "r.xlsx"):
        cells = _xlsx_cells(tmp_path / xlsx)
        assert [c.coordinate for c in cells if c.data_type == "f"] == [], xlsx
        texts = {c.value for c in cells if isinstance(c.value, str)}
        assert any(HOSTILE[0] in t for t in texts) and any(HOSTILE[1] in t for t in texts), xlsx
        assert max(len(t) for t in texts) == 32_767, xlsx
    assert "32767" in logs[0].replace(",", "") and "WARNING" in logs[0]
    for table in [tmp_path / "e.csv", *sorted((tmp_path / "r_csv").glob("*.csv"))]:
        values = [v for row in csv.reader(table.open(encoding="utf-8-sig")) for v in row]
        assert values, table.name
        assert not [v for v in values if v.startswith(("=", "@", "+"))], table.name
    values = [v for row in csv.reader((tmp_path / "e.csv").open(encoding="utf-8-sig")) for v in row]
    assert "'" + HOSTILE[0] in values and "'" + HOSTILE[1] in values and "'+1+2" in values
    assert "长" * 40_000 in values


def test_composite_with_one_hazard_in_degrees_keeps_its_areas(chain, tmp_path):
    """One hazard raster in EPSG:4326 among metric ones: class areas stay within 2 % (was +21 % class 4)."""
    import subprocess
    _, params, base = step_params(chain, "riskmap:compositezoning")
    flood = next(h for h in params["HAZARDS"] if h.endswith("flood_hazard.tif"))
    geo = tmp_path / "flood_hazard_4326.tif"
    subprocess.run(["gdalwarp", "-q", "-t_srs", "EPSG:4326", "-r", "near", flood, str(geo)], check=True)
    hazards = [str(geo) if h == flood else h for h in params["HAZARDS"]]
    res, log = run_logged("riskmap:compositezoning", dict(redirect_outputs("riskmap:compositezoning", params, tmp_path),
                                                          HAZARDS=hazards))
    for k in range(1, 5):
        assert res[f"AREA_KM2_{k}"] == pytest.approx(base[f"AREA_KM2_{k}"], rel=0.02), k
    assert "EPSG:4326" in log and "WARNING" in log


def _with_strip(src_path, out, value):
    with rasterio.open(src_path) as src:
        prof, arr = src.profile.copy(), src.read(1).astype(np.float32)
    arr[: arr.shape[0] // 5] = value
    prof.update(dtype="float32", nodata=None)
    with rasterio.open(out, "w", **prof) as dst:
        dst.write(arr, 1)
    return out


@pytest.mark.parametrize("alg_id,param", [("riskmap:floodhazard", "DEPTH"), ("riskmap:exposure", "HAZARD"),
                                          ("riskmap:exposure", "POPULATION")])
def test_undeclared_minus_9999_is_refused(chain, tmp_path, alg_id, param):
    """-9999 cells with no nodata declared would be dry land / negative people: a clear error instead."""
    from qgis.core import QgsProcessingException
    _, params, _ = step_params(chain, alg_id)
    bad = _with_strip(params[param], tmp_path / "strip.tif", -9999.0)
    params = redirect_outputs(alg_id, dict(params, **{param: str(bad)}), tmp_path / "out")
    with pytest.raises(QgsProcessingException) as err:
        run_alg(alg_id, params)
    msg = str(err.value)
    assert "strip.tif" in msg and "-9999" in msg and "NODATA" in msg and "nodata" in msg, msg
    assert not (tmp_path / "out").exists()


def test_a_hazard_covering_almost_nothing_is_said(chain, tmp_path):
    _, params, _ = step_params(chain, "riskmap:exposure")
    with rasterio.open(params["HAZARD"]) as src:
        prof = src.profile.copy()
    prof.update(width=2, height=2)
    tiny = tmp_path / "tiny.tif"
    with rasterio.open(tiny, "w", **prof) as dst:
        dst.write(np.full((2, 2), 4, np.uint8), 1)
    p = redirect_outputs("riskmap:exposure", dict(params, HAZARD=str(tiny)), tmp_path)
    res, log = run_logged("riskmap:exposure", p)
    warning = next(line for line in log.splitlines() if line.startswith("WARNING") and "tiny.tif" in line)
    share = float(re.search(r"covers only ([0-9.e-]+) %", warning).group(1))
    units = gpd.read_file(params["UNITS"][0]).to_crs(prof["crs"])
    cell = prof["transform"].a * abs(prof["transform"].e)
    assert share == pytest.approx(100 * 4 * cell / units.area.sum(), rel=1e-3)
    assert res["POPULATION_EXPOSED"] < 0.001 * res["POPULATION_TOTAL"]
    with rasterio.open(tmp_path / "away.tif", "w", **dict(prof, transform=prof["transform"] * rasterio.Affine.translation(1e6, 0))) as d:
        d.write(np.full((2, 2), 4, np.uint8), 1)
    res, log = run_logged("riskmap:exposure", dict(p, HAZARD=str(tmp_path / "away.tif")))
    assert res["POPULATION_EXPOSED"] == 0
    assert any(line.startswith("WARNING") and "away.tif" in line and "does not overlap" in line for line in log.splitlines())


def _field_cases():
    cases = []
    for s in demo_steps():
        if s["alg"].startswith("riskmap:") and s["alg"] not in {c[0] for c in cases}:
            cases.append((s["alg"], None))
    return [c[0] for c in cases]


@pytest.mark.parametrize("alg_id", _field_cases())
def test_a_misspelled_field_is_named(chain, tmp_path, alg_id):
    """Every field parameter of every algorithm, set to a name the layer does not have: a clear error naming it."""
    from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingParameterField
    _, params, _ = step_params(chain, alg_id)
    alg = QgsApplication.processingRegistry().algorithmById(alg_id)
    fields = [p for p in alg.parameterDefinitions() if isinstance(p, QgsProcessingParameterField)
              and params.get(p.parentLayerParameterName())
              and not str(params[p.parentLayerParameterName()]).lower().endswith(".tif")]
    if not fields:
        pytest.skip(f"{alg_id} has no field parameter on a given vector layer")
    silent = []
    for p in fields:
        value = ["no_such_fieldx"] if p.allowMultiple() else "no_such_fieldx"
        new = redirect_outputs(alg_id, dict(params, **{p.name(): value}), tmp_path / p.name())
        try:
            _, log = run_logged(alg_id, new)
        except QgsProcessingException as exc:
            assert "no_such_fieldx" in str(exc) and "内部错误" not in str(exc), (p.name(), str(exc))
            assert not (tmp_path / p.name()).exists() or not list((tmp_path / p.name()).iterdir())
        else:      # a field the run does not need (E_FIELD with the LS method): a warning naming it
            if not any(line.startswith("WARNING") and "no_such_fieldx" in line for line in log.splitlines()):
                silent.append(p.name())
    assert silent == [], f"{alg_id}: misspelled {silent} ran without a word"


@pytest.mark.parametrize("alg_id", sorted({s["alg"] for s in demo_steps() if s["alg"].startswith("riskmap:")}))
def test_numbers_out_of_range_say_the_range(chain, riskmap, alg_id):
    """K=0, CELL_SIZE=5 …: the message names the parameter and the allowed range (QGIS alone says neither)."""
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingParameterNumber
    step = next(s for s in demo_steps() if s["alg"] == alg_id)
    alg = QgsApplication.processingRegistry().algorithmById(alg_id)
    numbers = [p for p in alg.parameterDefinitions() if isinstance(p, QgsProcessingParameterNumber)
               and p.minimum() > -1e300]
    if not numbers:
        pytest.skip(f"{alg_id} has no bounded number")
    params = {k: fill(v, chain.data, chain.out) for k, v in step["params"].items()}
    for p in numbers:
        ok, msg = alg.checkParameterValues(dict(params, **{p.name(): p.minimum() - 1}), QgsProcessingContext())
        assert not ok
        assert p.name() in msg and "allowed range" in msg and "允许范围" in msg and f"{p.minimum():g}" in msg, msg


def test_gbk_under_a_utf8_cpg_validates_with_a_warning(chain, tmp_path):
    """The .cpg says UTF-8, the bytes are GBK: read as GBK, said in the log; validate reports no problem."""
    import subprocess
    chain.until("riskmap:validate")
    src = chain.data / "villages.gpkg"
    shp = tmp_path / "村界.shp"
    from riskmap.risk_plugin.io import data_layer
    subprocess.run(["ogr2ogr", "-lco", "ENCODING=CP936", str(shp), str(src), data_layer(src)],   # not layer_styles
                   check=True, capture_output=True)
    shp.with_suffix(".cpg").write_text("UTF-8")
    res, log = run_logged("riskmap:validate", {"INPUT": str(shp), "KIND": "villages",
                                               "OUTPUT_REPORT": str(tmp_path / "report.csv")})
    assert res["PROBLEMS"] == 0
    assert "村界.cpg" in log and "GB18030" in log
    names = set(gpd.read_file(src)["名称"])
    from riskmap.risk_plugin.io import read_vector
    assert set(read_vector(str(shp))["名称"]) == names


def test_validate_fails_on_a_file_it_cannot_read(tmp_path, riskmap):
    from qgis.core import QgsProcessingException
    bad = tmp_path / "broken.gpkg"
    bad.write_bytes(b"not a geopackage" * 100)
    with pytest.raises(QgsProcessingException) as err:
        run_alg("riskmap:validate", {"INPUT": str(bad), "KIND": "villages", "OUTPUT_REPORT": str(tmp_path / "r.csv")})
    assert "broken.gpkg" in str(err.value)
    assert not (tmp_path / "r.csv").exists()


def test_a_failed_run_takes_back_the_outputs_it_wrote(chain, tmp_path):
    """townshipreport writes its XLSX, then cannot write its CSV folder: neither is left, and the
    message names the folder (was: PermissionError, XLSX left behind)."""
    from qgis.core import QgsProcessingException
    _, params, _ = step_params(chain, "riskmap:townshipreport")
    old = tmp_path / "township_report.xlsx"
    old.write_bytes(b"an older report")
    p = dict(params, OUTPUT=str(old), OUTPUT_CSV="/sys/riskmap-not-writable/csv")
    with pytest.raises(QgsProcessingException) as err:
        run_alg("riskmap:townshipreport", p)
    assert "/sys/riskmap-not-writable" in str(err.value) and "内部错误" not in str(err.value), str(err.value)
    assert old.read_bytes() == b"an older report"          # the older file is back
    assert sorted(x.name for x in tmp_path.iterdir()) == ["township_report.xlsx"]


def test_a_read_only_output_folder_is_a_clear_error(chain, tmp_path_factory):
    """qgis_process as an ordinary user (nobody) writing into a folder it may not write to."""
    import os
    import shutil
    import subprocess
    import sysconfig
    import tempfile
    _, params, _ = step_params(chain, "riskmap:floodhazard")
    base = Path(tempfile.mkdtemp(prefix="riskmap-ro-"))
    try:
        os.chmod(base, 0o755)
        shutil.copy(params["DEPTH"], base / "depth.tif")
        (base / "ro").mkdir(mode=0o555)
        os.chmod(base / "ro", 0o555)
        home = base / "home"
        (home / "runtime").mkdir(parents=True)
        plugins = base / "plugins"
        plugins.mkdir()
        (plugins / "riskmap").symlink_to(REPO, target_is_directory=True)
        shutil.chown(home, "nobody")
        shutil.chown(home / "runtime", "nobody")
        os.chmod(home / "runtime", 0o700)
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_PLUGINPATH=str(plugins), HOME=str(home),
                   XDG_DATA_HOME=str(home), XDG_RUNTIME_DIR=str(home / "runtime"),
                   PYTHONPATH=sysconfig.get_paths()["purelib"])
        env.pop("QGIS_CUSTOM_CONFIG_PATH", None)
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/qgis_process.bin"]
        readable = subprocess.run(as_nobody[:-1] + ["/usr/bin/test", "-r", str(REPO / "plugin.py"), "-a", "-r",
                                                    str(Path(sysconfig.get_paths()["purelib"]) / "shapely")])
        if readable.returncode:      # e.g. a checkout under a 0700 mktemp folder: nobody cannot load the plugin
            pytest.skip(f"user nobody cannot read the checkout {REPO} or its venv")
        subprocess.run(as_nobody + ["plugins", "enable", "riskmap"], env=env, capture_output=True, timeout=300)
        proc = subprocess.run(as_nobody + ["run", "riskmap:floodhazard", "--", f"DEPTH={base / 'depth.tif'}",
                                           f"OUTPUT={base / 'ro' / 'flood.tif'}"],
                              env=env, capture_output=True, text=True, timeout=300)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 1, out[-2000:]
        assert "permission denied" in out and "没有写权限" in out and str(base / "ro") in out, out[-2000:]
        assert "内部错误" not in out and "Traceback" not in out
        assert list((base / "ro").iterdir()) == []
    finally:
        os.chmod(base / "ro", 0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_qgis_process_with_spaces_and_chinese_in_every_path(chain, qgis_process, tmp_path):
    """The same exposure as processing.run, from files in a folder named with spaces and Chinese, through
    qgis_process; the input folder is left exactly as it was (no .aux.xml)."""
    import shutil
    _, params, base = step_params(chain, "riskmap:exposure")
    folder = tmp_path / "县 数据 2024"
    folder.mkdir()
    new = {}
    for k, v in params.items():
        vals = v if isinstance(v, list) else [v]
        if all(isinstance(x, str) and Path(x).exists() for x in vals):
            copies = [str(folder / f"输入 {Path(x).name}") for x in vals]
            for x, c in zip(vals, copies):
                shutil.copy(x, c)
            new[k] = copies if isinstance(v, list) else copies[0]
        else:
            new[k] = v
    listing = sorted(p.name for p in folder.iterdir())
    out = tmp_path / "输出 结果"
    new = redirect_outputs("riskmap:exposure", new, out)
    code, res, log = qgis_process.run("riskmap:exposure", new)
    assert code == 0
    assert res["POPULATION_EXPOSED"] == pytest.approx(base["POPULATION_EXPOSED"], rel=1e-9)
    assert sorted(p.name for p in folder.iterdir()) == listing


def test_a_misspelled_parameter_name_is_said(chain, tmp_path):
    """qgis_process ignores a parameter the algorithm does not have; the log says so, with the likely one."""
    _, params, base = step_params(chain, "riskmap:exposure")
    p = redirect_outputs("riskmap:exposure", dict(params, UNIT_NAME_FIELD="名称"), tmp_path)
    res, log = run_logged("riskmap:exposure", p)
    assert res["POPULATION_EXPOSED"] == pytest.approx(base["POPULATION_EXPOSED"])
    line = next(x for x in log.splitlines() if "UNIT_NAME_FIELD" in x)
    assert line.startswith("WARNING") and "NAME_FIELDS" in line
