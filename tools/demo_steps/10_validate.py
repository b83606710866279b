STEPS = [
    {"title": f"检查 {layer} / Validate {layer}", "alg": "riskmap:validate",
     "params": {"INPUT": f"{{data}}/{layer}.gpkg", "KIND": kind, "OUTPUT_REPORT": f"{{out}}/validation_{layer}.csv"},
     "report": ["PROBLEMS"]}
    for layer, kind in [("geohazard_points", "geohazard_points"), ("villages", "villages"), ("buildings", "buildings"),
                        ("shelters", "shelters"), ("roads", "roads")]
]
