"""Configuration of the synthetic source generator: scale, experiments, planted truths, mess.

Everything the generator plants is a parameter here, so tests and readouts can read back the
same numbers from the truth manifest. Defaults give the small demo scale (about 20k web events
a day), which is what a laptop runs for a few days of the whole pipeline.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date

SAAS_METRICS: tuple[str, ...] = (
    "activation", "conversion", "new_booking", "nb_mrr", "support_tickets_14d",
)
SHOP_METRICS: tuple[str, ...] = ("purchase", "revenue")


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment: arms and split, dates, and the true relative effect per metric.

    ``effects`` maps a metric to the relative lift every non-control arm gets on that metric
    (``{"conversion": 0.10}`` = +10% relative). ``arm_effects`` overrides it per arm.
    ``kind`` says which funnel the experiment sits on: ``saas`` (homepage, exposure on an
    ``experiment_exposure`` page event) or ``shop`` (exposure on ``product_view``).
    """

    name: str
    kind: str
    variants: tuple[str, ...] = ("control", "treatment")
    weights: tuple[float, ...] = (0.5, 0.5)
    control: str = "control"
    start_date: str = "2024-01-01"
    end_date: str = "2024-03-31"
    effects: dict[str, float] = field(default_factory=dict)
    arm_effects: dict[str, dict[str, float]] = field(default_factory=dict)
    traffic_share: float = 1.0

    def effect(self, variant: str, metric: str) -> float:
        """Relative lift of ``variant`` over control on ``metric`` (0 for control)."""
        if variant == self.control:
            return 0.0
        return self.arm_effects.get(variant, {}).get(metric, self.effects.get(metric, 0.0))

    def is_running(self, day: date) -> bool:
        return date.fromisoformat(self.start_date) <= day <= date.fromisoformat(self.end_date)

    def validate(self) -> None:
        if self.kind not in ("saas", "shop"):
            raise ValueError(f"{self.name}: kind must be 'saas' or 'shop', got {self.kind!r}")
        if len(self.variants) < 2 or len(set(self.variants)) != len(self.variants):
            raise ValueError(f"{self.name}: need at least two distinct variants")
        if len(self.weights) != len(self.variants):
            raise ValueError(f"{self.name}: one weight per variant")
        if any(w <= 0 for w in self.weights) or abs(sum(self.weights) - 1.0) > 1e-9:
            raise ValueError(f"{self.name}: weights must be positive and sum to 1")
        if self.control not in self.variants:
            raise ValueError(f"{self.name}: control {self.control!r} is not a variant")
        if date.fromisoformat(self.start_date) > date.fromisoformat(self.end_date):
            raise ValueError(f"{self.name}: start_date after end_date")
        if not 0.0 < self.traffic_share <= 1.0:
            raise ValueError(f"{self.name}: traffic_share must be in (0, 1]")
        known = SAAS_METRICS if self.kind == "saas" else SHOP_METRICS
        all_effects = [self.effects, *self.arm_effects.values()]
        for effects in all_effects:
            for metric, lift in effects.items():
                if metric not in known:
                    raise ValueError(f"{self.name}: unknown metric {metric!r} for {self.kind}")
                if lift <= -1.0 or lift > 5.0:
                    raise ValueError(f"{self.name}: lift for {metric} must be in (-1, 5]")
        for arm in self.arm_effects:
            if arm not in self.variants:
                raise ValueError(f"{self.name}: arm_effects names unknown variant {arm!r}")


@dataclass(frozen=True)
class MessRates:
    """Rates at which each kind of real-world mess is planted (all in [0, 1]).

    Rates are per web event unless the name says otherwise: ``multi_id`` and
    ``contamination`` are per exposed visitor, ``conversion_before_exposure`` per homepage
    exposure, ``fraud`` and ``closed`` per account, ``out_of_order`` per shop funnel session.
    """

    duplicate: float = 0.01
    multi_id: float = 0.02
    contamination: float = 0.01
    late: float = 0.01
    out_of_order: float = 0.02
    conversion_before_exposure: float = 0.01
    null_field: float = 0.003
    bad_hostname: float = 0.002
    unknown_action: float = 0.002
    unparsable: float = 0.001
    bot: float = 0.03
    fraud: float = 0.01
    closed: float = 0.02

    def validate(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"mess rate {f.name} must be in [0, 1], got {value}")
        per_event = self.null_field + self.bad_hostname + self.unknown_action + self.unparsable
        if per_event > 0.5:
            raise ValueError("null_field + bad_hostname + unknown_action + unparsable > 0.5")
        if self.bot >= 0.9:
            raise ValueError("bot share must be below 0.9")


