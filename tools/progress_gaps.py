"""How progress moves: every riskmap step of `make demo`, run with processing.run on a demo output folder, with a
feedback that timestamps each call (setProgress, pushInfo, setProgressText …). Prints, per step, the time to the
first report, the longest silent stretch and where it was, and the whole run. A measurement, not a test.

    env $(QGIS_ENV) .venv/bin/python -m tools.progress_gaps --demo demo_output [--only fourcolorrisk] [--grid50]

Outputs go to a scratch folder (--scratch); the demo folder is only read.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _qgis():
    from qgis.core import QgsApplication
    # `python -m tools.…` puts the repository on sys.path, where processing/ would shadow QGIS's own
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing
    Processing.initialize()
    plugins = Path(tempfile.mkdtemp(prefix="riskmap-gaps-"))
    (plugins / "riskmap").symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(plugins))
    import riskmap
    plugin = riskmap.classFactory(None)
    plugin.initProcessing()
    return app, plugin


def recording_feedback():
    from qgis.core import QgsProcessingFeedback

    class Recording(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.events = []
            self.progressChanged.connect(lambda p: self.events.append((time.perf_counter(), "progress", float(p))))

        def _add(self, kind, text):
            self.events.append((time.perf_counter(), kind, str(text)[:120]))

        def pushInfo(self, text):  # noqa: N802 (QGIS API)
            self._add("info", text)
            super().pushInfo(text)

        def pushWarning(self, text):  # noqa: N802
            self._add("warning", text)
            super().pushWarning(text)

        def pushDebugInfo(self, text):  # noqa: N802
            self._add("debug", text)

        def setProgressText(self, text):  # noqa: N802
            self._add("text", text)
            super().setProgressText(text)

        def reportError(self, text, fatal=False):  # noqa: N802
            self._add("error", text)
            super().reportError(text, fatal)
    return Recording()


def gaps(t0, t1, events):
    """(first report s, longest silence s, what came before it, pct reached, writing reached)."""
    times = [t0] + [e[0] for e in events] + [t1]
    labels = ["start"] + [f"{e[1]} {e[2]}" for e in events] + ["end"]
    longest, where = 0.0, ""
    for i in range(1, len(times)):
        if times[i] - times[i - 1] > longest:
            longest, where = times[i] - times[i - 1], f"after '{labels[i - 1]}' until '{labels[i]}'"
    pcts = [e[2] for e in events if e[1] == "progress"]
    return {"first_s": round((events[0][0] - t0) if events else (t1 - t0), 2), "longest_s": round(longest, 2),
            "where": where, "total_s": round(t1 - t0, 2), "max_pct": max(pcts) if pcts else None,
            "monotone": all(b >= a for a, b in zip(pcts, pcts[1:])), "reports": len(events)}


def steps(demo_dir, scratch, only=None, grid50=False):
    sys.path.insert(0, str(REPO))
    from tools.demo import fill, steps as demo_steps
    out = []
    for step in demo_steps():
        if not step["alg"].startswith("riskmap:") or (only and only not in step["alg"]):
            continue
        params = {k: fill(v, str(Path(demo_dir) / "county"), str(demo_dir)) for k, v in step["params"].items()}
        for key, value in params.items():   # outputs into the scratch folder; inputs stay in the demo folder
            if key.startswith("OUTPUT") and isinstance(value, str):
                params[key] = str(Path(scratch) / Path(value).name)
        if step["alg"] == "riskmap:democounty":
            params["OUTPUT_FOLDER"] = str(Path(scratch) / "county")
        out.append((step["title"], step["alg"], params))
        if grid50 and step["alg"] == "riskmap:fourcolorrisk" and params.get("SUPPORT") == 0:
            out.append((step["title"] + " — 50 m", step["alg"], dict(params, CELL_SIZE=50,
                                                                     OUTPUT=str(Path(scratch) / "fourcolor_grid50.gpkg"),
                                                                     OUTPUT_TABLE=str(Path(scratch) / "fc50.xlsx"))))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--demo", required=True, help="a `make demo` output folder (its county/ and outputs are read)")
    ap.add_argument("--scratch", default=None)
    ap.add_argument("--only", default=None)
    ap.add_argument("--grid50", action="store_true", help="also fourcolorrisk on a 50 m grid")
    ap.add_argument("--json", default=None, help="write the measurements here")
    args = ap.parse_args(argv)
    app, plugin = _qgis()
    import processing
    from qgis.core import QgsProcessingContext
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="riskmap-gaps-out-"))
    scratch.mkdir(parents=True, exist_ok=True)
    rows = []
    for title, alg, params in steps(Path(args.demo).resolve(), scratch, args.only, args.grid50):
        feedback = recording_feedback()
        t0 = time.perf_counter()
        try:
            processing.run(alg, params, context=QgsProcessingContext(), feedback=feedback)
            ok = True
        except Exception as exc:  # noqa: BLE001 - a measurement: report and go on
            ok = f"{type(exc).__name__}: {exc}"[:200]
        row = {"alg": alg, "title": title, "ok": ok, **gaps(t0, time.perf_counter(), feedback.events)}
        rows.append(row)
        print(f"{alg:32s} first {row['first_s']:6.2f} s  longest silence {row['longest_s']:6.2f} s of "
              f"{row['total_s']:6.2f} s  max {row['max_pct']}%  [{title}]\n    {row['where']}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    os._exit(0)   # QGIS objects outliving exitQgis can crash the interpreter's last collection


if __name__ == "__main__":
    main()
