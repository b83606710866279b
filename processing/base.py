"""Base class for riskmap algorithms: parameters in, one engine call, outputs out.

Subclasses declare parameters in ``initAlgorithm`` and implement ``execute``, which
only translates parameters into an engine call. Engine errors (RiskMapError)
become a QgsProcessingException with the bilingual message: never a traceback.
"""
from qgis.core import QgsProcessingAlgorithm, QgsProcessingException

from ..risk_plugin import notices
from ..risk_plugin.errors import Cancelled, RiskMapError
from ..risk_plugin.outputs import output_transaction
from .feedback import progress_from
from .guards import gdal_without_pam, outputs_overwriting_inputs, range_message, unknown_parameters
from .styling import StylePostProcessor


class RiskMapAlgorithm(QgsProcessingAlgorithm):
    ALG_ID = ""
    NAME_ZH = NAME_EN = ""
    GROUP_ID, GROUP_ZH, GROUP_EN = "data", "数据", "Data"
    HELP = ""

    def __init_subclass__(cls, **kwargs):
        # ``run`` is QgsProcessingAlgorithm.run (what processing.run calls): a subclass
        # method of that name is moved to ``execute`` so it cannot shadow it.
        super().__init_subclass__(**kwargs)
        if "run" in cls.__dict__:
            cls.execute = cls.__dict__["run"]
            delattr(cls, "run")

    def name(self):
        return self.ALG_ID

    def displayName(self):
        return f"{self.NAME_ZH} / {self.NAME_EN}"

    def group(self):
        return f"{self.GROUP_ZH} / {self.GROUP_EN}"

    def groupId(self):
        return self.GROUP_ID

    def shortHelpString(self):
        return self.HELP

    def createInstance(self):
        return type(self)()

    def checkParameterValues(self, parameters, context):  # noqa: N802
        """QGIS's checks, with the allowed range named when a number is outside it."""
        with gdal_without_pam():
            ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            message = range_message(self, parameters, context) or message
        return ok, message

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        """Runs ``execute`` with the house rules: no output may be an input; every output of the run
        is kept or removed together; notices go to the log as warnings; GDAL writes no .aux.xml
        beside the inputs; engine errors become one bilingual message, never a traceback."""
        progress = progress_from(feedback)
        try:
            clash = outputs_overwriting_inputs(self, parameters, context)
            if clash:
                raise QgsProcessingException(clash)
            for line in unknown_parameters(self, parameters):
                feedback.pushWarning(line)
            with gdal_without_pam(), output_transaction(), \
                    notices.collecting(feedback.pushWarning if feedback is not None else print):
                return self.execute(parameters, context, feedback, progress)
        except Cancelled:
            raise QgsProcessingException("已取消, 未写出任何结果 / Cancelled; no output was written")
        except RiskMapError as exc:
            raise QgsProcessingException(str(exc))
        except QgsProcessingException:
            raise
        except Exception as exc:  # a bug, not bad input: say so plainly, keep the traceback in the log
            import traceback
            feedback.pushDebugInfo(traceback.format_exc())
            raise QgsProcessingException(
                f"riskmap:{self.ALG_ID} 内部错误, 请把日志发给开发者 / internal error, please report it with the log: "
                f"{type(exc).__name__}: {exc}")

    def execute(self, parameters, context, feedback, progress):
        raise NotImplementedError

    # --- translation helpers -------------------------------------------------
    def vector_path(self, parameters, name, context, feedback):
        """A file path for a vector input (selections and memory layers are exported)."""
        if parameters.get(name) in (None, ""):
            return None
        source = self.parameterAsSource(parameters, name, context)
        if source is None:
            return None
        return self.parameterAsCompatibleSourceLayerPath(parameters, name, context, ["gpkg", "shp"], "gpkg", feedback)

    def raster_path(self, parameters, name, context):
        layer = self.parameterAsRasterLayer(parameters, name, context)
        return layer.source() if layer is not None else None

    def style_on_load(self, context, path, style_key, field=None, name=None):
        """Give an output its class style from styles/ when QGIS loads it."""
        if path and context.willLoadLayerOnCompletion(path):
            details = context.layerToLoadOnCompletionDetails(path)
            if name:
                details.name = name
            details.setPostProcessor(StylePostProcessor.create(style_key, field))
