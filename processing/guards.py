"""Checks every riskmap algorithm makes around its run (see RiskMapAlgorithm.processAlgorithm)."""
import contextlib
import os

from qgis.core import (QgsMapLayer, QgsProcessingFeatureSourceDefinition, QgsProcessingOutputLayerDefinition,
                       QgsProcessingParameterFeatureSink, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterFolderDestination, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterVectorDestination, QgsProperty)


@contextlib.contextmanager
def gdal_without_pam():
    """No .aux.xml beside the inputs: QGIS computes band statistics when it loads a raster, and GDAL
    saves them in a sidecar file next to the user's data. Thread-local, so other threads (the desktop
    drawing maps) keep GDAL's default."""
    from osgeo import gdal
    old = gdal.GetThreadLocalConfigOption("GDAL_PAM_ENABLED", None)
    gdal.SetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO")
    try:
        yield
    finally:
        gdal.SetThreadLocalConfigOption("GDAL_PAM_ENABLED", old)


def quiet_gdal_for_batch(arguments):
    """In a ``qgis_process run riskmap:…`` process, no .aux.xml beside the inputs: qgis_process loads
    the input rasters (and GDAL records their statistics) before the algorithm's own code runs, so
    the thread-local switch above comes too late. Only for a riskmap run: other algorithms of other
    processes keep GDAL's default (some formats need their .aux.xml)."""
    if any(str(a).startswith("riskmap:") for a in arguments):
        from osgeo import gdal
        gdal.SetConfigOption("GDAL_PAM_ENABLED", "NO")
        return True
    return False


def _static(value):
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink
    if isinstance(value, QgsProcessingFeatureSourceDefinition):
        value = value.source
    if isinstance(value, QgsProperty):
        value = value.staticValue()
    return value


def _files(value, context):
    """Local file paths behind a parameter value (paths, layer ids, layers, lists of them)."""
    value = _static(value)
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _files(v, context)]
    if isinstance(value, QgsMapLayer):
        value = value.source()
    if not isinstance(value, str) or not value or value == "TEMPORARY_OUTPUT":
        return []
    layer = context.project().mapLayer(value) if context.project() is not None else None
    if layer is None and context.temporaryLayerStore() is not None:
        layer = context.temporaryLayerStore().mapLayer(value)
    if layer is not None:
        value = layer.source()
    path = value.split("|")[0]
    return [os.path.realpath(path)] if path and not path.startswith(("memory:", "postgres", "dbname=")) else []


DESTINATIONS = (QgsProcessingParameterFeatureSink, QgsProcessingParameterVectorDestination,
                QgsProcessingParameterRasterDestination, QgsProcessingParameterFileDestination)


def outputs_overwriting_inputs(alg, parameters, context):
    """A bilingual message when an output path is one of the input files (it would be replaced), else None.
    A GeoPackage counts as one file whatever layer is named: writing it replaces the whole file."""
    inputs = {}
    for p in alg.parameterDefinitions():
        if p.isDestination() or p.name() not in parameters:
            continue
        for path in _files(parameters[p.name()], context):
            inputs.setdefault(path, p.name())
    clashes = []
    for p in alg.parameterDefinitions():
        if not isinstance(p, DESTINATIONS) or isinstance(p, QgsProcessingParameterFolderDestination):
            continue
        for path in _files(parameters.get(p.name()), context):
            shp_twin = os.path.splitext(path)[0] + ".shp"
            hit = inputs.get(path) or (inputs.get(shp_twin) if path.lower().endswith((".dbf", ".shx", ".prj")) else None)
            if hit:
                clashes.append((p.name(), hit, path))
    if not clashes:
        return None
    lines = [f"输出 {out} 与输入 {inp} 是同一个文件 {path}: 写出会覆盖输入数据 / output {out} is the same file as input "
             f"{inp} ({path}): writing it would overwrite the input" for out, inp, path in clashes]
    return "\n".join(lines) + "\n→ 处理办法: 为输出选择另一个文件名 / Fix: choose another file name for the output"


def _bound(value):
    return None if value is None or abs(value) >= 1e300 else value


def range_message(alg, parameters, context):
    """'K = 0 超出允许范围 1 – 100 (默认 10) / K = 0 is outside the allowed range 1 – 100 (default 10)' for
    every number parameter outside its range; None when no number is the problem."""
    lines = []
    for p in alg.parameterDefinitions():
        if not isinstance(p, QgsProcessingParameterNumber) or p.name() not in parameters:
            continue
        raw = _static(parameters[p.name()])
        if raw in (None, ""):
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            lines.append(f"{p.name()} = {raw!r} 不是数字 / {p.name()} = {raw!r} is not a number")
            continue
        low, high = _bound(p.minimum()), _bound(p.maximum())
        if (low is not None and value < low) or (high is not None and value > high):
            allowed = f"{low:g} – {high:g}" if low is not None and high is not None else (
                f"≥ {low:g}" if low is not None else f"≤ {high:g}")
            d = p.defaultValue()
            zh, en = (f", 默认 {d:g}", f", default {d:g}") if isinstance(d, (int, float)) else ("", "")
            lines.append(f"{p.name()} = {value:g} 超出允许范围 {allowed}{zh} / {p.name()} = {value:g} is outside the "
                         f"allowed range {allowed}{en}")
    lines += layer_messages(alg, parameters, context)
    return "\n".join(lines) or None


def layer_messages(alg, parameters, context):
    """For layer parameters given as paths that QGIS cannot open: which file, and why."""
    from qgis.core import QgsProcessingUtils
    lines = []
    for p in alg.parameterDefinitions():
        if p.isDestination() or p.name() not in parameters or p.type() not in (
                "source", "vector", "raster", "layer", "multilayer"):
            continue
        values = _static(parameters[p.name()])
        for value in (values if isinstance(values, (list, tuple)) else [values]):
            value = _static(value)
            if not isinstance(value, str) or not value or (context.project() and context.project().mapLayer(value)):
                continue
            path = value.split("|")[0]
            if not os.path.exists(path):
                lines.append(f"{p.name()}: 文件不存在 {path} / {p.name()}: no such file {path}")
            elif QgsProcessingUtils.mapLayerFromString(value, context) is None:
                lines.append(f"{p.name()}: 无法把 {os.path.basename(path)} 作为图层打开 (文件损坏, 或格式、图层名不对) / "
                             f"{p.name()}: {os.path.basename(path)} cannot be opened as a layer (damaged file, or a "
                             "wrong format or layer name)")
    return lines



def unknown_parameters(alg, parameters):
    """Warnings for parameter names the algorithm does not have (qgis_process ignores them silently)."""
    import difflib
    known = [p.name() for p in alg.parameterDefinitions()]
    lines = []
    for key in sorted(k for k in parameters if k not in known and not str(k).startswith("_")):
        close = difflib.get_close_matches(str(key), known, n=2, cutoff=0.5)
        zh = f"; 可能是 {close}" if close else f"; 可用参数见 qgis_process help riskmap:{alg.name()}"
        en = f"; did you mean {close}" if close else f"; see qgis_process help riskmap:{alg.name()}"
        lines.append(f"参数 {key} 不存在, 已忽略{zh} / there is no parameter {key}; it was ignored{en}")
    return lines
