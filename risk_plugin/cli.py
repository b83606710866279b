"""Command line for runs without QGIS: ``python -m risk_plugin <command> …``.

    python -m risk_plugin demo --out demo_output/county --size-km 30 --cell-size 10
    python -m risk_plugin validate villages.shp --kind villages
"""
import argparse
import sys

from .errors import RiskMapError
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
    args = ap.parse_args(argv)
    try:
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
    except RiskMapError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0
