# Enterprises and sites (安全生产风险四色图): the LS matrix from the survey's L and S, and the LEC method.
STEPS = [
    {"title": "企业/场所风险 (LS) / Site risk by the LS matrix", "alg": "riskmap:siterisk",
     "params": {"SITES": "{data}/sites.gpkg", "METHOD": 0, "OUTPUT": "{out}/site_risk_ls.gpkg"},
     "report": ["SITES", "SITES_LEVEL_1", "SITES_LEVEL_2", "SITES_LEVEL_3", "SITES_LEVEL_4"]},
    {"title": "企业/场所风险 (LEC) / Site risk by the LEC method", "alg": "riskmap:siterisk",
     "params": {"SITES": "{data}/sites.gpkg", "METHOD": 1, "OUTPUT": "{out}/site_risk_lec.gpkg"},
     "report": ["SITES_LEVEL_1", "SITES_LEVEL_2", "SITES_LEVEL_3", "SITES_LEVEL_4"]},
]
