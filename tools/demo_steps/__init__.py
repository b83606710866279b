"""Steps of `make demo`, one module per stage, run in file-name order.

Each module defines ``STEPS``: a list of dicts
    {"title": "中文 / English", "alg": "riskmap:…", "params": {NAME: value},
     "report": ["NUMERIC_OUTPUT", …]}
Values may use {data} (the demo county folder) and {out} (the outputs folder).
"""
