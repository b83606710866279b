"""Parameters shared by riskmap:sheltercoverage and riskmap:sheltersiting (declaration and reading),
and the catchment style. No analysis here."""
from qgis.core import (QgsFillSymbol, QgsProcessingLayerPostProcessorInterface, QgsProcessingParameterBoolean,
                       QgsProcessingParameterDefinition, QgsProcessingParameterEnum, QgsProcessingParameterNumber,
                       QgsSingleSymbolRenderer)

from ..risk_plugin.definitions import shelters as D
from .styling import base_style

CLASS_LABEL = {"emergency": "紧急 emergency", "fixed_short": "固定-短期 fixed short-term",
               "fixed_medium": "固定-中期 fixed medium-term", "fixed_long": "固定-长期 fixed long-term",
               "central": "中心 central"}


def class_param_help():
    """HTML lines: per-class defaults with their clause."""
    rows = []
    for c in D.CLASSES:
        rows.append(f"<b>PER_CAPITA_{c.upper()}</b> (default {D.PER_CAPITA[c]:g} m²/人): {D.PER_CAPITA_SOURCE[c]}. "
                    f"<b>SERVICE_DISTANCE_{c.upper()}</b> (default {D.SERVICE_DISTANCE[c]:g} m): "
                    f"{D.SERVICE_DISTANCE_SOURCE[c]}.")
    return "<br>".join(rows)


def add_class_params(alg):
    """Per-class per-capita area and service distance, the uniform override, noding: advanced."""
    params = []
    for c in D.CLASSES:
        params.append(QgsProcessingParameterNumber(
            f"PER_CAPITA_{c.upper()}", f"人均有效避难面积 (m²) / Per-capita area (m²): {CLASS_LABEL[c]}",
            QgsProcessingParameterNumber.Double, D.PER_CAPITA[c], minValue=0.01))
        params.append(QgsProcessingParameterNumber(
            f"SERVICE_DISTANCE_{c.upper()}", f"服务距离 (m) / Service distance (m): {CLASS_LABEL[c]}",
            QgsProcessingParameterNumber.Double, D.SERVICE_DISTANCE[c], minValue=1.0))
    params.append(QgsProcessingParameterNumber(
        "UNIFORM_PER_CAPITA", "统一人均面积 (m², 覆盖各类别; GB 21734-2008 §5.4 为 1.5) / Uniform per-capita area "
        "(m², overrides every class; GB 21734-2008 §5.4: 1.5)", QgsProcessingParameterNumber.Double,
        None, optional=True, minValue=0.01))
    params.append(QgsProcessingParameterEnum("NODING", "路网连接方式 / Road noding", options=[
        "共享节点 (同 QGIS, OSM) / shared vertices (as QGIS, OSM)", "所有交叉点 / every crossing"],
        defaultValue=D.NODINGS.index(D.NODING)))
    params.append(QgsProcessingParameterBoolean("REPAIR", "修复无效几何 / Repair invalid geometry", defaultValue=False))
    for p in params:
        p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        alg.addParameter(p)


def read_class_params(alg, parameters, context):
    per_capita = {c: alg.parameterAsDouble(parameters, f"PER_CAPITA_{c.upper()}", context) for c in D.CLASSES}
    service = {c: alg.parameterAsDouble(parameters, f"SERVICE_DISTANCE_{c.upper()}", context) for c in D.CLASSES}
    uniform = parameters.get("UNIFORM_PER_CAPITA")
    uniform = alg.parameterAsDouble(parameters, "UNIFORM_PER_CAPITA", context) if uniform not in (None, "") else None
    noding = D.NODINGS[alg.parameterAsEnum(parameters, "NODING", context)]
    repair = alg.parameterAsBool(parameters, "REPAIR", context)
    return {"per_capita": per_capita, "service_distance": service, "uniform_per_capita": uniform or None,
            "noding": noding, "repair": repair}


def demand_source(alg, parameters, name, context, feedback):
    """Path of the DEMAND layer: a raster's source, or a vector exported when it is not a file."""
    from qgis.core import QgsRasterLayer
    layer = alg.parameterAsLayer(parameters, name, context)
    if layer is None:
        return None
    if isinstance(layer, QgsRasterLayer):
        return layer.source()
    try:
        return alg.parameterAsCompatibleSourceLayerPath(parameters, name, context, ["gpkg", "shp"], "gpkg", feedback)
    except Exception:  # noqa: BLE001 (a map-layer parameter may not convert to a source: use the file)
        return layer.source()


class CatchmentStyle(QgsProcessingLayerPostProcessorInterface):
    """Semi-transparent fill from styles/classes.json base_layers 'catchments'."""
    _keep = []

    def postProcessLayer(self, layer, context, feedback):
        from .styling import stored_style
        if stored_style(layer):         # the style stored with the file (processing/styling.py store_style)
            layer.triggerRepaint()
            return
        st = base_style("catchments")
        alpha = int(255 * float(st.get("fill_opacity", 0.15)))
        color = st["color"].lstrip("#")
        rgb = ",".join(str(int(color[i:i + 2], 16)) for i in (0, 2, 4))
        sym = QgsFillSymbol.createSimple({"color": f"{rgb},{alpha}", "outline_color": st.get("outline", st["color"]),
                                          "outline_width": "0.3", "outline_style": "dash" if st.get("dash") else "solid"})
        layer.setRenderer(QgsSingleSymbolRenderer(sym))
        layer.triggerRepaint()

    @classmethod
    def attach(cls, context, path, name=None):
        if path and context.willLoadLayerOnCompletion(path):
            details = context.layerToLoadOnCompletionDetails(path)
            if name:
                details.name = name
            inst = cls()
            cls._keep.append(inst)
            details.setPostProcessor(inst)
