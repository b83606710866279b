"""The demo county is plausible, not merely present."""
import numpy as np
import pytest
import rasterio
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from riskmap.risk_plugin import demo
from riskmap.risk_plugin.inputs import VectorInput, load_vectors, RasterInput, check_rasters
from riskmap.risk_plugin.io import read_vector

SCHEMAS = {"geohazard_points": "geohazard_points", "landslide_inventory": "landslide_inventory",
           "flood_zones": "flood_zones", "forest": "forest_cover", "townships": "townships",
           "villages": "villages", "buildings": "buildings", "facilities": "facilities",
           "shelters": "shelters", "shelter_candidates": "shelter_candidates", "roads": "roads"}


def _slope(path):
    with rasterio.open(path) as src:
        z = src.read(1).astype(float)
        cell = src.res[0]
        gy, gx = np.gradient(z, cell)
        return np.degrees(np.arctan(np.hypot(gx, gy))), src.transform


def test_landslides_sit_on_steeper_ground(demo_county):
    slope, transform = _slope(demo_county["dem"])
    inv = read_vector(demo_county["landslide_inventory"])
    slides = inv[inv["landslide"] == 1].geometry
    col, row = ~transform * (slides.x.to_numpy(), slides.y.to_numpy())
    at_slides = slope[row.astype(int), col.astype(int)]
    assert at_slides.mean() > slope.mean() + 3.0, (at_slides.mean(), slope.mean())


def test_flood_zones_nest(demo_county):
    zones = read_vector(demo_county["flood_zones"]).set_index("重现期").geometry
    assert sorted(zones.index) == [10, 50, 100]
    assert zones[10].area > 0
    assert zones[10].difference(zones[50]).area < 1e-6 * zones[10].area
    assert zones[50].difference(zones[100]).area < 1e-6 * zones[50].area
    assert zones[10].area < zones[50].area < zones[100].area


def test_depth_raster_matches_100_year_zone(demo_county):
    with rasterio.open(demo_county["flood_depth_100"]) as src:
        depth = src.read(1)
        cell_area = abs(src.res[0] * src.res[1])
    wet_area = (depth > 0).sum() * cell_area
    zone = read_vector(demo_county["flood_zones"]).set_index("重现期").geometry[100]
    assert abs(wet_area - zone.area) / zone.area < 0.05


def test_population_total_equals_residents(demo_county):
    with rasterio.open(demo_county["population"]) as src:
        total = src.read(1, masked=True).sum(dtype=np.float64)
    residents = read_vector(demo_county["buildings"])["居住人数"].sum()
    assert residents > 1000
    assert total == pytest.approx(residents, abs=0.5)


def test_every_building_in_exactly_one_village(demo_county):
    b = read_vector(demo_county["buildings"]).geometry.values
    v = read_vector(demo_county["villages"]).geometry.values
    bi, vi = shapely.STRtree(v).query(b, predicate="within")
    assert np.array_equal(np.bincount(bi, minlength=len(b)), np.ones(len(b), int))
    # and no building straddles a village boundary
    bi2, _ = shapely.STRtree(v).query(b, predicate="intersects")
    assert np.bincount(bi2, minlength=len(b)).max() == 1


def test_villages_nest_in_townships(demo_county):
    towns = read_vector(demo_county["townships"])
    vill = read_vector(demo_county["villages"])
    assert set(vill["上级代码"]) == set(towns["行政区划代码"])
    union = shapely.union_all(vill.geometry.values)
    assert abs(union.area - shapely.union_all(towns.geometry.values).area) < 1.0


def test_admin_codes_stay_unique_12_digit_codes_past_one_county():
    """A 300 km demo area has 1,000 townships: more than the 899 one county code holds (townships 101–999)."""
    from riskmap.risk_plugin.demo.admin import admin_codes
    rng = np.random.default_rng(0)
    township_of = rng.integers(0, 1000, 10_000)
    t_codes, parents, v_codes = admin_codes(township_of, 1000)
    assert len(set(t_codes)) == 1000 and len(set(v_codes)) == 10_000
    assert {len(c) for c in t_codes + parents + v_codes} == {12}
    assert t_codes[0] == "500299101000" and t_codes[898] == "500299999000" and t_codes[899] == "500298101000"
    assert parents[898] == "500299000000" and parents[899] == "500298000000"
    # each village code starts with its township's first 9 digits, numbered 201, 202, … in input order
    assert all(v[:9] == t_codes[t][:9] for v, t in zip(v_codes, township_of))
    first = int(np.flatnonzero(township_of == township_of[0])[1])
    assert v_codes[0][9:] == "201" and v_codes[first][9:] == "202"
    with pytest.raises(ValueError, match="800 villages"):
        admin_codes(np.zeros(800, int), 1)


