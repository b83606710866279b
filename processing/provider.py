"""The 'riskmap' Processing provider. Algorithms are discovered from
processing/algorithms/*.py: every RiskMapAlgorithm subclass found there is registered, in workflow order
(processing/workflow.py)."""
import importlib
import inspect
import pkgutil
from pathlib import Path

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from . import workflow
from .base import RiskMapAlgorithm

ICON = str(Path(__file__).resolve().parent.parent / "icon.svg")


def algorithm_classes():
    """All algorithm classes, in workflow order (stage, then ORDER, then id)."""
    from . import algorithms
    found = {}
    for info in pkgutil.iter_modules(algorithms.__path__):
        module = importlib.import_module(f"{algorithms.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, RiskMapAlgorithm) and cls is not RiskMapAlgorithm and cls.ALG_ID:
                found[cls.ALG_ID] = cls
    return workflow.in_order(found.values())


class RiskMapProvider(QgsProcessingProvider):
    def id(self):
        return "riskmap"

    def name(self):
        return "风险图 / Risk maps"

    def longName(self):
        return "风险图 / Risk maps: hazard zoning, exposure, four-color risk, shelters"

    def icon(self):
        return QIcon(ICON)

    def svgIconPath(self):
        return ICON

    def loadAlgorithms(self):
        for cls in algorithm_classes():
            self.addAlgorithm(cls())
