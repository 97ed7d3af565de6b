"""The metric library: every metric an experiment may name, defined once in
``metrics/metrics.yaml`` (moved with ``LAKEHOUSE_METRICS_FILE``).

A definition says what the metric is (``kind``: binomial or mean), where its per-unit value
lives (``funnel`` and ``column``: ``gold.<experiment>_outcomes`` for the SaaS funnel,
``gold.user_outcomes`` for the shop), which way is good (``higher_is_better``) and a line
for the reader. An experiment file names the metric and gives it a role; the readout takes
the kind and the direction from here (``include.experiments``). The file is validated like
an experiment file: an unknown key, a missing column or a wrong type is a ``ValueError``
naming the file and the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from include.contracts import validate_identifier

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "metrics" / "metrics.yaml"
KINDS = ("binomial", "mean")
FUNNELS = ("saas", "shop")
KEYS = ("kind", "funnel", "column", "higher_is_better", "description")
# what the statistics engine calls each kind (include.stats: z-test for rates, Welch for means)
STATS_TYPES = {"binomial": "conversion", "mean": "revenue"}


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    kind: str
    funnel: str
    column: str
    higher_is_better: bool = True
    description: str = ""

    @property
    def stats_type(self) -> str:
        return STATS_TYPES[self.kind]


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
        for key in ("kind", "funnel", "column"):
            if key not in body:
                fail(f"{where}.{key} is missing")
        if body["kind"] not in KINDS:
            fail(f"{where}.kind must be one of {KINDS}, got {body['kind']!r}")
        if body["funnel"] not in FUNNELS:
            fail(f"{where}.funnel must be one of {FUNNELS}, got {body['funnel']!r}")
        columns = funnel_columns(body["funnel"])
        if body["column"] not in columns:
            table = {"saas": "gold.<experiment>_outcomes", "shop": "gold.user_outcomes"}
            fail(f"{where}.column {body['column']!r} is not a column of {table[body['funnel']]}")
        direction = body.get("higher_is_better", True)
        if not isinstance(direction, bool):
            fail(f"{where}.higher_is_better must be true or false, got {direction!r}")
        description = body.get("description", "")
        if not isinstance(description, str):
            fail(f"{where}.description must be text, got {description!r}")
        out[name] = MetricDefinition(
            name, body["kind"], body["funnel"], body["column"], direction, description.strip()
        )
    return out


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
