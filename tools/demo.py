"""`make demo`: generate the demo county and run the plugin's chain on it through qgis_process.

    python -m tools.demo --out demo_output
"""
import argparse
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import time
from pathlib import Path

QGIS_PROCESS = os.environ.get("RISKMAP_QGIS_PROCESS", "/usr/bin/qgis_process.bin")


def qgis_process(alg, params):
    args = [QGIS_PROCESS, "--json", "run", alg, "--"]
    for key, value in params.items():
        for v in (value if isinstance(value, (list, tuple)) else [value]):
            args.append(f"{key}={v}")
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"qgis_process {alg} failed (exit {proc.returncode})")
    out = proc.stdout
    return json.loads(out[out.index("{"):])["results"]


def steps():
    from tools import demo_steps
    for info in sorted(pkgutil.iter_modules(demo_steps.__path__), key=lambda m: m.name):
        yield from importlib.import_module(f"tools.demo_steps.{info.name}").STEPS


def fill(value, data, out):
    if isinstance(value, (list, tuple)):
        return [fill(v, data, out) for v in value]
    return value.format(data=data, out=out) if isinstance(value, str) else value


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="demo_output")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    data = out / "county"
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for step in steps():
        t0 = time.time()
        print(f"▶ {step['title']}  ({step['alg']})", flush=True)
        results = qgis_process(step["alg"], {k: fill(v, data, out) for k, v in step["params"].items()})
        for key in step.get("report", []):
            print(f"    {key} = {results.get(key)}")
            summary.setdefault(f"{step['alg']}:{key}", results.get(key))
        print(f"    {time.time() - t0:.1f} s", flush=True)
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    print_summary(summary, out)


def people_per_level(path):
    """(support, whole persons per level) of a four-colour output, as the report and the atlas count them: per
    township × level rounded by the largest remainder (risk_plugin.rounding), then summed over the townships."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from risk_plugin.rounding import whole_table
    from risk_plugin.titles import support_note
    g = gpd.read_file(path, layer=Path(path).stem)
    table = pd.pivot_table(g, values="people", index="township_code", columns="risk_level", aggfunc="sum",
                           fill_value=0.0).reindex(columns=[1, 2, 3, 4], fill_value=0.0)
    support = support_note(g.columns, g["area_km2"].to_numpy(), g["unit_code"].tolist() if "unit_code" in g else None)
    return support, np.asarray(whole_table(table.to_numpy())).sum(axis=0)


def print_summary(summary, out):
    """What a leader asks first: people per risk level (saying what they are counted on), shelter service, the most
    at-risk villages, the files."""
    levels = ["重大", "较大", "一般", "低"]
    print("\n==== 示范县风险摘要 / Demo county summary ====")
    shown = 0
    for name in ("fourcolor_grid.gpkg", "fourcolor_villages.gpkg"):
        if (out / name).exists():
            (zh, en), people = people_per_level(out / name)
            print(f"各风险等级人口 (按{zh}) / People per risk level (on {en}): " +
                  ", ".join(f"{lv}风险 {p:,d}" for lv, p in zip(levels, people)) + f"; 合计 / total {people.sum():,d}")
            shown += 1
    if shown > 1:
        print("  (同一人口, 评估单元不同, 分级不同; 两者对照见 township_report.xlsx 的“口径对照”表 / the same people on two "
              "supports: see the sheet 口径对照 of township_report.xlsx)")
    served = summary.get("riskmap:sheltercoverage:POPULATION_SERVED")
    if served is not None:
        print(f"避难场所 / Shelters: 已安置 served {served:,.0f}, 未安置 unserved "
              f"{summary.get('riskmap:sheltercoverage:POPULATION_UNSERVED', 0):,.0f} "
              f"of {summary.get('riskmap:sheltercoverage:POPULATION_TOTAL', 0):,.0f}")
    reach = [summary.get(f"riskmap:responsereach:SHARE_FORCES_{i}") for i in (1, 2, 3)]
    if all(r is not None for r in reach):
        print("救援力量到达 / Rescue forces reach: " + ", ".join(f"{t} 分钟/min {100 * r:.1f}%" for t, r in
                                                               zip((15, 30, 60), reach)) +
              f"; 断路孤岛村 / villages cut off {summary.get('riskmap:responsereach:VILLAGES_CUT_OFF')}")
    warn = summary.get("riskmap:warningcoverage:COVERED_SHARE")
    if warn is not None:
        print(f"预警覆盖率 / Warning coverage: {100 * warn:.1f}% (目标 / target 95%), 低于目标的村 / villages below: "
              f"{summary.get('riskmap:warningcoverage:VILLAGES_BELOW_TARGET')}")
    villages = out / "fourcolor_villages.gpkg"
    if villages.exists():
        import geopandas as gpd
        v = gpd.read_file(villages, layer="fourcolor_villages")
        top = v.sort_values(["risk_level", "people_in_hazard"], ascending=[True, False]).head(5)
        print("风险最高的五个村 / Five most at-risk villages:")
        for _, r in top.iterrows():
            print(f"  {r.get('township_name', '')} {r['unit_name']}: {r['risk_zh']} / {r['risk_en']}, "
                  f"{r['people_in_hazard']:,.0f} people in hazard zones")
    print(f"\n输出目录 / Outputs: {out}")
    for name in ("webmap.html", "atlas.pdf", "township_report.xlsx", "overview.png"):
        if (out / name).exists():
            print(f"  {name:22s} {out / name}")


if __name__ == "__main__":
    main()
