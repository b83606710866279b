"""The demo county: a fictional county in the Wuling mountains (29.5°N, 108.8°E), in
CGCS2000 / 3-degree Gauss-Krüger CM 108°E (EPSG:4545), generated deterministically
from a seed by the project's own code.

>>> paths = generate("demo_output/county", size_km=30, cell_size=10, townships=10, seed=2025)
>>> paths["dem"]            # 'demo_output/county/dem.tif'

Layers and fields are listed in docs/DEVELOPING.md; all of them pass the schemas
in data_schemas/.
"""
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from ..burn import rasterize
from rasterio.transform import from_origin
from scipy import ndimage

from .. import hydrology
from ..io import write_raster, write_vector
from ..progress import ensure
from . import admin, hazards, response, roads, seismic, settlements
from .terrain import slope_degrees, synth_dem

CRS = "EPSG:4545"
CENTRE_LONLAT = (108.8, 29.5)
HYDRO_CELL = 30.0        # hydrology, settlement siting and hazards run on a 30 m grid (or the DEM's, if coarser)
POP_CELL = 100.0         # population raster cell, as WorldPop / census grids
STREAM_KM2 = 1.0         # rivers drain at least 1 km²
MAIN_RIVER_KM2 = 8.0     # flood zones along rivers draining at least 8 km²
NODATA = -9999.0
ROAD_CELL = 90.0         # least-cost road routing grid
MAX_HYDRO_CELLS = 4000   # the hydrology grid stays ≤ 4000 × 4000 (e.g. 90 m for a 300 km county)


def county_bounds(size_km):
    cx, cy = Transformer.from_crs(4490, 4545, always_xy=True).transform(*CENTRE_LONLAT)
    half = size_km * 500.0
    cx, cy = round((cx - half) / 100) * 100 + half, round((cy - half) / 100) * 100 + half
    return cx - half, cy - half, cx + half, cy + half


