"""Class tables, labels and colours from ``styles/classes.json`` (the single source), for the engine.

>>> table = class_table("risk_levels")
>>> idx = match_classes(table, ["重大风险", 2, "low", None])    # -> array([0, 1, 3, -1])
>>> table["classes"][idx[0]]["color"]
'#FF0000'

QGIS renderers (processing/styling.py), the web map legend and the print atlas read the same file.
"""
import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

STYLES_DIR = Path(__file__).resolve().parent.parent / "styles"


@functools.lru_cache(maxsize=1)
def _load():
    return json.loads((STYLES_DIR / "classes.json").read_text(encoding="utf-8"))


def all_tables():
    """Every class table ({key: table}); a table has 'field' and 'classes'."""
    return {k: v for k, v in _load().items() if isinstance(v, dict) and "classes" in v}


def class_table(key):
    """One class table, e.g. ``class_table('risk_levels')``."""
    return all_tables()[key]


def base_style(key):
    """A base-layer style (townships, villages, roads, rivers, catchments, other)."""
    return _load()["base_layers"][key]


def ramp(key="continuous_ramp"):
    return list(_load()[key]["colors"])


def label(cls):
    """'重大风险 / Major risk'."""
    return f"{cls['zh']} / {cls['en']}"


def is_range_table(table):
    """True for tables whose classes are value ranges ('max'), e.g. shelter utilisation."""
    return all("max" in c for c in table["classes"])


def _norm(v):
    return str(v).strip().lower()


def _keys(cls):
    """Every spelling that names this class: value, 中文, English, short label, aliases."""
    keys = {_norm(cls["value"]), _norm(cls["zh"]), _norm(cls["en"])}
    if "short_zh" in cls:
        keys.add(_norm(cls["short_zh"]))
    keys.update(_norm(a) for a in cls.get("aliases", []))
    return keys


def match_classes(table, values):
    """Index into ``table['classes']`` for each value, -1 where none matches.

    Numbers match a class value (2, 2.0 and '2' are the same class); text matches the value, the
    Chinese or English label, the short label or an alias, case-insensitively. Range tables
    (with 'max') classify numbers: the first class whose max the value does not exceed.
    """
    values = pd.Series(list(values) if not isinstance(values, pd.Series) else values.to_numpy(), dtype=object)
    out = np.full(len(values), -1, dtype=np.int64)
    classes = table["classes"]
    if is_range_table(table):
        num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        valid = ~np.isnan(num)
        done = np.zeros(len(values), dtype=bool)
        for i, cls in enumerate(classes):
            upper = np.inf if cls["max"] is None else float(cls["max"])
            hit = valid & ~done & (num <= upper)
            out[hit] = i
            done |= hit
        return out
    lookup = {}
    for i, cls in enumerate(classes):
        for key in _keys(cls):
            lookup.setdefault(key, i)
    num = pd.to_numeric(values, errors="coerce")
    integral = num.notna() & (num == num.round())
    text = values.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else _norm(v))
    text[integral] = num[integral].astype("int64").astype(str)
    found = text.map(lookup)
    ok = found.notna().to_numpy()
    out[ok] = found[ok].astype("int64").to_numpy()
    return out


def title(table):
    """A table's bilingual heading, e.g. '风险等级 (四色) / Risk level (four-color)'."""
    return f"{table.get('title_zh', '')} / {table.get('title_en', '')}".strip(" /")
