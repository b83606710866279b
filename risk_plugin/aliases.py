"""Human bilingual names of fields (aliases) and how their values read, for popups and stored QGIS styles.

>>> alias("people_in_hazard")              # {'zh': '危险区内人口', 'en': 'People in hazard zones', 'persons': True}
>>> label("统一编号")                       # '统一编号 / Code' (data_schemas/geohazard_points.json)
>>> readable(alias("risk_level"), [1, 4])   # ['重大风险 / Major risk', '低风险 / Low risk']

Fields riskmap writes are named in styles/fields.json (with null: never shown); input fields by data_schemas/ (their
canonical name or any alias). A field named nowhere has no alias and is not shown in a popup.
"""
import functools
import json
import re

import numpy as np
import pandas as pd

from . import classes as cl


@functools.lru_cache(maxsize=1)
def _table():
    return json.loads((cl.STYLES_DIR / "fields.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _schema_fields():
    """{field name or alias (lower case): {'zh', 'en'}} over every input schema; the first schema naming it wins."""
    from .validation import load_schema, schema_kinds
    out = {}
    for kind in schema_kinds():
        for f in load_schema(kind).get("fields", []):
            if f.get("zh") and f.get("en"):
                for n in [f["name"], *f.get("aliases", [])]:
                    out.setdefault(str(n).strip().lower(), {"zh": f["zh"], "en": f["en"]})
    return out


HIDDEN = object()
SHAPEFILE_NAME_LENGTH = 10      # DBF field names are cut to 10 characters


def alias(column):
    """The field's spec ({'zh', 'en'} and maybe 'persons', 'classes', 'yesno'), HIDDEN, or None (no alias)."""
    fields = _table()["fields"]
    name = str(column)
    if name not in fields and len(name) == SHAPEFILE_NAME_LENGTH:     # a shapefile cut 'people_in_hazard' short
        longer = [k for k in fields if len(k) > len(name) and k.startswith(name)]
        name = longer[0] if len(longer) == 1 else name
    if name in fields:
        return HIDDEN if fields[name] is None else fields[name]
    for pat in _table().get("patterns", []):
        m = re.fullmatch(pat["regex"], name)
        if m:
            spec = dict(pat)
            if "classes" in pat:
                table = cl.class_table(pat["classes"])
                c = next((c for c in table["classes"] if str(c["value"]) == m.group(1)), None)
                if c is None:
                    return None
                spec["zh"] = pat["zh"].format(class_zh=c["zh"])
                spec["en"] = pat["en"].format(class_en=c["en"])
                spec.pop("classes")
            if "names" in pat:          # '{g1_zh}' / '{g1_en}': the matched group's bilingual name (else itself)
                fmt = {}
                for i, names in enumerate(pat["names"], 1):
                    zh, en = (names or {}).get(m.group(i), [m.group(i), m.group(i)])
                    fmt[f"g{i}_zh"], fmt[f"g{i}_en"] = zh, en
                spec["zh"], spec["en"] = pat["zh"].format(**fmt), pat["en"].format(**fmt)
                spec.pop("names")
            return spec
    return _schema_fields().get(name.strip().lower())


def label(column):
    """'中文 / English' of a field, or None when it has no alias (or is never shown)."""
    spec = alias(column)
    return None if spec is None or spec is HIDDEN else f"{spec['zh']} / {spec['en']}"


def readable(spec, values):
    """Values as a reader sees them: whole persons, class labels, 是/否; others as they are."""
    s = pd.Series(list(values), dtype=object)
    if spec is None or spec is HIDDEN:
        return s.tolist()
    if spec.get("persons"):
        num = pd.to_numeric(s, errors="coerce")
        return [None if pd.isna(v) else int(np.floor(float(v) + 0.5)) for v in num]     # 45.5 → 46
    if spec.get("yesno"):
        num = pd.to_numeric(s, errors="coerce")
        return [None if pd.isna(v) else ("是 / yes" if v else "否 / no") for v in num]
    if spec.get("classes"):
        table = cl.class_table(spec["classes"])
        if cl.is_range_table(table):
            return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in s]
        idx = cl.match_classes(table, s)
        return [cl.label(table["classes"][i]) if i >= 0 else (None if s[j] is None else s[j])
                for j, i in enumerate(idx)]
    return s.tolist()
