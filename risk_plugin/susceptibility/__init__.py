"""Landslide susceptibility (易发性): information value (信息量法), frequency ratio and logistic
regression, compared on the same cross-validation folds (METHOD=auto, the default, keeps the best),
with success and prediction AUCs, a reliability verdict and four zones.

>>> from risk_plugin.susceptibility import landslide_susceptibility, unit_susceptibility
>>> r = landslide_susceptibility("dem.tif", "inventory.gpkg", "index.tif", "zones.tif", "report.xlsx")
>>> u = unit_susceptibility("slope_units.gpkg", ["slope_mean", "lithology"], "n_slides", "units_out.gpkg")

Modules: factors (classes of factors), model (IV / FR / logistic, AUC, k-fold), selection (the three
methods on the same folds, METHOD=auto), reliability (is the model weak, and why), zoning (four
zones), grid (the raster run, block by block), units (the run on mapping units, UNIT_RULE), report.
Defaults and sources: risk_plugin/definitions/susceptibility.py.
"""
from .factors import Factor, quantile_breaks
from .grid import Result, Settings, landslide_susceptibility
from .units import UnitResult, unit_susceptibility
from .model import Model, auc, cross_validate, fit, frequency_ratio, information_value
from .reliability import Verdict, assess
from .selection import MethodScore, choose, compare
from .units import resolve_rule
from .zoning import classify, zone_breaks

__all__ = ["Factor", "MethodScore", "Model", "Result", "Settings", "Verdict", "assess", "auc", "choose", "classify",
           "compare", "cross_validate", "fit", "frequency_ratio", "information_value", "landslide_susceptibility",
           "quantile_breaks", "resolve_rule", "unit_susceptibility", "UnitResult", "zone_breaks"]
