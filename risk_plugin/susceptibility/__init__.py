"""Landslide susceptibility (易发性): information value (信息量法, default), frequency ratio and
logistic regression, with success and cross-validated prediction AUCs and four zones.

>>> from risk_plugin.susceptibility import landslide_susceptibility, unit_susceptibility
>>> r = landslide_susceptibility("dem.tif", "inventory.gpkg", "index.tif", "zones.tif", "report.xlsx")
>>> u = unit_susceptibility("slope_units.gpkg", ["slope_mean", "lithology"], "n_slides", "units_out.gpkg")

Modules: factors (classes of factors), model (IV / FR / logistic, AUC, k-fold), zoning (four zones),
grid (the raster run, block by block), units (the run on mapping units), report (tables).
Defaults and sources: risk_plugin/definitions/susceptibility.py.
"""
from .factors import Factor, quantile_breaks
from .grid import Result, Settings, landslide_susceptibility
from .units import UnitResult, unit_susceptibility
from .model import Model, auc, cross_validate, fit, frequency_ratio, information_value
from .zoning import classify, zone_breaks

__all__ = ["Factor", "Model", "Result", "Settings", "auc", "classify", "cross_validate", "fit", "frequency_ratio",
           "information_value", "landslide_susceptibility", "quantile_breaks", "unit_susceptibility", "UnitResult", "zone_breaks"]
