"""riskmap:printatlas: one page per township from styles/atlas.qpt, with a people-per-level table.

The per-township people are checked twice: the engine against hand-computed area shares, and the
exported PDF's text against an independent geopandas overlay.
"""
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO

CRS = "EPSG:4545"
X0, Y0 = 560000.0, 3260000.0


def pdf_pages(pdf):
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", out).group(1))


def pdf_text(pdf, page=None):
    """The PDF's text as pdftotext extracts it: what a user gets by copy-paste or search (no normalisation)."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def radicals(text):
    """Characters of the Kangxi radicals / CJK radicals supplement / strokes blocks (U+2E80–U+2FDF, U+31C0–U+31EF)."""
    return sorted({c for c in text if 0x2E80 <= ord(c) <= 0x2FDF or 0x31C0 <= ord(c) <= 0x31EF})


def pdf_to_pngs(pdf, out_dir, dpi=40):
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(out_dir / "p")], check=True)
    return sorted(out_dir.glob("p-*.png"))


def read_png(path):
    import rasterio
    with rasterio.open(path) as src:
        return src.read()[:3].astype(float)


def save_if_changed(png, target):
    """Copy a page to the README pictures unless the same picture is there already (PNG metadata differs
    from run to run, and anti-aliasing by a few levels between builds: a clean clone's run left 8 pixels
    changed by ≤ 3 of 255; the picture should not churn)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and read_png(target).shape == read_png(png).shape and \
            np.abs(read_png(target) - read_png(png)).max() <= 8:
        return
    target.write_bytes(Path(png).read_bytes())


# --- the engine's summary, by hand ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def boxes(engine, tmp_path_factory):
    """Two 1 km townships side by side; risk features: one inside each, one straddling 25 % / 75 %, a point."""
    import geopandas as gpd
    import shapely
    from riskmap.risk_plugin.io import write_vector
    d = tmp_path_factory.mktemp("atlas_boxes")
    towns = gpd.GeoDataFrame({"名称": ["东镇", "西镇"], "行政区划代码": ["1", "2"]},
                             geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
                                       shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)], crs=CRS)
    risk = gpd.GeoDataFrame({"risk_level": [1, 4, 2, "较大风险", 3], "people": [100, 40, 80, 7, 5]},
                            geometry=[shapely.box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300),
                                      shapely.box(X0 + 1200, Y0 + 100, X0 + 1300, Y0 + 300),
                                      shapely.box(X0 + 900, Y0 + 500, X0 + 1300, Y0 + 600),   # 25 % E, 75 % W
                                      shapely.Point(X0 + 1500, Y0 + 500),
                                      shapely.box(X0 + 3000, Y0, X0 + 3100, Y0 + 100)],       # outside both
                            crs=CRS)
    return write_vector(towns, d / "townships.gpkg"), write_vector(risk, d / "fourcolor.gpkg")


def test_summary_splits_people_by_area_share(boxes):
    from riskmap.risk_plugin.atlas import township_summary
    towns, risk = boxes
    s = township_summary(towns, risk)
    assert s.table_key == "risk_levels" and s.source_kind == "features"
    east, west = s.wide.iloc[0], s.wide.iloc[1]
    assert east["name"] == "东镇" and west["name"] == "西镇"
    assert east["重大风险 / Major risk"] == pytest.approx(100)
    assert east["较大风险 / Considerable risk"] == pytest.approx(0.25 * 80)
    assert west["较大风险 / Considerable risk"] == pytest.approx(0.75 * 80 + 7)
    assert west["低风险 / Low risk"] == pytest.approx(40)
    assert east["total"] + west["total"] == pytest.approx(100 + 40 + 80 + 7)
    assert s.outside == pytest.approx(5)
    shares = s.long[s.long["name"] == "西镇"].set_index("class")["share"]
    assert shares["低风险 / Low risk"] == pytest.approx(100 * 40 / (60 + 7 + 40))


def test_summary_from_exposure_units_uses_one_level(boxes, tmp_path):
    """riskmap:exposure's OUTPUT_UNITS: pop_c0..pop_c4 per unit, townships (level 1) and villages (level 2)."""
    import geopandas as gpd
    import shapely
    from riskmap.risk_plugin.atlas import township_summary
    from riskmap.risk_plugin.io import write_vector
    towns, _ = boxes
    units = gpd.GeoDataFrame({"level": [1, 1, 2, 2], "name": ["东镇", "西镇", "a", "b"],
                              "pop_c0": [10, 20, 10, 20], "pop_c3": [1, 2, 1, 2], "pop_c4": [0, 5, 0, 5]},
                             geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
                                       shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000),
                                       shapely.box(X0, Y0, X0 + 500, Y0 + 500),
                                       shapely.box(X0 + 1000, Y0, X0 + 1500, Y0 + 500)], crs=CRS)
    s = township_summary(towns, write_vector(units, tmp_path / "exposure_units.gpkg"))
    assert s.table_key == "hazard_classes" and s.source_kind == "wide"
    assert s.wide["total"].tolist() == [11, 27]                     # level 1 only: nobody counted twice
    assert s.wide.iloc[1]["极高 / Very high"] == 5 and s.wide.iloc[0]["无 / None"] == 10


