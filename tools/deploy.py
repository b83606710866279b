"""`make deploy`: install the plugin zip into a QGIS profile and enable it.

    python -m tools.deploy --zip build/riskmap.zip --site .venv/lib/python3.11/site-packages [--profile DIR]

The profile defaults to $XDG_DATA_HOME/QGIS/QGIS3/profiles/default (~/.local/share/… when unset).
site_packages.txt in the installed plugin points QGIS at the project's Python environment.
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path


def default_profile():
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data / "QGIS" / "QGIS3" / "profiles" / "default"


def deploy(zip_path, site, profile=None):
    profile = Path(profile) if profile else default_profile()
    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".riskmap-", dir=plugins))
    try:
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(staging)
        (staging / "riskmap" / "site_packages.txt").write_text(str(Path(site).resolve()) + "\n")
        target = plugins / "riskmap"
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            shutil.rmtree(target)
        os.replace(staging / "riskmap", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(profile.parents[3]))
    for var in ("QGIS_PLUGINPATH", "QGIS_CUSTOM_CONFIG_PATH"):  # would point QGIS at another profile
        env.pop(var, None)
    proc = subprocess.run([os.environ.get("RISKMAP_QGIS_PROCESS", "/usr/bin/qgis_process.bin"), "plugins", "enable",
                           "riskmap"], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"qgis_process plugins enable riskmap failed:\n{proc.stdout}\n{proc.stderr}")
    print(f"Installed and enabled: {target}")
    return target


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--zip", required=True)
    ap.add_argument("--site", required=True)
    ap.add_argument("--profile")
    a = ap.parse_args(argv)
    deploy(a.zip, a.site, a.profile)


if __name__ == "__main__":
    main()
