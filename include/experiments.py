"""Experiment configuration: one YAML file per experiment in ``experiments/``, validated on load.

Adding an experiment is a config file only: the gold jobs take ``{"experiment": name}``, the
table contracts ``{experiment}_base`` / ``_outcomes`` / ``_aggregated`` / ``_details`` (SaaS
funnel) or ``{experiment}_aggregated`` plus rows in the shared ``user_exposure`` /
``user_outcomes`` (shop funnel, exposure on product_view) are generated from the config
(``include.table_catalog_experiments``), and the DAG factory reads
the same files. Names become table names, so they must be plain identifiers.

The directory defaults to ``<repo>/experiments`` and can be moved with the environment
variable ``LAKEHOUSE_EXPERIMENTS_DIR`` (tests point it at a temporary folder).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from include.contracts import validate_identifier
from include.metric_library import definition, library

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "experiments"
FUNNELS = ("saas", "shop")
# the statistics types an experiment file may spell per library kind ("count" is a mean)
TYPES_OF_KIND = {"binomial": ("conversion",), "mean": ("revenue", "count"), "ratio": ("ratio",)}
METRIC_ROLES = ("primary", "secondary", "guardrail")
# the roles the verdict reads (include.stats.verdict): a secondary metric never decides
DECISION_ROLES = ("primary", "guardrail")
# Dimensions of the gold base table an experiment may segment by.
SEGMENT_COLUMNS = (
    "region",
    "country",
    "device_type",
    "traffic_source",
    "customer_type",
    "package",
    "plan",
    "list_size_group",
    "utm_source",
    "product_category",
)
# Dimensions seed 002's user_exposure / user_outcomes carry for a shop-funnel experiment
# (product_category: the exposure view's course, from silver.products).
SHOP_SEGMENT_COLUMNS = ("device_type", "country", "utm_source", "product_category")
SHOP_ONLY_SEGMENTS = ("product_category",)
# Exposure events of each funnel (raw_sources.ACTION_TYPES).
EXPOSURE_EVENTS = {"saas": "experiment_exposure", "shop": "product_view"}
# Follow-up of the SaaS funnel's details table (seed 001): month-k retention reads billing up
# to k calendar months after the end date, product usage the 30 days after an exposure.
USAGE_DAYS = 30
RETENTION_MONTHS = (1, 2)
# Days before its start in which an experiment's exposures are looked for (pre_start_day).
PRE_START_EXPOSURE_DAYS = 28
# Events land in the raw folder of the day after their time at the latest (late arrivals).
LATE_ARRIVAL_DAYS = 1


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's last day (Spark's ``add_months`` rule)."""
    import calendar

    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Variant:
    name: str
    weight: float


@dataclass(frozen=True)
class Metric:
    """An experiment's use of a library metric (``include.metric_library``): its role here;
    ``type`` (the statistics engine's) and the direction come from the definition."""

    name: str
    type: str
    role: str
    higher_is_better: bool = True
    window_days: int | None = None  # the library metric's window of its own (SaaS)


