"""Earthquake: seismic hazard classes and zoning, scenario intensity, building damage, casualties,
risk zoning and retrofit priorities (riskmap:seismichazard, riskmap:earthquakeimpact).

>>> from risk_plugin.seismic import seismic_hazard, earthquake_impact
"""
from .hazard import seismic_hazard          # noqa: F401
from .impact import earthquake_impact       # noqa: F401
