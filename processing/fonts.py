"""A CJK font for PDFs whose text extracts as the characters drawn.

Qt writes each PDF font's ToUnicode map from the font's cmap, taking for every glyph the lowest code point that maps
to it. Pan-CJK fonts such as Noto Sans CJK map the Kangxi radicals and the CJK radicals supplement (U+2E80–U+2FDF)
to the very glyphs of the ideographs (⻛ U+2EDB and 风 U+98CE share one glyph), so pdftotext, search and copy-paste
read 风险 as ⻛险 although the page looks right. A glyph that no code point maps to gets no ToUnicode entry at all,
and its character is lost: Noto CJK's 'locl' feature swaps the digits of Latin text (EPSG:4545, 2024-06-01, the
scale bar) for such glyphs, and its ligatures draw "fl" as one glyph that extracts as "ﬂ".

:func:`pdf_family` makes, once, a copy of the installed font (fontTools; the outlines are copied as they are)
whose cmap no longer maps those radical code points where an ideograph has the same glyph, and whose default
substitutions no longer replace characters with unmapped glyphs or ligatures; registers it with Qt under its own
family name and returns that name. The same glyphs (Latin-text digits take the font's default digit glyphs, and
no fi / fl ligatures), true text. Written by hand because neither Qt nor QGIS can set a PDF's ToUnicode.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE_FAMILY = "Noto Sans CJK SC"
PDF_FAMILY = "Riskmap PDF CJK SC"
# radical and stroke blocks whose code points share glyphs with ideographs in pan-CJK fonts
RADICAL_BLOCKS = ((0x2E80, 0x2FDF), (0x31C0, 0x31EF))
IDEOGRAPHS_FROM = 0x3400
# Windows fonts of the same style when Noto Sans CJK is not installed (Microsoft YaHei, SimHei)
WINDOWS_FONTS = {False: ("NotoSansCJK-Regular.ttc", "msyh.ttc", "simhei.ttf"),
                 True: ("NotoSansCJK-Bold.ttc", "msyhbd.ttc", "simhei.ttf")}

VERSION = 2        # of the derivation: a new one makes new cached files
_registered = {}


def find_font(family=SOURCE_FAMILY, bold=False):
    """(file, index in a collection) of the installed font for ``family``, or None."""
    if sys.platform.startswith("win"):
        fonts = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
        for name in WINDOWS_FONTS[bold]:
            if (fonts / name).exists():
                return str(fonts / name), _collection_index(fonts / name, family)
        return None
    if shutil.which("fc-match") is None:
        return None
    pattern = f"{family}:{'bold' if bold else 'regular'}"
    out = subprocess.run(["fc-match", "-f", "%{file}|%{index}|%{family}", pattern], capture_output=True, text=True)
    if out.returncode != 0 or "|" not in out.stdout:
        return None
    path, index, found = out.stdout.split("|", 2)
    if family.lower() not in found.lower():      # fontconfig fell back to some other font
        return None
    return path, int(index or 0)


def _collection_index(path, family):
    from fontTools.ttLib import TTCollection
    if not str(path).lower().endswith(".ttc"):
        return 0
    for i, font in enumerate(TTCollection(str(path), lazy=True).fonts):
        if font["name"].getDebugName(1) == family:
            return i
    return 0


def radicals_sharing_glyphs(cmap):
    """Code points of the radical blocks whose glyph an ideograph (≥ U+3400) also maps to."""
    ideograph_glyphs = {g for cp, g in cmap.items() if cp >= IDEOGRAPHS_FROM}
    return sorted(cp for cp, g in cmap.items()
                  if any(lo <= cp <= hi for lo, hi in RADICAL_BLOCKS) and g in ideograph_glyphs)


def untextable_substitutions(font, features=("locl", "liga", "clig")):
    """Remove, from the lookups of ``features`` (applied by default when text is shaped), single substitutions
    whose glyph no code point maps to and all ligatures; returns how many were removed."""
    if "GSUB" not in font:
        return 0
    gsub = font["GSUB"].table
    mapped = set(font.getBestCmap().values())
    lookups = {i for rec in gsub.FeatureList.FeatureRecord if rec.FeatureTag in features
               for i in rec.Feature.LookupListIndex}
    removed = 0
    for i in lookups:
        lookup = gsub.LookupList.Lookup[i]
        for sub in lookup.SubTable:
            if lookup.LookupType == 7:       # extension: the real subtable inside
                sub = sub.ExtSubTable
            if getattr(sub, "mapping", None) is not None:          # single substitution
                for glyph in [g for g, out in sub.mapping.items() if out not in mapped]:
                    del sub.mapping[glyph]
                    removed += 1
            elif getattr(sub, "ligatures", None) is not None:      # ligature substitution
                removed += sum(len(v) for v in sub.ligatures.values())
                sub.ligatures = {}
    return removed


def derive(source, index, target, family=PDF_FAMILY):
    """Write ``target``: font ``index`` of ``source`` without the radical code points and the untextable
    substitutions, renamed to ``family``. Returns (code points dropped, substitutions removed)."""
    from fontTools.ttLib import TTFont
    font = TTFont(source, fontNumber=index, lazy=True, recalcBBoxes=False, recalcTimestamp=False)
    drop = set(radicals_sharing_glyphs(font.getBestCmap()))
    for table in font["cmap"].tables:
        for cp in drop:
            table.cmap.pop(cp, None)
    substitutions = untextable_substitutions(font)
    old = font["name"].getDebugName(1) or SOURCE_FAMILY
    style = font["name"].getDebugName(2) or "Regular"
    for rec in font["name"].names:
        if rec.nameID in (1, 16):
            rec.string = family
        elif rec.nameID == 4:
            rec.string = f"{family} {style}"
        elif rec.nameID in (3, 6):
            rec.string = f"{family.replace(' ', '')}-{style.replace(' ', '')}"
        elif rec.nameID == 0:
            rec.string = f"{rec.toUnicode()} Derived by riskmap from {old}: radical code points dropped."
    tmp = f"{target}.part"
    font.save(tmp)
    os.replace(tmp, target)
    return len(drop), substitutions


def cache_dir():
    base = os.environ.get("RISKMAP_FONT_CACHE")
    if base:
        return Path(base)
    try:
        from qgis.core import QgsApplication
        return Path(QgsApplication.qgisSettingsDirPath()) / "riskmap" / "fonts"
    except Exception:  # noqa: BLE001 - no QGIS settings folder: a temporary one
        return Path(tempfile.gettempdir()) / "riskmap-fonts"


def pdf_family(family=SOURCE_FAMILY, warn=None):
    """The family name to use for text in PDFs (see the module docstring); ``family`` itself when no copy can be
    made (no such font file, or no fontTools), after telling ``warn``."""
    if family in _registered:
        return _registered[family]
    from qgis.PyQt.QtGui import QFontDatabase
    name = family
    try:
        made = 0
        for bold in (False, True):
            found = find_font(family, bold)
            if found is None:
                continue
            path, index = found
            stat = os.stat(path)
            key = hashlib.sha1(f"{path}|{index}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
            target = cache_dir() / f"riskmap-pdf{VERSION}-{'bold' if bold else 'regular'}-{key}.otf"
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                derive(path, index, str(target))
            if QFontDatabase.addApplicationFont(str(target)) >= 0:
                made += 1
        if made:
            name = PDF_FAMILY
        elif warn:
            warn(f"找不到字体 {family}, PDF 中的部分汉字复制出来可能是部首 / font {family} not found: some characters "
                 "copied from the PDF may come out as radicals")
    except ImportError:
        if warn:
            warn("缺少 fontTools, PDF 中的部分汉字复制出来可能是部首 / fontTools is missing: some characters copied "
                 "from the PDF may come out as radicals")
    _registered[family] = name
    return name
