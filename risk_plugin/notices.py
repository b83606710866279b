"""Warnings a technician must see in the log: what the engine did to make a run work (a column
renamed, an encoding guessed, a layer picked) or a number that may mislead (a hazard layer that
covers almost nothing). Not errors: the run goes on.

>>> with collecting(print):
...     warn("roads.shp", "按 GBK 读取", "read as GBK", "把 .cpg 改为 GBK", "set the .cpg to GBK")

Inside ``collecting`` every notice goes to its callback (Processing: the feedback's warning
line; the CLI: stderr) as it happens; elsewhere (a Dask worker, a script) it becomes a Python
``RiskMapWarning``. The sink lives in a ContextVar, so algorithms running at once in different
threads of the QGIS desktop keep their own logs.
"""
import contextlib
import contextvars
import warnings

_SINK = contextvars.ContextVar("riskmap_notice_sink", default=None)


class RiskMapWarning(UserWarning):
    """A bilingual notice raised outside a collecting block."""


def text(layer, zh, en, fix_zh="", fix_en=""):
    """The one-line bilingual form: '[layer] 中文 / English → 建议: … / Suggestion: …'."""
    line = f"[{layer}] {zh} / {en}" if layer else f"{zh} / {en}"
    if fix_zh or fix_en:
        line += f" → 建议: {fix_zh} / Suggestion: {fix_en}"
    return line


def warn(layer, zh, en, fix_zh="", fix_en=""):
    """Report one notice (see module docstring); returns its text."""
    return emit(text(layer, zh, en, fix_zh, fix_en))


def emit(line):
    """Report a notice already worded in both languages."""
    sink = _SINK.get()
    if sink is None:
        warnings.warn(line, RiskMapWarning, stacklevel=3)
    else:
        sink(line)
    return line


@contextlib.contextmanager
def collecting(callback):
    """Send every notice raised inside the block to ``callback(text)``."""
    token = _SINK.set(callback)
    try:
        yield
    finally:
        _SINK.reset(token)
