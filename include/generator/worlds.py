"""Worlds: a generator configuration and the experiment configs that describe it, together.

The pipeline reads experiments from ``experiments/*.yaml``; the generator plants effects from
its own :class:`GeneratorConfig`. A world keeps both in step: the repository's experiment
files with the world's dates, and a generator configuration with the same dates and the
planted effects. :func:`truth_world` is the one where both experiments reach their decision
day in a few days, at a scale where the planted effects are detectable (issue 29, item 12;
``bench/bench_truth.py`` runs it through the daily DAG's jobs and compares each readout with
the planted truth).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from include.generator.config import ExperimentConfig, GeneratorConfig

REPO_EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
DEFAULT = "default"


@dataclass(frozen=True)
class World:
    """A generator configuration and the pipeline's experiment documents for it."""

    name: str
    generator: GeneratorConfig
    first_day: str
    # {experiment: {metric: role}}: roles the world gives instead of the repository file's
    roles: dict[str, dict[str, str]] = field(default_factory=dict)
    # {experiment: {key: value}}: other keys of the file the world sets (outcome_window_days)
    settings: dict[str, dict[str, object]] = field(default_factory=dict)

    def experiment_documents(self) -> dict[str, dict]:
        """{name: the YAML document} of every experiment the generator plants: the
        repository's file of that name with the world's start and end dates (and its
        ``roles`` and ``settings``)."""
        import yaml

        docs = {}
        for exp in self.generator.experiments:
            doc = yaml.safe_load((REPO_EXPERIMENTS / f"{exp.name}.yaml").read_text())
            doc["start_date"], doc["end_date"] = exp.start_date, exp.end_date
            doc.update(self.settings.get(exp.name, {}))
            given = self.roles.get(exp.name, {})
            unknown = set(given) - {m["name"] for m in doc["metrics"]}
            if unknown:
                raise ValueError(f"world {self.name}: {exp.name} has no metric {sorted(unknown)}")
            for m in doc["metrics"]:
                m["role"] = given.get(m["name"], m["role"])
            docs[exp.name] = doc
        return docs

    def write_experiments(self, folder: Path) -> Path:
        """Write the experiment files into ``folder`` (``LAKEHOUSE_EXPERIMENTS_DIR``)."""
        import yaml

        folder.mkdir(parents=True, exist_ok=True)
        for name, doc in self.experiment_documents().items():
            (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        return folder

    def specs(self):
        """The pipeline's view of the experiments (validated like ``experiments/*.yaml``)."""
        from include.experiments import parse_experiment

        return {n: parse_experiment(d) for n, d in self.experiment_documents().items()}

    @property
    def last_day(self) -> str:
        """The last decision day of the world's experiments: the last day to run."""
        return max(s.decision_day for s in self.specs().values()).isoformat()

    def days(self) -> list[str]:
        first, last = date.fromisoformat(self.first_day), date.fromisoformat(self.last_day)
        return [(first + timedelta(d)).isoformat() for d in range((last - first).days + 1)]


def truth_world(events_per_day: int = 50_000, seed: int = 29) -> World:
    """Both experiments decided in 12 days (2024-01-01 .. 01-12), one planted win, one loss.

    * homepage_cta_test (SaaS), 2024-01-01 .. 01-08, decision day 01-09: activation +80 %
      (P(activate within the trial | signup) 0.45 -> 0.81). Conversion, new booking and
      nb_mrr are planted +80 % too but cannot be seen: a conversion comes at the end of the
      strict 14-day trial (seed 004) and must fall before the end date (seed 001), so an
      8-day experiment has none. Planted verdict: ship. Support tickets in 14 days are
      planted -50 %; the world reports support_tickets_14d as a secondary metric (a 14-day
      guardrail would hold the decision to 01-22, ten more days to run), and on 01-09 no
      unit's 14 days have passed, so it has no units yet.
    * pdp_redesign (shop), 2024-01-01 .. 01-03, decision day 01-12 (the last 7-day window
      closes, seed 002): purchase -50 % and revenue per visitor -50 %. Planted verdict:
      do not ship.

    At 50k events a day: about 1,800 homepage exposures and 1,300 product-page visitors a
    day (the demo's 20k: 725 and 520), so both arms pass the readout's 1,000-unit minimum.
    The epoch is a month before the start, so some exposed ids are existing accounts (the
    ineligible ones the pipeline must drop).
    """
    saas = ExperimentConfig(
        name="homepage_cta_test", kind="saas", start_date="2024-01-01", end_date="2024-01-08",
        effects={"activation": 0.8, "conversion": 0.8, "new_booking": 0.8, "nb_mrr": 0.8,
                 "support_tickets_14d": -0.5},
    )  # fmt: skip
    shop = ExperimentConfig(
        name="pdp_redesign", kind="shop", start_date="2024-01-01", end_date="2024-01-03",
        effects={"purchase": -0.5, "revenue": -0.5},
    )  # fmt: skip
    cfg = GeneratorConfig(
        seed=seed, events_per_day=events_per_day, epoch="2023-12-01", experiments=(saas, shop)
    ).validate()
    roles = {"homepage_cta_test": {"support_tickets_14d": "secondary"}}
    return World("truth", cfg, first_day="2024-01-01", roles=roles)


def compact_world(events_per_day: int = 50_000, seed: int = 29) -> World:
    """What ``make demo`` runs by default: both experiments decided in 5 days (2024-01-01 ..
    01-05), at the truth world's scale and effects (issue 32).

    * homepage_cta_test, 2024-01-01 .. 01-04, decision day 01-05: activation +80 %, the
      rest as in the truth world (support_tickets_14d secondary: no 14 days pass), 40 % of
      homepage visitors signing up. Planted verdict: ship. (With the default 8 %, the first
      run of this world read activation +48.5 % [-13.1 %, +169.1 %], p 0.14: do not ship.)
    * pdp_redesign, 2024-01-01 .. 01-02 with a 1-day outcome window (seed 002's is 7 days:
      a purchase counts within a day of the first product view here), decision day 01-02 +
      1 + 2 late days = 01-05: purchase -50 %, revenue -50 %. The generator times a
      purchase independently of the arm, so a shorter window keeps the planted relative
      lift. Planted verdict: do not ship.

    The same seed, scale and lifts as the truth world; the long form (``make demo
    START=... DAYS=... SCALE=...``) runs the default world."""
    truth = truth_world(events_per_day, seed)
    saas, shop = truth.generator.experiments
    saas = dataclasses.replace(saas, end_date="2024-01-04")
    shop = dataclasses.replace(shop, end_date="2024-01-02")
    # 40 % of homepage visitors sign up (8 % by default): an activation comes within the
    # 14-day trial, so four days see few of them; five times the signups give the test
    # the activations the truth world's eight days give it
    funnel = dataclasses.replace(truth.generator.funnel, signup_share=0.4)
    cfg = dataclasses.replace(truth.generator, experiments=(saas, shop), funnel=funnel).validate()
    return World("compact", cfg, first_day="2024-01-01", roles=truth.roles,
                 settings={"pdp_redesign": {"outcome_window_days": 1}})  # fmt: skip


def default_world(events_per_day: int = 20_000, seed: int = 42) -> World:
    """The repository's experiments as configured (``experiments/*.yaml``, 2024) and the
    generator's defaults: what ``make demo`` runs unless told otherwise."""
    cfg = GeneratorConfig(seed=seed, events_per_day=events_per_day).validate()
    return World(DEFAULT, cfg, first_day="2024-01-01")


WORLDS = {DEFAULT: default_world, "truth": truth_world, "compact": compact_world}
# the scale each world is meant for (the truth world's effects are detectable at it)
WORLD_SCALES = {DEFAULT: 20_000, "truth": 50_000, "compact": 50_000}


def world(name: str | None = None, events_per_day: int | None = None) -> World:
    """The world called ``name`` (``LAKEHOUSE_WORLD``; default: the repository's own)."""
    import os

    name = name or os.environ.get("LAKEHOUSE_WORLD") or DEFAULT
    if name not in WORLDS:
        raise ValueError(f"unknown world {name!r}; known: {sorted(WORLDS)}")
    return WORLDS[name](events_per_day or WORLD_SCALES[name])


def main(argv: list[str] | None = None) -> int:
    """``python -m include.generator.worlds NAME FOLDER``: write the world's experiment
    files into FOLDER and print ``START DAYS SCALE`` (scripts/demo.sh)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m include.generator.worlds NAME FOLDER", file=sys.stderr)
        return 2
    try:
        w = world(args[0])
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    if w.name != DEFAULT:
        w.write_experiments(Path(args[1]))
    print(w.first_day, len(w.days()), w.generator.events_per_day)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
