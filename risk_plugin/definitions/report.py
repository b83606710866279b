"""Township report (乡镇风险报表): defaults with their reasoning."""

# Key facilities are listed when they lie in a zone of this level or more severe: 2 = red (重大) and
# orange (较大), the zones where the dual-prevention mechanism requires named responsibility and
# evacuation plans (安委办〔2016〕11号: 重大、较大风险 are controlled at the county / township level).
ALERT_LEVEL = 2

# On a grid support a grid piece counts in a village when at least this share of its area lies in the
# village; thinner slivers along a shared boundary are drawing noise, not exposure.
MIN_SHARE = 0.01

SUMMARY_SHEET = "汇总 summary"
RECONCILE_SHEET = "口径对照 reconcile"
# Why the same county gives different people per level on two supports (the sheet's note).
RECONCILE_NOTE = ("同一人口栅格, 总人口相同; 分等级人口因评估单元不同而不同: 网格每格一个等级, 按村评估时全村人口计入该村最高等级。"
                  "各列均为整人 (最大余数法, 乡镇合计守恒) / The same population, so the totals agree; people per level "
                  "differ with the support: a grid cell has one level, a village puts all its people at its most "
                  "severe level. Whole persons (largest remainder, township totals conserved).")

# Chinese labels for the canonical values of data_schemas (geohazard_points, facilities).
HAZARD_TYPE_ZH = {"landslide": "滑坡", "collapse": "崩塌", "debris_flow": "泥石流", "subsidence": "地面塌陷",
                  "unstable_slope": "不稳定斜坡"}
SCALE_ZH = {"giant": "特大型", "large": "大型", "medium": "中型", "small": "小型"}
FACILITY_ZH = {"school": "学校", "hospital": "医院", "elderly_home": "养老院"}
