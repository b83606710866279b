"""People as whole persons, with totals conserved (largest-remainder rounding).

Counts of people come out of area shares and raster cells as fractions (1361.3). Rounding each number alone makes
a table whose rows no longer add up to its total; here every number is rounded down, and the units left over go to
the largest remainders, so the whole persons add up to the rounded total.

>>> whole_persons([0.4, 0.4, 0.2])            # rounded alone: 0, 0, 0 — the 1 person would be lost
array([1, 0, 0])
>>> whole_table([[1.5, 2.5], [0.5, 0.5]])     # every row adds up to its rounded total, and the rows to the sum
array([[2, 2],
       [1, 0]])
"""
import numpy as np


def whole_persons(values, total=None):
    """Integers adding up to ``total`` (default: the rounded sum of ``values``), each within 1 of its value.
    Ties go to the earlier value. Negative or missing values count as 0."""
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    v = np.where(v > 0, v, 0.0)
    target = int(round(float(v.sum()))) if total is None else int(total)
    base = np.floor(v).astype(np.int64)
    short = target - int(base.sum())
    if short > 0 and len(v):
        order = np.argsort(-(v - base), kind="stable")      # largest remainder first
        whole, rest = divmod(short, len(v))                  # (a total above the values' own: spread evenly)
        base += whole
        base[order[:rest]] += 1
    elif short < 0:                                          # a smaller total was asked for: take from the smallest
        order = np.argsort(v - base, kind="stable")
        take = order[base[order] > 0][:(-short)]
        base[take] -= 1
    return base


def whole_table(table):
    """A 2-D table (rows = townships, columns = levels) in whole persons: the row totals are the largest-remainder
    rounding of the real row totals (so they add up to the rounded grand total), and each row adds up to its total."""
    t = np.nan_to_num(np.asarray(table, dtype=float), nan=0.0)
    if t.ndim != 2 or t.size == 0:
        return t.astype(np.int64)
    totals = whole_persons(t.sum(axis=1))
    return np.vstack([whole_persons(row, total) for row, total in zip(t, totals)])
