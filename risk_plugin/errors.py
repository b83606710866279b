"""Errors a technician can act on. Every message is in Chinese and English and
names the layer, the field or feature, and the fix."""
from dataclasses import dataclass, field as dc_field
from typing import List, Optional


@dataclass
class Problem:
    """One problem with one input: where it is, what it is, how to fix it."""
    layer: str
    zh: str
    en: str
    fix_zh: str = ""
    fix_en: str = ""
    field: Optional[str] = None
    features: List = dc_field(default_factory=list)

    def __str__(self):
        where = f"[{self.layer}]"
        if self.field:
            where += f" 字段/field '{self.field}'"
        if self.features:
            ids = ", ".join(str(f) for f in self.features[:10])
            more = f" …(+{len(self.features) - 10})" if len(self.features) > 10 else ""
            where += f" 要素/features {ids}{more}"
        text = f"{where}: {self.zh} / {self.en}"
        if self.fix_zh or self.fix_en:
            text += f" → 处理办法: {self.fix_zh} / Fix: {self.fix_en}"
        return text


class RiskMapError(Exception):
    """Base class: an input or parameter problem with a bilingual message."""

    def __init__(self, problems):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InputError(RiskMapError):
    """An input layer cannot be used as given."""


class ValidationError(InputError):
    """All problems the validator found, reported at once."""


class ParameterError(RiskMapError):
    """A parameter value is out of range or inconsistent."""


class Cancelled(Exception):
    """The user cancelled the run; nothing was written."""


def input_error(layer, zh, en, fix_zh="", fix_en="", field=None, features=()):
    return InputError(Problem(layer, zh, en, fix_zh, fix_en, field, list(features)))


def parameter_error(name, zh, en, fix_zh="", fix_en=""):
    return ParameterError(Problem(f"参数/parameter {name}", zh, en, fix_zh, fix_en))
