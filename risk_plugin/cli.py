"""Command line for runs without QGIS: ``python -m risk_plugin <command> …``.

    python -m risk_plugin demo --out demo_output/county --size-km 30 --cell-size 10
    python -m risk_plugin validate villages.shp --kind villages
    python -m risk_plugin exposure --hazard zoning.tif --population pop.tif --units villages.gpkg
    python -m risk_plugin fourcolor --hazard zoning.tif --population pop.tif --townships towns.gpkg
    python -m risk_plugin susceptibility --dem dem.tif --inventory slides.gpkg --output-index index.tif
    python -m risk_plugin shelters --shelters shelters.gpkg --demand buildings.gpkg --roads roads.gpkg
    python -m risk_plugin fourcolor … --engine dask --workers 2 --stats stats.json
    python -m risk_plugin fourcolor … --engine dask --scheduler tcp://10.0.0.5:8786

The four analysis commands run in one process (--engine local, the default) or on Dask
(--engine dask: a LocalCluster of --workers processes, or the cluster at --scheduler); the results
are the same (docs/scaling.md). --stats FILE writes time, tasks and peak memory per worker as JSON.
"""
import argparse
import json
import sys

from . import notices
from .errors import RiskMapError
from .outputs import output_transaction
from .progress import Progress


def _progress():
    return Progress(on_progress=lambda p: print(f"\r{p:5.1f} %", end="", file=sys.stderr, flush=True),
                    on_info=lambda m: print(f"\n{m}", file=sys.stderr))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m risk_plugin", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="generate the demo county")
    d.add_argument("--out", required=True)
    d.add_argument("--size-km", type=float, default=30.0)
    d.add_argument("--cell-size", type=float, default=10.0)
    d.add_argument("--townships", type=int, default=10)
    d.add_argument("--villages-per-township", type=int, default=10)
    d.add_argument("--buildings-per-village", type=int, default=800)
    d.add_argument("--seed", type=int, default=2025)
    d.add_argument("--dem-only", action="store_true")
    v = sub.add_parser("validate", help="check a layer against its schema")
    v.add_argument("source")
    v.add_argument("--kind", required=True)
    v.add_argument("--report")
    _analysis_parsers(sub)
    args = ap.parse_args(argv)
    try:
        with output_transaction(), notices.collecting(lambda text: print(f"WARNING: {text}", file=sys.stderr)):
            return _command(args)
    except RiskMapError as exc:
        print(exc, file=sys.stderr)
        return 2


def _command(args):
    if args.command == "demo":
        from . import demo
        paths = demo.generate(args.out, size_km=args.size_km, cell_size=args.cell_size, townships=args.townships,
                              villages_per_township=args.villages_per_township,
                              buildings_per_village=args.buildings_per_village, seed=args.seed,
                              dem_only=args.dem_only, progress=_progress())
        print()
        for name, path in paths.items():
            print(f"{name}\t{path}")
    elif args.command == "validate":
        from .validation import validate_source
        problems = validate_source(args.source, args.kind, report_path=args.report)
        for p in problems:
            print(p)
        print(f"{len(problems)} 个问题 / problems")
        return 1 if problems else 0
    else:
        return _run_analysis(args)
    return 0


# ------------------------------------------------------------------------------------------ analyses
def _engine_options(p):
    g = p.add_argument_group("engine")
    g.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: one process; dask: dask.distributed (LocalCluster unless --scheduler)")
    g.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    g.add_argument("--workers", type=int, help="LocalCluster worker processes (default: one per CPU); with "
                                                "--scheduler: wait for this many workers")
    g.add_argument("--threads-per-worker", type=int, default=1)
    g.add_argument("--stats", help="write time, tasks and memory (driver, each worker) to this JSON file")


