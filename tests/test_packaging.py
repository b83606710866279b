"""The zip installs into a fresh QGIS profile and qgis_process then lists the algorithms."""
import configparser
import os
import subprocess
import sysconfig
import zipfile

from conftest import QGIS_PROCESS, REPO


def test_metadata_is_complete():
    cp = configparser.ConfigParser()
    cp.read(REPO / "metadata.txt", encoding="utf-8")
    g = cp["general"]
    for key in ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
                "repository", "tracker", "tags", "license", "icon"):
        assert g.get(key), key
    assert g["qgisMinimumVersion"] == "3.22"
    assert g["hasProcessingProvider"] == "yes"
    assert g["license"] == "GPL-2.0-or-later"
    assert "风险" in g["description"] and "risk" in g["description"].lower()
    assert (REPO / g["icon"]).exists() and (REPO / "LICENSE").exists()


def test_package_installs_and_qgis_process_lists_algorithms(tmp_path, riskmap):
    subprocess.run(["make", "-s", "package", f"BUILD={tmp_path / 'build'}"], cwd=REPO, check=True,
                   capture_output=True)
    zip_path = tmp_path / "build" / "riskmap.zip"
    names = zipfile.ZipFile(zip_path).namelist()
    assert "riskmap/metadata.txt" in names and "riskmap/__init__.py" in names
    assert "riskmap/processing/provider.py" in names and "riskmap/data_schemas/shelters.json" in names
    assert not any(n.startswith("riskmap/tests/") for n in names)
    # each algorithm's help links its reference page, shipped in the zip; pictures and developer notes are not
    assert {f"riskmap/docs/algorithms/{a}.md" for a in ("fourcolorrisk", "webmap")} <= set(names)
    assert not any(n.startswith("riskmap/docs/images/") for n in names)
    home = tmp_path / "home"
    env = dict(os.environ, XDG_DATA_HOME=str(home), RISKMAP_QGIS_PROCESS=QGIS_PROCESS)
    for var in ("QGIS_PLUGINPATH", "PYTHONPATH", "QGIS_CUSTOM_CONFIG_PATH"):
        env.pop(var, None)
    site = sysconfig.get_paths()["purelib"]
    dep = subprocess.run(["/usr/bin/python3", "-m", "tools.deploy", "--zip", str(zip_path), "--site", site],
                         cwd=REPO, env=env, capture_output=True, text=True)
    assert dep.returncode == 0, dep.stdout + dep.stderr
    installed = home / "QGIS" / "QGIS3" / "profiles" / "default" / "python" / "plugins" / "riskmap"
    assert (installed / "metadata.txt").exists() and not installed.is_symlink()
    env["QT_QPA_PLATFORM"] = "offscreen"
    out = subprocess.run([QGIS_PROCESS, "list"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    listed = {line.split()[0] for line in out.stdout.splitlines() if line.strip().startswith("riskmap:")}
    from qgis.core import QgsApplication
    expected = {a.id() for a in QgsApplication.processingRegistry().providerById("riskmap").algorithms()}
    assert listed == expected and "riskmap:validate" in listed


def test_zip_in_a_new_users_desktop_says_how_to_install_the_packages(tmp_path, riskmap):
    """The zip unpacked into a fresh profile of the real desktop (Xvfb), QGIS's Python without the project's
    libraries: the message bar names what is missing and holds the whole command, its dialog copies it."""
    import importlib.util
    import shutil
    assert shutil.which("Xvfb"), "Xvfb is missing: `make setup` installs it"
    spec = importlib.util.spec_from_file_location("riskmap_tools_desktop", REPO / "tools" / "desktop.py")
    desktop = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(desktop)
    subprocess.run(["make", "-s", "package", f"BUILD={tmp_path / 'build'}"], cwd=REPO, check=True, capture_output=True)
    profile = desktop.fresh_profile(tmp_path / "profile", plugins=True)
    plugins = profile / "profiles" / "default" / "python" / "plugins"
    zipfile.ZipFile(tmp_path / "build" / "riskmap.zip").extractall(plugins)
    with desktop.xvfb() as display:
        out = desktop.run_desktop({"install_help": True, "screenshots": str(tmp_path / "shots")}, tmp_path / "run",
                                  display, profile=profile, bare_python=True, timeout=300)
    report = out["report"]
    assert report and report["done"], out["log"][-3000:]
    assert report["plugin_loaded"]
    help_ = report["install_help"]
    (text,) = [t for t in help_["items"] if "风险图插件缺少" in t]
    installed = plugins / "riskmap"
    command = f"sudo make -C '{installed}' debs && make -C '{installed}' venv"
    assert command in text                                   # the whole command, in the bar itself
    for name in ("geopandas", "rasterio", "folium"):         # not in Debian's Python without the project's .venv
        assert name in text
    assert command in help_["dialog"] and "README.md" in help_["dialog"]
    assert help_["clipboard"] == command
    assert out["returncode"] == 0
