"""Work-safety risk of enterprises and sites (安全生产风险四色图 of the dual-prevention mechanism):
scoring methods and level bands, with their sources.

Levels follow styles/classes.json 'risk_levels' (1 重大 red … 4 低 blue). Bands are lower bounds,
inclusive: a score equal to a bound is in the more severe level.
"""

METHODS = ("LS", "LEC")
METHOD = "LS"

# --- LS: risk matrix R = L × S on 5 × 5 -----------------------------------------------------------
# L (likelihood) and S (severity) are scored 1..5, so R is 1..25. Bands: R 20–25 重大, 15–16 较大,
# 9–12 一般, 1–8 低 (no product falls between the bands: 13, 14, 17–19 and 21–24 cannot occur).
# Source: the 5 × 5 风险矩阵分析法 (LS) used across 双重预防机制 guidance after 国务院安委办
# 《关于实施遏制重特大事故工作指南构建双重预防机制的意见》(安委办〔2016〕11号), e.g. the annexes of
# provincial standards such as 山东省 DB37/T 2882-2016 《安全生产风险分级管控体系通则》; the risk matrix
# itself is GB/T 27921-2011 (ISO/IEC 31010). Check the band table your province prescribes.
LS_SCALE = (1, 5)
LS_BREAKS = (20.0, 15.0, 9.0)     # R >= 20 → 1, >= 15 → 2, >= 9 → 3, else 4

# --- LEC: D = L × E × C (作业条件危险性评价法) ---------------------------------------------------------
# L likelihood (0.1 … 10), E exposure frequency (0.5 … 10), C consequence (1 … 100). Source: Graham &
# Kinney, "Practical safety analysis for hazard control", J. Safety Research 3(1), 1971 (the 'Fine /
# Kinney' method), in the form taught in Chinese safety evaluation (安全评价师 training; 《安全评价》,
# 国家安全生产监督管理总局, 2005): D > 320 极其危险, 160–320 高度危险, 70–160 显著危险, 20–70 一般危险,
# < 20 稍有危险. Four colours merge the last two: > 320 重大, 160–320 较大, 70–160 一般, < 70 低.
# With the standard scale values, D = 160 and D = 320 cannot occur; D = 70 can (1 × 10 × 7) and is 一般,
# as in '70–160'.
LEC_L = (0.1, 0.2, 0.5, 1, 3, 6, 10)
LEC_E = (0.5, 1, 2, 3, 6, 10)
LEC_C = (1, 3, 7, 15, 40, 100)
LEC_BREAKS = (320.0, 160.0, 70.0)  # D >= 320 → 1, >= 160 → 2, >= 70 → 3, else 4
