"""The real QGIS desktop under Xvfb, driven by tools/desktop_driver.py (a script QGIS runs at start-up, --code).

    with xvfb() as display:
        report = run_desktop(job, workdir, display)

``job`` says what the driver does (see tools/desktop_driver.py): open every riskmap dialog with given layers in the
project, run steps from their dialogs, cancel a run from its dialog, take screenshots. The driver writes a JSON
report, and before every dialog it opens a line to a progress log, so a crash (QGIS dies on a signal) names the
dialog that caused it. Nothing here imports qgis: QGIS runs in its own process.

    python -m tools.desktop --screenshots docs/images/dialogs     # the dialog pictures in docs/
"""
import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).resolve().parent / "desktop_driver.py"
SCREEN = "1600x1000x24"


@contextlib.contextmanager
def xvfb(screen=SCREEN):
    """Start Xvfb on a free display (it picks the number: -displayfd) and yield ':N'."""
    if shutil.which("Xvfb") is None:
        raise RuntimeError("Xvfb is not installed (Debian package xvfb: make setup installs it)")
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp",
                             "-noreset"], pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError(f"Xvfb did not start (exit {proc.poll()})")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def fresh_profile(root, plugins=None):
    """A new QGIS profiles folder (profiles/default) with riskmap enabled and start-up prompts off.
    ``plugins``: a folder to install the plugin into (profile's python/plugins), else QGIS_PLUGINPATH is used."""
    root = Path(root)
    qgis_dir = root / "profiles" / "default" / "QGIS"
    qgis_dir.mkdir(parents=True, exist_ok=True)
    (qgis_dir / "QGIS3.ini").write_text(
        "[PythonPlugins]\nriskmap=true\n\n[qgis]\ncheckVersion=false\nshowTips=false\n"
        "[Processing]\nConfiguration\\WARN_UNMATCHING_CRS=false\n", encoding="utf-8")
    if plugins:
        (root / "profiles" / "default" / "python" / "plugins").mkdir(parents=True, exist_ok=True)
    return root


def run_desktop(job, workdir, display, plugin_path=None, profile=None, timeout=1800, site=None, bare_python=False):
    """Run QGIS with the driver on ``job``; returns {'returncode', 'report', 'progress', 'log'}.

    ``plugin_path``: folder holding a 'riskmap' plugin (QGIS_PLUGINPATH); None = the profile's own plugins.
    ``site``: site-packages with the engine's libraries (RISKMAP_SITE_PACKAGES). ``bare_python``: QGIS's Python
    as a new user has it (no PYTHONPATH), so the engine's libraries are only found the plugin's own way."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    job = dict(job, report=str(workdir / "report.json"), progress=str(workdir / "progress.log"))
    job_path = workdir / "job.json"
    job_path.write_text(json.dumps(job, ensure_ascii=False, indent=1), encoding="utf-8")
    profile = Path(profile) if profile else fresh_profile(workdir / "profile")
    drop = {"QT_QPA_PLATFORM", "QGIS_CUSTOM_CONFIG_PATH", "QGIS_PLUGINPATH"}
    if bare_python:
        drop |= {"PYTHONPATH", "RISKMAP_SITE_PACKAGES", "VIRTUAL_ENV", "PYTHONHOME"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(DISPLAY=display, RISKMAP_DESKTOP_JOB=str(job_path), XDG_RUNTIME_DIR=str(workdir / "runtime"),
               QGIS_DISABLE_MESSAGE_HOOKS="1")
    (workdir / "runtime").mkdir(mode=0o700, exist_ok=True)
    if plugin_path:
        env["QGIS_PLUGINPATH"] = str(plugin_path)
    if site:
        env["RISKMAP_SITE_PACKAGES"] = str(site)
    args = ["qgis", "--nologo", "--noversioncheck", "--profiles-path", str(profile), "--code", str(DRIVER)]
    with open(workdir / "qgis.log", "w") as log:
        try:
            proc = subprocess.run(args, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    report = json.loads(Path(job["report"]).read_text(encoding="utf-8")) if Path(job["report"]).exists() else None
    progress = Path(job["progress"]).read_text(encoding="utf-8").splitlines() if Path(job["progress"]).exists() else []
    return {"returncode": code, "report": report, "progress": progress,
            "log": (workdir / "qgis.log").read_text(errors="replace")}


def main(argv=None):
    """Screenshots of every dialog (with a raster and a vector of a small demo county in the project)."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--screenshots", default=str(REPO / "docs" / "images" / "dialogs"))
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="riskmap-desktop-"))
    plugins = work / "plugins"
    plugins.mkdir()
    (plugins / "riskmap").symlink_to(REPO, target_is_directory=True)
    from importlib import import_module
    sys.path.insert(0, str(plugins))
    generate = import_module("riskmap.risk_plugin.demo").generate
    county = generate(work / "county", size_km=6.0, cell_size=20.0, townships=3, villages_per_township=4, seed=7)
    layers = [str(county["dem"]), str(county["townships"])]
    job = {"setups": {"both": layers}, "screenshots": args.screenshots, "screenshot_setup": "both"}
    with xvfb() as display:
        out = run_desktop(job, work / "run", display, plugin_path=plugins)
    print(f"exit {out['returncode']}; {len((out['report'] or {}).get('dialogs', []))} dialogs; "
          f"screenshots in {args.screenshots}")


if __name__ == "__main__":
    main()
