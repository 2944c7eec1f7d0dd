"""Numbers as people read them, at every size a field accepts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engine.humanize import compact


@pytest.mark.parametrize(("number", "shown"), [
    (950, "950"), (6000, "6k"), (999_999, "1M"), (2_083_334, "2.1M"), (40e9, "40B"),
    (999.96e9, "1 trillion"), (3e12, "3 trillion"), (2e17, "200 quadrillion"),
    (5e22, "5.0 x 10^22"),
])
def test_big_numbers_are_words_not_runs_of_digits(number, shown):
    assert compact(number) == shown


@given(st.floats(min_value=1, max_value=1e30, allow_nan=False))
def test_no_compact_number_is_a_long_run_of_digits(number):
    """Counts and amounts (calls, tokens, examples): from one up to far past any field."""
    shown = compact(number)
    digits = max((len(run) for run in "".join(c if c.isdigit() else " " for c in shown).split()),
                 default=0)
    assert digits <= 6, shown
