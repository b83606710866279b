"""Peak memory of the calling process, MiB (risk_plugin.parallel.cluster.peak_mib: VmHWM, this
process's own high-water mark; ru_maxrss would start at the parent's peak).

Loaded by file path, so a QGIS process can use it without the repository root on sys.path (which
would shadow QGIS's own ``processing``) and without importing the engine's libraries."""
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_riskmap_cluster", Path(__file__).resolve().parent.parent / "risk_plugin" / "parallel" / "cluster.py")
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
peak_mib = _mod.peak_mib
