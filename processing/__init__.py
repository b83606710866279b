"""QGIS Processing provider 'riskmap': thin algorithms over the engine in risk_plugin/.

This package is always imported relatively (``from .processing import …``) so
that it never shadows QGIS's own ``processing`` package.
"""
