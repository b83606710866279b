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


def platform_name():
    """'windows' (QGIS from OSGeo4W or the standalone installer), 'debian' (Debian / Ubuntu) or 'other'."""
    if sys.platform.startswith("win"):
        return "windows"
    if Path("/etc/debian_version").exists():
        return "debian"
    return "other"


def install_command(names=None, platform=None):
    """The command that installs the missing packages on this platform, as one line to paste.

    Debian: the project's own Makefile (Debian packages as root, then the pinned libraries built against Debian's
    GDAL/PROJ/GEOS into .venv beside the plugin, where the plugin finds them). Windows: pip in the OSGeo4W Shell
    (QGIS's own Python), into the user's site-packages; not tested by this project (README)."""
    platform = platform or platform_name()
    names = list(names or REQUIRED.values())
    if platform == "debian":
        return f"sudo make -C '{HERE}' debs && make -C '{HERE}' venv"
    if platform == "windows":
        return "python -m pip install --user " + " ".join(names)
    return f"{Path(sys.executable).name} -m pip install --user " + " ".join(names)


def where_to_run(platform=None):
    platform = platform or platform_name()
    if platform == "windows":
        return ("在“OSGeo4W Shell”中运行 (开始菜单 → QGIS → OSGeo4W Shell), 然后重启 QGIS / "
                "run it in the OSGeo4W Shell (Start menu → QGIS → OSGeo4W Shell), then restart QGIS")
    if platform == "debian":
        return "在终端中运行, 然后重启 QGIS / run it in a terminal, then restart QGIS"
    return "用 QGIS 自带的 Python 运行, 然后重启 QGIS / run it with QGIS's own Python, then restart QGIS"


def message(names, platform=None):
    """One line for the message bar: what is missing and the full command."""
    return (f"风险图插件缺少 Python 依赖 / The Risk maps plugin is missing Python packages: {', '.join(names)}. "
            f"安装 / Install: {install_command(names, platform)}")


def details(names, platform=None):
    """The text of the install dialog: missing packages, the command, where to run it, the README section."""
    return (f"缺少 / Missing: {', '.join(names)}\n\n"
            f"安装命令 / Install command:\n{install_command(names, platform)}\n\n"
            f"{where_to_run(platform)}\n\n"
            f"说明见 / See: {HERE / 'README.md'} (安装 / Installing)")
