"""CSV and XLSX tables. Text stays text: a name such as '=HYPERLINK(…)' is never run as a formula
(OWASP CSV injection), and Excel's cell limits are said in the log, not hit silently."""
import re
from pathlib import Path

from . import notices
from .outputs import atomic_path

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXCEL_CELL_MAX = 32_767


def _text_columns(df):
    return [c for c in df.columns if df[c].dtype == object]


def csv_safe(df, label="table"):
    """Text cells that a spreadsheet would run as a formula ('=HYPERLINK(…)', '@SUM', '-2+3') get a
    leading apostrophe, the OWASP rule; plain numbers written as text ('-12.5') are left as they are."""
    import pandas as pd
    out, changed = df, []
    for c in _text_columns(df):
        s = df[c]
        text = s.map(lambda v: isinstance(v, str))
        risky = text & s.astype(str).str.startswith(FORMULA_START)
        if risky.any():
            numeric = pd.to_numeric(s.where(risky), errors="coerce").notna()
            risky &= ~numeric
        if risky.any():
            if out is df:
                out = df.copy()
            out.loc[risky, c] = "'" + s[risky].astype(str)
            changed.append(f"{c} ({int(risky.sum())})")
    if changed:
        notices.warn(label, f"以 = + - @ 开头的文字前加了单引号, 以免表格软件把它当公式执行: {changed}",
                     f"text starting with = + - @ got a leading apostrophe so that spreadsheets do not run it as a "
                     f"formula: {changed}")
    return out


def excel_safe(df, label="table"):
    """Text Excel cannot hold: control characters are removed and text beyond 32,767 characters (the
    cell limit) is cut, each with a notice naming the column and rows."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    out = df
    for c in _text_columns(df):
        s = df[c]
        text = s.map(lambda v: isinstance(v, str))
        if not text.any():
            continue
        t = s[text].astype(str)
        illegal = t.str.contains(ILLEGAL_CHARACTERS_RE)
        long = t.str.len() > EXCEL_CELL_MAX
        if illegal.any() or long.any():
            if out is df:
                out = df.copy()
            fixed = t.str.replace(ILLEGAL_CHARACTERS_RE, "", regex=True).str.slice(0, EXCEL_CELL_MAX)
            out.loc[fixed.index, c] = fixed
            rows = list(t.index[long | illegal][:10])
            if illegal.any():
                notices.warn(label, f"列 {c} 有 {int(illegal.sum())} 个值含控制字符, 已在 XLSX 中删除 (行 {rows})",
                             f"column {c}: {int(illegal.sum())} values hold control characters, removed in the XLSX (rows {rows})")
            if long.any():
                notices.warn(label, f"列 {c} 有 {int(long.sum())} 个值超过 Excel 单元格上限 {EXCEL_CELL_MAX} 字符, XLSX 中已截断 (行 {rows})",
                             f"column {c}: {int(long.sum())} values exceed Excel's {EXCEL_CELL_MAX}-character cell limit "
                             f"and are cut in the XLSX (rows {rows})", "完整文字见 CSV 或 GeoPackage 输出",
                             "the CSV or GeoPackage output keeps the full text")
    return out


def protect_formulas(book):
    """Cells openpyxl took for formulas (any text starting with '=') become text cells again."""
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


def write_table(df, path):
    """Write a DataFrame as CSV (UTF-8 with BOM, so Excel shows Chinese) or XLSX; text stays text."""
    ext = Path(path).suffix.lower()
    label = Path(path).name
    if ext == ".xlsx":
        return write_sheets({re.sub(r"[\[\]:*?/\\]", "_", Path(path).stem)[:31] or "Sheet1": df}, path)
    df = csv_safe(df, label)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8-sig")
    return str(path)


def write_sheets(sheets, path):
    """Write several DataFrames into one XLSX, one sheet each ({name: df}); text stays text."""
    import pandas as pd
    label = Path(path).name
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, df in sheets.items():
                excel_safe(df, f"{label}|{name}").to_excel(writer, sheet_name=str(name)[:31], index=False)
            protect_formulas(writer.book)
        _format_xlsx(tmp)
    return str(path)


def _format_xlsx(path):
    """Widths, frozen headers, filters, number formats, four-colour fills, A4 print setup (xlsx_format)."""
    from .xlsx_format import format_workbook
    format_workbook(path)