def _analysis_parsers(sub):
    from .definitions import exposure as DE
    from .definitions import fourcolor as DF
    from .definitions import shelters as DS
    from .definitions import susceptibility as DSU

    e = sub.add_parser("exposure", help="people, buildings and facilities per unit and hazard class")
    e.add_argument("--hazard", required=True, help="hazard class raster (0..4) or hazard polygons")
    e.add_argument("--hazard-field")
    e.add_argument("--hazard-mapping", help="text values to classes, e.g. 'yes=3; no=0'")
    e.add_argument("--population")
    e.add_argument("--population-unit", choices=DE.POPULATION_UNITS, default=DE.POPULATION_UNIT)
    e.add_argument("--buildings")
    e.add_argument("--residents-field")
    e.add_argument("--facilities")
    e.add_argument("--facility-type-field")
    e.add_argument("--units", action="append", default=[], help="units layer, one per level (repeat)")
    e.add_argument("--cell-rule", choices=DE.CELL_RULES, default=DE.CELL_RULE)
    e.add_argument("--building-rule", choices=DE.BUILDING_RULES, default=DE.BUILDING_RULE)
    e.add_argument("--max-cell-m", type=float)
    e.add_argument("--output-units")
    e.add_argument("--output-table")
    e.add_argument("--output-crs")
    _engine_options(e)

    f = sub.add_parser("fourcolor", help="four-color risk map (risk level per grid cell or unit)")
    f.add_argument("--hazard", required=True)
    f.add_argument("--hazard-field")
    f.add_argument("--hazard-mapping")
    f.add_argument("--population", required=True)
    f.add_argument("--population-unit", choices=DE.POPULATION_UNITS, default=DE.POPULATION_UNIT)
    f.add_argument("--buildings")
    f.add_argument("--residents-field")
    f.add_argument("--facilities")
    f.add_argument("--facility-type-field")
    f.add_argument("--townships")
    f.add_argument("--units", help="villages or townships, with --support units")
    f.add_argument("--support", choices=DF.SUPPORTS, default=DF.SUPPORT)
    f.add_argument("--cell-size", type=float, default=DF.CELL_SIZE)
    f.add_argument("--matrix", help="4×4 risk matrix, rows ';'-separated")
    f.add_argument("--vulnerability")
    f.add_argument("--cell-rule", choices=DE.CELL_RULES, default=DE.CELL_RULE)
    f.add_argument("--building-rule", choices=DE.BUILDING_RULES, default=DE.BUILDING_RULE)
    f.add_argument("--output")
    f.add_argument("--output-table")
    f.add_argument("--output-crs")
    _engine_options(f)

    s = sub.add_parser("susceptibility", help="landslide susceptibility index and zones on the DEM grid")
    s.add_argument("--dem", required=True)
    s.add_argument("--inventory", required=True)
    s.add_argument("--presence-field")
    s.add_argument("--method", choices=DSU.METHODS, default=DSU.METHOD)
    s.add_argument("--folds", type=int, default=DSU.FOLDS)
    s.add_argument("--breaks", choices=DSU.BREAKS, default=DSU.BREAK_METHOD)
    s.add_argument("--seed", type=int, default=DSU.SEED)
    s.add_argument("--categorical-raster", action="append", default=[])
    s.add_argument("--categorical-polygons")
    s.add_argument("--categorical-field")
    s.add_argument("--distance-lines", action="append", default=[])
    s.add_argument("--block-size", type=int, help="DEM block side in cells (default: the engine's)")
    s.add_argument("--output-index", required=True)
    s.add_argument("--output-zones")
    s.add_argument("--output-report")
    _engine_options(s)

    h = sub.add_parser("shelters", help="shelter coverage: walking reach, capacity, who is left out")
    h.add_argument("--shelters", required=True)
    h.add_argument("--demand", required=True, help="buildings / villages (points or polygons) or a population raster")
    h.add_argument("--roads")
    h.add_argument("--demand-field")
    h.add_argument("--class-field")
    h.add_argument("--area-field")
    h.add_argument("--capacity-field")
    h.add_argument("--max-snap", type=float, default=DS.MAX_SNAP)
    h.add_argument("--allocation", choices=DS.ALLOCATIONS, default=DS.ALLOCATION)
    h.add_argument("--hazard")
    h.add_argument("--units")
    h.add_argument("--townships", help="Dask: partition the demand by these polygons (default: 5 km tiles)")
    h.add_argument("--output-shelters")
    h.add_argument("--output-demand")
    h.add_argument("--output-units")
    h.add_argument("--output-catchments")
    _engine_options(h)


