"""Base class for riskmap algorithms: parameters in, one engine call, outputs out.

Subclasses declare parameters in ``initAlgorithm`` and implement ``execute``, which
only translates parameters into an engine call. Engine errors (RiskMapError)
become a QgsProcessingException with the bilingual message: never a traceback.
"""
import configparser
import html
import os
from pathlib import Path

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException

from ..risk_plugin import notices
from ..risk_plugin.errors import Cancelled, RiskMapError
from ..risk_plugin.io import on_output
from ..risk_plugin.outputs import output_transaction
from . import workflow
from .feedback import progress_from
from .guards import gdal_without_pam, outputs_overwriting_inputs, range_message, unknown_parameters
from .styling import StylePostProcessor, store_style

PLUGIN_DIR = Path(__file__).resolve().parent.parent
DOCS = PLUGIN_DIR / "docs" / "algorithms"


def docs_url(alg_id):
    """The algorithm's reference page: docs/algorithms/<id>.md in the installed plugin, else in the repository."""
    page = DOCS / f"{alg_id}.md"
    if page.exists():
        return page.as_uri()
    meta = configparser.ConfigParser()
    meta.read(PLUGIN_DIR / "metadata.txt", encoding="utf-8")
    repo = meta["general"].get("repository", "").rstrip("/") if meta.has_section("general") else ""
    return f"{repo}/blob/main/docs/algorithms/{alg_id}.md" if repo else ""


def _norm(path):
    return os.path.normcase(os.path.abspath(str(path)))


class RiskMapAlgorithm(QgsProcessingAlgorithm):
    ALG_ID = ""
    NAME_ZH = NAME_EN = ""
    # the workflow stage (processing/workflow.py: data, hazard, risk, shelters, briefing) and the place in it
    GROUP_ID, GROUP_ZH, GROUP_EN = "data", "数据", "Data"
    ORDER = None
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
        return workflow.group_name(type(self))

    def groupId(self):
        return self.GROUP_ID

    def shortHelpString(self):
        """HELP, then the parameter codes with their dialog labels and the link to the reference page."""
        codes = "; ".join(f"<b>{html.escape(p.name())}</b> = {html.escape(p.description())}"
                          for p in self.parameterDefinitions())
        url = self.helpUrl()
        link = (f'<a href="{html.escape(url)}">docs/algorithms/{self.ALG_ID}.md</a>' if url else
                f"docs/algorithms/{self.ALG_ID}.md")
        return (f"{self.HELP}<br><br><b>参数代码 / Parameter codes</b> (qgis_process): {codes}<br><br>"
                f"完整说明 (每个参数的默认值与依据、输出、qgis_process 示例) / Full reference (every parameter's "
                f"default and its source, outputs, a qgis_process example): {link}")

    def helpUrl(self):  # noqa: N802 (QGIS API)
        return docs_url(self.ALG_ID)

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
        titles = self._titles_by_path(parameters, context)
        try:
            clash = outputs_overwriting_inputs(self, parameters, context)
            if clash:
                raise QgsProcessingException(clash)
            for line in unknown_parameters(self, parameters):
                feedback.pushWarning(line)
            with gdal_without_pam(), output_transaction(), \
                    notices.collecting(feedback.pushWarning if feedback is not None else print), \
                    on_output(lambda tmp, final: store_style(tmp, final, feedback, titles.get(_norm(final)))):
                # every GeoPackage / GeoTIFF the engine writes gets its style and title before it moves into place
                results = self.execute(parameters, context, feedback, progress)
            if feedback is not None:
                feedback.setProgress(100)      # done: QGIS's loading of the outputs counts 0 → 100 % after this
            return results
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

    def output_titles(self, parameters, context):
        """{destination parameter (or a file path): the title stamped in its file} (risk_plugin.titles reads it for
        the web map and the atlas). Default: each destination parameter's bilingual description."""
        return {p.name(): p.description() for p in self.destinationParameterDefinitions()}

    def _titles_by_path(self, parameters, context):
        from qgis.core import QgsProcessingOutputLayerDefinition
        titles = self.output_titles(parameters, context)
        out = {}
        names = {p.name() for p in self.parameterDefinitions()}
        for name, title in titles.items():
            value = parameters.get(name) if name in names else name
            if isinstance(value, QgsProcessingOutputLayerDefinition):
                value = value.sink.staticValue()
            if isinstance(value, str) and value and value != "TEMPORARY_OUTPUT" and title:
                out[_norm(value)] = title
        return out

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
