"""riskmap engine: disaster-risk mapping without QGIS.

The engine never imports qgis. It reads and writes files with geopandas and
rasterio, and every public function takes a ``progress`` argument
(:class:`risk_plugin.progress.Progress`) for feedback and cancel.
"""
__version__ = "0.1.0"
