"""Drives the QGIS desktop from inside (qgis --code tools/desktop_driver.py), as a technician would click.

The job (JSON, path in $RISKMAP_DESKTOP_JOB; written by tools/desktop.py) may hold:
- ``setups``: {name: [layer paths]}: for each, the project is emptied, the layers added, and every riskmap
  algorithm's dialog opened as the toolbox opens it (layers preselected by QGIS), inspected, closed;
- ``screenshots`` + ``screenshot_setup``: a PNG of each dialog in that setup, named by algorithm id;
- ``runs``: [{alg, params, dialog}]: each step run from its dialog (the Run button; ``dialog: false`` runs it
  with processing.run, e.g. a native algorithm that only feeds a later step); results, the time between the
  dialog's progress reports and the styles of the layers it loaded are recorded;
- ``cancels``: [{alg, params, after_s, outputs}]: Run, then Cancel after ``after_s`` seconds; how long the
  run took to stop and whether any output file exists;
- ``open``: [paths] added as the browser adds them (each with its own default style), what draws recorded;
- ``window``: a PNG of the main window at the end;
- ``install_help``: read the plugin's missing-packages message, open its dialog, press Copy.
Any modal message box or dialog is closed and its text recorded (a real user would have had to click it).
Before each dialog opens, a line goes to the progress log (flushed), so a crash names its dialog.
"""
import json
import os
import time
import traceback
from pathlib import Path

from qgis.core import QgsApplication, QgsMapLayer, QgsProject, QgsRasterLayer, QgsVectorLayer
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication, QDialog, QDialogButtonBox, QMessageBox, QTextEdit
from qgis.utils import iface

JOB = json.loads(Path(os.environ["RISKMAP_DESKTOP_JOB"]).read_text(encoding="utf-8"))
REPORT = {"dialogs": [], "runs": [], "cancels": [], "modal": [], "errors": [], "done": False}
RASTERS = (".tif", ".tiff", ".vrt", ".asc", ".img")
_keep = []   # Python references to timers and dialogs while they live


def note(line):
    with open(JOB["progress"], "a", encoding="utf-8") as f:
        f.write(f"{time.time():.3f} {line}\n")
        f.flush()
        os.fsync(f.fileno())