def test_summary_without_class_field_says_so(boxes):
    from riskmap.risk_plugin.atlas import township_summary
    from riskmap.risk_plugin.errors import InputError
    towns, _ = boxes
    with pytest.raises(InputError, match="risk_level"):
        township_summary(towns, towns)


def test_bad_coverage_and_summary_are_named(boxes, tmp_path):
    import geopandas as gpd
    import shapely
    from riskmap.risk_plugin.atlas import load_coverage, township_summary
    from riskmap.risk_plugin.errors import InputError, ValidationError
    from riskmap.risk_plugin.io import write_vector
    towns, risk = boxes
    no_crs = gpd.read_file(towns).set_crs(None, allow_override=True)
    no_crs.to_file(tmp_path / "towns_no_crs.gpkg")
    with pytest.raises(ValidationError, match="towns_no_crs.gpkg.*CRS"):
        load_coverage(str(tmp_path / "towns_no_crs.gpkg"))
    bowtie = gpd.GeoDataFrame({"risk_level": [1], "people": [10]},
                              geometry=[shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])],
                              crs=CRS)
    with pytest.raises(InputError, match="bowtie.gpkg.*invalid geometry"):
        township_summary(towns, write_vector(bowtie, tmp_path / "bowtie.gpkg"))


# --- the atlas ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def risk_grid(alg, demo_county, tmp_path_factory):
    """The real chain on the small demo county: 100-year flood classes → four-colour risk on a 100 m grid
    clipped to the townships (riskmap:floodhazard, riskmap:fourcolorrisk)."""
    d = tmp_path_factory.mktemp("atlas_chain")
    flood = alg("riskmap:floodhazard", {"DEPTH": demo_county["flood_depth_100"], "OUTPUT": str(d / "flood_hazard.tif")})
    res = alg("riskmap:fourcolorrisk", {"HAZARD": flood["OUTPUT"], "POPULATION": demo_county["population"],
                                        "BUILDINGS": demo_county["buildings"], "FACILITIES": demo_county["facilities"],
                                        "TOWNSHIPS": demo_county["townships"], "SUPPORT": 0, "CELL_SIZE": 100,
                                        "OUTPUT": str(d / "fourcolor_grid.gpkg")})
    return res["OUTPUT"]


def expected_people(townships, grid):
    """People per township and level by geopandas overlay (independent of the engine's STRtree split)."""
    import geopandas as gpd
    t = gpd.read_file(townships)
    g = gpd.read_file(grid)
    assert set(g["risk_level"]) >= {1, 4} and g["people"].sum() > 1000   # a real map with people on it
    g["cell_area"] = g.area
    parts = gpd.overlay(g, t[["名称", "geometry"]], how="intersection")
    parts["p"] = parts["people"] * parts.area / parts["cell_area"]
    return parts.groupby(["名称", "risk_level"])["p"].sum()


@pytest.fixture(scope="module")
def atlas(alg, demo_county, risk_grid, tmp_path_factory):
    out = tmp_path_factory.mktemp("atlas")
    layers = [risk_grid, demo_county["villages"], demo_county["roads"], demo_county["rivers"],
              demo_county["shelters"], demo_county["geohazard_points"], demo_county["flood_depth_100"]]
    res = alg("riskmap:printatlas", {"COVERAGE": demo_county["townships"], "LAYERS": layers, "SUMMARY": risk_grid,
                                     "TITLE": "演示县风险图集", "SOURCE": "riskmap 演示数据", "DATE": "2024-06-01",
                                     "OUTPUT_PDF": str(out / "atlas.pdf"), "OUTPUT_PNG_DIR": str(out / "png")})
    return res, out