@dataclass(frozen=True)
class ExperimentSpec:
    """A validated experiment configuration (see ``experiments/*.yaml``)."""

    name: str
    funnel: str
    variants: tuple[Variant, ...]
    control: str
    start_date: date
    end_date: date
    exposure_event: str
    metrics: tuple[Metric, ...]
    segments: tuple[str, ...] = ()
    activation_lookback_days: int = 0
    outcome_window_days: int = 7
    hypothesis: str = ""
    readout: ReadoutRules = field(default_factory=lambda: ReadoutRules())

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variants)

    def read_range(self, ds: str) -> tuple[str, str]:
        """Silver partitions a gold job needs as of ``ds``: look-back before the start to ds.

        The experiment's outcomes are bounded: nothing before ``start - look-back`` matters, and
        as-of ``ds`` nothing after ``ds`` exists yet, so gold never scans all history.
        """
        lo = self.start_date - timedelta(days=self.activation_lookback_days)
        return lo.isoformat(), min(date.fromisoformat(ds), self.final_day).isoformat()

    @property
    def outcomes_last_day(self) -> date:
        """The last partition that can hold activity inside an outcome window: the last
        exposure lands on end + 1 (late), its window closes ``outcome_window_days`` later and
        its last events land a day after their time."""
        return self.end_date + timedelta(days=self.outcome_window_days + 2 * LATE_ARRIVAL_DAYS)

    @property
    def final_day(self) -> date:
        """The experiment's conclusion: the last ds on which any of its gold rules reads a new
        partition, so the last ds whose tables and readout can change.

        Shop funnel: the outcome windows (``outcomes_last_day``). SaaS funnel: the longest
        follow-up of the details table, i.e. month-2 retention (billing up to two calendar
        months after the end, + the late day) or usage (30 days), whichever is later; the
        base table's bookings, revenue, identities and account attributes are frozen there
        too. After it the daily DAG skips the experiment and its jobs refuse the day, so a
        concluded experiment costs nothing however long history grows.
        """
        days = [self.end_date + timedelta(days=LATE_ARRIVAL_DAYS), self.outcomes_last_day]
        if self.funnel == "saas":
            days += [self.retention_last_day, self.usage_last_day, self.decision_day]
        return max(days)

    @property
    def decision_day(self) -> date:
        """The day the decision metrics are final: the sequential test's last look, where a
        flat result becomes conclusive (``readouts.experiment``).

        SaaS funnel: every outcome the readout decides on is counted up to the end date
        (seed 001: activation and conversion before the end), so nothing it tests changes
        once the end date's late arrivals landed: end + the late day; a primary or guardrail
        metric with a window of its own (``support_tickets_14d``: 14 days from the exposure
        date) is final once the window of the last exposure day closed, so the decision
        waits for it: end + days - 1 + the late day. The follow-up of the
        details table (retention, usage) keeps the experiment open until ``final_day``, but
        it is a deep dive, never a decision metric. Shop funnel: the last outcome window
        closes on ``final_day`` (= ``outcomes_last_day``).
        """
        if self.funnel == "saas":
            windows = [
                m.window_days - 1
                for m in self.metrics
                if m.role in DECISION_ROLES and m.window_days is not None
            ]
            return self.end_date + timedelta(days=max([0, *windows]) + LATE_ARRIVAL_DAYS)
        return self.final_day

    @property
    def retention_last_day(self) -> date:
        """The last billing partition month-k retention reads: k calendar months after the
        end (the last k), plus the late day."""
        return add_months(self.end_date, max(RETENTION_MONTHS)) + timedelta(days=LATE_ARRIVAL_DAYS)

    @property
    def usage_last_day(self) -> date:
        """The last product-usage partition: 30 days after the last exposure day."""
        return self.end_date + timedelta(days=USAGE_DAYS)

    def is_concluded(self, ds: str) -> bool:
        """True when ``ds`` is after the final day (nothing of the experiment changes)."""
        return date.fromisoformat(ds) > self.final_day

    def require_open(self, ds: str) -> None:
        """Refuse a ``ds`` after the final day, naming the day the tables stay at."""
        if self.is_concluded(ds):
            raise ValueError(
                f"experiment {self.name} concluded on {self.final_day}: its gold tables and "
                f"readout stay at ds={self.final_day}; ds={ds} is after it"
            )

    @property
    def pre_start_day(self) -> date:
        """How far back the SaaS base looks for a unit's exposures before the start: a unit
        first exposed then is not an eligible visitor (seed 001). The assignment service
        logs an experiment's exposures from the day its flag is on; a flag on more than
        ``PRE_START_EXPOSURE_DAYS`` before the configured start is a different rollout."""
        return self.start_date - timedelta(days=PRE_START_EXPOSURE_DAYS)

    def exposure_range(self, ds: str) -> tuple[str, str] | None:
        """Partitions that can hold exposures as of ``ds`` (None before the start)."""
        day = date.fromisoformat(ds)
        if day < self.start_date:
            return None
        # one extra day after the end: late-arriving exposures land in the next day's folder
        hi = min(day, self.end_date + timedelta(days=1))
        return self.start_date.isoformat(), hi.isoformat()


def _require(cond: bool, name: str, message: str) -> None:
    if not cond:
        raise ValueError(f"experiment {name}: {message}")


# Every key an experiment file may hold, per level: anything else is an error, never ignored.
TOP_KEYS = (
    "name", "hypothesis", "funnel", "variants", "control", "start_date", "end_date",
    "exposure_event", "activation_lookback_days", "outcome_window_days", "metrics",
    "segments", "readout",
)  # fmt: skip
VARIANT_KEYS = ("name", "weight")
METRIC_KEYS = ("name", "type", "role")
READOUT_KEYS = ("correction", "min_sample_per_arm", "planned_sample_per_arm")
# include.stats.multiple.METHODS (a test holds the two equal; this module stays numpy-free)
CORRECTIONS = ("holm", "bh", "none")


