"""In the technician's own QGIS: the real desktop (a `qgis` process under Xvfb) with the plugin enabled in a fresh
profile, driven from inside by tools/desktop_driver.py.

- every riskmap dialog opens with a raster, a vector, both and no layer in the project (QGIS 3.22 died on signal 11
  in QgsProcessingFieldWidgetWrapper::setParentLayerWrapperValue when a field parameter's parent held a raster);
- every riskmap step of `make demo` runs from its dialog (the Run button) on a small demo county, and the layers it
  loads carry the official colours of styles/classes.json;
- Cancel in the dialog stops a long run and leaves no output file.
"""
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


def _tool(name):
    spec = importlib.util.spec_from_file_location(f"riskmap_tools_{name}", REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def chain_steps(data, out):
    """The `make demo` steps (tools/demo_steps) with paths filled in, on a small county: riskmap steps run from their
    dialogs, QGIS-native helper steps (grid, slope, zonal statistics) through processing.run."""
    import sys
    sys.path.insert(0, str(REPO))
    try:
        demo = _tool("demo")
        steps = list(demo.steps())
    finally:
        sys.path.remove(str(REPO))
        for name in [m for m in sys.modules if m == "tools" or m.startswith("tools.")]:
            del sys.modules[name]
    out_steps = []
    for step in steps:
        params = {k: demo.fill(v, str(data), str(out)) for k, v in step["params"].items()}
        if step["alg"] == "riskmap:democounty":
            params.update(SIZE_KM=8, CELL_SIZE=20, TOWNSHIPS=4, VILLAGES_PER_TOWNSHIP=5, SEED=7)
        out_steps.append({"alg": step["alg"], "title": step["title"], "params": params,
                          "dialog": step["alg"].startswith("riskmap:")})
    return out_steps


@pytest.fixture(scope="module")
def desktop(riskmap, demo_county, plugins_dir, tmp_path_factory):
    """One desktop session: dialogs × 4 layer setups, the demo chain from the dialogs, a cancelled run."""
    assert shutil.which("Xvfb"), "Xvfb is missing: `make setup` installs it (Makefile DEBS: xvfb)"
    assert shutil.which("qgis"), "the QGIS desktop is missing: `make setup` installs it (Makefile DEBS: qgis)"
    desktop = _tool("desktop")
    work = tmp_path_factory.mktemp("desktop")
    data, out = work / "county", work / "out"
    raster, vector = str(demo_county["dem"]), str(demo_county["townships"])
    cancel_out = work / "cancel" / "fourcolor_cancelled.gpkg"
    cancel_table = work / "cancel" / "fourcolor_cancelled.xlsx"
    job = {
        "setups": {"raster": [raster], "vector": [vector], "both": [raster, vector], "none": []},
        "screenshots": str(work / "dialogs"), "screenshot_setup": "both",
        "runs": chain_steps(data, out),
        # a long run on the chain's county (50 m grid, exact cell fractions on 0.5 m sub-cells: ~14 s alone),
        # cancelled after 3 s
        "cancels": [{"alg": "riskmap:fourcolorrisk", "after_s": 3.0, "outputs": [str(cancel_out), str(cancel_table)],
                     "params": {"HAZARD": str(out / "composite_zoning.tif"),
                                "POPULATION": str(demo_county["population"]), "BUILDINGS": str(demo_county["buildings"]),
                                "TOWNSHIPS": vector, "SUPPORT": 0, "CELL_SIZE": 50, "MAX_CELL": 0.5, "CELL_RULE": 2,
                                "OUTPUT": str(cancel_out), "OUTPUT_TABLE": str(cancel_table)}}],
        "window": str(work / "window.png"),
    }
    result = desktop.run_desktop(job, work / "session", _display(desktop), plugin_path=plugins_dir)
    result["work"] = work
    return result


_XVFB = {}


def _display(desktop):
    if "cm" not in _XVFB:
        _XVFB["cm"] = desktop.xvfb()
        _XVFB["display"] = _XVFB["cm"].__enter__()
    return _XVFB["display"]


@pytest.fixture(scope="module", autouse=True)
def _stop_xvfb():
    yield
    if "cm" in _XVFB:
        _XVFB.pop("cm").__exit__(None, None, None)


def _report(desktop):
    report = desktop["report"]
    assert report is not None, f"QGIS wrote no report (exit {desktop['returncode']}):\n" + \
        "\n".join(desktop["progress"][-5:]) + "\n" + desktop["log"][-3000:]
    return report


def test_desktop_session_ends_cleanly(desktop):
    report = _report(desktop)
    last = desktop["progress"][-3:]
    assert report["done"], f"QGIS stopped early (exit {desktop['returncode']}); last steps:\n" + "\n".join(last)
    assert report["errors"] == []
    assert desktop["returncode"] == 0, f"QGIS exit {desktop['returncode']} after: {last}\n{desktop['log'][-2000:]}"
    assert report["plugin_loaded"]


def test_the_plugin_menu_is_in_workflow_order(desktop, riskmap):
    from qgis.core import QgsApplication
    from riskmap.processing import workflow
    algs = QgsApplication.processingRegistry().providerById("riskmap").algorithms()
    names = {a.displayName(): a for a in algs}
    menu = _report(desktop)["menu"]
    entries = [names[t] for t in menu if t]
    assert {a.id() for a in entries} == {a.id() for a in algs}
    stages = [workflow.BY_ID[a.groupId()].number for a in entries]
    assert stages == sorted(stages)
    assert menu.count("") == len(set(stages)) - 1          # a separator between stages
    assert [a.id() for a in entries][:2] == ["riskmap:democounty", "riskmap:validate"]


def test_every_dialog_opens_with_raster_vector_both_and_no_layer(desktop, riskmap):
    from qgis.core import QgsApplication
    report = _report(desktop)
    ids = {a.id() for a in QgsApplication.processingRegistry().providerById("riskmap").algorithms()}
    opened = {(d["alg"], d["setup"]) for d in report["dialogs"] if d["visible"]}
    assert opened == {(a, s) for a in ids for s in ("raster", "vector", "both", "none")}
    for d in report["dialogs"]:
        shown = {p for p in d["parameters"]}
        assert shown <= set(d["widgets"]), f"{d['alg']}: parameters without a widget: {shown - set(d['widgets'])}"
    # the crash case: a raster preselected for HAZARD; its field box is then empty and disabled, and enabled for a vector
    for alg in ("riskmap:fourcolorrisk", "riskmap:exposure"):
        by_setup = {d["setup"]: d for d in report["dialogs"] if d["alg"] == alg}
        assert by_setup["raster"]["values"]["HAZARD"] == {"layer": "dem", "kind": "raster"}
        assert by_setup["raster"]["enabled"]["HAZARD_FIELD"] is False
        assert by_setup["raster"]["values"]["HAZARD_FIELD"] is None
        assert by_setup["vector"]["values"]["HAZARD"] == {"layer": "townships", "kind": "vector"}
        assert by_setup["vector"]["enabled"]["HAZARD_FIELD"] is True
        assert by_setup["none"]["values"]["HAZARD"] is None
    shots = {Path(d["screenshot"]).stem for d in report["dialogs"] if d.get("screenshot")}
    assert shots == {i.split(":")[1] for i in ids}
    assert report["modal"] == [], "a dialog asked the user something while opening"


def test_every_demo_step_runs_from_its_dialog(desktop, riskmap):
    from qgis.core import QgsApplication
    report = _report(desktop)
    ids = {a.id() for a in QgsApplication.processingRegistry().providerById("riskmap").algorithms()}
    dialog_runs = [r for r in report["runs"] if r["dialog"]]
    failed = [(r["alg"], r["title"], r.get("modal"), r.get("log", "")[-800:]) for r in report["runs"] if not r["ok"]]
    assert failed == []
    assert {r["alg"] for r in dialog_runs} == ids
    for r in dialog_runs:   # every file a step names exists after its run
        for key, value in r["results"].items():
            if isinstance(value, str) and value.startswith(str(desktop["work"])) and key.startswith("OUTPUT"):
                assert Path(value).exists(), f"{r['alg']} {key}: {value} is missing"
    by_alg = {}
    for r in dialog_runs:
        by_alg.setdefault(r["alg"], []).append(r["results"])
    county = by_alg["riskmap:democounty"][0]
    assert county["TOWNSHIPS"] == 4 and county["VILLAGES"] == 4 * 5
    assert all(v["PROBLEMS"] == 0 for v in by_alg["riskmap:validate"])
    # one population, counted by three algorithms run from three dialogs: the same people
    grid, villages = by_alg["riskmap:fourcolorrisk"][:2]
    exposure = by_alg["riskmap:exposure"][0]
    people = [sum(res[f"PEOPLE_LEVEL_{k}"] for k in range(1, 5)) for res in (grid, villages)]
    assert people[0] == pytest.approx(exposure["POPULATION_TOTAL"], rel=1e-6)
    assert people[1] == pytest.approx(exposure["POPULATION_TOTAL"], rel=1e-6)
    assert by_alg["riskmap:printatlas"][0]["PAGES"] == 4
    # the dialog's progress bar moves forward only, to the end (runs in the background; the atlas blocks the window).
    # After the run QGIS's own loading of the output layers counts 0 → 100 % again: cut there.
    for r in dialog_runs:
        values = [p for _, p in r["progress"]]
        if r["alg"] != "riskmap:printatlas":
            assert 100.0 in values, (r["alg"], r["title"], values[-5:])
            run = values[:values.index(100.0) + 1]
            assert run == sorted(run), (r["alg"], r["title"], run)


def test_outputs_load_in_the_official_colours(desktop):
    table = json.loads((REPO / "styles" / "classes.json").read_text(encoding="utf-8"))
    colours = {c["value"]: c["color"].lower() for c in table["risk_levels"]["classes"]}
    report = _report(desktop)
    fourcolor = [lay for r in report["runs"] if r["alg"] == "riskmap:fourcolorrisk" for lay in r["loaded"]
                 if lay["renderer"] == "categorizedSymbol"]
    assert fourcolor, "the four-colour map did not load with a categorized renderer"
    for lay in fourcolor:
        got = {int(float(v)): c for v, _, c in lay["classes"] if v not in ("", "NULL")}
        assert got and all(colours[k] == c for k, c in got.items()), (lay["name"], got)


def test_cancel_in_the_dialog_stops_the_run_and_leaves_no_file(desktop):
    report = _report(desktop)
    (rec,) = report["cancels"]
    assert not rec["finished_before_cancel"], "the run finished before Cancel: make it longer"
    assert rec["cancel_enabled"]
    assert rec["stopped"] and rec["ok"] is False
    assert rec["outputs_left"] == [] and rec["outputs_left_later"] == []
    assert "取消" in rec["log"] or "Cancel" in rec["log"]


CLASS_STYLED = {"fourcolor_grid.gpkg": "risk_levels", "fourcolor_villages.gpkg": "risk_levels",
                "site_risk_ls.gpkg": "risk_levels", "threat_points.gpkg": "danger_levels",
                "threat_zones.gpkg": "danger_levels", "shelter_demand.gpkg": "service_status",
                "shelter_sites.gpkg": "shelter_classes", "flood_hazard_rp.gpkg": "hazard_classes",
                "composite_townships.gpkg": "hazard_classes", "units_susceptibility.gpkg": "hazard_classes",
                "composite_zoning.tif": "hazard_classes", "flood_hazard.tif": "hazard_classes",
                "fire_hazard.tif": "hazard_classes", "landslide_susceptibility.tif": "hazard_classes"}


def test_outputs_of_the_dialog_runs_reopen_in_their_colours(desktop):
    """Every class output of the chain, added again by hand (a bare layer), draws in the classes.json colours."""
    from qgis.core import QgsRasterLayer, QgsVectorLayer
    _report(desktop)
    table = json.loads((REPO / "styles" / "classes.json").read_text(encoding="utf-8"))
    out = desktop["work"] / "out"
    for name, key in CLASS_STYLED.items():
        expected = {str(c["value"]): c["color"][:7].lower() for c in table[key]["classes"]}
        path = out / name
        if name.endswith(".tif"):
            layer = QgsRasterLayer(str(path), "bare")
            got = {str(int(c.value)): c.color.name() for c in layer.renderer().classes()}
        else:
            layer = QgsVectorLayer(str(path), "bare", "ogr")
            got = {str(c.value()): c.symbol().color().name() for c in layer.renderer().categories()
                   if c.value() not in (None, "")}
        assert got and all(expected[k] == v for k, v in got.items()), (name, got)
    for tif in out.glob("*.tif"):
        produced_by_riskmap = not tif.name.startswith("units_")      # units_slope.tif is gdal:slope's
        assert tif.with_suffix(".qml").exists() == produced_by_riskmap, tif.name