def test_one_page_per_township_not_blank(atlas, demo_county, tmp_path):
    import geopandas as gpd
    res, out = atlas
    n = len(gpd.read_file(demo_county["townships"]))
    assert res["PAGES"] == n
    assert pdf_pages(out / "atlas.pdf") == n
    pngs = pdf_to_pngs(out / "atlas.pdf", tmp_path)
    assert len(pngs) == n
    images = [read_png(p) for p in pngs]
    for img in images:
        assert img.std() > 25                                   # a drawn page, not a blank one
        assert (img.mean(axis=0) < 128).mean() > 0.01          # with ink on it
    # each page shows its own township: the pages differ
    for a in range(n):
        for b in range(a + 1, n):
            assert np.abs(images[a] - images[b]).mean() > 1.0
    exported = sorted((out / "png").glob("page_*.png"))
    assert [p.name for p in exported] == [f"page_{i:03d}.png" for i in range(1, n + 1)]
    first = read_png(exported[0])
    assert first.shape[1] > 1000 and first.std() > 25          # A4 landscape at 150 dpi: 1754 × 1240
    save_if_changed(exported[0], REPO / "docs" / "images" / "atlas_page.png")


def test_pages_carry_title_furniture_and_people_per_level(atlas, demo_county, risk_grid):
    import geopandas as gpd
    res, out = atlas
    names = gpd.read_file(demo_county["townships"])["名称"].tolist()
    from riskmap.risk_plugin.rounding import whole_persons
    want = expected_people(demo_county["townships"], risk_grid)
    # the townships' totals in whole persons, conserving the county total (largest remainder)
    persons_total = dict(zip(names, whole_persons([sum(want.get((n, k), 0.0) for k in range(1, 5)) for n in names])))
    for page, name in enumerate(names, start=1):
        text = pdf_text(out / "atlas.pdf", page)
        assert re.search(rf"演示县风险图集\s+·\s+{name}", text), text[:200]
        # (pdftotext loses the digits of some labels' glyphs; the rendered pages show them: see atlas_page.png)
        assert "数据来源 / Data source: riskmap 演示数据" in text and "EPSG:" in text and "Gauss-Kruger" in text
        assert "制图日期 / Date:" in text and re.search(rf"第 {page} / {len(names)} 页", text)
        assert "图例 / Legend" in text
        # whole persons by largest remainder: the levels add up to the township's total (risk_plugin.rounding)
        assert "分等级人口 (100 m 网格)" in text and "People per level (100 m grid cells)" in text
        labels = ("重大风险 / Major risk", "较大风险 / Considerable risk", "一般风险 / General risk", "低风险 / Low risk")
        real = [want.get((name, level), 0.0) for level in range(1, 5)]
        persons = whole_persons(real, int(persons_total[name]))
        for label, people in zip(labels, persons):
            line = next(ln for ln in text.splitlines() if label in ln and re.search(r"\d", ln.split(label)[-1]))
            assert int(line.split(label)[-1].split()[0].replace(",", "")) == people, (name, label, line)
            assert abs(people - real[labels.index(label)]) < 1.0
        line = next(ln for ln in text.splitlines() if "合计 / Total" in ln)
        assert int(line.split("合计 / Total")[-1].split()[0].replace(",", "")) == int(persons.sum())
    assert res["PEOPLE_OUTSIDE"] == pytest.approx(0.0, abs=1e-6)


def test_pdf_text_is_the_characters_drawn(atlas, demo_county):
    """Copy-paste and search work: 风险, 人口 and every township name extract as themselves, never as radicals
    (⻛险: Qt took the radical code point of glyphs Noto CJK shares; processing/fonts.py)."""
    import geopandas as gpd
    _, out = atlas
    text = pdf_text(out / "atlas.pdf")
    assert radicals(text) == []
    names = gpd.read_file(demo_county["townships"])["名称"].tolist()
    assert text.count("风险") >= len(names) * 4 and "⻛" not in text
    assert "分等级人口" in text and "示" not in "".join(radicals(text))
    for name in names:
        assert text.count(name) >= 2, name      # the page title and the map label at least


def test_printatlas_through_qgis_process(qgis_process, demo_county, risk_grid, tmp_path):
    import geopandas as gpd
    """Batch run without SUMMARY: the pages come out without the people table."""
    code, results, log = qgis_process.run("riskmap:printatlas", {
        "COVERAGE": demo_county["townships"], "LAYERS": [risk_grid, demo_county["roads"]],
        "OUTPUT_PDF": str(tmp_path / "qp.pdf")})
    assert code == 0
    n = len(gpd.read_file(demo_county["townships"]))
    assert results["PAGES"] == n and pdf_pages(tmp_path / "qp.pdf") == n
    text = pdf_text(tmp_path / "qp.pdf", 1)
    assert "图例 / Legend" in text and "People per level" not in text and "合计 / Total" not in text
