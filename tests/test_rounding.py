"""Whole persons by the largest remainder (risk_plugin.rounding): totals conserved, every number within one person."""
import math

import numpy as np
from hypothesis import given, settings, strategies as st


def test_by_hand(engine):
    from riskmap.risk_plugin.rounding import whole_persons, whole_table
    assert whole_persons([0.4, 0.4, 0.2]).tolist() == [1, 0, 0]          # alone each rounds to 0: a person lost
    assert whole_persons([1361.3, 2.7, 0.0]).tolist() == [1361, 3, 0]
    assert whole_persons([1.5, 1.5, 1.5, 1.5]).tolist() == [2, 2, 1, 1]   # ties go to the earlier
    assert whole_persons([0.9, 0.9], total=1).tolist() == [1, 0]
    assert whole_persons([0.2, 0.3], total=5).tolist() == [2, 3]          # a larger total is spread over all
    assert whole_table([[1.5, 2.5], [0.5, 0.5]]).tolist() == [[2, 2], [1, 0]]
    # CI's failing example (3a17245): numpy's sum of the cells is 4.5 (rounds to 4), of the row sums
    # 4.500000000000001 (5); the exact sum is 4.5 + 6.7e-16, so 5, whichever way the cells are added
    tie = [[0.0, 0.0, 1.5, 2.2250738585072014e-16]] * 3
    assert whole_table(tie).sum() == 5 and whole_table(tie).sum(axis=1).tolist() == [2, 2, 1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.floats(0, 5000, allow_nan=False), min_size=4, max_size=4), min_size=1, max_size=12))
def test_rows_add_up_and_the_grand_total_is_kept(engine, rows):
    from riskmap.risk_plugin.rounding import whole_persons, whole_table
    t = np.array(rows)
    w = whole_table(t)
    county = round(math.fsum(t.ravel()))                                  # the exact sum, rounded once
    assert w.dtype.kind == "i" and (w >= 0).all()
    assert w.sum() == county                                             # the county's total
    assert (w.sum(axis=1) == whole_persons(t.sum(axis=1), county)).all()  # each township's, as its levels add up
    assert (np.abs(w - t) < 2).all()
