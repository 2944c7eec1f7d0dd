"""Dates as the engine uses them: every decision is made as of a date (never the clock).

Knowledge dates are ISO strings, `YYYY-MM-DD` or `YYYY-MM` (month precision, read as the
first day of that month). Months are counted as 30.44 days (a year / 12).
"""

from __future__ import annotations

from datetime import date

DAYS_PER_MONTH = 365.25 / 12


def parse_date(text: str) -> date:
    """`2027-01-06` or `2026-11` (the 1st of the month); raises ValueError otherwise."""
    parts = str(text).split("-")
    if len(parts) == 2:
        return date(int(parts[0]), int(parts[1]), 1)
    return date.fromisoformat(str(text))


def months_between(start: date, end: date) -> float:
    """Months from `start` to `end` (negative when `end` is earlier)."""
    return (end - start).days / DAYS_PER_MONTH


def months_before(day: date, months: int) -> date:
    """The same day of the month, `months` earlier (the 28th at most, so it always exists)."""
    total = day.year * 12 + (day.month - 1) - months
    return date(total // 12, total % 12 + 1, min(day.day, 28))