def save():
    tmp = JOB["report"] + ".part"
    Path(tmp).write_text(json.dumps(REPORT, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, JOB["report"])


def add_layer(path):
    name = Path(path).stem
    layer = QgsRasterLayer(path, name) if path.lower().endswith(RASTERS) else QgsVectorLayer(path, name, "ogr")
    if not layer.isValid():
        raise RuntimeError(f"cannot load {path}")
    QgsProject.instance().addMapLayer(layer)
    return layer


def describe(value):
    if isinstance(value, QgsMapLayer):
        return {"layer": value.name(), "kind": "raster" if isinstance(value, QgsRasterLayer) else "vector"}
    if isinstance(value, str) and QgsProject.instance().mapLayer(value) is not None:
        return describe(QgsProject.instance().mapLayer(value))
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def algorithms():
    provider = QgsApplication.processingRegistry().providerById("riskmap")
    if provider is None:
        raise RuntimeError("the riskmap provider is not registered")
    return list(provider.algorithms())


def layer_style(layer):
    """What a user sees in the layer panel: renderer type and its classes (value, label, colour)."""
    out = {"name": layer.name(), "source": layer.source(), "renderer": layer.renderer().type() if layer.renderer() else None}
    r = layer.renderer()
    if isinstance(layer, QgsVectorLayer) and r is not None:
        if hasattr(r, "categories"):
            out["classes"] = [(str(c.value()), c.label(), c.symbol().color().name()) for c in r.categories()]
        elif hasattr(r, "ranges"):
            out["classes"] = [(f"{c.lowerValue()}-{c.upperValue()}", c.label(), c.symbol().color().name())
                              for c in r.ranges()]
    elif isinstance(layer, QgsRasterLayer) and r is not None and hasattr(r, "classes"):
        out["classes"] = [(str(c.value), c.label, c.color.name()) for c in r.classes()]
    return out


# --- a small cooperative scheduler: a phase is a generator that yields seconds to wait --------------------------
def watchdog():
    """Close any modal dialog (a message box waiting for a click) and record what it said."""
    widget = QApplication.activeModalWidget()
    # Processing's own progress dialog (algorithms that run on the main thread) is not a question
    if widget is not None and isinstance(widget, QDialog) and "Progress" not in widget.metaObject().className():
        text = widget.text() if isinstance(widget, QMessageBox) else widget.windowTitle()
        REPORT["modal"].append({"class": widget.metaObject().className(), "text": text, "at": time.time()})
        note(f"modal {widget.metaObject().className()}: {text[:200]}")
        widget.reject() if not isinstance(widget, QMessageBox) else widget.done(0)


def run_phases(phases):
    gen_list = list(phases)

    def step():
        while gen_list:
            try:
                delay = next(gen_list[0])
            except StopIteration:
                gen_list.pop(0)
                continue
            except Exception:   # noqa: BLE001 - recorded, the next phase still runs
                REPORT["errors"].append(traceback.format_exc())
                note("error " + traceback.format_exc().replace("\n", " | "))
                gen_list.pop(0)
                save()
                continue
            QTimer.singleShot(int(delay * 1000), step)
            return
        finish()
    step()


def finish():
    REPORT["done"] = True
    save()
    note("exit")
    QgsProject.instance().clear()       # nothing to save: QGIS must not ask
    QgsProject.instance().setDirty(False)
    QTimer.singleShot(200, iface.actionExit().trigger)


# --- phases ----------------------------------------------------------------------------------------------------
def dialogs(setup, paths):
    import processing
    QgsProject.instance().clear()
    for p in paths:
        add_layer(p)
    yield 0.3
    shots = JOB.get("screenshots") if JOB.get("screenshot_setup") == setup else None
    for alg in algorithms():
        note(f"open {alg.id()} [{setup}]")
        dlg = processing.createAlgorithmDialog(alg.id(), {})
        _keep.append(dlg)
        dlg.resize(1180, 860)
        dlg.show()
        yield 0.4
        panel = dlg.mainWidget()
        values, enabled = {}, {}
        for name, wrapper in panel.wrappers.items():
            try:
                values[name] = describe(wrapper.parameterValue())
            except Exception as exc:  # noqa: BLE001
                values[name] = f"<{type(exc).__name__}>"
            widget = getattr(wrapper, "widget", None)
            widget = widget() if callable(widget) else widget
            if widget is not None:
                enabled[name] = widget.isEnabled()
        rec = {"alg": alg.id(), "setup": setup, "visible": dlg.isVisible(), "title": dlg.windowTitle(),
               "parameters": [p.name() for p in alg.parameterDefinitions()], "widgets": sorted(panel.wrappers),
               "values": values, "enabled": enabled}
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            path = Path(shots) / f"{alg.name()}.png"
            rec["screenshot"] = str(path) if dlg.grab().save(str(path), "PNG") else None
        REPORT["dialogs"].append(rec)
        note(f"closed {alg.id()} [{setup}]")
        dlg.close()
        dlg.deleteLater()
        _keep.remove(dlg)
        yield 0.05
    save()


def _log_text(dlg):
    """The dialog's Log tab (a QTextEdit named txtLog)."""
    for name in ("txtLog", "mTxtLog"):
        widget = dlg.findChild(QTextEdit, name)
        if widget is not None:
            return widget.toPlainText()
    return ""


def _start(alg_id, params):
    """Open the dialog with ``params`` and press Run; returns (dialog, state dict filled as it runs)."""
    import processing
    dlg = processing.createAlgorithmDialog(alg_id, params)
    _keep.append(dlg)
    dlg.show()
    state = {"progress": [], "modal_before": len(REPORT["modal"])}

    def finished(ok, results):
        state.update(ok=bool(ok), results={k: describe(v) for k, v in (results or {}).items()}, t_end=time.time())
    dlg.algorithmFinished.connect(finished)
    state["t_start"] = time.time()
    dlg.buttonBox().button(QDialogButtonBox.Ok).click()   # blocks for algorithms that run on the main thread
    feedback = getattr(dlg, "feedback", None)
    if feedback is not None and "ok" not in state:
        feedback.progressChanged.connect(lambda p: state["progress"].append((time.time(), float(p))))
    return dlg, state


def _wait(state, timeout):
    t0 = time.time()
    while "ok" not in state and len(REPORT["modal"]) == state["modal_before"] and time.time() - t0 < timeout:
        yield 0.1


def runs(steps):
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback
    for step in steps:
        alg_id, params = step["alg"], step["params"]
        note(f"run {alg_id} {step.get('title', '')}")
        rec = {"alg": alg_id, "title": step.get("title"), "dialog": step.get("dialog", True)}
        if not step.get("dialog", True):
            t0 = time.time()
            res = processing.run(alg_id, params, context=QgsProcessingContext(), feedback=QgsProcessingFeedback())
            rec.update(ok=True, results={k: describe(v) for k, v in res.items()}, seconds=time.time() - t0)
            REPORT["runs"].append(rec)
            yield 0.05
            continue
        before = set(QgsProject.instance().mapLayers())
        yield 0.2
        dlg, state = _start(alg_id, params)
        yield from _wait(state, step.get("timeout", 900))
        rec.update(ok=state.get("ok", False), results=state.get("results"),
                   seconds=state.get("t_end", time.time()) - state["t_start"], progress=state["progress"],
                   modal=REPORT["modal"][state["modal_before"]:], log=_log_text(dlg)[-6000:])
        yield 0.5   # layers load after the results are handled
        rec["loaded"] = [layer_style(QgsProject.instance().mapLayer(i))
                         for i in QgsProject.instance().mapLayers() if i not in before]
        REPORT["runs"].append(rec)
        note(f"ran {alg_id} ok={rec['ok']} {rec['seconds']:.1f} s")
        dlg.close()
        dlg.deleteLater()
        _keep.remove(dlg)
        save()
        yield 0.1


def cancels(items):
    for item in items:
        note(f"cancel {item['alg']} after {item['after_s']} s")
        dlg, state = _start(item["alg"], item["params"])
        while time.time() - state["t_start"] < item["after_s"] and "ok" not in state:
            yield 0.05
        button = dlg.cancelButton()
        rec = {"alg": item["alg"], "after_s": item["after_s"], "finished_before_cancel": "ok" in state,
               "cancel_enabled": button.isEnabled(), "progress_at_cancel": (state["progress"] or [(0, None)])[-1][1]}
        t_cancel = time.time()
        button.click()
        yield from _wait(state, 120)
        rec.update(ok=state.get("ok"), seconds_to_stop=state.get("t_end", time.time()) - t_cancel,
                   stopped="ok" in state, log=_log_text(dlg)[-3000:],
                   outputs_left=[p for p in item.get("outputs", []) if Path(p).exists()])
        yield 1.0   # a run that ignored the cancel would write its outputs now
        rec["outputs_left_later"] = [p for p in item.get("outputs", []) if Path(p).exists()]
        REPORT["cancels"].append(rec)
        dlg.close()
        dlg.deleteLater()
        _keep.remove(dlg)
        save()


def install_help():
    """The plugin's missing-packages message: its text, the dialog behind its button, and what Copy copies."""
    from qgis.PyQt.QtWidgets import QPlainTextEdit, QPushButton
    yield 0.5
    rec = {"items": [item.text() for item in iface.messageBar().items()]}
    for item in iface.messageBar().items():
        button = item.findChild(QPushButton, "riskmap_install_help")
        if button is None:
            continue
        button.click()
        yield 0.5
        dlg = next((w for w in QApplication.topLevelWidgets() if w.objectName() == "riskmap_install_dialog"), None)
        if dlg is not None:
            rec["dialog"] = dlg.findChild(QPlainTextEdit).toPlainText()
            if JOB.get("screenshots"):
                Path(JOB["screenshots"]).mkdir(parents=True, exist_ok=True)
                dlg.grab().save(str(Path(JOB["screenshots"]) / "install_help.png"), "PNG")
            dlg.findChild(QPushButton, "riskmap_copy_command").click()
            rec["clipboard"] = QApplication.clipboard().text()
            dlg.close()
    REPORT["install_help"] = rec
    save()


def open_by_hand(paths):
    """Add files the way the browser does (QGIS loads each file's own default style), and record what draws."""
    QgsProject.instance().clear()
    for path in paths:
        stem = Path(path).stem
        if path.lower().endswith(RASTERS):
            layer = iface.addRasterLayer(path, stem)
        else:       # a GeoPackage's layer as the browser adds it (the file itself: QGIS asks which table)
            uri = f"{path}|layername={stem}" if path.lower().endswith(".gpkg") else path
            layer = iface.addVectorLayer(uri, stem, "ogr")
        REPORT.setdefault("opened", []).append(layer_style(layer) if layer is not None else {"source": path})
    yield 1.0
    save()


def window(path):
    canvas = iface.mapCanvas()
    canvas.zoomToFullExtent()
    canvas.refreshAllLayers()
    yield 3.0
    iface.mainWindow().grab().save(path, "PNG")
    REPORT["window"] = path


def main():
    timer = QTimer()
    timer.timeout.connect(watchdog)
    timer.start(250)
    _keep.append(timer)
    iface.mainWindow().resize(1600, 1000)
    REPORT["plugin_loaded"] = "riskmap" in __import__("qgis.utils", fromlist=["plugins"]).plugins
    REPORT["menu"] = [a.text() for m in iface.pluginMenu().actions() if m.menu() and "风险图" in m.text()
                      for a in m.menu().actions()]
    REPORT["messages"] = [w.text() if hasattr(w, "text") else str(w) for w in iface.messageBar().items()] \
        if hasattr(iface.messageBar(), "items") else []
    save()
    phases = [install_help()] if JOB.get("install_help") else []
    phases += [dialogs(name, paths) for name, paths in (JOB.get("setups") or {}).items()]
    if JOB.get("runs"):
        phases.append(runs(JOB["runs"]))
    if JOB.get("cancels"):
        phases.append(cancels(JOB["cancels"]))
    if JOB.get("open"):
        phases.append(open_by_hand(JOB["open"]))
    if JOB.get("window"):
        phases.append(window(JOB["window"]))
    run_phases(phases)


QTimer.singleShot(1500, main)
