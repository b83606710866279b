"""Test harness: real QGIS (offscreen, via pytest-qgis), the plugin loaded the way
QGIS loads it (a plugins folder whose entry 'riskmap' points at the repository),
and a runner for qgis_process."""
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
QGIS_PROCESS = os.environ.get("RISKMAP_QGIS_PROCESS", "/usr/bin/qgis_process.bin")
sys.path.append("/usr/share/qgis/python/plugins")  # QGIS's own 'processing'

# A plugins folder whose entry 'riskmap' points at the repository, as QGIS sees an installed
# plugin. It is on sys.path from the start so that test modules can import riskmap.risk_plugin.
PLUGINS_DIR = Path(tempfile.mkdtemp(prefix="riskmap-plugins-"))
(PLUGINS_DIR / "riskmap").symlink_to(REPO, target_is_directory=True)
sys.path.insert(0, str(PLUGINS_DIR))


@pytest.fixture(scope="session")
def plugins_dir():
    return PLUGINS_DIR


@pytest.fixture(scope="session")
def riskmap(plugins_dir, qgis_app, qgis_processing):
    """The plugin package, imported as QGIS imports it, with its provider registered."""
    import importlib
    from qgis.core import QgsApplication
    pkg = importlib.import_module("riskmap")
    if QgsApplication.processingRegistry().providerById("riskmap") is None:
        plugin = pkg.classFactory(None)
        plugin.initProcessing()
        assert not plugin.missing, plugin.missing
        pkg._test_plugin = plugin  # keep the Python side of the provider alive
    return pkg


@pytest.fixture(scope="session")
def engine(riskmap):
    """The engine package (riskmap.risk_plugin)."""
    import importlib
    return importlib.import_module("riskmap.risk_plugin")


def run_alg(alg_id, params, context=None):
    """processing.run in this process; returns the results dict."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback
    return processing.run(alg_id, params, context=context or QgsProcessingContext(),
                          feedback=QgsProcessingFeedback())


@pytest.fixture(scope="session")
def alg(riskmap):
    return run_alg


class QgisProcess:
    """Runs /usr/bin/qgis_process.bin with the plugin enabled in a throwaway profile."""

    def __init__(self, plugins_dir, home):
        site = sysconfig.get_paths()["purelib"]
        self.env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_PLUGINPATH=str(plugins_dir),
                        XDG_DATA_HOME=str(home), XDG_RUNTIME_DIR=str(home / "runtime"),
                        PYTHONPATH=os.pathsep.join([site, os.environ.get("PYTHONPATH", "")]))
        self.env.pop("QGIS_CUSTOM_CONFIG_PATH", None)  # set by pytest-qgis; would override XDG_DATA_HOME
        (home / "runtime").mkdir(exist_ok=True, mode=0o700)
        self.raw("plugins", "enable", "riskmap")

    def raw(self, *args, timeout=900):
        return subprocess.run([QGIS_PROCESS, *args], env=self.env, capture_output=True, text=True, timeout=timeout)

    def run(self, alg_id, params, check=True, timeout=900):
        """Run an algorithm; returns (returncode, results dict or None, stdout+stderr)."""
        args = ["--json", "run", alg_id, "--"]
        for key, value in params.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            args += [f"{key}={v}" for v in values]
        proc = self.raw(*args, timeout=timeout)
        out = proc.stdout
        results = None
        if "{" in out:
            try:
                results = json.loads(out[out.index("{"):])["results"]
            except (ValueError, KeyError):
                results = None
        if check:
            assert proc.returncode == 0, f"qgis_process exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        return proc.returncode, results, proc.stdout + proc.stderr


@pytest.fixture(scope="session")
def qgis_process(plugins_dir, tmp_path_factory):
    return QgisProcess(plugins_dir, tmp_path_factory.mktemp("qgis-home"))


@pytest.fixture(scope="session")
def demo_county(engine, tmp_path_factory):
    """A small demo county (8 x 8 km, 20 m cells), generated once per test session."""
    from importlib import import_module
    demo = import_module("riskmap.risk_plugin.demo")
    out = tmp_path_factory.mktemp("demo_county")
    return demo.generate(out, size_km=8.0, cell_size=20.0, townships=4, villages_per_township=5, seed=7)


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def _release_qgis_objects(qgis_app):
    """Before pytest-qgis calls exitQgis: drop our provider and the Python objects QGIS points at."""
    yield
    import gc
    from qgis.core import QgsApplication
    provider = QgsApplication.processingRegistry().providerById("riskmap")
    if provider is not None:
        QgsApplication.processingRegistry().removeProvider(provider)
    try:
        from riskmap.processing.styling import StylePostProcessor
        StylePostProcessor._keep.clear()
    except ImportError:
        pass
    gc.collect()


_EXIT_STATUS = {}


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS["code"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    # PyQt/QGIS objects that outlive exitQgis can segfault in the interpreter's final garbage
    # collection (exit 139 after every test passed): leave with pytest's own status instead.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_EXIT_STATUS.get("code", 0))
