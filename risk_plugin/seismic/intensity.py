"""Seismic intensity on the Chinese scale (GB/T 17742): parsing, PGA conversion, degrees, classes.

>>> parse_intensity(["Ⅶ度", "VIII", "7", 6.0, "烈度9", "七度", "<Ⅵ"])    # -> [7, 8, 7, 6, 9, 7, 5]
>>> parse_pga(["0.15g", "0.2", "≥0.40g", "147 gal"], unit="g")          # gal is read from the text
>>> pga_to_intensity(np.array([0.05, 0.10, 0.15, 0.20, 0.40]))          # GB 18306 表 G.1 -> [6, 7, 7, 8, 9]
>>> degree(np.array([7.9, 8.0, 8.5]), "floor")                          # -> [7, 8, 8]
"""
import re
import unicodedata

import numpy as np
import pandas as pd

from ..definitions import seismic as D

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10, "XI": 11,
         "XII": 12}
# Unicode Roman numeral characters (Ⅰ U+2160 … Ⅻ U+216B) and the Chinese numerals county tables use
UNICODE_ROMAN = {chr(0x2160 + i): i + 1 for i in range(12)}
CHINESE = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
           "十一": 11, "十二": 12}
_LESS = re.compile(r"^(<|＜|小于|低于|不足)")
_MORE = re.compile(r"^(>=|≥|＞=|>|＞|大于等于|不小于|大于)")
_STRIP = re.compile(r"(地震)?烈度|度|区|级|[\s()（）]", re.UNICODE)


def roman(n):
    """'VII' for 7 (1..12); '' for anything else."""
    inv = {v: k for k, v in ROMAN.items()}
    try:
        return inv.get(int(n), "")
    except (TypeError, ValueError):
        return ""


def _one_intensity(text):
    """One value: float intensity, or None when it cannot be read."""
    if text is None:
        return None
    if isinstance(text, (int, float, np.integer, np.floating)):
        v = float(text)
        return v if np.isfinite(v) else None
    s = unicodedata.normalize("NFKC", str(text)).strip()    # full-width '７', '＜Ⅵ' → '7', '<VI'
    if not s:
        return None
    shift = 0.0
    if _LESS.match(s):
        s, shift = _LESS.sub("", s), -1.0        # '<VI' zone: below VI, i.e. V
    elif _MORE.match(s):
        s = _MORE.sub("", s)                      # '≥IX' zone: IX
    s = _STRIP.sub("", s)
    if not s:
        return None
    try:
        return float(s) + shift
    except ValueError:
        pass
    if all(ch in UNICODE_ROMAN for ch in s):
        if len(s) == 1:
            return UNICODE_ROMAN[s] + shift
        total = "".join({1: "I", 5: "V", 10: "X"}.get(UNICODE_ROMAN[ch], "?") for ch in s)
        return ROMAN[total] + shift if total in ROMAN else None
    up = s.upper()
    if up in ROMAN:
        return ROMAN[up] + shift
    if s in CHINESE:
        return CHINESE[s] + shift
    return None


def parse_intensity(values):
    """Intensities (float, NaN where empty) and a mask of values that are present but unreadable.

    Accepts numbers, Arabic or Roman numerals (VII, Ⅶ), Chinese numerals (七), with or without 度 /
    烈度, and zone labels '<Ⅵ' (→ V) or '≥Ⅸ' (→ IX). Each distinct value is parsed once."""
    vals, present = map_distinct(values, _one_intensity)
    bad = present & ~np.isfinite(vals)
    bad |= np.isfinite(vals) & ((vals < 1) | (vals > 12))
    vals[bad] = np.nan
    return vals, bad


def _blank(v):
    return v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == ""


def map_distinct(values, fn):
    """(fn of each value as float, NaN where fn gives None; mask of non-blank values), calling ``fn`` once per
    distinct value (pd.factorize): a county's 400 000 buildings hold a handful of distinct spellings."""
    codes, uniques = pd.factorize(pd.Series(list(values), dtype=object), use_na_sentinel=True)
    blank = np.array([_blank(u) for u in uniques], dtype=bool)
    res = np.array([np.nan if b else (lambda r: np.nan if r is None else float(r))(fn(u))
                    for u, b in zip(uniques, blank)], dtype=np.float64)
    ok = codes >= 0
    out = np.full(len(codes), np.nan)
    out[ok] = res[codes[ok]]
    present = np.zeros(len(codes), bool)
    present[ok] = ~blank[codes[ok]]
    return out, present


