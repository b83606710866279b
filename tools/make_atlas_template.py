"""Build styles/atlas.qpt, the township atlas print-layout template, with PyQGIS.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tools.make_atlas_template

The template is plain QGIS: open it in the layout designer (Project ▸ New Print Layout ▸ Add Items from
Template) to restyle it. riskmap:printatlas finds its items by id and fills them in:
main_map, inset_map, legend, scalebar, north_arrow, title, date, source, crs_note, page_number,
summary_title and the frame summary_table. Texts use layout variables the algorithm sets:
@riskmap_title, @riskmap_source, @riskmap_crs, @riskmap_summary_title, @riskmap_date (empty: today).
A4 landscape, millimetres.
"""
from pathlib import Path

STYLES = Path(__file__).resolve().parent.parent / "styles"
FONT = "Noto Sans CJK SC"


def build(project):
    from qgis.core import (QgsLayoutFrame, QgsLayoutItemAttributeTable, QgsLayoutItemLabel, QgsLayoutItemLegend,
                           QgsLayoutItemMap, QgsLayoutItemPage, QgsLayoutItemPicture, QgsLayoutItemScaleBar,
                           QgsLayoutMeasurement, QgsLayoutPoint, QgsLayoutSize, QgsLegendStyle, QgsPrintLayout, QgsRectangle, QgsScaleBarSettings,
                           QgsTextFormat, QgsUnitTypes)
    from qgis.PyQt.QtCore import Qt
    from qgis.PyQt.QtGui import QColor, QFont

    def qfont(size, bold=False):
        f = QFont(FONT)
        f.setPointSizeF(size)
        f.setBold(bold)
        return f

    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    layout.setName("riskmap township atlas")
    page = layout.pageCollection().page(0)
    page.setPageSize("A4", QgsLayoutItemPage.Landscape)

    def place(item, x, y, w, h, item_id):
        item.attemptMove(QgsLayoutPoint(x, y, QgsUnitTypes.LayoutMillimeters))
        item.attemptResize(QgsLayoutSize(w, h, QgsUnitTypes.LayoutMillimeters))
        item.setId(item_id)
        layout.addLayoutItem(item)
        return item

    def label(text, x, y, w, h, item_id, size=8, bold=False, align=Qt.AlignLeft):
        lab = QgsLayoutItemLabel(layout)
        lab.setText(text)
        lab.setFont(qfont(size, bold))
        lab.setFontColor(QColor("#202020"))
        lab.setHAlign(align)
        lab.setVAlign(Qt.AlignVCenter)
        return place(lab, x, y, w, h, item_id)

    label("[% @riskmap_title %]  ·  [% @atlas_pagename %]", 10, 5, 277, 12, "title", size=17, bold=True)

    main = QgsLayoutItemMap(layout)
    main.setFrameEnabled(True)
    main.setFrameStrokeWidth(QgsLayoutMeasurement(0.4, QgsUnitTypes.LayoutMillimeters))
    main.setBackgroundColor(QColor("#ffffff"))
    place(main, 10, 19, 190, 168, "main_map")
    main.setExtent(QgsRectangle(0, 0, 190, 168))     # placeholders: the algorithm sets CRS and extents

    arrow = QgsLayoutItemPicture(layout)
    arrow.setPicturePath(str(STYLES / "north_arrow.svg"))
    arrow.setLinkedMap(main)
    arrow.setNorthMode(QgsLayoutItemPicture.TrueNorth)
    place(arrow, 186, 22, 11, 16, "north_arrow")

    bar = QgsLayoutItemScaleBar(layout)
    bar.setStyle("Single Box")
    bar.setLinkedMap(main)
    bar.setUnits(QgsUnitTypes.DistanceKilometers)
    bar.setUnitLabel("km")
    bar.setNumberOfSegments(2)
    bar.setNumberOfSegmentsLeft(0)
    bar.setUnitsPerSegment(1.0)
    bar.setSegmentSizeMode(QgsScaleBarSettings.SegmentSizeFitWidth)
    bar.setMinimumBarWidth(25)
    bar.setMaximumBarWidth(45)
    bar.setBackgroundEnabled(True)
    bar.setBackgroundColor(QColor(255, 255, 255, 210))
    fmt = QgsTextFormat()
    fmt.setFont(qfont(7))
    fmt.setSize(7)
    bar.setTextFormat(fmt)
    place(bar, 13, 176, 50, 9, "scalebar")

    inset = QgsLayoutItemMap(layout)
    inset.setFrameEnabled(True)
    inset.setBackgroundColor(QColor("#ffffff"))
    place(inset, 205, 19, 82, 56, "inset_map")
    inset.setExtent(QgsRectangle(0, 0, 82, 56))
    inset.overview().setLinkedMap(main)   # the main map's extent, drawn on the locator

    # two lines (中文 / English), each with the support the people are counted on: "分等级人口 (100 m 网格)"
    label("[% @riskmap_summary_title %]", 205, 76.5, 82, 8, "summary_title", size=7.5, bold=True)
    table = QgsLayoutItemAttributeTable.create(layout)
    for setter, size, bold in (("setHeaderTextFormat", 7.5, True), ("setContentTextFormat", 7.5, False)):
        tf = QgsTextFormat()
        tf.setFont(qfont(size, bold))
        tf.setSize(size)
        getattr(table, setter)(tf)
    table.setGridStrokeWidth(0.15)
    table.setCellMargin(0.8)
    table.setEmptyTableBehavior(QgsLayoutItemAttributeTable.ShowMessage)
    table.setEmptyTableMessage("无数据 / no data")
    layout.addMultiFrame(table)
    frame = QgsLayoutFrame(layout, table)
    frame.attemptMove(QgsLayoutPoint(205, 85, QgsUnitTypes.LayoutMillimeters))
    frame.attemptResize(QgsLayoutSize(82, 35, QgsUnitTypes.LayoutMillimeters))
    frame.setId("summary_table")
    table.addFrame(frame)

    legend = QgsLayoutItemLegend(layout)
    legend.setTitle("图例 / Legend")
    legend.setLinkedMap(main)
    legend.setLegendFilterByMapEnabled(True)
    legend.setResizeToContents(False)
    legend.setSymbolWidth(5)
    legend.setSymbolHeight(3)
    legend.setColumnCount(2)
    legend.setSplitLayer(True)
    legend.setColumnSpace(2)
    legend.setBoxSpace(1.5)
    for style, size, bold in ((QgsLegendStyle.Title, 9, True), (QgsLegendStyle.Group, 7, True),
                              (QgsLegendStyle.Subgroup, 6.5, True), (QgsLegendStyle.SymbolLabel, 6, False)):
        legend.setStyleFont(style, qfont(size, bold))
    legend.setStyleMargin(QgsLegendStyle.Subgroup, QgsLegendStyle.Top, 1.5)
    legend.setStyleMargin(QgsLegendStyle.Symbol, QgsLegendStyle.Top, 0.8)
    legend.setStyleMargin(QgsLegendStyle.SymbolLabel, QgsLegendStyle.Top, 0.8)
    place(legend, 205, 121, 82, 66, "legend")

    label("制图日期 / Date: [% coalesce(@riskmap_date, format_date(now(), 'yyyy-MM-dd')) %]", 10, 189, 90, 5, "date",
          size=7.5)
    label("第 [% @atlas_featurenumber %] / [% @atlas_totalfeatures %] 页 / page", 205, 189, 82, 5, "page_number",
          size=7.5, align=Qt.AlignRight)
    label("数据来源 / Data source: [% @riskmap_source %]", 10, 194, 277, 5, "source", size=7.5)
    label("坐标系 / CRS: [% @riskmap_crs %]", 10, 199, 277, 5, "crs_note", size=7.5)
    return layout


def main():
    import os
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import QgsApplication, QgsProject, QgsReadWriteContext
    app = QgsApplication([], False)
    app.initQgis()
    layout = build(QgsProject.instance())
    target = STYLES / "atlas.qpt"
    ok = layout.saveAsTemplate(str(target), QgsReadWriteContext())
    # the north arrow is found beside the template at run time: keep the path relative in the file
    text = target.read_text(encoding="utf-8").replace(str(STYLES / "north_arrow.svg"), "north_arrow.svg")
    target.write_text(text, encoding="utf-8")
    print(f"{'wrote' if ok else 'FAILED'} {target}")
    app.exitQgis()


if __name__ == "__main__":
    main()