@dataclass(frozen=True)
class FunnelRates:
    """The company's true base rates (control arm), which experiments then lift.

    ``signup_share`` is the share of homepage visitors that sign up (and start the strict
    14-day trial); ``activation`` is P(activate within trial | signup); ``trial_conversion``
    P(paid at trial end | activated); ``late_conversion`` P(a free, activated user pays after
    returning); ``shop_*`` drive the shop funnel of pdp_redesign.
    """

    signup_share: float = 0.08
    activation: float = 0.45
    trial_conversion: float = 0.35
    late_conversion: float = 0.20
    trial_cancel: float = 0.25
    monthly_upgrade: float = 0.04
    monthly_downgrade: float = 0.03
    monthly_churn: float = 0.03
    shop_intercept: float = -3.8
    shop_engagement_coef: float = 0.9
    hybrid_return: float = 0.6

    def validate(self) -> None:
        for name in (
            "signup_share",
            "activation",
            "trial_conversion",
            "late_conversion",
            "trial_cancel",
            "monthly_upgrade",
            "monthly_downgrade",
            "monthly_churn",
            "hybrid_return",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"funnel rate {name} must be in [0, 1], got {value}")
        if self.monthly_upgrade + self.monthly_downgrade > 1.0:
            raise ValueError("monthly_upgrade + monthly_downgrade > 1")


def default_experiments() -> tuple[ExperimentConfig, ...]:
    """The two experiments the company runs at once, with their planted effects."""
    return (
        ExperimentConfig(
            name="homepage_cta_test",
            kind="saas",
            start_date="2024-01-01",
            end_date="2024-03-31",
            # fewer support tickets in the 14 days from exposure: a lower-is-better guardrail
            effects={
                "activation": 0.10, "conversion": 0.12, "new_booking": 0.12, "nb_mrr": 0.15,
                "support_tickets_14d": -0.20,
            },  # fmt: skip
        ),
        ExperimentConfig(
            name="pdp_redesign",
            kind="shop",
            start_date="2024-01-01",
            end_date="2024-02-29",
            effects={"purchase": 0.05, "revenue": 0.05},
        ),
    )


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that decides what the generator writes for a day.

    ``epoch`` is the company's first day: accounts sign up from then on, so any ``ds`` on or
    after it can be generated alone. ``events_per_day`` is the mean clean web-event count of an
    average day (seasonality moves single days up and down).
    """

    seed: int = 42
    events_per_day: int = 20_000
    epoch: str = "2023-10-01"
    experiments: tuple[ExperimentConfig, ...] = field(default_factory=default_experiments)
    mess: MessRates = field(default_factory=MessRates)
    funnel: FunnelRates = field(default_factory=FunnelRates)
    events_per_part: int = 250_000

    def validate(self) -> GeneratorConfig:
        """Raise ``ValueError`` on any invalid value; return self so calls can chain."""
        if not 0 <= self.seed < 2**63:
            raise ValueError("seed must be a non-negative 63-bit integer")
        if not 100 <= self.events_per_day <= 200_000_000:
            raise ValueError("events_per_day must be in [100, 200e6]")
        if self.events_per_part < 1_000:
            raise ValueError("events_per_part must be at least 1000")
        date.fromisoformat(self.epoch)
        names = [e.name for e in self.experiments]
        if len(set(names)) != len(names):
            raise ValueError("experiment names must be unique")
        kinds = [e.kind for e in self.experiments]
        if kinds.count("saas") > 1 or kinds.count("shop") > 1:
            raise ValueError("at most one saas and one shop experiment")
        for exp in self.experiments:
            exp.validate()
            if date.fromisoformat(exp.start_date) < date.fromisoformat(self.epoch):
                raise ValueError(f"{exp.name} starts before the epoch")
        self.mess.validate()
        self.funnel.validate()
        return self

    def experiment(self, kind: str) -> ExperimentConfig | None:
        """The experiment running on the ``saas`` or ``shop`` funnel, if any."""
        return next((e for e in self.experiments if e.kind == kind), None)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