@dataclass(frozen=True)
class ReadoutRules:
    """The ``readout:`` block: the multiple-testing correction and the sample rules of the
    verdict (``include.stats.verdict``): no decision below ``min_sample_per_arm`` units per
    arm; with ``planned_sample_per_arm`` a null result is conclusive only at that sample."""

    correction: str = "holm"
    min_sample_per_arm: int = 1000
    planned_sample_per_arm: int | None = None


def _mapping(value: object, key: str, name: str, allowed: tuple[str, ...]) -> dict:
    """``value`` as a mapping holding only ``allowed`` keys (``key``: where it sits)."""
    _require(isinstance(value, dict), name, f"{key} must be a mapping, got {value!r}")
    unknown = [k for k in value if k not in allowed]
    where = f"{key}." if key != "the file" else ""
    _require(
        not unknown,
        name,
        f"unknown key {', '.join(repr(f'{where}{k}') for k in unknown)} in {key}; "
        f"allowed: {', '.join(allowed)}",
    )
    return value


def _integer(value: object, key: str, name: str, lo: int, hi: int) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool)
    _require(ok and lo <= value <= hi, name, f"{key} must be an integer in [{lo}, {hi}], "
             f"got {value!r}")  # fmt: skip
    return value  # type: ignore[return-value]


def _text(value: object, key: str, name: str) -> str:
    _require(isinstance(value, str) and bool(value.strip()), name,
             f"{key} must be a non-empty string, got {value!r}")  # fmt: skip
    return value  # type: ignore[return-value]


def _day(value: object, key: str, name: str) -> date:
    if isinstance(value, date):  # YAML reads an unquoted 2024-01-01 as a date
        return value
    try:
        if isinstance(value, str):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ValueError(f"experiment {name}: {key} must be a date YYYY-MM-DD, got {value!r}")


def _list(value: object, key: str, name: str) -> list:
    _require(isinstance(value, list), name, f"{key} must be a list, got {value!r}")
    return value  # type: ignore[return-value]


def parse_readout(raw: object, name: str) -> ReadoutRules:
    """The ``readout:`` block, every key checked (absent: the defaults of ReadoutRules)."""
    if raw is None:
        return ReadoutRules()
    block = _mapping(raw, "readout", name, READOUT_KEYS)
    default = ReadoutRules()
    correction = block.get("correction", default.correction)
    _require(correction in CORRECTIONS, name,
             f"readout.correction must be one of {CORRECTIONS}, got {correction!r}")  # fmt: skip
    minimum = _integer(
        block.get("min_sample_per_arm", default.min_sample_per_arm),
        "readout.min_sample_per_arm", name, 1, 100_000_000,
    )  # fmt: skip
    planned = block.get("planned_sample_per_arm")
    if planned is not None:
        planned = _integer(planned, "readout.planned_sample_per_arm", name, minimum, 100_000_000)
    return ReadoutRules(correction, minimum, planned)