_G_TEXT = re.compile(r"^(?P<num>[0-9]*\.?[0-9]+)\s*(?P<unit>g|gal|cm/s2|cm/s²|m/s2|m/s²)?$", re.IGNORECASE)


def parse_pga(values, unit=D.PGA_UNIT):
    """PGA in g (float, NaN where empty) and a mask of unreadable values.

    Numbers are in ``unit`` ('g', 'm/s2' or 'gal'); text may carry its own unit ('0.15g', '147 gal').
    Zone labels: '≥0.40g' → 0.40; '<0.05g' → 0.75 × 0.05 (below the bound: in the band under it)."""
    scale = D.PGA_UNITS[unit]
    units = {"g": 1.0, "gal": D.PGA_UNITS["gal"], "cm/s2": D.PGA_UNITS["gal"], "cm/s²": D.PGA_UNITS["gal"],
             "m/s2": D.PGA_UNITS["m/s2"], "m/s²": D.PGA_UNITS["m/s2"]}

    def one(v):
        if v is None:
            return None
        if isinstance(v, (int, float, np.integer, np.floating)):
            return float(v) * scale if np.isfinite(v) else None
        s = unicodedata.normalize("NFKC", str(v)).strip().replace("＜", "<").replace("≥", ">=").replace("＞", ">")
        if not s:
            return None
        factor = 1.0
        if s.startswith("<"):
            s, factor = s.lstrip("<=").strip(), 0.75
        elif s.startswith(">"):
            s = s.lstrip(">=").strip()
        m = _G_TEXT.match(s)
        if not m:
            return None
        u = m.group("unit")
        return float(m.group("num")) * (units[u.lower()] if u else scale) * factor

    vals, present = map_distinct(values, one)
    bad = present & ~np.isfinite(vals)
    bad |= np.isfinite(vals) & (vals < 0)
    vals[bad] = np.nan
    return vals, bad


def site_factor(pga_g, site_class=D.SITE_CLASS):
    """Fa of GB 18306-2015 for a II-class PGA (g), interpolated between the table columns."""
    return np.interp(np.asarray(pga_g, float), D.FA_PGA, D.FA[site_class])


def pga_to_intensity(pga_g, rule=D.PGA_RULE):
    """Intensity from PGA (g): GB 18306-2015 表 G.1 bands (whole degrees) or the GB/T 17742-2020
    instrumental formula (continuous). NaN stays NaN."""
    pga = np.asarray(pga_g, dtype=np.float64)
    if rule == "gb17742":
        a, b = D.GB17742_PGA
        with np.errstate(divide="ignore", invalid="ignore"):
            out = a * np.log10(pga * D.G) + b
        return np.where(pga > 0, out, np.where(np.isnan(pga), np.nan, 0.0))
    lows = np.array([lo for lo, _ in D.GB18306_PGA_BANDS])
    degs = np.array([D.GB18306_BELOW] + [d for _, d in D.GB18306_PGA_BANDS], dtype=np.float64)
    # side='right': a PGA equal to a band's lower bound belongs to that band ([0.09, 0.19) → VII)
    out = degs[np.searchsorted(lows, np.where(np.isnan(pga), 0, pga), side="right")]
    return np.where(np.isnan(pga), np.nan, out)


def degree(intensity, rounding=D.ROUNDING):
    """Whole intensity degrees (float array, NaN kept): 'floor' (isoseismal zones, 7 <= I < 8 is VII)
    or 'nearest' ((m − 0.5, m + 0.5] → m, PAGER/InaSAFE bins). 'interpolate' returns the intensity
    unchanged (the tables interpolate between degrees)."""
    i = np.asarray(intensity, dtype=np.float64)
    if rounding == "interpolate":
        return i
    eps = 1e-9                    # 7.999999999 from a solver is VIII's boundary, not VII
    if rounding == "nearest":
        return np.ceil(i - 0.5 - eps)
    return np.floor(i + eps)


def hazard_class(degrees, breaks=D.HAZARD_BREAKS):
    """Hazard class 0..4 of each degree: k where degree >= breaks[k-1]; NaN → 0."""
    d = np.asarray(degrees, dtype=np.float64)
    d = np.where(np.isnan(d), -np.inf, d)
    return np.searchsorted(np.asarray(breaks, float), d, side="right").astype(np.uint8)