def generate(out_dir, size_km=30.0, cell_size=10.0, townships=10, villages_per_township=10,
             buildings_per_village=800, seed=2025, dem_only=False, progress=None):
    """Write the demo county into ``out_dir``; returns {layer name: path} (plus 'dir')."""
    progress = ensure(progress)
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bounds = county_bounds(size_km)
    minx, miny, maxx, maxy = bounds
    hcell = max(HYDRO_CELL, cell_size, size_km * 1000 / MAX_HYDRO_CELLS)
    zoom = int(round(hcell / cell_size))
    hcell = cell_size * zoom
    n_fine = int(round(size_km * 1000 / cell_size))
    nc = -(-n_fine // zoom)       # the coarse grid covers the county; the fine rasters are cut to it exactly
    coarse_t = from_origin(minx, maxy, hcell, hcell)
    fine_t = from_origin(minx, maxy, cell_size, cell_size)
    paths = {"dir": str(out)}

    progress.info("地形 / terrain")
    zc, zf = synth_dem((nc, nc), zoom, rng, cell=hcell)
    zf = zf[:n_fine, :n_fine]
    paths["dem"] = write_raster(zf, out / "dem.tif", fine_t, CRS, NODATA)
    progress.set(10)
    if dem_only:
        return paths

    progress.info("水系 / rivers")
    filled = hydrology.fill_depressions(zc)
    recv = hydrology.d8_receivers(filled, hcell)
    acc = hydrology.flow_accumulation(recv)
    stream = hydrology.stream_mask(acc, STREAM_KM2 * 1e6 / hcell ** 2)
    river_lines = hydrology.stream_lines(stream, recv, coarse_t)
    import geopandas as gpd
    rivers = gpd.GeoDataFrame({"名称": [f"溪沟{i + 1}" for i in range(len(river_lines))]},
                              geometry=river_lines, crs=CRS)
    rivers["汇水面积km2"] = np.round(acc.ravel()[_cells_at_end(river_lines, coarse_t, nc)] * hcell ** 2 / 1e6, 2)
    paths["rivers"] = write_vector(rivers, out / "rivers.gpkg")
    progress.set(25)

    progress.info("洪水 / floods")
    zones, depth_c, hand = hazards.flood_layers(filled, recv, acc, MAIN_RIVER_KM2 * 1e6 / hcell ** 2, coarse_t, CRS)
    paths["flood_zones"] = write_vector(zones, out / "flood_zones.gpkg")
    depth = (depth_c if zoom == 1 else np.kron(depth_c, np.ones((zoom, zoom), np.float32)))[:n_fine, :n_fine]
    paths["flood_depth_100"] = write_raster(depth.astype(np.float32), out / "flood_depth_100.tif", fine_t, CRS, NODATA)
    progress.set(35)

    progress.info("行政区 / townships and villages")
    towns, villages, seats = admin.partition(bounds, townships, villages_per_township, rng, CRS)
    paths["townships"] = write_vector(towns, out / "townships.gpkg")
    paths["villages"] = write_vector(villages, out / "villages.gpkg")

    progress.info("建筑与人口 / buildings and population")
    slope_c = slope_degrees(zc, hcell)
    vid = rasterize(villages.geometry.values, np.arange(len(villages)), out_shape=(nc, nc),
                    transform=coarse_t, fill=-1, dtype="int32")
    dist_river = ndimage.distance_transform_edt(~stream) * hcell
    low = zc < np.percentile(zc, 55)
    suit = ((slope_c < 12) * (dist_river > 60) * (dist_river < 1500) * (0.3 + low)).astype(float)
    centres = settlements.cluster_centres(suit, vid, len(villages), coarse_t, rng)
    inv = ~coarse_t

    def slope_at(x, y):
        c, r = inv * (x, y)
        return slope_c[np.clip(r.astype(int), 0, nc - 1), np.clip(c.astype(int), 0, nc - 1)]

    bldg = settlements.buildings(centres, villages, slope_at, buildings_per_village, rng, CRS)
    # earthquake layers from their own random stream: the rest of the county is unchanged by them
    faults = seismic.fault(bounds, CRS)
    zoning = seismic.zoning(bounds, faults, CRS)
    paths["faults"] = write_vector(faults, out / "faults.gpkg")
    paths["seismic_zoning"] = write_vector(zoning, out / "seismic_zoning.gpkg")
    bldg = seismic.building_attributes(bldg, zoning, seismic.rng_for(seed))
    pop_cell = max(POP_CELL, cell_size)
    pop = settlements.population_raster(bldg, bounds, pop_cell)
    paths["population"] = write_raster(pop, out / "population.tif", from_origin(minx, maxy, pop_cell, pop_cell), CRS, NODATA)
    paths["facilities"] = write_vector(settlements.facilities(bldg, villages, towns, rng, CRS), out / "facilities.gpkg")
    paths["shelters"] = write_vector(settlements.shelters(bldg, villages, towns, rng, CRS), out / "shelters.gpkg")
    paths["shelter_candidates"] = write_vector(settlements.candidates(bldg, villages, rng, CRS), out / "shelter_candidates.gpkg")
    paths["sites"] = write_vector(settlements.sites(bldg, towns, rng, CRS), out / "sites.gpkg")
    progress.set(55)

    progress.info("道路 / roads")
    seat_xy = np.column_stack([shapely.get_x(seats.geometry.values), shapely.get_y(seats.geometry.values)])
    nodes = np.vstack([seat_xy, np.column_stack(centres[:2])])
    is_seat = np.r_[np.ones(len(seat_xy), bool), np.zeros(len(centres[0]), bool)]
    rz = max(1, int(np.ceil(max(ROAD_CELL, size_km * 1000 / 400) / hcell)))  # route on a ≤400×400 grid
    m = nc // rz * rz
    z_road = zc[:m, :m].reshape(m // rz, rz, m // rz, rz).mean(axis=(1, 3))
    main = (stream & (acc >= MAIN_RIVER_KM2 * 1e6 / hcell ** 2))[:m, :m].reshape(m // rz, rz, m // rz, rz).any(axis=(1, 3))
    road = roads.road_network(z_road, main, from_origin(minx, maxy, hcell * rz, hcell * rz), nodes, is_seat, rng, CRS,
                              progress=progress.sub(55, 67))
    paths["roads"] = write_vector(road, out / "roads.gpkg")
    progress.set(70)

    progress.info("地质灾害 / geohazards")
    bmask = rasterize(bldg.geometry.values, 1, out_shape=(nc, nc), transform=coarse_t, fill=0,
                      dtype="uint8", all_touched=True).astype(bool)
    dist_bldg = ndimage.distance_transform_edt(~bmask) * hcell
    n_points = max(10, int(len(villages) * 0.8))
    paths["geohazard_points"] = write_vector(
        hazards.geohazard_points(slope_c, dist_bldg, coarse_t, hcell, bldg, villages, rng, CRS, n_points),
        out / "geohazard_points.gpkg")
    curv = ndimage.laplace(zc.astype(np.float64))
    n_slides = max(30, int(size_km * size_km / 3))
    paths["landslide_inventory"] = write_vector(
        hazards.landslide_inventory(slope_c, curv, coarse_t, rng, CRS, n_slides), out / "landslide_inventory.gpkg")
    progress.set(85)

    progress.info("森林 / forest")
    fz = 3 if nc >= 300 else 1
    zf3 = zc[:nc // fz * fz, :nc // fz * fz].reshape(nc // fz, fz, nc // fz, fz).mean(axis=(1, 3))
    non_forest = (dist_bldg < 200) | (hand <= hazards.FLOOD_HAND_M[10])
    nf3 = non_forest[:nc // fz * fz, :nc // fz * fz].reshape(nc // fz, fz, nc // fz, fz).mean(axis=(1, 3)) > 0.5
    forest = hazards.forest(zf3, nf3, from_origin(minx, maxy, hcell * fz, hcell * fz), rng, CRS)
    paths["forest"] = write_vector(forest, out / "forest.gpkg")
    paths["fire_history"] = write_vector(hazards.fire_history(forest, road, rng, CRS), out / "fire_history.gpkg")
    progress.info("救援力量与预警设施 / response facilities and warning devices")
    paths.update(response.generate(out, paths, seed, buildings=bldg))   # its own random stream: nothing above changes
    bldg = bldg.drop(columns=["village_idx"])
    paths["buildings"] = write_vector(bldg, out / "buildings.gpkg")
    progress.set(100)
    return paths


def _cells_at_end(lines, transform, n):
    """Grid cell under the last vertex of each line (the downstream end)."""
    ends = shapely.get_point(np.asarray(lines, dtype=object), -1)
    c, r = ~transform * (shapely.get_x(ends), shapely.get_y(ends))
    return np.clip(r.astype(int), 0, n - 1) * n + np.clip(c.astype(int), 0, n - 1)


def summary(paths):
    """Counts a technician checks first: buildings, residents, villages, townships."""
    from ..io import read_vector
    b = read_vector(paths["buildings"])
    return {"BUILDINGS": int(len(b)), "RESIDENTS": int(b["居住人数"].sum()),
            "VILLAGES": int(len(read_vector(paths["villages"]))), "TOWNSHIPS": int(len(read_vector(paths["townships"])))}
