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
import math

import numpy as np


def whole_persons(values, total=None):
    """Integers adding up to ``total`` (default: the rounded sum of ``values``), each within 1 of its value.
    Ties go to the earlier value. Negative or missing values count as 0."""
    v = _counts(values)
    target = rounded_sum(v) if total is None else int(total)
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
    t = _counts(table)
    if t.ndim != 2 or t.size == 0:
        return t.astype(np.int64)
    totals = whole_persons(t.sum(axis=1), rounded_sum(t))     # the grand total from the cells, not the row sums
    return np.vstack([whole_persons(row, total) for row, total in zip(t, totals)])


def rounded_sum(values):
    """The sum of the counts rounded to whole persons, computed exactly (math.fsum): a total that is x.5 in exact
    arithmetic rounds the same way whatever order the cells are added in (three rows of 1.5 and 2.2e-16: numpy
    gives 4.5 over the cells and 4.500000000000001 over the row sums, which round to 4 and 5; exactly, 5)."""
    return int(round(math.fsum(_counts(values).ravel())))


def _counts(values):
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    return np.where(v > 0, v, 0.0)
