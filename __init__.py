"""QGIS plugin entry point (the repository root is the plugin folder)."""


def classFactory(iface):  # noqa: N802 (QGIS API name)
    from .plugin import RiskMapPlugin
    return RiskMapPlugin(iface)
