"""Check the engine's Python dependencies before anything imports them."""
import importlib.util
import os
import site
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# import name -> pip requirement name
REQUIRED = {"numpy": "numpy", "pandas": "pandas", "shapely": "shapely", "pyogrio": "pyogrio",
            "rasterio": "rasterio", "geopandas": "geopandas", "pyproj": "pyproj", "scipy": "scipy",
            "sklearn": "scikit-learn", "skimage": "scikit-image", "folium": "folium",
            "openpyxl": "openpyxl", "jsonschema": "jsonschema"}


def add_project_site():
    """Put the project's environment (made by `make setup`) on sys.path, if there is one.

    Looked up in $RISKMAP_SITE_PACKAGES, then in site_packages.txt written by
    `make deploy`, then in .venv beside this file (a development checkout)."""
    candidates = [os.environ.get("RISKMAP_SITE_PACKAGES", "")]
    marker = HERE / "site_packages.txt"
    if marker.exists():
        candidates.append(marker.read_text().strip())
    candidates += [str(p) for p in (HERE / ".venv" / "lib").glob("python3*/site-packages")]
    for path in candidates:
        if path and os.path.isdir(path) and path not in sys.path:
            site.addsitedir(path)
            sys.path.remove(path)
            sys.path.insert(0, path)
            return path
    return None


def missing():
    """Requirement names that cannot be imported."""
    return [pip for mod, pip in REQUIRED.items() if importlib.util.find_spec(mod) is None]


def install_command():
    return (f"cd {HERE} && make setup   # 或 / or: /usr/bin/python3 -m pip install --break-system-packages "
            f"--no-binary shapely,pyogrio,rasterio -r {HERE / 'requirements.txt'}")


def message(names):
    return (f"风险图插件缺少 Python 依赖 / The Risk maps plugin is missing Python packages: {', '.join(names)}. "
            f"安装 / Install: {install_command()}")
