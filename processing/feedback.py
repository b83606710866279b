"""Bridge QgsProcessingFeedback to the engine's Progress."""
from ..risk_plugin.progress import Progress


def progress_from(feedback):
    if feedback is None:
        return Progress()
    return Progress(on_progress=feedback.setProgress, is_canceled=feedback.isCanceled,
                    on_info=feedback.pushInfo)
