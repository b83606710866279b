"""Issue 7, scale: the Dask path gives the one-process results.

Every test runs the same engine entry point twice, in one process and on a LocalCluster of 2 worker
*processes* (processes=True, one thread each, so every kernel, argument and result really crosses a
process boundary by pickling), and compares:

- susceptibility, exposure, four-color risk: bit-identical rasters, tables and layers (the blocks
  are the engine's own and are added back in the engine's order);
- shelter coverage partitioned by township: the same set of (shelter, demand, metres) pairs bit for
  bit, hence the same statuses; per-shelter and per-unit sums equal to 1e-9 (the pairs come back in
  another order, so a float sum may differ in its last bits). A hand-built border case shows what
  the buffer is for: without it the people next to the border lose their only shelter. The demand
  is snapped on the workers (every snap equal to the whole graph's, bit for bit, also across a tile
  edge and on a tie) and allocated per reach component (every unit's and shelter's numbers equal).

Each test also checks that its kernels did run as Dask tasks (the task counts), so a path that
silently fell back to one process would fail. The demo county is 8 × 8 km: blocks and partitions
are made small (block size, BLOCK_CELLS, MIN_FEATURES_TO_SPLIT) so that every job splits into many
pieces; at these sizes a real run keeps them in one process, where a task costs more than the work.
"""
import numpy as np
import pytest

CRS = "EPSG:4545"
X0, Y0 = 500000.0, 3300000.0


@pytest.fixture(scope="module")
def dask_client(engine, tmp_path_factory):
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                           local_directory=str(tmp_path_factory.mktemp("dask")))
    client = Client(cluster)
    yield client
    client.close(timeout=60)
    cluster.close(timeout=60)


@pytest.fixture
def dispatcher(dask_client):
    from riskmap.risk_plugin.parallel.dispatch import Dispatcher
    return Dispatcher(dask_client)


@pytest.fixture
def small_pieces(monkeypatch):
    """Population blocks of 20 × 20 cells (5 × 5 sub-cells each: 16 blocks on the demo county) and
    buildings split however few there are."""
    from riskmap.risk_plugin import zonal
    from riskmap.risk_plugin.parallel import counting
    monkeypatch.setattr(zonal, "BLOCK_CELLS", 10_000)
    monkeypatch.setattr(counting, "MIN_FEATURES_TO_SPLIT", 0)


@pytest.fixture(scope="module")
def hazard_tif(demo_county, tmp_path_factory):
    """Flood hazard classes 0..4 from the demo county's 100-year depth (the demo chain's step 30)."""
    from riskmap.risk_plugin.flood import flood_hazard
    out = tmp_path_factory.mktemp("dask_hazard") / "flood_hazard.tif"
    flood_hazard(str(out), depth=demo_county["flood_depth_100"])
    return str(out)


def run(job, dispatcher, **kw):
    from riskmap.risk_plugin.parallel import run as run_job
    return run_job(job, dispatcher, **kw)


def read(path):
    import rasterio
    with rasterio.open(path) as src:
        return src.read(), src.transform, src.nodata


def assert_frames_identical(a, b):
    import pandas as pd
    pd.testing.assert_frame_equal(pd.DataFrame(a).reset_index(drop=True), pd.DataFrame(b).reset_index(drop=True),
                                  check_exact=True)


