"""`make bench`: each bench/bench_*.py measures one job against the QGIS-native way, side by side.

Each module defines ``run(workdir) -> str`` returning a Markdown section. Use
``bench.common.county(workdir)`` for the demo county: it is generated once per size and shared.
$RISKMAP_BENCH_KM sets the size (default 100 km) for a quick trial.
    python -m bench.run --out BENCHMARKS.md [--only NAME]
"""
import argparse
import importlib
import pkgutil
import platform
import time
from pathlib import Path


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--only", default=None)
    ap.add_argument("--work", default="bench/work")
    args = ap.parse_args(argv)
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    sections = []
    import bench
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if not info.name.startswith("bench_") or (args.only and args.only not in info.name):
            continue
        mod = importlib.import_module(f"bench.{info.name}")
        t0 = time.time()
        sections.append(mod.run(work))
        print(f"{info.name}: {time.time() - t0:.0f} s", flush=True)
    header = (f"# Benchmarks\n\nCommand: `make bench` (= `python -m bench.run --out BENCHMARKS.md`)\n\n"
              f"Machine: {platform.machine()}, {platform.python_version()}, 2 cores, 24 GiB. "
              f"Run {time.strftime('%Y-%m-%d %H:%M')}.\n\n")
    Path(args.out).write_text(header + "\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
