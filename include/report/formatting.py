"""Number formatting for the readout: one place, so the HTML, the Markdown and the charts agree.

Every formatter takes ``None``/NaN/inf and returns an em dash, never ``"nan"``. Negative
numbers use the typographic minus (U+2212) so signed columns line up.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "—"
MINUS = "\u2212"


def is_num(value: Any) -> bool:
    """A finite real number (bools excluded)."""
    if value is None or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _sign(text: str, value: float, signed: bool) -> str:
    if value < 0:
        return MINUS + text
    return ("+" + text) if signed and value > 0 else text


def _pct_digits(value: float) -> int:
    """1 decimal from 1% up, 2 below (0.42%), 3 for tiny non-zero values (0.042%)."""
    size = abs(value) * 100
    if size == 0 or size >= 1:
        return 1
    return 2 if size >= 0.1 else 3


def fmt_pct(value: Any, signed: bool = False, digits: int | None = None) -> str:
    """A fraction as a percentage: ``0.0321 -> "3.2%"``, signed ``"+3.2%"``."""
    if not is_num(value):
        return MISSING
    v = float(value)
    d = _pct_digits(v) if digits is None else digits
    text = f"{abs(v) * 100:,.{d}f}%"
    if float(text.rstrip("%").replace(",", "")) == 0:
        return f"{0:.{d}f}%"
    return _sign(text, v, signed)


def fmt_pp(value: Any, signed: bool = True) -> str:
    """A difference of two rates in percentage points: ``0.0042 -> "+0.42 pp"``."""
    if not is_num(value):
        return MISSING
    v = float(value)
    d = 2 if abs(v) * 100 < 10 else 1
    text = f"{abs(v) * 100:.{d}f} pp"
    if float(text.split()[0]) == 0:
        return f"{0:.{d}f} pp"
    return _sign(text, v, signed)


def fmt_money(value: Any, signed: bool = False, cents: bool | None = None) -> str:
    """Dollars with thousands separators: ``1234567.8 -> "$1,234,568"``, ``12.345 -> "$12.35"``.

    Cents are shown below $100 unless ``cents`` says otherwise.
    """
    if not is_num(value):
        return MISSING
    v = float(value)
    show_cents = abs(v) < 100 if cents is None else cents
    text = f"${abs(v):,.2f}" if show_cents else f"${abs(v):,.0f}"
    if float(text[1:].replace(",", "")) == 0:
        return text
    return _sign(text, v, signed)


def fmt_money_compact(value: Any, signed: bool = False) -> str:
    """Short money for headline tiles: ``$1.23M``, ``$845k``, ``$12.35``."""
    if not is_num(value):
        return MISSING
    v = float(value)
    size = abs(v)
    if size >= 1e6:
        text = f"${size / 1e6:,.2f}M"
    elif size >= 1e4:
        text = f"${size / 1e3:,.0f}k"
    else:
        return fmt_money(v, signed)
    return _sign(text, v, signed)


def fmt_p(value: Any) -> str:
    """p-values: ``<0.001``, ``0.003``, ``0.042``, ``0.31``, ``1.00``."""
    if not is_num(value):
        return MISSING
    v = float(value)
    if v < 0.001:
        return "<0.001"
    if v < 0.1:
        return f"{v:.3f}"
    return f"{v:.2f}"


def fmt_int(value: Any) -> str:
    """Counts with thousands separators."""
    if not is_num(value):
        return MISSING
    return f"{round(float(value)):,}"


def fmt_num(value: Any, digits: int = 3, signed: bool = False) -> str:
    """A plain number with ``digits`` significant digits (thousands separated when large)."""
    if not is_num(value):
        return MISSING
    v = float(value)
    if v == 0:
        return "0"
    if abs(v) >= 10**digits:
        text = f"{abs(v):,.0f}"
    else:
        text = f"{abs(v):.{digits}g}"
    return _sign(text, v, signed)


def fmt_ratio(value: Any) -> str:
    """Ratios such as odds ratios: two decimals from 0.1 up, three significant digits below."""
    if not is_num(value):
        return MISSING
    v = float(value)
    return f"{v:,.2f}" if abs(v) >= 0.1 else f"{v:.3g}"


def fmt_prob(value: Any) -> str:
    """A probability as a percentage, clamped for display: ``>99.9%``, ``<0.1%``."""
    if not is_num(value):
        return MISSING
    v = float(value)
    if v > 0.999:
        return ">99.9%"
    if v < 0.001:
        return "<0.1%"
    return f"{v * 100:.1f}%"


def fmt_mean(value: Any, metric_type: str | None, unit: str | None = None) -> str:
    """An arm mean in its metric's unit: a rate for conversions, a plain number for a count
    metric (``unit: count`` in the metric library), money otherwise."""
    if metric_type == "conversion":
        return fmt_pct(value)
    return fmt_num(value) if unit == "count" else fmt_money(value)


def fmt_abs_lift(
    value: Any, metric_type: str | None, signed: bool = True, unit: str | None = None
) -> str:
    """An absolute lift: percentage points for rates, a plain number for counts, dollars
    otherwise."""
    if metric_type == "conversion":
        return fmt_pp(value, signed)
    if unit == "count":
        return fmt_num(value, signed=signed)
    return fmt_money(value, signed, cents=True)


def fmt_interval(low: Any, high: Any, fmt: Any = fmt_pct, **kwargs: Any) -> str:
    """``[low, high]`` with the given formatter; an em dash when either bound is missing."""
    if not (is_num(low) and is_num(high)):
        return MISSING
    return f"[{fmt(low, **kwargs)}, {fmt(high, **kwargs)}]"


def humanize(name: Any) -> str:
    """``"quality_gate:silver_events"`` -> ``"Quality gate: silver events"``."""
    text = str(name).replace("_", " ").replace(":", ": ").strip()
    return text[:1].upper() + text[1:]
