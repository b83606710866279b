"""Outputs that load styled and in map order: boundary layers stay above the risk colours.

Processing adds loaded layers on top of the layer tree in no guaranteed order, so every post-processor
of a run re-raises the boundary layers after styling its own layer; whichever loads last, the
township outlines end on top.
"""
from qgis.core import QgsProcessingContext, QgsProcessingLayerPostProcessorInterface, QgsProject

from .styling import apply_style, stored_style


def raise_to_top(project, layer_ids):
    """Move each layer's node to the top of its group (first child = drawn last = on top)."""
    root = project.layerTreeRoot()
    for lid in layer_ids:
        node = root.findLayer(lid)
        if node is None:
            continue
        parent = node.parent()
        if parent.children() and parent.children()[0] is node:
            continue
        parent.insertChildNode(0, node.clone())
        parent.removeChildNode(node)


class StackedStyle(QgsProcessingLayerPostProcessorInterface):
    """Style a loaded output from styles/classes.json; keep layers marked ``on_top`` above the others."""
    _keep = []          # QGIS holds only a raw pointer: keep instances alive
    _on_top = []        # ids of boundary layers to keep on top

    def __init__(self, key, field=None, on_top=False):
        super().__init__()
        self.key, self.field, self.on_top = key, field, on_top

    def postProcessLayer(self, layer, context, feedback):
        if not stored_style(layer):     # the style the file carries, as when the layer is added by hand
            apply_style(layer, self.key, self.field)
        if self.on_top:
            StackedStyle._on_top.append(layer.id())
        project = context.project() or QgsProject.instance()
        raise_to_top(project, [i for i in StackedStyle._on_top if project.mapLayer(i) is not None])

    @classmethod
    def create(cls, key, field=None, on_top=False):
        inst = cls(key, field, on_top)
        cls._keep.append(inst)
        return inst


def load_styled(context, path, key, name, field=None, on_top=False, output_name=""):
    """Load ``path`` when the algorithm completes (only when the run loads its outputs), styled by
    ``key``; an input such as the township boundaries can be loaded beside the outputs this way."""
    if not path:
        return
    if not context.willLoadLayerOnCompletion(path):
        context.addLayerToLoadOnCompletion(path, QgsProcessingContext.LayerDetails(name, context.project(), output_name))
    details = context.layerToLoadOnCompletionDetails(path)
    details.name = name
    details.setPostProcessor(StackedStyle.create(key, field, on_top))
