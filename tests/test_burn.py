"""Bulk GeoJSON for rasterio's rasterize burns exactly what rasterio burns from the shapely objects."""
import numpy as np
import pytest
import shapely
from affine import Affine
from rasterio.features import rasterize as rio_rasterize

from riskmap.risk_plugin.burn import geojson_parts, rasterize

T = Affine(1.0, 0, 0, 0, -1.0, 40)
SHAPE = (40, 40)


def _mixed(rng, n=300):
    x, y = rng.uniform(0, 40, n), rng.uniform(0, 40, n)
    r = rng.uniform(0.3, 6, n)
    polys = shapely.buffer(shapely.points(x, y), r, quad_segs=3)
    holed = shapely.difference(polys[:60], shapely.buffer(shapely.points(x[:60], y[:60]), r[:60] / 2))
    # valid multipolygons (parts apart): GDAL fills overlapping parts of an invalid one by even-odd
    second = shapely.difference(polys[61:120:2], shapely.buffer(polys[60:120:2], 0.5))
    multi = shapely.union(polys[60:120:2], second)
    lines = shapely.linestrings(np.stack([np.c_[x[120:180], y[120:180]], np.c_[y[120:180], x[120:180]]], axis=1))
    mlines = shapely.multilinestrings([[a, b] for a, b in zip(lines[:30:2], lines[1:30:2])])
    rings = shapely.get_exterior_ring(polys[180:200])
    pts = shapely.points(x[200:240], y[200:240])
    coll = shapely.geometrycollections([[a, b, c] for a, b, c in zip(polys[240:250], lines[30:40], pts[:10])])
    empty = np.array([shapely.Polygon(), shapely.LineString(), shapely.Point()], dtype=object)
    return np.concatenate([holed, multi, lines, mlines, rings, pts, coll, empty, polys[250:]])


@pytest.mark.parametrize("all_touched", [False, True])
def test_burn_equals_rasterio_on_every_geometry_type_in_order(all_touched):
    rng = np.random.default_rng(7)
    geoms = rng.permutation(_mixed(rng))
    values = np.arange(1, len(geoms) + 1, dtype=np.int32)
    keep = ~shapely.is_empty(geoms)      # rasterio refuses empty geometries; ours drops them
    expect = rio_rasterize(zip(geoms[keep], values[keep].tolist()), out_shape=SHAPE, transform=T, fill=0,
                           dtype="int32", all_touched=all_touched)
    got = rasterize(geoms, values, out_shape=SHAPE, transform=T, fill=0, dtype="int32", all_touched=all_touched)
    assert (expect > 0).sum() > 800          # the case burns much of the grid, overlapping
    np.testing.assert_array_equal(got, expect)
    # the later geometry wins: reversing the order changes cells
    rev = rasterize(geoms[::-1], values[::-1], out_shape=SHAPE, transform=T, fill=0, dtype="int32",
                    all_touched=all_touched)
    assert (rev != got).sum() > 50


def test_parts_keep_holes_and_their_source():
    outer = shapely.box(0, 0, 10, 10)
    holed = shapely.difference(outer, shapely.box(2, 2, 4, 4))
    shapes, src = geojson_parts([shapely.MultiPolygon([holed, shapely.box(20, 0, 21, 1)]), shapely.Point(1, 2)])
    assert [s["type"] for s in shapes] == ["Polygon", "Polygon", "Point"]
    assert src.tolist() == [0, 0, 1]
    assert len(shapes[0]["coordinates"]) == 2                   # exterior + one hole
    assert shapely.equals(shapely.geometry.shape({"type": "Polygon",
                                                  "coordinates": shapes[0]["coordinates"]}),
                          holed)


def test_nothing_to_burn_gives_the_fill():
    got = rasterize(np.array([shapely.Polygon()], dtype=object), 5, out_shape=(3, 4), transform=T, fill=9,
                    dtype="uint8")
    assert got.shape == (3, 4) and (got == 9).all()
