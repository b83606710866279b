"""The README stays true: the two commands, one runnable qgis_process example per algorithm."""
import importlib.util

from conftest import REPO


def _examples():
    spec = importlib.util.spec_from_file_location("readme_examples", REPO / "tools" / "readme_examples.py")
    import sys
    sys.path.insert(0, str(REPO))
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.examples()
    finally:
        sys.path.remove(str(REPO))
        for name in [m for m in sys.modules if m == "tools" or m.startswith("tools.")]:
            del sys.modules[name]


def test_readme_has_the_two_commands_and_an_example_per_algorithm(riskmap):
    from qgis.core import QgsApplication
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci
    ids = {a.id() for a in QgsApplication.processingRegistry().providerById("riskmap").algorithms()}
    examples = _examples()
    assert set(examples) == ids, "every algorithm needs a make-demo step (and so a README example)"
    for alg, (_, cmd) in examples.items():
        assert cmd in readme, f"README example for {alg} is missing or stale: run python -m tools.readme_examples"
        assert (REPO / "docs" / "algorithms" / f"{alg.split(':')[1]}.md").exists()
        # a picture of its dialog in the real desktop (make screenshots)
        assert (REPO / "docs" / "images" / "dialogs" / f"{alg.split(':')[1]}.png").exists(), "run make screenshots"
    for image in ("docs/images/overview.jpg", "docs/images/webmap.png", "docs/images/atlas_page.png"):
        assert (REPO / image).exists() and f"]({image})" in readme
