"""`make bench`: each bench/bench_*.py measures one job against the QGIS-native way, side by side.

Each module defines ``run(workdir) -> str`` returning a Markdown section. Use
``bench.common.county(workdir)`` for the demo county: it is generated once per size and shared.
$RISKMAP_BENCH_KM sets the size (default 100 km) for a quick trial.
    python -m bench.run --out BENCHMARKS.md [--only NAME] [--results DIR]
"""
import argparse
import importlib
import os
import pkgutil
import platform
import time
from pathlib import Path


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--only", default=None)
    ap.add_argument("--work", default="bench/work")
    ap.add_argument("--results", default=str(Path(__file__).resolve().parent / "results"),
                    help="folder of the measured sections (default bench/results, the recorded ones)")
    args = ap.parse_args(argv)
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    import bench
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if not info.name.startswith("bench_") or (args.only and args.only not in info.name):
            continue
        mod = importlib.import_module(f"bench.{info.name}")
        t0 = time.time()
        section = mod.run(work)
        took = time.time() - t0
        stamp = f"\n\n*Measured {time.strftime('%Y-%m-%d %H:%M')} in {took:.0f} s by `python -m bench.run --only {info.name[6:]}`.*\n"
        (results / f"{info.name}.md").write_text(section.rstrip() + stamp, encoding="utf-8")
        print(f"{info.name}: {took:.0f} s", flush=True)
    # BENCHMARKS.md = every section measured so far (bench/results/), so one section can be re-run alone
    sections = [p.read_text(encoding="utf-8") for p in sorted(results.glob("bench_*.md"))]
    header = (f"# Benchmarks\n\nCommand: `make bench` (= `python -m bench.run --out BENCHMARKS.md`); one job: "
              f"`python -m bench.run --only NAME`. Set `RISKMAP_BENCH_KM` for a smaller trial county.\n\n"
              f"Machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
              f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB, QGIS 3.22; "
              f"each comparison runs both sides in the same process run, one after the other.\n\n")
    Path(args.out).write_text(header + "\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
