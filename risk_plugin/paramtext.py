"""Parameters typed as text in a dialog or on the qgis_process command line, parsed with errors a
technician can act on.

>>> numbers("0, 0.5, 1, 2", "DEPTH_BREAKS", count=4, ascending=True)
(0.0, 0.5, 1.0, 2.0)
>>> pairs("10:4, 50:3", "RETURN_PERIOD_CLASSES")
((10.0, 4.0), (50.0, 3.0))
>>> mapping("conifer=1, broadleaf=0.3", "FLAMMABILITY")
{'conifer': (1.0,), 'broadleaf': (0.3,)}
"""
import math
import re

from .errors import parameter_error

_SEP = re.compile(r"[,;，；\s]+")


def _number(text, name):
    try:
        value = float(text)
    except ValueError:
        raise parameter_error(name, f"'{text}' 不是数字", f"'{text}' is not a number",
                              "只填写数字, 用逗号分隔", "write numbers only, separated by commas") from None
    if not math.isfinite(value):
        raise parameter_error(name, f"'{text}' 不是有限数", f"'{text}' is not a finite number",
                              "填写有限数值", "write finite numbers")
    return value


def numbers(text, name, count=None, ascending=False, minimum=None):
    """A tuple of numbers from '0, 0.5, 1' (commas, semicolons or spaces; Chinese commas too)."""
    if isinstance(text, (list, tuple)):
        values = tuple(float(v) for v in text)
    else:
        values = tuple(_number(t, name) for t in _SEP.split(str(text or "").strip()) if t)
    if count is not None and len(values) != count:
        raise parameter_error(name, f"应有 {count} 个数, 实际 {len(values)} 个: {values}",
                              f"needs {count} numbers, got {len(values)}: {values}",
                              f"填写 {count} 个数, 用逗号分隔", f"give {count} numbers separated by commas")
    if not values:
        raise parameter_error(name, "未填写数值", "no numbers given", "填写数值", "give the numbers")
    if ascending and any(b <= a for a, b in zip(values, values[1:])):
        raise parameter_error(name, f"数值应严格递增: {values}", f"values must be strictly ascending: {values}",
                              "按从小到大填写", "list them from smallest to largest")
    if minimum is not None and min(values) < minimum:
        raise parameter_error(name, f"数值不能小于 {minimum}: {values}", f"values must be >= {minimum}: {values}",
                              "改正数值", "correct the values")
    return values


def pairs(text, name):
    """((key, value), …) from 'k:v, k:v' (both numeric)."""
    out = []
    for item in _SEP.split(str(text or "").strip()):
        if not item:
            continue
        parts = re.split(r"[:：=]", item)
        if len(parts) != 2:
            raise parameter_error(name, f"'{item}' 应写成 键:值", f"'{item}' must be written key:value",
                                  "例如 10:4,50:3", "e.g. 10:4,50:3")
        out.append((_number(parts[0], name), _number(parts[1], name)))
    if not out:
        raise parameter_error(name, "未填写", "nothing given", "例如 10:4,50:3", "e.g. 10:4,50:3")
    return tuple(out)


def mapping(text, name, allowed=None, count=None):
    """{key: (numbers…)} from 'a=1,2,3; b=4' or 'a=1, b=2' (one number each).

    Keys are checked against ``allowed`` (an iterable of names) when given.
    """
    text = str(text or "").strip()
    out = {}
    if not text:
        return out
    # 'a=1,2; b=3,4' (multi-valued) or 'a=1, b=2' (single-valued): split on ';' first, then on ',' before a key
    chunks = [c for c in re.split(r"[;；]", text) if c.strip()]
    if len(chunks) == 1:
        chunks = [c for c in re.split(r"[,，]\s*(?=[^\d\s.,，=:-])", text) if c.strip()]
    for chunk in chunks:
        parts = re.split(r"[=:：]", chunk, maxsplit=1)
        if len(parts) != 2 or not parts[0].strip():
            raise parameter_error(name, f"'{chunk.strip()}' 应写成 名称=数值", f"'{chunk.strip()}' must be written name=value(s)",
                                  "例如 conifer=1.0, broadleaf=0.3", "e.g. conifer=1.0, broadleaf=0.3")
        key = parts[0].strip()
        if allowed is not None and key not in allowed:
            raise parameter_error(name, f"未知名称 '{key}'", f"unknown name '{key}'",
                                  f"可用: {sorted(allowed)}", f"known names: {sorted(allowed)}")
        out[key] = numbers(parts[1], name, count=count)
    return out
