"""The metric library: every metric an experiment may name, defined once in
``metrics/metrics.yaml`` (moved with ``LAKEHOUSE_METRICS_FILE``).

A definition says what the metric is (``kind``: binomial, mean, or ratio), where its
per-unit values live (``funnel`` and ``column``: ``gold.<experiment>_outcomes`` for the SaaS
funnel, ``gold.user_outcomes`` for the shop; a ratio names a ``numerator`` and a
``denominator`` column instead, summed per arm and divided, tested by the delta method),
whether a mean is capped against outliers (``cap: none``, ``{absolute: X}`` or
``{percentile: 0.99}``: each unit's value winsorized at X, or at that percentile of the
pooled arms' clean units, computed with the aggregate of each day and stored with it),
whether it has a conversion window of its own (``window: {days: 14, date_column:
conversion_date}``, SaaS funnel: the outcome counts only when that date falls within the
days from the unit's exposure date, and a unit joins the metric only once its window has
closed as of ds; ``window: {days: 14}`` alone, on a column the outcomes job already counts
within those days, such as ``support_tickets_14d``, only waits for the window to close; a
shop metric's window is the experiment's ``outcome_window_days``),
what a mean or a ratio counts in (``unit``: ``usd``, the default, or ``count``: how the page
writes its means and lifts), which way is good (``higher_is_better``) and a line for the
reader. An experiment file
names the metric and gives it a role; the readout takes
the kind and the direction from here (``include.experiments``). The file is validated like
an experiment file: an unknown key, a missing column or a wrong type is a ``ValueError``
naming the file and the key.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from include.contracts import validate_identifier

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "metrics" / "metrics.yaml"
KINDS = ("binomial", "mean", "ratio")
FUNNELS = ("saas", "shop")
KEYS = ("kind", "funnel", "column", "numerator", "denominator", "cap", "window", "unit",
        "higher_is_better", "description")  # fmt: skip
UNITS = ("usd", "count")  # what a mean or a ratio counts in (a binomial metric is a share)
WINDOW_KEYS = ("days", "date_column")
CAP_KINDS = ("absolute", "percentile")
# what the statistics engine calls each kind (include.stats: z-test for rates, Welch for
# means, the delta method for ratios)
STATS_TYPES = {"binomial": "conversion", "mean": "revenue", "ratio": "ratio"}


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    kind: str
    funnel: str
    column: str  # a ratio's numerator
    higher_is_better: bool = True
    description: str = ""
    denominator: str | None = None  # ratio metrics only
    cap_kind: str | None = None  # None (no cap), "absolute" or "percentile"
    cap_value: float | None = None  # the cap, or the percentile in (0, 1)
    window_days: int | None = None  # a conversion window of its own (SaaS funnel)
    window_date_column: str | None = None  # the date the outcome happened on
    unit: str | None = None  # "usd" or "count" for a mean or a ratio, None for a share

    @property
    def stats_type(self) -> str:
        return STATS_TYPES[self.kind]

    @property
    def cap_label(self) -> str | None:
        """``absolute 500`` / ``percentile 0.99`` (what the readout table and page say)."""
        return None if self.cap_kind is None else f"{self.cap_kind} {self.cap_value:g}"


def funnel_columns(funnel: str) -> tuple[str, ...]:
    """The per-unit columns a metric of ``funnel`` can read (its outcome table's contract)."""
    from include.table_catalog_experiments import USER_OUTCOMES, outcomes_contract

    if funnel == "saas":
        return outcomes_contract("any_experiment").columns
    return USER_OUTCOMES.columns


def parse_library(raw: object, source: str) -> dict[str, MetricDefinition]:
    """``{name: definition}`` from the file's mapping; ``source`` names the file in errors."""

    def fail(message: str) -> None:
        raise ValueError(f"{source}: {message}")

    if not isinstance(raw, dict) or set(raw) != {"metrics"} or not isinstance(raw["metrics"], dict):
        fail("must hold one mapping, `metrics:`, of metric name -> definition")
    out: dict[str, MetricDefinition] = {}
    for name, body in raw["metrics"].items():
        where = f"metrics.{name}"
        try:
            validate_identifier(name, "metric name")
        except ValueError as err:
            fail(f"{where}: {err}")
        if not isinstance(body, dict):
            fail(f"{where} must be a mapping of {', '.join(KEYS)}")
        unknown = [k for k in body if k not in KEYS]
        if unknown:
            fail(f"unknown key {', '.join(repr(f'{where}.{k}') for k in unknown)}; "
                 f"allowed: {', '.join(KEYS)}")  # fmt: skip
        for key in ("kind", "funnel"):
            if key not in body:
                fail(f"{where}.{key} is missing")
        if body["kind"] not in KINDS:
            fail(f"{where}.kind must be one of {KINDS}, got {body['kind']!r}")
        if body["funnel"] not in FUNNELS:
            fail(f"{where}.funnel must be one of {FUNNELS}, got {body['funnel']!r}")
        ratio = body["kind"] == "ratio"
        needed, refused = (("numerator", "denominator"), ("column",)) if ratio else (
            ("column",), ("numerator", "denominator"))  # fmt: skip
        for key in needed:
            if key not in body:
                fail(f"{where}.{key} is missing (a {body['kind']} metric needs "
                     f"{' and '.join(needed)})")  # fmt: skip
        for key in refused:
            if key in body:
                fail(f"{where}.{key}: a {body['kind']} metric takes {' and '.join(needed)}, "
                     f"not {key}")  # fmt: skip
        columns = funnel_columns(body["funnel"])
        table = {"saas": "gold.<experiment>_outcomes", "shop": "gold.user_outcomes"}
        for key in needed:
            if body[key] not in columns:
                fail(f"{where}.{key} {body[key]!r} is not a column of {table[body['funnel']]}")
        cap_kind, cap_value = parse_cap(body.get("cap", "none"), body["kind"], where, fail)
        window_days, window_date = parse_window(body.get("window"), body, where, fail)
        unit = body.get("unit", None if body["kind"] == "binomial" else "usd")
        if body["kind"] == "binomial" and unit is not None:
            fail(f"{where}.unit: a binomial metric is a share of units, it has no unit")
        if body["kind"] != "binomial" and unit not in UNITS:
            fail(f"{where}.unit must be one of {UNITS}, got {unit!r}")
        direction = body.get("higher_is_better", True)
        if not isinstance(direction, bool):
            fail(f"{where}.higher_is_better must be true or false, got {direction!r}")
        description = body.get("description", "")
        if not isinstance(description, str):
            fail(f"{where}.description must be text, got {description!r}")
        out[name] = MetricDefinition(
            name,
            body["kind"],
            body["funnel"],
            body["numerator"] if ratio else body["column"],
            direction,
            description.strip(),
            denominator=body["denominator"] if ratio else None,
            cap_kind=cap_kind,
            cap_value=cap_value,
            window_days=window_days,
            window_date_column=window_date,
            unit=unit,
        )
    return out


def parse_window(raw: object, body: dict, where: str, fail) -> tuple[int | None, str | None]:
    """None -> no window of its own; ``{days: N, date_column: C}`` -> (N, C): a SaaS binomial
    or mean metric, N >= 1 whole days, C a DATE column of the experiment's outcomes;
    ``{days: N}`` -> (N, None): a column the outcomes job already counts within N days of
    the exposure date (``WINDOWED_COLUMNS``, e.g. support_tickets_14d), N its days: the
    metric only waits for each unit's window to close."""
    if raw is None:
        return None, None
    if body["funnel"] != "saas":
        fail(f"{where}.window: a shop metric's window is the experiment's outcome_window_days")
    if body["kind"] == "ratio":
        fail(f"{where}.window: a ratio metric has no window of its own")
    if not isinstance(raw, dict) or "days" not in raw or not set(raw) <= set(WINDOW_KEYS):
        fail(f"{where}.window must be {{days: N, date_column: C}} or {{days: N}}, got {raw!r}")
    days, column = raw["days"], raw.get("date_column")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        fail(f"{where}.window.days must be a whole number of days >= 1, got {days!r}")
    from include.table_catalog_experiments import WINDOWED_COLUMNS, outcomes_contract

    own = WINDOWED_COLUMNS.get(body["column"])
    if column is None:
        if own is None:
            fail(f"{where}.window has no date_column and {body['column']!r} is not counted "
                 f"within a window of its own (columns that are: "
                 f"{', '.join(sorted(WINDOWED_COLUMNS))})")  # fmt: skip
        if own != days:
            fail(f"{where}.window.days {days} disagrees with {body['column']!r}, counted "
                 f"within {own} days of the exposure date")  # fmt: skip
        return days, None
    if own is not None:
        fail(f"{where}.window.date_column: {body['column']!r} is already counted within "
             f"{own} days of the exposure date; give {{days: {own}}} alone")  # fmt: skip
    if outcomes_contract("any_experiment").column_types.get(column) != "DATE":
        fail(f"{where}.window.date_column {column!r} is not a DATE column of "
             f"gold.<experiment>_outcomes")  # fmt: skip
    return days, column


def parse_cap(raw: object, kind: str, where: str, fail) -> tuple[str | None, float | None]:
    """``none`` -> (None, None); ``{absolute: X}`` (X > 0) or ``{percentile: p}`` (0 < p < 1)
    -> (kind, value). Only a mean metric is capped: a 0/1 outcome has no tail, and a ratio's
    cap would have to say which of its sums it cuts."""
    if raw == "none":
        return None, None
    if kind != "mean":
        fail(f"{where}.cap: only a mean metric can be capped (this one is {kind})")
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in CAP_KINDS:
        fail(f"{where}.cap must be none, {{absolute: X}} or {{percentile: p}}, got {raw!r}")
    (cap_kind, value), = raw.items()
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        fail(f"{where}.cap.{cap_kind} must be a number, got {value!r}")
    if cap_kind == "absolute" and not value > 0:
        fail(f"{where}.cap.absolute must be above 0, got {value!r}")
    if cap_kind == "percentile" and not 0 < value < 1:
        fail(f"{where}.cap.percentile must be inside (0, 1), e.g. 0.99, got {value!r}")
    return cap_kind, float(value)


def library_file() -> Path:
    return Path(os.environ.get("LAKEHOUSE_METRICS_FILE") or DEFAULT_FILE)


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> dict[str, MetricDefinition]:
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: {err}") from err
    return parse_library(raw, path)


def library() -> dict[str, MetricDefinition]:
    """The validated library (re-read when the file changes)."""
    path = library_file()
    if not path.exists():
        raise ValueError(f"no metric library at {path}")
    return _load(str(path), path.stat().st_mtime_ns)


def definition(name: str, funnel: str) -> MetricDefinition:
    """The definition of ``name`` for an experiment on ``funnel`` (a clear error otherwise)."""
    lib = library()
    found = lib.get(name)
    if found is None or found.funnel != funnel:
        known = sorted(n for n, d in lib.items() if d.funnel == funnel)
        raise ValueError(
            f"unknown metric {name!r} for funnel {funnel} in {library_file()}; known {known}"
        )
    return found
