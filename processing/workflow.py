"""The order a county assessment runs in: the plugin menu and the Processing toolbox follow it.

An algorithm's stage is its GROUP_ID; its place in the stage is its ORDER (lower first; ties by id). An algorithm
added later slots in by declaring both, e.g. ``GROUP_ID = "hazard"; ORDER = 45`` — no list to edit here.
The toolbox sorts groups by name, so stage names carry their number ("2 危险性评估 / Hazards").
A GROUP_ID that is no stage keeps its own GROUP_ZH / GROUP_EN and comes after the stages.
"""
from collections import namedtuple

Stage = namedtuple("Stage", "id number zh en")
STAGES = (
    Stage("data", 1, "数据准备", "Data"),
    Stage("hazard", 2, "危险性评估", "Hazards"),
    Stage("risk", 3, "暴露度与风险", "Exposure and risk"),
    Stage("shelters", 4, "应急避难与救援", "Shelters and response"),
    Stage("briefing", 5, "汇报成果", "Briefing"),
)
BY_ID = {s.id: s for s in STAGES}
DEFAULT_ORDER = 100     # an algorithm that declares no ORDER goes after the others of its stage


def stage_of(cls):
    return BY_ID.get(cls.GROUP_ID)


def group_name(cls):
    stage = stage_of(cls)
    if stage is None:
        return f"{cls.GROUP_ZH} / {cls.GROUP_EN}"
    return f"{stage.number} {stage.zh} / {stage.en}"


def sort_key(cls):
    stage = stage_of(cls)
    number = stage.number if stage is not None else len(STAGES) + 1
    order = getattr(cls, "ORDER", None)
    return (number, cls.GROUP_ID if stage is None else "", DEFAULT_ORDER if order is None else order, cls.ALG_ID)


def in_order(classes):
    """Algorithm classes in workflow order."""
    return sorted(classes, key=sort_key)
