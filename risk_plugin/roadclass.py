"""Road attributes → speed (km/h) and travel direction per road feature.

>>> table = speed_table({"county": 35})                        # defaults of definitions.reach, one override
>>> kmh, report = road_speeds(roads, table)                    # roads: validated GeoDataFrame ('road_class')
>>> codes = road_directions(roads["oneway"], "roads.gpkg", "oneway")   # 1 forward, -1 backward, 0 both, 2 closed

The class field (data_schemas/roads.json 'road_class': 道路等级, 行政等级, TYPE, highway …) is read through
the aliases of definitions.reach.CLASS_ALIASES (高速, 国道, 省道, 县道, 乡道, 村道, 城市道路, technical
grades, OSM tags). A value no class knows is an error naming it, unless EXTRA_SPEEDS gives its speed; roads under construction,
proposed or abandoned (definitions.reach.CLOSED_CLASSES) carry no traffic.
A SPEED_FIELD (km/h) wins wherever it holds a positive number.
"""
import numpy as np
import pandas as pd

from . import paramtext
from .definitions import reach as D
from .errors import Problem, ValidationError, parameter_error

FORWARD, BACKWARD, BOTH, CLOSED = 1, -1, 0, 2
DIRECTION_CODE = {"forward": FORWARD, "backward": BACKWARD, "both": BOTH, "closed": CLOSED}


def _norm(v):
    return str(v).strip().lower()


def class_lookup():
    """{normalised value: class key} for every alias (and the key itself)."""
    out = {}
    for key in D.ROAD_CLASSES:
        for alias in (key,) + D.CLASS_ALIASES.get(key, ()):
            out.setdefault(_norm(alias), key)
    return out


def speed_table(speeds=None):
    """{class: km/h}: the defaults with ``speeds`` ({class: km/h}) applied; each must be >= 0 (0 closes)."""
    table = dict(D.SPEED_KMH)
    for key, value in (speeds or {}).items():
        if value is None:
            continue
        if key not in table:
            raise parameter_error(f"SPEED_{str(key).upper()}", f"未知道路等级 {key}", f"unknown road class {key}",
                                  f"可选 {D.ROAD_CLASSES}", f"choose one of {D.ROAD_CLASSES}")
        if not float(value) >= 0:
            raise parameter_error(f"SPEED_{key.upper()}", f"车速不能为负: {value}", f"speed must be >= 0: {value}",
                                  "填写 km/h (0 = 禁行)", "enter km/h (0 = closed)")
        table[key] = float(value)
    return table


def extra_speeds(text):
    """{raw class value: km/h} from '机耕道=15; 专用公路=40' (or a dict)."""
    if not text:
        return {}
    if isinstance(text, dict):
        items = {str(k): (float(v),) for k, v in text.items()}
    else:
        items = paramtext.mapping(text, "EXTRA_SPEEDS", count=1)
    out = {}
    for key, (value,) in items.items():
        if value < 0:
            raise parameter_error("EXTRA_SPEEDS", f"{key} 的车速不能为负", f"speed of {key} must be >= 0",
                                  "例如 机耕道=15", "e.g. 机耕道=15")
        out[_norm(key)] = value
    return out