def _job_arguments(a):
    """(job, keyword arguments of the engine entry point) from the parsed command line."""
    if a.command == "exposure":
        from .exposure import UnitSpec
        return "exposure", dict(
            hazard=a.hazard, hazard_field=a.hazard_field, hazard_mapping=a.hazard_mapping, population=a.population,
            population_unit=a.population_unit, buildings=a.buildings, residents_field=a.residents_field,
            facilities=a.facilities, facility_type_field=a.facility_type_field,
            units=[UnitSpec(u) for u in a.units], cell_rule=a.cell_rule, building_rule=a.building_rule,
            max_cell_m=a.max_cell_m, output_units=a.output_units, output_table=a.output_table,
            output_crs=a.output_crs)
    if a.command == "fourcolor":
        return "fourcolor", dict(
            hazard=a.hazard, population=a.population, buildings=a.buildings, facilities=a.facilities,
            townships=a.townships, units=a.units, support=a.support, cell_size=a.cell_size,
            hazard_field=a.hazard_field, hazard_mapping=a.hazard_mapping, population_unit=a.population_unit,
            residents_field=a.residents_field, facility_type_field=a.facility_type_field, matrix=a.matrix,
            vulnerability=a.vulnerability, cell_rule=a.cell_rule, building_rule=a.building_rule,
            output=a.output, output_table=a.output_table, output_crs=a.output_crs)
    if a.command == "susceptibility":
        kw = dict(dem=a.dem, inventory=a.inventory, out_index=a.output_index, out_zones=a.output_zones,
                  out_report=a.output_report, presence_field=a.presence_field, method=a.method, folds=a.folds,
                  breaks=a.breaks, seed=a.seed, categorical_rasters=a.categorical_raster,
                  categorical_polygons=a.categorical_polygons, categorical_field=a.categorical_field,
                  distance_lines=a.distance_lines)
        if a.block_size:
            kw["block_size"] = a.block_size
        return "susceptibility", kw
    kw = dict(shelters=a.shelters, demand=a.demand, roads=a.roads, demand_field=a.demand_field,
              class_field=a.class_field, area_field=a.area_field, capacity_field=a.capacity_field,
              max_snap=a.max_snap, allocation=a.allocation, hazard=a.hazard, units=a.units,
              output_shelters=a.output_shelters, output_demand=a.output_demand, output_units=a.output_units,
              output_catchments=a.output_catchments)
    if a.engine == "dask":
        kw["townships"] = a.townships
    return "shelters", kw


def _run_analysis(a):
    from .parallel import run_measured
    job, kw = _job_arguments(a)
    if a.engine == "local" and (a.scheduler or a.workers):
        print("--scheduler / --workers 只用于 --engine dask / only apply to --engine dask", file=sys.stderr)
    _, stats = run_measured(job, a.engine, scheduler=a.scheduler, workers=a.workers,
                            threads_per_worker=a.threads_per_worker, progress=_progress(), **kw)
    print()
    for key, value in stats["numbers"].items():
        print(f"{key}\t{value}")
    tasks = sum(stats["tasks"].values())
    print(f"# {a.engine}: {stats['seconds']:.1f} s" + (f", {tasks} tasks on {stats['workers']} workers" if tasks else ""),
          file=sys.stderr)
    if a.stats:
        from .io import atomic_path
        with atomic_path(a.stats) as tmp:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(stats, fh, ensure_ascii=False, indent=1, default=str)
    return 0