# --------------------------------------------------------------------------------------- susceptibility
def test_susceptibility_dask_is_identical(demo_county, dispatcher, tmp_path):
    """16 DEM blocks of 128² cells (relief halo), factors computed on the workers: index, zones, AUCs,
    weights and zone tables identical to one process."""
    common = dict(dem=demo_county["dem"], inventory=demo_county["landslide_inventory"], presence_field="landslide",
                  seed=42, block_size=128)
    a = run("susceptibility", None, out_index=str(tmp_path / "a_index.tif"), out_zones=str(tmp_path / "a_zones.tif"),
            **common)
    b = run("susceptibility", dispatcher, out_index=str(tmp_path / "b_index.tif"),
            out_zones=str(tmp_path / "b_zones.tif"), **common)
    for name in ("index", "zones"):
        (da, ta, na), (db, tb, nb) = read(tmp_path / f"a_{name}.tif"), read(tmp_path / f"b_{name}.tif")
        assert ta == tb and na == nb
        assert np.array_equal(da, db), name
    assert (a.auc_success, a.auc_prediction, a.fold_aucs) == (b.auc_success, b.auc_prediction, b.fold_aucs)
    assert np.array_equal(a.breaks, b.breaks)
    assert_frames_identical(a.weights, b.weights)
    assert_frames_identical(a.zones, b.zones)
    assert 0.5 < a.auc_success <= 1.0                     # a real model, not an empty run
    blocks = -(-400 // 128) ** 2                           # 8 km at 20 m = 400 × 400 cells
    assert dispatcher.tasks["terrain_blocks"] >= blocks    # every block of pass 2 (and pass 1's sample)


def test_shipped_job_state_still_serialises_after_a_worker_used_it(engine, demo_county):
    """What a worker does with the susceptibility job's state (rebuild the job, compute a block, which
    opens the DEM) must leave the shipped object serialisable: Dask sends it on to the next worker that
    needs it, and a fetch that fails leaves that worker's task waiting forever (the hang seen when
    pass 1's small windows first spread over two workers)."""
    import cloudpickle
    from riskmap.risk_plugin import terrain as T
    from riskmap.risk_plugin.parallel.terrain_blocks import _rebuild, _state
    from riskmap.risk_plugin.susceptibility.grid import Settings, _Job
    s = Settings()
    job = _Job(demo_county["dem"], s, 42)
    job.continuous_block(job.blocks[0])                    # the driver's own job has open handles too
    shipped = (_Job, (demo_county["dem"], s, 42), {}, _state(job))
    assert not set(_Job.RUNTIME_ATTRS) & set(shipped[3])
    worker_job = _rebuild(*shipped)
    vals, _, valid = worker_job.continuous_block(next(T.blocks(job.h, job.w, 64, job.halo)))
    assert valid.any() and np.isfinite(vals["slope"][valid]).all()
    cloudpickle.loads(cloudpickle.dumps(shipped))          # raised "self._hds cannot be converted" before
    worker_job.close()
    job.close()


# --------------------------------------------------------------------------------------- exposure
@pytest.mark.parametrize("hazard_kind, cell_rule, building_rule", [
    ("raster", "centre", "centroid"),
    ("raster", "all_touched", "max_touched"),
    ("polygons", "fraction", "centroid"),
])
def test_exposure_dask_is_identical(demo_county, hazard_tif, dispatcher, small_pieces, tmp_path,
                                    hazard_kind, cell_rule, building_rule):
    """People per township and village × class by population block (16 blocks), buildings and
    facilities by spatial partition: every table cell identical; nobody gained or lost."""
    from riskmap.risk_plugin.exposure import UnitSpec
    hazard = dict(hazard=hazard_tif) if hazard_kind == "raster" else dict(   # polygons: 20 m sub-cells, as the raster
        hazard=demo_county["flood_zones"], hazard_field="重现期", hazard_mapping="10=4; 50=3; 100=2", max_cell_m=20.0)
    kw = dict(population=demo_county["population"], buildings=demo_county["buildings"],
              facilities=demo_county["facilities"], cell_rule=cell_rule, building_rule=building_rule,
              units=[UnitSpec(demo_county["townships"]), UnitSpec(demo_county["villages"])], **hazard)
    a = run("exposure", None, output_table=str(tmp_path / "a.csv"), **kw)
    b = run("exposure", dispatcher, output_table=str(tmp_path / "b.csv"), **kw)
    for (fa, _), (fb, _) in zip(a["frames"], b["frames"]):
        assert_frames_identical(fa, fb)
    assert {k: v for k, v in a.items() if k.isupper()} == {k: v for k, v in b.items() if k.isupper()}
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert a["POPULATION_EXPOSED"] > 0 and a["BUILDINGS_EXPOSED"] > 0
    people = b["counts"].levels[1].people                  # villages: (units + 1) × classes
    assert people.sum() == pytest.approx(b["POPULATION_RASTER_TOTAL"], rel=1e-12)
    assert dispatcher.tasks["population"] == 16
    assert dispatcher.tasks["features_check"] >= 8 and dispatcher.tasks["features_count"] >= 8   # 2 layers × ≥ 4 tiles
    assert not dispatcher.tasks["feature_classes"] and not dispatcher.tasks["assign_units"]   # read by the workers


def test_exposure_dask_residents_not_whole_and_classes_in_fid_order(demo_county, hazard_tif, dispatcher,
                                                                     small_pieces, tmp_path):
    """Residents with fractions (0.1 + k / 7): the tiles cannot sum them in their own order, so every
    building's (unit, class, residents) comes back and the driver sums in FID order: the residents columns
    and building classes are bit-identical to one process, not merely close."""
    import geopandas as gpd
    from riskmap.risk_plugin.exposure import UnitSpec
    b = gpd.read_file(demo_county["buildings"], fid_as_index=True)
    b["Pop_Count"] = 0.1 + np.arange(len(b)) / 7.0       # named by RESIDENTS_FIELD, in another case
    path = str(tmp_path / "fractional.gpkg")
    b.drop(columns="居住人数").to_file(path, engine="pyogrio")
    kw = dict(hazard=hazard_tif, buildings=path, residents_field="pop_count", facilities=demo_county["facilities"],
              units=[UnitSpec(demo_county["townships"]), UnitSpec(demo_county["villages"])])
    a = run("exposure", None, **kw)
    d = run("exposure", dispatcher, **kw)
    for (fa, _), (fd, _) in zip(a["frames"], d["frames"]):
        assert_frames_identical(fa, fd)
    for la, ld in zip(a["counts"].levels, d["counts"].levels):
        assert np.array_equal(la.residents, ld.residents) and np.array_equal(la.buildings, ld.buildings)
        assert la.residents.sum() == pytest.approx(b["Pop_Count"].sum(), rel=1e-12)
    assert np.array_equal(a["counts"].building_classes, d["counts"].building_classes)
    assert np.array_equal(a["counts"].facility_classes, d["counts"].facility_classes)
    assert dispatcher.tasks["features_count"] >= 8


def test_exposure_dask_buildings_in_degrees_units_in_metres(demo_county, hazard_tif, dispatcher, small_pieces,
                                                             tmp_path):
    """Buildings in EPSG:4490 (degrees), villages in EPSG:4545: the tiles are cut in degrees, their
    boxes reprojected to pick the units; the counts equal one process's."""
    import geopandas as gpd
    from riskmap.risk_plugin.exposure import UnitSpec
    path = str(tmp_path / "buildings_4490.gpkg")
    b = gpd.read_file(demo_county["buildings"])
    b.to_crs("EPSG:4490").to_file(path, engine="pyogrio")
    kw = dict(hazard=hazard_tif, buildings=path, units=[UnitSpec(demo_county["villages"])], building_rule="max_touched")
    a = run("exposure", None, **kw)
    d = run("exposure", dispatcher, **kw)
    assert_frames_identical(a["frames"][0][0], d["frames"][0][0])
    assert np.array_equal(a["counts"].building_classes, d["counts"].building_classes)
    assert a["BUILDINGS_TOTAL"] + int(a["counts"].levels[0].buildings[0].sum()) == len(b)   # inside + outside units
    assert dispatcher.tasks["features_count"] >= 4


def bad_buildings(demo_county, tmp_path):
    """The demo buildings with a bow-tie (invalid) footprint at the south-west corner (first tile), a
    negative resident count at the north-east corner (last tile) and one building without geometry.
    Returns (path, {problem: fid})."""
    import geopandas as gpd
    import shapely
    b = gpd.read_file(demo_county["buildings"], fid_as_index=True)
    first = shapely.get_coordinates(shapely.get_exterior_ring(b.geometry.values))
    corner = b.geometry.bounds.minx + b.geometry.bounds.miny
    sw, ne = int(corner.idxmin()), int(corner.idxmax())
    x, y = b.geometry[sw].exterior.coords[0]
    b.loc[sw, "geometry"] = shapely.Polygon([(x, y), (x + 10, y + 10), (x + 10, y), (x, y + 10)])
    b.loc[ne, "居住人数"] = -3
    nogeom = int(b.index[len(b) // 2])
    b.loc[nogeom, "geometry"] = None
    assert len(first)
    path = str(tmp_path / "bad_buildings.gpkg")
    b.reset_index().to_file(path, engine="pyogrio", layer="bad_buildings")
    return path, {"invalid": sw, "negative": ne, "null": nogeom}


def test_exposure_dask_reports_every_tile_problem_together(demo_county, hazard_tif, dispatcher, small_pieces,
                                                           tmp_path):
    """Problems in the first tile, the last tile and in no tile (a null geometry, found by the sweep),
    plus one in the villages: one ValidationError names each with its layer, field and feature, the
    same problems as one process."""
    import geopandas as gpd
    from riskmap.risk_plugin.errors import ValidationError
    from riskmap.risk_plugin.exposure import UnitSpec
    path, fid = bad_buildings(demo_county, tmp_path)
    v = gpd.read_file(demo_county["villages"])
    v.loc[3, "名称"] = None                                 # a required field left empty
    villages = str(tmp_path / "villages.gpkg")
    v.to_file(villages, engine="pyogrio")
    kw = dict(hazard=hazard_tif, buildings=path, units=[UnitSpec(villages)])
    with pytest.raises(ValidationError) as local:
        run("exposure", None, **kw)
    with pytest.raises(ValidationError) as dask:
        run("exposure", dispatcher, **kw)
    problems = dask.value.problems
    by = {(p.layer, p.field, tuple(p.features)) for p in problems}
    assert ("bad_buildings.gpkg", None, (fid["invalid"],)) in by
    assert ("bad_buildings.gpkg", "居住人数", (fid["negative"],)) in by
    assert ("bad_buildings.gpkg", None, (fid["null"],)) in by
    assert any(p.layer == "villages.gpkg" and p.field == "名称" for p in problems)
    assert sorted(map(str, problems)) == sorted(map(str, local.value.problems))
    assert len(problems) == 4
    assert dispatcher.tasks["features_check"] >= 4 and dispatcher.tasks["features_sweep"] == 1
    assert not dispatcher.tasks["features_count"]              # nothing counted


def test_dask_driver_never_reads_buildings_or_facilities_whole(demo_county, hazard_tif, dispatcher, small_pieces,
                                                              tmp_path, monkeypatch):
    """In the driver process every whole-layer reader raises for the buildings and facilities files (the
    workers are other processes and read their tiles): exposure and four-colour risk still give the
    one-process numbers."""
    import pyogrio
    from riskmap.risk_plugin.exposure import UnitSpec
    kw = dict(hazard=hazard_tif, population=demo_county["population"], buildings=demo_county["buildings"],
              facilities=demo_county["facilities"])
    a = run("exposure", None, units=[UnitSpec(demo_county["villages"])], **kw)
    f = run("fourcolor", None, townships=demo_county["townships"], **kw)
    guard_readers(monkeypatch, {demo_county["buildings"], demo_county["facilities"]})
    with pytest.raises(AssertionError, match="the driver read"):     # the guard works
        run("exposure", None, units=[UnitSpec(demo_county["villages"])], **kw)
    b = run("exposure", dispatcher, units=[UnitSpec(demo_county["villages"])], **kw)
    g = run("fourcolor", dispatcher, townships=demo_county["townships"], **kw)
    assert {k: v for k, v in a.items() if k.isupper()} == {k: v for k, v in b.items() if k.isupper()}
    assert {k: v for k, v in f.items() if k.isupper()} == {k: v for k, v in g.items() if k.isupper()}
    assert b["BUILDINGS_TOTAL"] == pyogrio.read_info(demo_county["buildings"])["features"]


# --------------------------------------------------------------------------------------- four-color
@pytest.fixture
def small_strips(monkeypatch):
    """Grid strips of about 500 cells (6 rows of the demo county's 80 columns: 14 strips)."""
    from riskmap.risk_plugin.parallel import grid_strips
    monkeypatch.setattr(grid_strips, "STRIP_CELLS", 500)


def read_layer(path):
    import pyogrio
    return pyogrio.read_dataframe(path)


def assert_layers_identical(a, b):
    """Every attribute, bit for bit, and every geometry's WKB, in the same order."""
    import shapely
    assert list(a.columns) == list(b.columns)
    assert_frames_identical(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert (shapely.to_wkb(a.geometry.values) == shapely.to_wkb(b.geometry.values)).all()


@pytest.mark.parametrize("support", ["grid", "units"])
def test_fourcolor_dask_is_identical(demo_county, hazard_tif, dispatcher, small_pieces, small_strips, tmp_path,
                                     support):
    """Risk level of every 100 m grid piece (or village) and the township × level table identical; on the
    grid the workers build, count, grade and write the pieces in strips (14 here, each population block
    met by several), and the joined output layer is the one-process layer, piece for piece."""
    kw = dict(hazard=hazard_tif, population=demo_county["population"], buildings=demo_county["buildings"],
              facilities=demo_county["facilities"], townships=demo_county["townships"], support=support)
    if support == "units":
        kw["units"] = demo_county["villages"]
    a = run("fourcolor", None, output=str(tmp_path / "a.gpkg"), **kw)
    b = run("fourcolor", dispatcher, output=str(tmp_path / "b.gpkg"), **kw)
    assert_frames_identical(a["table"], b["table"])
    assert {k: v for k, v in a.items() if k.isupper()} == {k: v for k, v in b.items() if k.isupper()}
    assert_layers_identical(read_layer(tmp_path / "a.gpkg"), read_layer(tmp_path / "b.gpkg"))
    assert set(a["layer"]["risk_level"]) >= {1, 4}        # the map has red and blue
    if support == "units":
        assert_frames_identical(a["layer"].drop(columns="geometry"), b["layer"].drop(columns="geometry"))
        assert dispatcher.tasks["population"] > 1 and dispatcher.tasks["features_count"] > 1
    else:
        assert b["layer"] is None                          # the layer is only in the output file
        assert dispatcher.tasks["grid_strips"] >= 4 and dispatcher.tasks["feature_points"] > 1
        assert not dispatcher.tasks["population"]          # people counted inside the strips
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gpkg", "b.gpkg"]   # no part left


def test_fourcolor_dask_vrt_output_is_the_workers_parts(demo_county, hazard_tif, dispatcher, small_pieces,
                                                       small_strips, tmp_path):
    """Output ``….vrt`` (the province case): the workers write their strips' GeoPackage parts and the driver
    only writes the union .vrt over them. Read through GDAL, and opened in QGIS, it is the one-process
    GeoPackage layer piece for piece (feature count, extent and CRS written into the .vrt); a rerun replaces
    it; the one-process run writes the same layer as a single part."""
    import pyogrio
    from qgis.core import QgsVectorLayer
    kw = dict(hazard=hazard_tif, population=demo_county["population"], buildings=demo_county["buildings"],
              facilities=demo_county["facilities"], townships=demo_county["townships"])
    a = run("fourcolor", None, output=str(tmp_path / "a.gpkg"), **kw)
    one = read_layer(tmp_path / "a.gpkg")
    for _ in range(2):                                    # the second run replaces the first
        b = run("fourcolor", dispatcher, output=str(tmp_path / "b.vrt"), **kw)
        assert {k: v for k, v in a.items() if k.isupper()} == {k: v for k, v in b.items() if k.isupper()}
        assert_layers_identical(one, read_layer(tmp_path / "b.vrt"))
    parts = sorted((tmp_path / "b_parts").iterdir())
    assert len(parts) == dispatcher.tasks["grid_strips"] // 2 >= 4      # one part per strip (14 strips here)
    assert sum(pyogrio.read_info(p)["features"] for p in parts) == len(one) == a["SUPPORTS"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gpkg", "b.vrt", "b_parts"]    # nothing else left
    layer = QgsVectorLayer(str(tmp_path / "b.vrt"), "b", "ogr")
    assert layer.isValid() and layer.featureCount() == len(one)
    assert layer.crs().authid() == "EPSG:4545"
    xmin, ymin, xmax, ymax = one.total_bounds
    e = layer.extent()
    assert (e.xMinimum(), e.yMinimum(), e.xMaximum(), e.yMaximum()) == pytest.approx((xmin, ymin, xmax, ymax))
    reds = [f["people"] for f in layer.getFeatures() if f["risk_level"] == 1]
    assert sorted(reds) == sorted(one.loc[one["risk_level"] == 1, "people"])
    c = run("fourcolor", None, output=str(tmp_path / "c.vrt"), **kw)
    assert c["SUPPORTS"] == a["SUPPORTS"]
    assert [p.name for p in (tmp_path / "c_parts").iterdir()] == ["part_00000.gpkg"]
    assert_layers_identical(one, read_layer(tmp_path / "c.vrt"))


@pytest.mark.parametrize("case", ["vulnerability", "hazard_polygons"])
def test_fourcolor_grid_strips_other_inputs(demo_county, hazard_tif, dispatcher, small_pieces, small_strips, tmp_path,
                                            case):
    """A vulnerability raster (sampled per strip), or hazard polygons (burnt per strip), and a run without an
    output layer: the same numbers, layer and table."""
    kw = dict(population=demo_county["population"], buildings=demo_county["buildings"],
              townships=demo_county["townships"])
    if case == "vulnerability":
        kw.update(hazard=hazard_tif, vulnerability=hazard_tif, vulnerability_raise=0.5)
    else:
        kw.update(hazard=demo_county["flood_zones"], hazard_field="重现期", hazard_mapping="10=4; 50=3; 100=2")
    a = run("fourcolor", None, output=str(tmp_path / "a.gpkg"), **kw)
    b = run("fourcolor", dispatcher, output=str(tmp_path / "b.gpkg"), **kw)
    assert {k: v for k, v in a.items() if k.isupper()} == {k: v for k, v in b.items() if k.isupper()}
    assert_layers_identical(read_layer(tmp_path / "a.gpkg"), read_layer(tmp_path / "b.gpkg"))
    if case == "vulnerability":
        assert read_layer(tmp_path / "b.gpkg")["raised_by_vulnerability"].any()
    else:
        assert set(a["layer"]["max_hazard_class"]) >= {0, 2, 4}
    assert dispatcher.tasks["grid_strips"] >= 4
    c = run("fourcolor", dispatcher, output_table=str(tmp_path / "c.csv"), **kw)
    assert_frames_identical(a["table"], c["table"])
    assert {k: v for k, v in a.items() if k.isupper()} == {k: v for k, v in c.items() if k.isupper()}


@pytest.fixture
def population_in_degrees(demo_county, tmp_path):
    """The demo population (people per km²) warped to EPSG:4326: its cells are no longer the grid's."""
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject
    with rasterio.open(demo_county["population"]) as src:
        t, w, h = calculate_default_transform(src.crs, "EPSG:4326", src.width, src.height, *src.bounds)
        prof = src.profile | {"crs": "EPSG:4326", "transform": t, "width": w, "height": h, "dtype": "float64",
                              "nodata": None}
        out = np.zeros((h, w))
        reproject(src.read(1).astype(float) / (src.res[0] * src.res[1] / 1e6), out, src_transform=src.transform,
                  src_crs=src.crs, dst_transform=t, dst_crs="EPSG:4326", resampling=Resampling.nearest)
    path = tmp_path / "pop_degrees.tif"
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(out, 1)
    return str(path)


def test_fourcolor_grid_strips_population_in_another_crs(demo_county, hazard_tif, dispatcher, small_pieces,
                                                         small_strips, population_in_degrees, tmp_path):
    """A population raster in degrees (the pieces are reprojected to it, cells no longer aligned with the grid):
    the strips still give the one-process numbers and layer."""
    kw = dict(hazard=hazard_tif, population=population_in_degrees, population_unit="per_km2",
              buildings=demo_county["buildings"], townships=demo_county["townships"])
    a = run("fourcolor", None, output=str(tmp_path / "a.gpkg"), **kw)
    b = run("fourcolor", dispatcher, output=str(tmp_path / "b.gpkg"), **kw)
    assert a["PEOPLE_LEVEL_4"] > 0
    assert {k: v for k, v in a.items() if k.isupper()} == {k: v for k, v in b.items() if k.isupper()}
    assert_layers_identical(read_layer(tmp_path / "a.gpkg"), read_layer(tmp_path / "b.gpkg"))
    assert dispatcher.tasks["grid_strips"] >= 4


def test_fourcolor_dask_driver_never_builds_the_whole_grid(demo_county, hazard_tif, dispatcher, small_pieces,
                                                           small_strips, tmp_path, monkeypatch):
    """In the driver process grid_support over the whole extent raises (the workers build their strips'
    rows): the grid run on Dask still gives the one-process numbers."""
    from riskmap.risk_plugin import fourcolor
    kw = dict(hazard=hazard_tif, population=demo_county["population"], buildings=demo_county["buildings"],
              facilities=demo_county["facilities"], townships=demo_county["townships"])
    a = run("fourcolor", None, **kw)
    whole = fourcolor.grid_support

    def guarded(*args, rows=None, **kwargs):
        assert rows is not None, "the driver built the whole grid"
        return whole(*args, rows=rows, **kwargs)
    monkeypatch.setattr(fourcolor, "grid_support", guarded)
    with pytest.raises(AssertionError, match="the driver built"):     # the guard works
        run("fourcolor", None, **kw)
    b = run("fourcolor", dispatcher, output=str(tmp_path / "b.gpkg"), **kw)
    assert {k: v for k, v in a.items() if k.isupper()} == {k: v for k, v in b.items() if k.isupper()}


def test_fourcolor_grid_strips_centroids_on_grid_lines(demo_county, hazard_tif, dispatcher, small_pieces,
                                                      small_strips, tmp_path):
    """Buildings (points) on every grid node and in the middle of every grid edge, so on every strip's edges:
    each goes to the first piece it touches, as in one process, and is counted once."""
    import geopandas as gpd
    import shapely
    from riskmap.risk_plugin.fourcolor import grid_shape
    towns = gpd.read_file(demo_county["townships"])
    x0, y1, nx, ny = grid_shape(towns.total_bounds, 100.0)
    c, r = np.meshgrid(np.arange(0, nx + 1, 0.5), np.arange(0, ny + 1, 0.5))
    on_line = (c % 1 == 0) | (r % 1 == 0)
    pts = shapely.points(x0 + 100.0 * c[on_line], y1 - 100.0 * r[on_line])
    gpd.GeoDataFrame({"residents": np.ones(len(pts))}, geometry=pts, crs=towns.crs).to_file(tmp_path / "nodes.gpkg")
    kw = dict(hazard=hazard_tif, population=demo_county["population"], buildings=str(tmp_path / "nodes.gpkg"),
              townships=demo_county["townships"])
    a = run("fourcolor", None, output=str(tmp_path / "a.gpkg"), **kw)
    b = run("fourcolor", dispatcher, output=str(tmp_path / "b.gpkg"), **kw)
    assert {k: v for k, v in a.items() if k.isupper()} == {k: v for k, v in b.items() if k.isupper()}
    assert_layers_identical(read_layer(tmp_path / "a.gpkg"), read_layer(tmp_path / "b.gpkg"))
    inside = shapely.intersects(shapely.union_all(towns.geometry.values), pts).sum()
    assert sum(b[f"BUILDINGS_LEVEL_{lv}"] for lv in range(1, 5)) == inside      # each once
    assert dispatcher.tasks["grid_strips"] >= 4


@pytest.mark.parametrize("when", ["strips", "join", "vrt parts"])
def test_fourcolor_grid_cancel_leaves_no_file(demo_county, hazard_tif, dispatcher, small_pieces, small_strips,
                                              tmp_path, when):
    """A cancel while the strips run, while the parts are being joined, or (.vrt output) once the workers have
    written some parts: Cancelled, and no output, no part and no temporary folder is left."""
    from riskmap.risk_plugin.errors import Cancelled
    from riskmap.risk_plugin.progress import Progress
    out = tmp_path / ("f.vrt" if when == "vrt parts" else "f.gpkg")
    if when == "strips":
        stop = lambda: dispatcher.tasks["grid_strips"] > 0          # noqa: E731
    elif when == "join":
        stop = lambda: any(tmp_path.glob(".riskmap-tmp-*/*.gpkg"))  # noqa: E731 - the first part appended
    else:
        stop = lambda: len(list(tmp_path.glob(".riskmap-tmp-*/f_parts/part_*.gpkg"))) >= 2   # noqa: E731
    with pytest.raises(Cancelled):
        run("fourcolor", dispatcher, hazard=hazard_tif, population=demo_county["population"],
            buildings=demo_county["buildings"], townships=demo_county["townships"],
            output=str(out), output_table=str(tmp_path / "f.csv"), progress=Progress(is_canceled=stop))
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------------------- shelters
def pair_set(result):
    s, t, d, _ = result["frames"]["pairs"]
    return sorted(zip(s.tolist(), t.tolist(), d.tolist()))


def assert_coverage_equal(a, b):
    da, db = a["frames"]["demand"], b["frames"]["demand"]
    assert list(da["status"]) == list(db["status"])
    assert list(da["shelter"]) == list(db["shelter"]) and list(da["nearest_shelter"]) == list(db["nearest_shelter"])
    for col in ("snap_m", "component"):
        assert list(da[col]) == list(db[col])
    for col in ("served_people", "unserved_people", "nearest_m", "shelter_m"):
        np.testing.assert_allclose(da[col].to_numpy(float), db[col].to_numpy(float), rtol=1e-9, atol=1e-9)
    sa, sb = a["frames"]["shelters"], b["frames"]["shelters"]
    for col in ("reachable_people", "first_choice_people", "assigned", "utilisation"):
        np.testing.assert_allclose(sa[col].to_numpy(float), sb[col].to_numpy(float), rtol=1e-9, atol=1e-9)
    for k in ("population_total", "population_within_reach", "population_served", "population_unserved"):
        assert a[k] == pytest.approx(b[k], rel=1e-12)


def test_shelter_coverage_dask_by_township_is_identical(demo_county, hazard_tif, dispatcher):
    """Demo county, partitioned by its 4 townships: the same pairs bit for bit, the same coverage."""
    kw = dict(shelters=demo_county["shelters"], demand=demo_county["buildings"], roads=demo_county["roads"],
              hazard=hazard_tif, units=demo_county["villages"])
    a = run("shelters", None, **kw)
    b = run("shelters", dispatcher, townships=demo_county["townships"], **kw)
    assert len(pair_set(a)) > 100
    assert pair_set(a) == pair_set(b)
    assert_coverage_equal(a, b)
    assert dispatcher.tasks["reach"] == 4                  # one task per township
    assert dispatcher.tasks["allocate"] >= 1               # the allocation too


def test_allocation_per_reach_component_on_the_workers(demo_county, hazard_tif, dispatcher, monkeypatch):
    """Batches of one reach component each (many tasks): every unit's served people, every shelter's
    assigned people and every status equal the one-process run's (county-wide allocation)."""
    from riskmap.risk_plugin import shelters as S
    from riskmap.risk_plugin.definitions import shelters as D
    kw = dict(shelters=demo_county["shelters"], demand=demo_county["buildings"], roads=demo_county["roads"],
              hazard=hazard_tif, units=demo_county["villages"])
    a = run("shelters", None, **kw)
    s, t, _, _ = a["frames"]["pairs"]
    _, n = S.reach_components(s, t, a["shelters"], a["demand_units"])
    monkeypatch.setattr(D, "ALLOCATION_BATCH_PAIRS", 1)
    b = run("shelters", dispatcher, townships=demo_county["townships"], **kw)
    with_pairs = len(np.unique(S.reach_components(s, t, a["shelters"], a["demand_units"])[0]))
    assert n > with_pairs > 5 and dispatcher.tasks["allocate"] == with_pairs
    assert_coverage_equal(a, b)
    assert a["population_served"] > 0 and a["population_unserved"] > 0


def guard_readers(monkeypatch, guarded):
    """Every whole-layer reader of the driver process raises for the files in ``guarded``."""
    import geopandas
    import pyogrio
    from riskmap.risk_plugin import exposure, inputs, io, shelter_run

    def guard(fn):
        def reader(source, *args, **kwargs):
            if str(source).split("|")[0] in guarded:
                raise AssertionError(f"the driver read {source}")
            return fn(source, *args, **kwargs)
        return reader

    for mod, name in ((io, "read_vector"), (exposure, "read_vector"), (inputs, "read_vector"),
                      (geopandas, "read_file"), (pyogrio, "read_dataframe"), (pyogrio, "read_arrow")):
        monkeypatch.setattr(mod, name, guard(getattr(mod, name)))
    assert not hasattr(shelter_run, "read_vector")            # shelter_run reads through inputs.load_vectors


def test_shelters_dask_driver_never_reads_the_demand_whole(demo_county, hazard_tif, dispatcher, small_pieces,
                                                          monkeypatch):
    """The demand (buildings) read and checked by the workers tile by tile, the driver's whole-layer readers
    raising for it: the same demand in the same order (FIDs, points, people) and the same coverage."""
    import pyogrio
    kw = dict(shelters=demo_county["shelters"], demand=demo_county["buildings"], roads=demo_county["roads"],
              hazard=hazard_tif, units=demo_county["villages"])
    a = run("shelters", None, **kw)
    guard_readers(monkeypatch, {demo_county["buildings"]})
    with pytest.raises(AssertionError, match="the driver read"):     # the guard works
        run("shelters", None, **kw)
    b = run("shelters", dispatcher, townships=demo_county["townships"], **kw)
    da, db = a["frames"]["demand"], b["frames"]["demand"]
    assert list(da["source_fid"]) == list(db["source_fid"])
    assert da.geometry.geom_equals_exact(db.geometry, tolerance=0).all()
    assert list(da["people"]) == list(db["people"]) and list(da["name"]) == list(db["name"])
    assert pair_set(a) == pair_set(b)
    assert_coverage_equal(a, b)
    assert b["demand_units"] == pyogrio.read_info(demo_county["buildings"])["features"]
    assert dispatcher.tasks["demand_check"] >= 4 and not dispatcher.tasks["demand_sweep"]


def test_shelters_dask_reports_demand_problems_of_every_tile_together(demo_county, hazard_tif, dispatcher,
                                                                      small_pieces, tmp_path, monkeypatch):
    """An invalid footprint in the first tile, a negative head count in the last, a null geometry in no
    tile (the sweep) and a shelter without a class: one ValidationError with all four, as one process
    (the driver's whole-layer readers raising for the demand)."""
    import geopandas as gpd
    from riskmap.risk_plugin.errors import ValidationError
    path, fid = bad_buildings(demo_county, tmp_path)
    sh = gpd.read_file(demo_county["shelters"])
    col = next(c for c in sh.columns if c in ("类别", "shelter_class", "场所类别"))
    sh.loc[0, col] = None
    shelters = str(tmp_path / "shelters.gpkg")
    sh.to_file(shelters, engine="pyogrio")
    kw = dict(shelters=shelters, demand=path, roads=demo_county["roads"])
    with pytest.raises(ValidationError) as local:
        run("shelters", None, **kw)
    guard_readers(monkeypatch, {path})
    with pytest.raises(ValidationError) as dask:
        run("shelters", dispatcher, townships=demo_county["townships"], **kw)
    problems = dask.value.problems
    feats = [tuple(map(int, p.features)) for p in problems if p.layer == "DEMAND"]
    assert sorted(feats) == sorted([(fid["invalid"],), (fid["negative"],), (fid["null"],)])
    assert any(p.layer == "SHELTERS" for p in problems)
    assert sorted(map(str, problems)) == sorted(map(str, local.value.problems))
    assert dispatcher.tasks["demand_check"] >= 4 and dispatcher.tasks["demand_sweep"] == 1
    assert not dispatcher.tasks["reach"]                       # nothing computed


def shelter_outputs(demo_county, hazard_tif, folder):
    return dict(shelters=demo_county["shelters"], demand=demo_county["buildings"], roads=demo_county["roads"],
                hazard=hazard_tif, units=demo_county["villages"], output_shelters=str(folder / "shelters.gpkg"),
                output_demand=str(folder / "demand.gpkg"), output_units=str(folder / "units.csv"))


def read_demand_layer(path):
    """(info, frame sorted by source_fid) of a written layer."""
    import pyogrio
    info = pyogrio.read_info(path)
    gdf = pyogrio.read_dataframe(path)
    return info, gdf.sort_values("source_fid", kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("joiner", ["gdal", "pyogrio"])
def test_shelters_dask_demand_output_written_per_tile_is_identical(demo_county, hazard_tif, dispatcher, small_pieces,
                                                                   tmp_path, monkeypatch, joiner):
    """The per-demand layer built and written by the workers, one part per demand tile, joined by the driver:
    every attribute and geometry, the field types, geometry type and CRS equal the one-process layer (rows
    sorted by source_fid: the parts come tile by tile), every number too; the driver never builds the
    whole frame; the parts folder is gone; the style hook ran on the output, whose .qml sits beside it. The parts
    are joined by GDAL (osgeo) or, without it, by pyogrio. The driver holds the demand as coordinates; its
    partitions and units join make points from them 500 at a time."""
    import sys
    import pandas as pd
    from riskmap.risk_plugin.outputs import on_output
    from riskmap.risk_plugin.parallel.runs import numbers
    (tmp_path / "a").mkdir()
    a = run("shelters", None, **shelter_outputs(demo_county, hazard_tif, tmp_path / "a"))
    from riskmap.risk_plugin.parallel import demand
    monkeypatch.setattr(demand, "POINTS_CHUNK", 500)          # the driver's points, made from coordinates by chunks
    built = []
    if joiner == "pyogrio":
        monkeypatch.setitem(sys.modules, "osgeo", None)      # import osgeo fails

    def styled(tmp, final):                                  # as processing/styling.py: a .qml beside the file
        built.append(final)
        if tmp.endswith(".gpkg"):
            with open(tmp[:-5] + ".qml", "w") as f:
                f.write("<qgis/>")
    with on_output(styled):
        b = run("shelters", dispatcher, townships=demo_county["townships"],
                **shelter_outputs(demo_county, hazard_tif, tmp_path / "b"))
    assert numbers("shelters", a) == numbers("shelters", b)
    for k in ("population_total", "population_within_reach", "population_served", "population_unserved"):
        assert a[k] == b[k]
    ia, fa = read_demand_layer(str(tmp_path / "a" / "demand.gpkg"))
    ib, fb = read_demand_layer(str(tmp_path / "b" / "demand.gpkg"))
    for k in ("crs", "geometry_type", "fields", "dtypes", "features", "layer_name", "geometry_name", "fid_column"):
        assert np.array_equal(ia[k], ib[k]) if k in ("fields", "dtypes") else ia[k] == ib[k], k
    pd.testing.assert_frame_equal(fa.drop(columns="geometry"), fb.drop(columns="geometry"), check_exact=True)
    assert (fa.geometry.to_wkb() == fb.geometry.to_wkb()).all()
    assert dispatcher.tasks["demand_write"] >= 4 and not dispatcher.tasks["demand_frame"]   # several parts
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["demand.gpkg", "demand.qml", "shelters.gpkg",
                                                                   "shelters.qml", "units.csv"]
    assert str(tmp_path / "b" / "demand.gpkg") in built
    assert (tmp_path / "a" / "units.csv").read_bytes() == (tmp_path / "b" / "units.csv").read_bytes()
    db = b["frames"]["demand"]                                 # lazy: built by the workers when read
    assert dispatcher.tasks["demand_frame"] >= 4
    pd.testing.assert_frame_equal(a["frames"]["demand"], db, check_exact=True)


def test_shelters_dask_demand_output_vrt_keeps_the_workers_parts(demo_county, hazard_tif, dispatcher, small_pieces,
                                                                 tmp_path):
    """A per-demand output ``….vrt``: the workers' parts, one per demand tile, are kept under the union .vrt,
    nothing is appended; read through GDAL it is the one-process layer (sorted by source_fid), every number too."""
    import pandas as pd
    import pyogrio
    from riskmap.risk_plugin.parallel.runs import numbers
    (tmp_path / "a").mkdir()
    a = run("shelters", None, **shelter_outputs(demo_county, hazard_tif, tmp_path / "a"))
    kw = shelter_outputs(demo_county, hazard_tif, tmp_path / "b") | {"output_demand": str(tmp_path / "b" / "demand.vrt")}
    b = run("shelters", dispatcher, townships=demo_county["townships"], **kw)
    assert numbers("shelters", a) == numbers("shelters", b)
    _, fa = read_demand_layer(str(tmp_path / "a" / "demand.gpkg"))
    _, fb = read_demand_layer(str(tmp_path / "b" / "demand.vrt"))
    pd.testing.assert_frame_equal(fa.drop(columns="geometry"), fb.drop(columns="geometry"), check_exact=True)
    assert (fa.geometry.to_wkb() == fb.geometry.to_wkb()).all()
    parts = sorted((tmp_path / "b" / "demand_parts").iterdir())
    assert len(parts) == dispatcher.tasks["demand_write"] >= 4 and not dispatcher.tasks["demand_frame"]
    assert sum(pyogrio.read_info(p)["features"] for p in parts) == len(fa)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["demand.vrt", "demand_parts", "shelters.gpkg",
                                                                   "units.csv"]


def test_shelters_dask_demand_output_other_than_gpkg_is_the_whole_frame(demo_county, hazard_tif, dispatcher,
                                                                        small_pieces, tmp_path):
    """A GeoJSON demand output (no reliable append): the rows built by the workers, joined on the driver in the
    one-process order and written whole: the same bytes as one process."""
    kw = dict(shelters=demo_county["shelters"], demand=demo_county["buildings"], roads=demo_county["roads"],
              hazard=hazard_tif, units=demo_county["villages"])
    run("shelters", None, output_demand=str(tmp_path / "a" / "demand.geojson"), **kw)
    run("shelters", dispatcher, townships=demo_county["townships"], output_demand=str(tmp_path / "b" / "demand.geojson"),
        **kw)
    assert dispatcher.tasks["demand_frame"] >= 4 and not dispatcher.tasks["demand_write"]
    assert (tmp_path / "a" / "demand.geojson").read_bytes() == (tmp_path / "b" / "demand.geojson").read_bytes()


def test_shelters_dask_cancel_or_failure_mid_write_leaves_no_output(demo_county, hazard_tif, dispatcher,
                                                                    small_pieces, tmp_path, monkeypatch):
    """A cancel while the workers write their parts, and a failure while the driver appends them: no output
    file, no part left, no temporary folder (the run's outputs are kept or removed together)."""
    from riskmap.risk_plugin.errors import Cancelled
    from riskmap.risk_plugin.outputs import output_transaction
    from riskmap.risk_plugin.parallel import demand_out
    from riskmap.risk_plugin.progress import Progress
    with pytest.raises(Cancelled), output_transaction():
        run("shelters", dispatcher, townships=demo_county["townships"],
            progress=Progress(is_canceled=lambda: dispatcher.tasks["demand_write"] > 0),
            **shelter_outputs(demo_county, hazard_tif, tmp_path / "cancel"))
    assert dispatcher.tasks["demand_write"] > 0 and not (tmp_path / "cancel").exists()
    append = demand_out._append

    def fails_on_append(part, tmp, layer, crs, kind, first):
        if not first:
            raise OSError("simulated: the disk failed during the append")
        return append(part, tmp, layer, crs, kind, first)
    monkeypatch.setattr(demand_out, "_append", fails_on_append)
    (tmp_path / "fail").mkdir()
    with pytest.raises(OSError, match="simulated"):
        run("shelters", dispatcher, townships=demo_county["townships"],
            **shelter_outputs(demo_county, hazard_tif, tmp_path / "fail"))
    assert sorted(p.name for p in (tmp_path / "fail").iterdir()) == ["shelters.gpkg"]   # written before, alone
    assert dispatcher.tasks["demand_write"] >= 4


def border_case(tmp_path):
    """Two 1 km townships side by side (border at x = 1000) and one road along y = 500 across both.
    Township A's shelter (x = 350) serves its house at x = 200 but is 550–630 m from its eastern
    houses (x = 900, 950, 980), whose shelter is across the border in B (x = 1150, 170–250 m away). All on the road: walking
    distance = |Δx|. Emergency shelters: 500 m service distance, 1 person per m²."""
    import geopandas as gpd
    import shapely

    def gpkg(name, columns, geoms):
        path = str(tmp_path / f"{name}.gpkg")
        gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS).to_file(path, engine="pyogrio")
        return path

    def pt(x, y=500.0):
        return shapely.Point(X0 + x, Y0 + y)

    towns = gpkg("towns", {"名称": ["甲镇", "乙镇"]},
                 [shapely.box(X0, Y0, X0 + 1000, Y0 + 1000), shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)])
    roads = gpkg("roads", {"名称": ["大道"]}, [shapely.LineString([(X0, Y0 + 500), (X0 + 2000, Y0 + 500)])])
    shelters = gpkg("shelters", {"名称": ["甲镇广场", "乙镇学校"], "类别": ["紧急", "紧急"], "有效面积": [100.0, 100.0]},
                    [pt(350), pt(1150)])
    xs = [200, 900, 950, 980, 1100, 1800]
    demand = gpkg("demand", {"名称": [f"户{x}" for x in xs], "居住人数": [5, 3, 4, 6, 2, 1]}, [pt(x) for x in xs])
    return dict(shelters=shelters, demand=demand, roads=roads), towns


def test_shelter_partition_buffer_keeps_border_demand(dispatcher, tmp_path):
    """By hand: the houses at x = 900, 950, 980 in A reach B's shelter (250, 200, 170 m), x = 200 reaches
    A's (150 m), x = 1100 in B reaches B's (50 m), x = 1800 none. Partitioned
    by township with the buffer, those cross-border pairs are all there; with the buffer set to 0 they
    are lost (13 people without a shelter), which is what the buffer prevents."""
    kw, towns = border_case(tmp_path)
    a = run("shelters", None, **kw)
    expected = [(0, 0, 150.0), (1, 1, 250.0), (1, 2, 200.0), (1, 3, 170.0), (1, 4, 50.0)]  # (shelter, house, m)
    got = [(s, t, round(d, 6)) for s, t, d in pair_set(a)]
    assert got == expected
    b = run("shelters", dispatcher, townships=towns, **kw)
    assert pair_set(b) == pair_set(a)
    assert_coverage_equal(a, b)
    assert b["population_served"] == 5 + 3 + 4 + 6 + 2                        # x = 1800 is 650 m from B's shelter
    assert dispatcher.tasks["reach"] == 2
    c = run("shelters", dispatcher, townships=towns, buffer_m=0.0, **kw)        # no buffer: the negative control
    lost = set(pair_set(a)) - set(pair_set(c))
    assert {(s, t) for s, t, _ in lost} == {(1, 1), (1, 2), (1, 3)}
    assert c["population_within_reach"] == a["population_within_reach"] - 13


def assert_snaps_identical(a, b):
    for f in ("ok", "segment", "offset", "distance", "x", "y"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


def test_demand_is_snapped_on_the_workers_as_on_the_whole_graph(demo_county, dispatcher):
    """1 km tiles (dozens of tasks, most demand near a tile edge), and the tiles without a halo
    (buffer 0): every demand unit's snap (segment, offset, distance, position) equals the one-process
    snap on the whole graph bit for bit, and so do the pairs; the driver snapped no demand."""
    import geopandas as gpd
    from riskmap.risk_plugin import network, shelters as S
    from riskmap.risk_plugin.parallel.reach import make_reach
    from riskmap.risk_plugin.shelter_run import load_demand
    roads = gpd.read_file(demo_county["roads"], engine="pyogrio").to_crs(CRS)
    net = network.RoadNetwork.from_lines(roads.geometry.values)
    sh = gpd.read_file(demo_county["shelters"], engine="pyogrio").to_crs(CRS).geometry.values
    dem = load_demand(demo_county["buildings"])[0].to_crs(CRS).geometry.values
    limits = np.full(len(sh), 1000.0)
    a = S.reach(sh, limits, dem, network=net, max_snap=300.0)
    calls = []
    snap = network.RoadNetwork.snap

    def counted(self, pts, max_snap=300.0):
        calls.append(len(pts))
        return snap(self, pts, max_snap)
    network.RoadNetwork.snap = counted
    try:
        b = make_reach(dispatcher, None, tile_m=1000.0)(sh, limits, dem, network=net, max_snap=300.0)
        c = make_reach(dispatcher, None, buffer_m=0.0, tile_m=1000.0)(sh, limits, dem, network=net, max_snap=300.0)
    finally:
        network.RoadNetwork.snap = snap
    assert calls == [len(sh), len(sh)]                     # on the driver: the shelters only
    assert dispatcher.tasks["reach"] >= 2 * 40
    assert a.demand_snap.ok.sum() > 0.9 * len(dem) and (~a.demand_snap.ok).any()   # both kinds
    for r in (b, c):
        assert_snaps_identical(a.demand_snap, r.demand_snap)
        assert_snaps_identical(a.shelter_snap, r.shelter_snap)
        np.testing.assert_array_equal(a.demand_component, r.demand_component)
    key = lambda r: sorted(zip(r.s.tolist(), r.t.tolist(), r.d.tolist()))  # noqa: E731
    assert len(a.s) > 100 and key(a) == key(b)


def _square(x):
    return x * x


def test_map_stream_keeps_few_pieces_ahead_of_the_results(dispatcher):
    """20 pieces made one by one with 3 in flight: results in order, and when piece k is made at
    most 2 earlier pieces are still without a result (with the new one: 3 on the driver or the cluster)."""
    from riskmap.risk_plugin.progress import Progress
    done = []
    ahead = []

    def pieces():
        for k in range(20):
            ahead.append(k - len(done))
            yield k
    out = dispatcher.map_stream("square", _square, pieces(), 20, 3, progress=Progress(on_progress=done.append))
    assert out == [k * k for k in range(20)]
    assert max(ahead) == 2 and len(done) == 20 and dispatcher.tasks["square"] == 20


def test_snap_across_a_tile_edge_and_a_tie_go_as_on_the_whole_graph(dispatcher):
    """By hand: tiles of 1 km, no halo. A house at x = 990 (tile 0) is 60 m from the road at x = 1050
    (tile 1) and 190 m from the one at x = 800: it snaps to x = 1050. A house at x = 1500 lies halfway
    between two roads (x = 1400 and x = 1600, 100 m each): the tie goes to the first segment, road 2
    (x = 1400, listed before x = 1600)."""
    import shapely
    from riskmap.risk_plugin import network, shelters as S
    from riskmap.risk_plugin.parallel.reach import make_reach
    lines = [shapely.LineString([(x, 0), (x, 1000)]) for x in (800.0, 1050.0, 1400.0, 1600.0)]
    net = network.RoadNetwork.from_lines(np.array(lines, dtype=object))
    dem = np.array([shapely.Point(990, 500), shapely.Point(1500, 500)], dtype=object)
    sh = np.array([shapely.Point(1050, 900)], dtype=object)
    a = S.reach(sh, [500.0], dem, network=net, max_snap=300.0)
    b = make_reach(dispatcher, None, buffer_m=0.0, tile_m=1000.0)(sh, [500.0], dem, network=net, max_snap=300.0)
    assert dispatcher.tasks["reach"] == 2
    assert_snaps_identical(a.demand_snap, b.demand_snap)                      # no halo: the snap is still right
    assert list(b.demand_snap.distance) == [60.0, 100.0]
    assert list(net.seg_feature[b.demand_snap.segment]) == [1, 2]
    assert list(b.demand_snap.x) == [1050.0, 1400.0]
    assert (list(a.s), list(a.t), list(a.d)) == ([0], [0], [400.0 + 60.0])   # house 1: its road (x = 1400) never meets the shelter's
    c = make_reach(dispatcher, None, tile_m=1000.0)(sh, [500.0], dem, network=net, max_snap=300.0)
    assert_snaps_identical(a.demand_snap, c.demand_snap)                      # with the halo: the pair too
    assert (list(c.s), list(c.t), list(c.d)) == ([0], [0], [460.0])


# --------------------------------------------------------------------------------------- CLI and seams
def test_cli_exposure_on_a_running_scheduler(demo_county, hazard_tif, dask_client, small_pieces, tmp_path, capsys):
    """`python -m risk_plugin exposure … --engine dask --scheduler ADDRESS` prints the numbers of the
    local run and its stats file shows the tasks on the cluster's 2 workers."""
    import json
    from riskmap.risk_plugin.cli import main
    args = ["exposure", "--hazard", hazard_tif, "--population", demo_county["population"],
            "--buildings", demo_county["buildings"], "--units", demo_county["villages"]]
    assert main(args + ["--output-table", str(tmp_path / "local.csv")]) == 0
    local = capsys.readouterr().out
    assert main(args + ["--output-table", str(tmp_path / "dask.csv"), "--engine", "dask", "--scheduler",
                        dask_client.scheduler.address, "--stats", str(tmp_path / "stats.json")]) == 0
    dask = capsys.readouterr().out
    numbers = [line for line in local.splitlines() if "\t" in line]
    assert numbers and numbers == [line for line in dask.splitlines() if "\t" in line]
    assert (tmp_path / "local.csv").read_bytes() == (tmp_path / "dask.csv").read_bytes()
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["engine"] == "dask" and stats["workers"] == 2 and stats["tasks"]["population"] == 16
    assert len(stats["worker_memory"]) == 2 and all(m["peak_mib"] > 0 for m in stats["worker_memory"].values())


def test_cancel_on_dask_restores_the_engine_and_writes_nothing(demo_county, hazard_tif, dispatcher, small_pieces,
                                                                tmp_path):
    """A cancel while blocks run on the cluster: Cancelled is raised, no output file appears, and the
    engine's own kernels are back in place (the swap is undone)."""
    from riskmap.risk_plugin import exposure, zonal
    from riskmap.risk_plugin.errors import Cancelled
    from riskmap.risk_plugin.progress import Progress
    with pytest.raises(Cancelled):       # cancel as soon as the population blocks are on the cluster
        run("exposure", dispatcher, hazard=hazard_tif, population=demo_county["population"],
            units=[demo_county["villages"]], output_table=str(tmp_path / "t.csv"),
            progress=Progress(is_canceled=lambda: dispatcher.tasks["population"] > 0))
    assert not list(tmp_path.iterdir())
    assert exposure.population_by_unit is zonal.population_by_unit
    assert exposure.assign_units.__module__ == exposure.__name__


def test_a_moved_seam_stops_the_dask_path(engine):
    """If an engine module no longer holds the kernel the Dask path replaces, the run stops with a
    message naming it, and nothing stays swapped."""
    from riskmap.risk_plugin import exposure, zonal
    from riskmap.risk_plugin.parallel.seams import SeamError, swapped
    with pytest.raises(SeamError, match="exposure.population_by_unit"):
        with swapped((exposure, "feature_classes", exposure.feature_classes, lambda *a: None),
                     (exposure, "population_by_unit", zonal.PopulationRaster, lambda *a: None)):
            pass
    assert exposure.feature_classes.__module__ == exposure.__name__


def test_driver_gdal_cache_is_capped_on_dask_and_restored(dask_client):
    """The driver's GDAL block cache is DRIVER_GDAL_CACHE_MB inside a Dask run (GDAL's default, 5 % of RAM,
    made the susceptibility driver grow with the DEM), and GDAL's own value again afterwards."""
    import ctypes
    import ctypes.util
    from riskmap.risk_plugin.parallel import runs
    lib = ctypes.CDLL(ctypes.util.find_library("gdal"))
    lib.GDALGetCacheMax64.restype = ctypes.c_int64
    before = lib.GDALGetCacheMax64()
    with runs.dask_engine(client=dask_client):
        inside = lib.GDALGetCacheMax64()
    assert inside == runs.DRIVER_GDAL_CACHE_MB * 2 ** 20
    assert lib.GDALGetCacheMax64() == before
