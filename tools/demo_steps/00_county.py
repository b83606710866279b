STEPS = [
    {"title": "生成示范县 / Generate the demo county", "alg": "riskmap:democounty",
     "params": {"SIZE_KM": 30, "CELL_SIZE": 10, "SEED": 2025, "OUTPUT_FOLDER": "{data}",
                "OUTPUT_OVERVIEW": "{out}/overview.png"},
     "report": ["TOWNSHIPS", "VILLAGES", "BUILDINGS", "RESIDENTS"]},
]
