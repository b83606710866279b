"""The plugin loads the way QGIS loads it, beside QGIS's own 'processing'."""
import importlib
import sys
from pathlib import Path

from conftest import REPO


def test_processing_is_qgis_own(riskmap):
    import processing
    assert Path(processing.__file__).resolve().parent == Path("/usr/share/qgis/python/plugins/processing")
    assert Path(riskmap.__file__).resolve().parent == REPO
    # the plugin's own package is reachable only under the plugin's name
    assert importlib.import_module("riskmap.processing").__name__ == "riskmap.processing"
    assert sys.modules["processing"] is processing


def test_engine_never_imports_qgis():
    """Every engine module imports in a Python without qgis on its path."""
    import subprocess
    code = ("import sys, pkgutil, importlib\n"
            "sys.modules['qgis'] = None\n"  # importing qgis would now fail
            "import risk_plugin\n"
            "mods = [m.name for m in pkgutil.walk_packages(risk_plugin.__path__, 'risk_plugin.') if not m.name.endswith('__main__')]\n"
            "[importlib.import_module(m) for m in mods]\n"
            "print(len(mods))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) >= 5


def test_provider_lists_algorithms(riskmap):
    from qgis.core import QgsApplication
    provider = QgsApplication.processingRegistry().providerById("riskmap")
    ids = {a.id() for a in provider.algorithms()}
    assert {"riskmap:validate"} <= ids
    import re
    from urllib.parse import urlparse
    from urllib.request import url2pathname
    for a in provider.algorithms():
        text = a.shortHelpString()
        assert text, f"{a.id()} has no help"
        assert " / " in a.displayName(), f"{a.id()} needs a Chinese / English name"
        assert len(re.findall(r"[\u4e00-\u9fff]", a.HELP)) >= 20 and len(re.findall(r"[A-Za-z]{3,}", a.HELP)) >= 20, \
            f"{a.id()}: help must be in Chinese and English"
        # every parameter code is explained with its (bilingual) dialog label, and the help links the reference page
        for p in a.parameterDefinitions():
            assert f"<b>{p.name()}</b> = " in text
        url = a.helpUrl()
        assert url.startswith("file://") and url.endswith(f"docs/algorithms/{a.name()}.md") and url in text
        assert Path(url2pathname(urlparse(url).path)).exists()
