"""Progress and cancel, independent of QGIS.

Processing algorithms wrap QgsProcessingFeedback in a Progress; the CLI uses a
plain one that prints. Engine loops call ``progress.check()`` between blocks.
"""
from .errors import Cancelled


class Progress:
    """Reports percent done in [0, 100] and raises Cancelled when asked to stop.

    >>> p = Progress(); sub = p.sub(50, 100); sub.set(50)   # reports 75 %
    """

    def __init__(self, on_progress=None, is_canceled=None, on_info=None, start=0.0, end=100.0):
        self._on_progress = on_progress
        self._is_canceled = is_canceled
        self._on_info = on_info
        self._start, self._end = float(start), float(end)

    def set(self, percent):
        self.check()
        if self._on_progress:
            pct = self._start + (self._end - self._start) * min(max(percent, 0.0), 100.0) / 100.0
            self._on_progress(pct)

    def info(self, message):
        if self._on_info:
            self._on_info(message)

    def check(self):
        if self._is_canceled and self._is_canceled():
            raise Cancelled("已取消 / Cancelled")

    def sub(self, start, end):
        """A child reporting into [start, end] of this one's range."""
        span = self._end - self._start
        return Progress(self._on_progress, self._is_canceled, self._on_info,
                        self._start + span * start / 100.0, self._start + span * end / 100.0)

    def steps(self, items, total=None):
        """Iterate ``items``, reporting progress and checking cancel at each one."""
        items = list(items) if total is None else items
        n = total if total is not None else len(items)
        for i, item in enumerate(items):
            self.set(100.0 * i / max(n, 1))
            yield item
        self.set(100.0)


NULL_PROGRESS = Progress()


def ensure(progress):
    return progress if progress is not None else NULL_PROGRESS
