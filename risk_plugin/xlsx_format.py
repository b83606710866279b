"""XLSX a bureau can file: column widths, bold frozen headers with filters, number formats, the four colours on
risk-level cells, A4 print setup with the header rows repeated on every page (openpyxl).

>>> format_workbook("township_risk.xlsx")            # every sheet a table with its header in row 1
>>> format_table(ws, header_row=4, first_row=5, last_row=12, total_rows=[12])   # one section of a sheet

risk_plugin.io.write_table / write_sheets call :func:`format_workbook` on the file they write (before it moves
into place); the township report formats its sections itself. Column kinds come from the headers (people → whole
numbers with thousands separators, areas → two decimals, shares → one decimal); a cell whose text or value names a
risk level of styles/classes.json gets that level's colour.
"""
import re

from . import classes as cl

A4 = 9                       # openpyxl / Excel paper size code of A4
HEADER_FILL = "DDE3EA"
TOTAL_FILL = "F2F2F2"
MIN_WIDTH, MAX_WIDTH = 8, 48

PEOPLE = re.compile(r"人口|人数|居住|people|persons|population|residents|capacity|容量|安置", re.I)
COUNT = re.compile(r"建筑|户数|buildings|households|图斑|supports|数量|count|设施|facilities|学校|医院|养老院|sites|排序|rank|"
                   r"隐患点|村 villages", re.I)
AREA = re.compile(r"面积|km²|km2|area|m²", re.I)
SHARE = re.compile(r"占比|%|share|pct|percent|利用率|utilisation", re.I)
CODE = re.compile(r"代码|编号|code|id\b", re.I)
LEVEL = re.compile(r"风险等级|risk level|最高风险|worst level|等级 level|^level|risk_zh", re.I)


def _width(value):
    """Display width of a cell: CJK characters count two."""
    text = "" if value is None else (f"{value:,.2f}" if isinstance(value, float) else str(value))
    return max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in line) for line in text.split("\n")), default=0)


def number_format(header):
    """The Excel number format for a column, from its header text."""
    h = str(header or "")
    if CODE.search(h):
        return "@"
    if SHARE.search(h):
        return "0.0"
    if AREA.search(h):
        return "#,##0.00"
    if PEOPLE.search(h) or COUNT.search(h):
        return "#,##0"
    return None


def level_fills():
    """{text or value: (fill colour, font colour)} for every spelling of the four risk levels."""
    table = cl.class_table("risk_levels")
    out = {}
    for c in table["classes"]:
        rgb = c["color"].lstrip("#")[:6].upper()
        r, g, b = (int(rgb[i:i + 2], 16) for i in (0, 2, 4))
        font = "FFFFFF" if (0.299 * r + 0.587 * g + 0.114 * b) < 128 else "000000"
        for key in (c["zh"], c["en"], c.get("short_zh"), cl.label(c), str(c["value"])):
            if key:
                out[str(key)] = (rgb, font)
    return out


def _is_level_column(header, values):
    fills = level_fills()
    texts = [str(v) for v in values if v is not None and str(v) != ""]
    return bool(LEVEL.search(str(header or ""))) and bool(texts) and all(t in fills or t.isdigit() for t in texts)


def format_table(ws, header_row, first_row, last_row, first_col=1, last_col=None, total_rows=(), widths=None):
    """One table of a sheet: bold filled header (wrapped), number formats, four-colour level cells, bold totals.
    ``widths`` (dict column letter → width) collects the widest text per column for :func:`set_widths`."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    last_col = last_col or ws.max_column
    thin = Side(style="thin", color="BFBFBF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    fills = level_fills()
    for col in range(first_col, last_col + 1):
        head = ws.cell(row=header_row, column=col)
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor=HEADER_FILL)
        head.alignment = Alignment(wrap_text=True, vertical="center")
        head.border = border
        fmt = number_format(head.value)
        values = [ws.cell(row=r, column=col).value for r in range(first_row, last_row + 1)
                  if r not in total_rows]
        level = _is_level_column(head.value, values)
        for r in range(first_row, last_row + 1):
            cell = ws.cell(row=r, column=col)
            cell.border = border
            if fmt and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = fmt
            elif fmt == "@":
                cell.number_format = "@"
            if level and cell.value is not None and str(cell.value) in fills:
                rgb, font = fills[str(cell.value)]
                cell.fill = PatternFill("solid", fgColor=rgb)
                cell.font = Font(color=font, bold=r in total_rows)
            if r in total_rows:
                cell.font = Font(bold=True)
                if not (level and str(cell.value) in fills):
                    cell.fill = PatternFill("solid", fgColor=TOTAL_FILL)
        if widths is not None:
            letter = head.column_letter
            widest = max([_width(v) for v in values] + [min(_width(head.value), 24)], default=0)
            widths[letter] = max(widths.get(letter, 0), widest)


def set_widths(ws, widths):
    for letter, w in widths.items():
        ws.column_dimensions[letter].width = max(MIN_WIDTH, min(MAX_WIDTH, w + 2))


def print_setup(ws, title_rows, landscape=None):
    """A4, fit to the page width, header rows repeated on every printed page, page numbers in the footer."""
    ws.page_setup.paperSize = A4
    wide = ws.max_column > 6 if landscape is None else landscape
    ws.page_setup.orientation = "landscape" if wide else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if title_rows:
        ws.print_title_rows = f"1:{title_rows}"
    ws.oddFooter.center.text = "&A — 第 &P 页 / 共 &N 页 (page &P of &N)"


def format_simple_sheet(ws):
    """A sheet that is one table with its header in row 1 (what write_table / write_sheets write)."""
    if ws.max_row < 1 or ws.max_column < 1:
        return
    widths = {}
    format_table(ws, 1, 2, ws.max_row, widths=widths)
    set_widths(ws, widths)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    ws.row_dimensions[1].height = 32
    print_setup(ws, 1)


def format_workbook(path):
    """Format every sheet of an XLSX written by write_table / write_sheets, in place."""
    import openpyxl
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        format_simple_sheet(ws)
    wb.save(path)
    return path