def road_speeds(roads, table, extra=None, default_speed=D.DEFAULT_SPEED_KMH, speed_field=None, label="ROADS"):
    """Speed (km/h) per road feature and a small report {class: km of road}.

    Order: SPEED_FIELD where positive, else EXTRA_SPEEDS for the raw class value, else the class of
    the value, else DEFAULT_SPEED where the class is empty. Unknown non-empty values raise one
    ValidationError listing them (with their features)."""
    n = len(roads)
    extra = extra or {}
    lookup = class_lookup()
    raw = roads["road_class"] if "road_class" in roads else pd.Series([None] * n, index=roads.index)
    present = raw.notna() & (raw.astype(str).str.strip() != "")
    key = raw.map(lambda v: _norm(v) if v is not None and not (isinstance(v, float) and np.isnan(v)) else None)
    from_extra = key.map(extra)
    klass = key.map(lookup)
    closed = key.isin([_norm(v) for v in D.CLOSED_CLASSES]) & from_extra.isna()
    known = from_extra.notna() | klass.notna() | closed
    speed = np.where(from_extra.notna(), from_extra.astype(float),
                     klass.map(table).astype(float)).astype(float)
    speed = np.where(closed.to_numpy(), 0.0, speed)
    speed = np.where(present.to_numpy(), speed, float(default_speed))
    problems = []
    unknown = (present & ~known).to_numpy()
    given = None
    if speed_field:
        if speed_field not in roads.columns:
            problems.append(Problem(label, f"没有车速字段 {speed_field}", f"speed field {speed_field} does not exist",
                                    "选择以 km/h 记的车速字段", "choose the speed field (km/h)", field=speed_field))
        else:
            given = pd.to_numeric(roads[speed_field], errors="coerce").to_numpy(float)
            bad = ~np.isfinite(given) & roads[speed_field].notna().to_numpy()
            if bad.any():
                problems.append(Problem(label, f"车速字段 {speed_field} 有 {bad.sum()} 个非数值",
                                        f"speed field {speed_field} has {bad.sum()} values that are not numbers",
                                        "改正为 km/h 数值", "correct them to km/h", field=speed_field,
                                        features=list(roads.index[bad])))
            unknown &= ~(given > 0)
    if unknown.any():
        values = sorted({str(v) for v in raw[unknown]})[:15]
        problems.append(Problem(label, f"道路等级有无法识别的值 {values}", f"road class has values no class knows: {values}",
                                "在 EXTRA_SPEEDS 中给出其车速 (如 机耕道=15), 或指定车速字段 SPEED_FIELD; 可识别: "
                                "高速, 国道, 省道, 县道, 乡道, 村道, 城市道路, 一级…四级, 等外, OSM highway",
                                "give their speed in EXTRA_SPEEDS (e.g. 机耕道=15) or a SPEED_FIELD; known: the classes "
                                "above, technical grades and OSM highway tags", field="road_class",
                                features=list(roads.index[unknown])))
    if problems:
        raise ValidationError(problems)
    if given is not None:
        speed = np.where(given > 0, given, speed)
    speed = np.nan_to_num(speed, nan=float(default_speed))
    report = {"empty_class": int((~present).sum()), "closed": int(closed.sum()),
              "classes": klass.where(present, "(empty)").fillna("(extra)").value_counts().to_dict()}
    return speed, report


def road_directions(values, label="ROADS", field="direction"):
    """Direction code per road feature from a direction field's values (definitions.reach.DIRECTION_ALIASES)."""
    lookup = {}
    for name, aliases in D.DIRECTION_ALIASES.items():
        for a in aliases + (name,):
            lookup.setdefault(_norm(a), DIRECTION_CODE[name])
    vals = pd.Series(values)
    num = pd.to_numeric(vals, errors="coerce")
    text = vals.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else _norm(v))
    integral = num.notna() & (num == num.round())
    text[integral] = num[integral].astype("int64").astype(str)
    code = text.map(lookup)
    bad = code.isna().to_numpy()
    if bad.any():
        shown = sorted({str(v) for v in vals[bad]})[:15]
        raise ValidationError([Problem(label, f"方向字段有无法识别的值 {shown}", f"direction field has values that are not "
                                       f"understood: {shown}", "用 yes/-1/no (OSM)、FT/TF/B/N、正向/反向/双向/禁行 或 1/-1/0",
                                       "use yes/-1/no (OSM), FT/TF/B/N, 正向/反向/双向/禁行 or 1/-1/0", field=field,
                                       features=list(vals.index[bad]))])
    return code.to_numpy(np.int64)