def parse_experiment(raw: dict) -> ExperimentSpec:
    """Validate a config mapping and return the spec; every problem is a ``ValueError``
    naming the key. Every key is read: an unknown key or a value of the wrong type is an
    error, never ignored (``load_experiment`` adds the file's path)."""
    if not isinstance(raw, dict):
        raise ValueError("experiment config must be a mapping")
    name = validate_identifier(raw.get("name"), "experiment name")
    _mapping(raw, "the file", name, TOP_KEYS)
    exposure_raw = raw.get("exposure_event")
    funnel = raw.get("funnel") or (
        "shop" if exposure_raw == EXPOSURE_EVENTS["shop"] else "saas"
    )
    _require(funnel in FUNNELS, name, f"funnel must be one of {FUNNELS}, got {funnel!r}")
    variants = []
    for i, v in enumerate(_list(raw.get("variants") or [], "variants", name)):
        v = _mapping(v, f"variants[{i}]", name, VARIANT_KEYS)
        weight = v.get("weight")
        _require(
            isinstance(weight, int | float) and not isinstance(weight, bool),
            name,
            f"variants[{i}].weight must be a number, got {weight!r}",
        )
        variants.append(Variant(validate_identifier(v.get("name"), "variant name"), float(weight)))
    names = [v.name for v in variants]
    _require(len(variants) >= 2, name, "needs at least two variants")
    _require(len(set(names)) == len(names), name, "variant names must be unique")
    _require(all(v.weight > 0 for v in variants), name, "variant weights must be positive")
    _require(abs(sum(v.weight for v in variants) - 1) < 1e-9, name, "weights must sum to 1")
    control = raw.get("control")
    _require(control in names, name, f"control {control!r} is not a variant")
    start = _day(raw.get("start_date"), "start_date", name)
    end = _day(raw.get("end_date"), "end_date", name)
    _require(start <= end, name, "start_date after end_date")
    exposure = EXPOSURE_EVENTS[funnel] if exposure_raw is None else exposure_raw
    exposure = _text(exposure, "exposure_event", name)
    metrics = []
    for i, m in enumerate(_list(raw.get("metrics") or [], "metrics", name)):
        m = _mapping(m, f"metrics[{i}]", name, METRIC_KEYS)
        metric_name = validate_identifier(m.get("name"), "metric name")
        try:
            found = definition(metric_name, funnel)
        except ValueError as err:
            raise ValueError(f"experiment {name}: metrics[{i}]: {err}") from None
        role = m.get("role")
        _require(role in METRIC_ROLES, name,
                 f"metrics[{i}].role must be in {METRIC_ROLES}, got {role!r}")  # fmt: skip
        # ``type`` is the library's; an experiment file may still spell it, if it agrees
        given = m.get("type", found.stats_type)
        _require(given in TYPES_OF_KIND[found.kind], name,
                 f"metrics[{i}].type {given!r} contradicts the library: {metric_name} is "
                 f"{found.kind} ({', '.join(TYPES_OF_KIND[found.kind])})")  # fmt: skip
        metrics.append(
            Metric(metric_name, given, role, found.higher_is_better, found.window_days)
        )
    _require(bool(metrics), name, "needs at least one metric")
    _require(len({m.name for m in metrics}) == len(metrics), name, "metric names must be unique")
    segments = tuple(_list(raw.get("segments") or [], "segments", name))
    bad = [s for s in segments if s not in SEGMENT_COLUMNS]
    _require(not bad, name, f"unknown segments {bad}; known {SEGMENT_COLUMNS}")
    _require(len(set(segments)) == len(segments), name, "segments must be unique")
    if funnel == "shop":
        bad = [s for s in segments if s not in SHOP_SEGMENT_COLUMNS]
        _require(not bad, name, f"shop segments must be in {SHOP_SEGMENT_COLUMNS}, not {bad}")
    else:
        bad = [s for s in segments if s in SHOP_ONLY_SEGMENTS]
        _require(not bad, name, f"segments {bad} exist for the shop funnel only")
    lookback = _integer(
        raw.get("activation_lookback_days", 0), "activation_lookback_days", name, 0, 366
    )
    window = _integer(raw.get("outcome_window_days", 7), "outcome_window_days", name, 1, 90)
    hypothesis = raw.get("hypothesis", "")
    _require(isinstance(hypothesis, str), name, f"hypothesis must be text, got {hypothesis!r}")
    return ExperimentSpec(
        name=name,
        funnel=funnel,
        variants=tuple(variants),
        control=control,
        start_date=start,
        end_date=end,
        exposure_event=exposure,
        metrics=tuple(metrics),
        segments=segments,
        activation_lookback_days=lookback,
        outcome_window_days=window,
        hypothesis=hypothesis,
        readout=parse_readout(raw.get("readout"), name),
    )


def metric_columns(funnel: str) -> dict[str, str]:
    """Metric name -> the outcome column that holds its per-unit value, for every library
    metric of ``funnel`` (``metrics/metrics.yaml``)."""
    return {n: d.column for n, d in library().items() if d.funnel == funnel}


def metric_column(spec: ExperimentSpec, metric: str) -> str:
    return definition(metric, spec.funnel).column


def experiments_dir() -> Path:
    return Path(os.environ.get("LAKEHOUSE_EXPERIMENTS_DIR") or DEFAULT_DIR)


def load_experiment(name: str, directory: Path | None = None) -> ExperimentSpec:
    """The validated config of ``name`` (file ``{name}.yaml``; its ``name`` must match)."""
    import yaml

    validate_identifier(name, "experiment name")
    path = (directory or experiments_dir()) / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"no experiment config {path}")
    try:
        spec = parse_experiment(yaml.safe_load(path.read_text()))
    except (ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    if spec.name != name:
        raise ValueError(f"{path}: name {spec.name!r} does not match the file name")
    return spec


def load_all(directory: Path | None = None) -> list[ExperimentSpec]:
    """Every experiment config in the directory, validated, sorted by name."""
    folder = directory or experiments_dir()
    return [load_experiment(p.stem, folder) for p in sorted(folder.glob("*.yaml"))]
