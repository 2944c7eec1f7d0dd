"""Numbers and values written the way people read them: 6k, 20M, $40,000."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.engine.answers import NOT_SURE

if TYPE_CHECKING:
    from bot.knowledge import Question


#: Past billions, the number in words: "200 quadrillion", never "200000000B".
_WORD_UNITS = ((1e18, "quintillion"), (1e15, "quadrillion"), (1e12, "trillion"))


def compact(number: float) -> str:
    """6000 -> 6k, 20_000_000 -> 20M, 2_083_334 -> 2.1M, 40e9 -> 40B, 950 -> 950,
    3e12 -> 3 trillion, 2e17 -> 200 quadrillion (larger still: in powers of ten)."""
    magnitude = abs(number)
    if magnitude >= 1e21:
        return f"{number:.1e}".replace("e+", " x 10^")
    for size, word in _WORD_UNITS:
        if magnitude >= size:
            scaled = number / size
            text = f"{scaled:.1f}".rstrip("0").rstrip(".") if scaled < 100 else f"{scaled:.0f}"
            return f"{text} {word}"
    units = ((1e9, "B"), (1e6, "M"), (1e3, "k"))
    for index, (size, suffix) in enumerate(units):
        if magnitude >= size:
            scaled = number / size
            text = f"{scaled:.1f}".rstrip("0").rstrip(".") if scaled < 100 else f"{scaled:.0f}"
            if abs(float(text)) >= 1000:  # 999,999 is 1M, not 1000k
                if index == 0:
                    return f"{number / 1e12:.1f}".rstrip("0").rstrip(".") + " trillion"
                bigger_size, bigger_suffix = units[index - 1]
                return f"{number / bigger_size:.1f}".rstrip("0").rstrip(".") + bigger_suffix
            return text + suffix
    return f"{number:g}" if not float(number).is_integer() else str(int(number))


def usd(amount: float | None) -> str:
    if amount is None:
        return "n/a"
    if amount < 0:
        return "-" + usd(-amount)
    if abs(amount) >= 100:
        return f"${amount:,.0f}"
    return f"${amount:,.2f}"


def months(value: float | None) -> str:
    if value is None:
        return "never"
    if value < 0.1:
        return "under 0.1 months"
    return f"{value:.1f} months"


def grouped(number: float) -> str:
    """6000 -> 6,000; 1.5 -> 1.5."""
    if float(number).is_integer():
        return f"{int(number):,}"
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def plain_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return grouped(value)
    return str(value)


def shown_value(question: Question, value: Any) -> str:
    """An answer the way a person reads it: option label, yes/no, 6,000 tokens, 25%, $1,224."""
    if value == NOT_SURE:
        return "not sure"
    if value is None:
        return "not known"
    if question.kind in ("choice", "model"):
        return question.label_of(value)
    if question.kind == "bool" or isinstance(value, bool):
        return plain_value(value)
    number = float(value)
    unit = question.unit or ""
    if unit == "share":
        return f"{number * 100:g}%"
    if unit == "times":
        return f"{number:g}x"
    if unit.startswith("USD"):
        rest = unit[3:].strip()
        return f"{usd(number)} {rest}".strip()
    text = compact(number) if abs(number) >= 1e6 else plain_value(value)
    return f"{text} {unit}".strip()