def test_road_graph_is_connected(demo_county):
    roads = read_vector(demo_county["roads"]).geometry.values
    noded = shapely.get_parts(shapely.union_all(roads))   # split at every crossing
    ends = np.vstack([shapely.get_coordinates(shapely.get_point(noded, 0)),
                      shapely.get_coordinates(shapely.get_point(noded, -1))])
    _, node = np.unique(np.round(ends, 3), axis=0, return_inverse=True)
    node = node.ravel()
    n = node.max() + 1
    a, b = node[:len(noded)], node[len(noded):]
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    assert connected_components(graph, directed=False)[0] == 1


def test_rivers_lie_in_valleys_and_relief(demo_county):
    with rasterio.open(demo_county["dem"]) as src:
        z = src.read(1)
        rivers = read_vector(demo_county["rivers"]).geometry.values
        xy = shapely.get_coordinates(rivers)
        vals = np.array([v[0] for v in src.sample(xy[::5])])
    assert 600 < z.max() - z.min() < 1500
    assert np.median(vals) < np.percentile(z, 35)


def test_every_layer_passes_validation(demo_county):
    layers = load_vectors([VectorInput(k, demo_county[k], kind) for k, kind in SCHEMAS.items()])
    assert set(layers) == set(SCHEMAS)
    gh = layers["geohazard_points"]
    assert set(gh["hazard_type"]) <= {"landslide", "collapse", "debris_flow", "unstable_slope", "subsidence"}
    check_rasters([RasterInput("dem", demo_county["dem"], "dem"),
                   RasterInput("population", demo_county["population"], "population"),
                   RasterInput("flood_depth", demo_county["flood_depth_100"], "flood_depth")])


def test_threatened_people_come_from_nearby_buildings(demo_county):
    gh = read_vector(demo_county["geohazard_points"])
    b = read_vector(demo_county["buildings"])
    from riskmap.risk_plugin.demo.hazards import survey_radius
    radius = survey_radius(gh["灾害类型"], gh["规模等级"])
    assert set(np.unique(radius)) <= {50.0, 100.0, 200.0, 300.0, 500.0, 1000.0}
    pi, bi = shapely.STRtree(b.geometry.values).query(shapely.buffer(gh.geometry.values, radius), predicate="intersects")
    computed = np.bincount(pi, weights=b["居住人数"].to_numpy()[bi], minlength=len(gh))
    agree = np.isclose(computed, gh["威胁人数"].to_numpy())
    assert agree.mean() >= 0.75          # a tenth carry deliberate survey errors
    assert (gh["威胁人数"] > 0).mean() > 0.5


def test_fire_history_lies_in_forest_near_roads(demo_county):
    fh = read_vector(demo_county["fire_history"])
    forest = np.asarray(read_vector(demo_county["forest"]).geometry.values, dtype=object)
    roads = np.asarray(read_vector(demo_county["roads"]).geometry.values, dtype=object)
    pts = np.asarray(fh.geometry.values, dtype=object)
    assert len(pts) >= 10
    assert shapely.contains(forest[None, :], pts[:, None]).any(axis=1).all()
    assert shapely.distance(pts[:, None], roads[None, :]).min(axis=1).max() <= 800.0


def test_generation_is_deterministic(demo_county, tmp_path):
    again = demo.generate(tmp_path, size_km=8.0, cell_size=20.0, townships=4, villages_per_township=5, seed=7)
    with rasterio.open(again["dem"]) as a, rasterio.open(demo_county["dem"]) as b:
        assert np.array_equal(a.read(1), b.read(1))
    assert len(read_vector(again["buildings"])) == len(read_vector(demo_county["buildings"]))
