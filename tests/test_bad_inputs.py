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
    return Chain(tmp_path_factory.mktemp("chain"))


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


VECTOR_CASES = {  # name: (mutation, same numbers expected when it succeeds)
    "no_crs": (v_no_crs, False), "geographic_crs": (v_geographic, False), "empty": (v_empty, False),
    "null_geometry": (v_null_geometry, False), "invalid_geometry": (v_invalid_geometry, False),
    "missing_fields": (v_no_fields, False), "multipart": (v_multipart, True), "gbk_shapefile": (None, True),
    "wrong_field_type": (v_wrong_type, False), "values_outside_allowed_set": (v_bad_values, False),
    "negative_numbers": (v_negative, False), "duplicate_feature": (v_duplicate, False),
    "covers_nothing": (v_moved_away, False),
}


def make_vector(case, path, tmp):
    from riskmap.risk_plugin.io import data_layer
    layer = data_layer(path) if str(path).endswith(".gpkg") else None   # riskmap GeoPackages also hold layer_styles
    gdf = gpd.read_file(path, layer=layer)
    if case == "gbk_shapefile":
        import subprocess
        out = tmp / "gbk.shp"
        subprocess.run(["ogr2ogr", "-lco", "ENCODING=CP936", str(out), str(path)] + ([layer] if layer else []),
                       check=True, capture_output=True)
        out.with_suffix(".cpg").unlink(missing_ok=True)
        return out
    out = tmp / f"{case}.gpkg"
    VECTOR_CASES[case][0](gdf).to_file(out)
    return out


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
    with rasterio.open(out, "w", **prof) as dst:
        dst.write(arr, 1)
    return out


RASTER_CASES = ["no_crs", "nodata_everywhere", "misaligned", "outside_the_county"]


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
        cases += [pytest.param(s["alg"], "vector", c, id=f"{s['alg'].split(':')[1]}-vector-{c}") for c in VECTOR_CASES]
        cases += [pytest.param(s["alg"], "raster", c, id=f"{s['alg'].split(':')[1]}-raster-{c}") for c in RASTER_CASES]
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
    bad = make_vector(case, original, tmp_path) if layer_type == "vector" else make_raster(case, original, tmp_path)
    new = dict(params)
    new[name] = [str(bad)] + params[name][1:] if isinstance(params[name], list) else str(bad)
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
        assert "Traceback" not in msg, msg
        assert CJK.search(msg) and re.search(r"[A-Za-z]{4,}", msg), f"not bilingual: {msg}"
        assert bad.name in msg or bad.stem in msg or name in msg, f"does not name the layer: {msg}"
        left = [p.name for p in outdir.rglob("*")]
        assert left == [], f"partial outputs left: {left}"
    else:
        if VECTOR_CASES.get(case, (None, False))[1]:
            for key in step.get("report", []):
                assert results[key] == pytest.approx(baseline[key], rel=1e-6, abs=1e-6), (key, results[key], baseline[key])
    assert _digest(bad) == before, "the input was modified"


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
