"""Deaths, injuries and displaced people: from damage states (building method) and from the PAGER
empirical fatality rate (population method), so the two can be compared.

>>> c = building_casualties(p, occupants, residents, type_idx, floors)   # dict of (n,) arrays
>>> pager_rates(np.array([6, 7, 8, 9, 10]))                                # China θ/β, rates per person
>>> RateTable.from_csv("itb_rates.csv").rates(intensity, "nearest")        # a published rate table
"""
import numpy as np
import pandas as pd

from ..definitions import seismic as D
from ..errors import InputError, Problem
from .intensity import degree, parse_intensity

STATE_INDEX = {s: i for i, s in enumerate(D.DAMAGE_STATES)}


def collapse_share(type_idx, floors):
    """Share of 毁坏 buildings that collapse (Hazus Table 13.8): by type; RC frames by height."""
    share = np.array([D.COLLAPSE_SHARE.get(s, 0.0) for s in D.STRUCTURES])[type_idx]
    rc = np.asarray(D.STRUCTURES, dtype=object)[type_idx] == "rc"
    if rc.any():
        fl = np.nan_to_num(np.asarray(floors, float), nan=1.0)
        rc_share = np.full(len(fl), D.COLLAPSE_SHARE_RC[-1][1])
        for top, value in reversed(D.COLLAPSE_SHARE_RC[:-1]):    # three height classes
            rc_share = np.where(fl <= top, value, rc_share)
        share = np.where(rc, rc_share, share)
    return share


def state_rates(type_idx, floors):
    """(n, 5, 4) casualty rates per building, damage state and severity 1..4."""
    r = D.CASUALTY_RATES
    base = np.array([r["intact"], r["slight"], r["moderate"], r["extensive"], r["complete"]], float)
    out = np.broadcast_to(base, (len(type_idx), 5, 4)).copy()
    c = collapse_share(type_idx, floors)[:, None]
    out[:, 4, :] = (1 - c) * np.asarray(r["complete"]) + c * np.asarray(r["collapsed"])
    return out


def building_casualties(p, occupants, residents, type_idx, floors):
    """Expected deaths, injured (severity 1–3), seriously injured (2–3) and displaced per building."""
    rates = state_rates(type_idx, floors)
    per = np.einsum("ns,nsk->nk", p, rates)                 # expected casualties per occupant, by severity
    occ = np.asarray(occupants, float)
    deaths = occ * per[:, 3]
    injured = occ * per[:, :3].sum(axis=1)
    serious = occ * per[:, 1:3].sum(axis=1)
    unhab = p @ np.array([D.UNINHABITABLE[s] for s in D.DAMAGE_STATES])
    displaced = np.maximum(np.asarray(residents, float) * unhab - deaths, 0.0)
    return {"deaths": deaths, "injured": injured, "injured_serious": serious, "displaced": displaced}


def _norm_cdf(x):
    from scipy.special import ndtr
    return ndtr(x)


def pager_rates(intensity, theta=D.PAGER_THETA, beta=D.PAGER_BETA, rounding="floor", degrees=D.PAGER_DEGREES):
    """Fatality rate per person Φ(ln(S/θ)/β) at the intensity degree S, as the PAGER implementation
    applies it: degrees below ``degrees[0]`` give 0, degrees above ``degrees[1]`` the rate of the top
    degree. With rounding 'interpolate' the rate is interpolated between the neighbouring degrees."""
    i = degree(intensity, rounding)
    lo_d, hi_d = degrees
    table_deg = np.arange(lo_d, hi_d + 1, dtype=float)
    table = _norm_cdf(np.log(table_deg / theta) / beta)
    return _table_rate(i, table_deg, table)


def _table_rate(i, degs, rates):
    """Rate at (possibly fractional) degrees ``i``: 0 below the first degree (linearly from one degree
    below it), the top rate above the last; NaN → 0."""
    i = np.where(np.isnan(np.asarray(i, float)), -np.inf, np.asarray(i, float))
    xs = np.r_[degs[0] - 1, degs]
    ys = np.r_[0.0, rates]
    out = np.interp(i, xs, ys, left=0.0, right=ys[-1])
    return np.where(np.isfinite(i), out, 0.0)


class RateTable:
    """A published fatality-rate table (intensity → deaths per person), replacing the lognormal."""

    def __init__(self, degrees, rates, source):
        order = np.argsort(degrees)
        self.degrees = np.asarray(degrees, float)[order]
        self.values = np.asarray(rates, float)[order]
        self.source = source

    @classmethod
    def from_csv(cls, path):
        from ..io import layer_name
        label = f"FATALITY_RATES {layer_name(path)}"
        try:
            raw = pd.read_csv(path, encoding="utf-8-sig")
        except Exception as exc:  # noqa: BLE001 - any read failure is a file problem for the user
            raise InputError(Problem(label, f"无法读取死亡率表: {exc}", f"cannot read the fatality-rate table: {exc}",
                                     "使用两列 UTF-8 CSV: intensity, rate", "use a two-column UTF-8 CSV: intensity, rate")) from exc
        cols = {str(c).strip().lower(): c for c in raw.columns}
        icol = next((cols[c] for c in ("intensity", "烈度", "mmi") if c in cols), None)
        rcol = next((cols[c] for c in ("rate", "死亡率", "fatality_rate") if c in cols), None)
        if icol is None or rcol is None:
            raise InputError(Problem(label, "需要列 intensity (烈度) 和 rate (死亡率)", "needs columns intensity (烈度) and rate (死亡率)",
                                     "按模板填写两列", "write the two columns"))
        deg, bad = parse_intensity(raw[icol])
        rate = pd.to_numeric(raw[rcol], errors="coerce").to_numpy(float)
        bad |= ~np.isfinite(rate) | (rate < 0) | (rate > 1) | (deg != np.round(deg))
        if bad.any() or len(np.unique(deg)) != len(deg):
            raise InputError(Problem(label, "每行应为一个整数烈度和 0..1 的死亡率, 烈度不重复",
                                     "each row needs a whole intensity and a rate in 0..1, each intensity once",
                                     "改正这些行", "correct these rows", features=list(np.flatnonzero(bad) + 2)))
        return cls(deg, rate, str(path))

    def rates(self, intensity, rounding="floor"):
        i = degree(intensity, rounding)
        i = np.where(np.isnan(np.asarray(i, float)), -np.inf, np.asarray(i, float))
        if rounding == "interpolate":
            return _table_rate(i, self.degrees, self.values)
        # whole degrees: the table's rate, the top rate above the table, 0 below it or between rows
        clipped = np.where(i > self.degrees[-1], self.degrees[-1], i)
        pos = np.clip(np.searchsorted(self.degrees, clipped), 0, len(self.degrees) - 1)
        return np.where(self.degrees[pos] == clipped, self.values[pos], 0.0)
