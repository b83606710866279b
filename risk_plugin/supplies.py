"""Days of supply from relief depots for displaced people, per township and per depot.

>>> per_town, per_depot = supply_tables(displaced, township, depot_of, minutes, stock, names)

Rule: every displaced person draws on the depot nearest to them by road, if it is within the supply
time (definitions.reach.SUPPLY_TIME_MIN); a depot's stock is shared among the people it serves in
proportion to their number. A township's supply of an item is therefore Σ over depots of
stock × (its displaced served by that depot ÷ all displaced the depot serves); its displaced people
beyond every depot's reach count in its need and get nothing.
Consumables (water, food): days = supply ÷ (displaced × per-capita need per day). Durables (tents, beds):
share covered = supply × people per unit ÷ displaced (1 = every displaced person has one).
"""
import numpy as np
import pandas as pd

from .definitions import reach as D
from .errors import parameter_error


def needs_table(per_day=None, people_per_unit=None):
    """({item: per-capita per day}, {item: people per unit}) with overrides; all must be > 0."""
    pd_ = dict(D.PER_CAPITA_DAY)
    pd_.update({k: float(v) for k, v in (per_day or {}).items() if v is not None})
    pu = dict(D.PEOPLE_PER_UNIT)
    pu.update({k: float(v) for k, v in (people_per_unit or {}).items() if v is not None})
    for k, v in list(pd_.items()) + list(pu.items()):
        if not v > 0:
            raise parameter_error(f"NEED_{k.upper()}", f"人均需求必须大于 0: {v}", f"per-capita need must be > 0: {v}",
                                  "填写正数", "enter a positive number")
    return pd_, pu


def supply_tables(displaced, township, depot_of, minutes, stock, depot_names, time_limit=D.SUPPLY_TIME_MIN,
                  per_day=None, people_per_unit=None, target_days=D.SUPPLY_TARGET_DAYS):
    """Per-township and per-depot supply tables.

    ``displaced``, ``township``, ``depot_of`` (index into ``stock`` rows, -1 none) and ``minutes`` are per
    demand unit; ``stock`` is a DataFrame with one row per depot and a column per item (NaN = none)."""
    per_day, per_unit = needs_table(per_day, people_per_unit)
    displaced = np.asarray(displaced, float)
    depot_of = np.asarray(depot_of, np.int64)
    ok = (depot_of >= 0) & (np.asarray(minutes, float) <= time_limit)
    n_d = len(stock)
    served_by = np.bincount(depot_of[ok], weights=displaced[ok], minlength=n_d)
    town = pd.Series(township, dtype=object).fillna("(不在任何乡镇内 / outside every township)").to_numpy()
    df = pd.DataFrame({"township": town, "displaced": displaced, "in_time": np.where(ok, displaced, 0.0),
                       "depot": np.where(ok, depot_of, -1)})
    per_town = df.groupby("township", sort=True)[["displaced", "in_time"]].sum()
    items = [i for i in D.ITEMS if i in stock.columns]
    pairs = df[df["depot"] >= 0].groupby(["township", "depot"])["displaced"].sum().reset_index()
    share = pairs["displaced"].to_numpy() / np.maximum(served_by[pairs["depot"].to_numpy()], 1e-12)
    below = np.zeros(len(per_town), bool)
    for item in items:
        s = np.nan_to_num(stock[item].to_numpy(float))[pairs["depot"].to_numpy()] * share
        got = pd.Series(s, index=pairs["township"]).groupby(level=0).sum().reindex(per_town.index, fill_value=0.0)
        per_town[f"{item}_supply"] = got.to_numpy()
        need = per_town["displaced"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            if D.CONSUMABLE[item]:
                value = np.where(need > 0, got.to_numpy() / (need * per_day[item]), np.nan)
                per_town[f"{item}_days"] = np.round(value, 2)
                below |= (need > 0) & ~(value >= target_days)
            else:
                value = np.where(need > 0, got.to_numpy() * per_unit[item] / need, np.nan)
                per_town[f"{item}_share"] = np.round(value, 3)
                below |= (need > 0) & ~(value >= 1.0)
    per_town["in_time_share"] = np.round(np.where(per_town["displaced"] > 0, per_town["in_time"]
                                                  / per_town["displaced"].where(per_town["displaced"] > 0, 1), np.nan), 4)
    per_town["below_target"] = below.astype(int)
    per_town = per_town.reset_index()
    # per depot: what it holds, whom it serves, how long it lasts them
    dep = pd.DataFrame({"depot": list(depot_names), "displaced_served": np.round(served_by, 1)})
    with np.errstate(divide="ignore", invalid="ignore"):
        for item in items:
            s = stock[item].to_numpy(float)
            dep[item] = s
            if D.CONSUMABLE[item]:
                dep[f"{item}_days"] = np.round(np.where(served_by > 0, s / (served_by * per_day[item]), np.nan), 2)
            else:
                dep[f"{item}_share"] = np.round(np.where(served_by > 0, s * per_unit[item] / served_by, np.nan), 3)
    for c in ("displaced", "in_time"):
        per_town[c] = per_town[c].round(1)
    for item in items:
        per_town[f"{item}_supply"] = per_town[f"{item}_supply"].round(1)
    return per_town, dep
