"""One factory for every experiment's Airflow wiring, driven by ``experiments/*.yaml``.

* :func:`build_experiment_dag` makes the readout DAG ``experiment_<name>``: scheduled on the
  Asset of ``gold.<name>_aggregated`` (the daily DAG publishes it), runnable by hand with
  validated Params (significance level, segments, an explicit ``ds``), one Spark task
  (``readouts.experiment``) after a light task that resolves the day and checks the params.
* :func:`gold_chains` tells the daily DAG which gold experiment jobs to run per experiment
  (SaaS funnel: base -> outcomes -> aggregated; shop funnel: the shared seed 002 marts
  user_exposure -> user_outcomes, then aggregated), each with ``{"experiment": name}``.

Adding an experiment is a YAML file, never a copied DAG. Parsing reads only the small YAML
files (no Spark, no network); a config that does not validate raises at import with the
file's path, so the DAG processor shows *which* file is wrong.

Why a resolve task: in Airflow 3 an Asset-triggered run has no logical date, so ``{{ ds }}``
is undefined there. The day read out is, in order: the ``ds`` param of a manual run, the
run's logical date, or the latest ``ds`` of the daily runs whose events triggered it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from include.experiments import ExperimentSpec, experiments_dir, load_experiment

READOUT_JOB = "readouts.experiment"
DAG_PREFIX = "experiment_"
MAX_ALPHA = 0.2  # same bound as the job (spark_jobs/readouts/experiment.py)
DEFAULT_ALPHA = 0.05
_DS = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Gold experiment jobs per funnel, in run order: (job, task id, table the job writes).
GOLD_CHAINS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "saas": (
        ("gold.experiments.base", "base", "gold.{name}_base"),
        ("gold.experiments.outcomes", "outcomes", "gold.{name}_outcomes"),
        ("gold.experiments.aggregated", "aggregated", "gold.{name}_aggregated"),
        ("gold.experiments.details", "details", "gold.{name}_details"),
    ),
    "shop": (
        ("gold.experiments.user_exposure", "user_exposure", "gold.user_exposure"),
        ("gold.experiments.user_outcomes", "user_outcomes", "gold.user_outcomes"),
        ("gold.experiments.aggregated", "aggregated", "gold.{name}_aggregated"),
    ),
}
# Non-web sources (bronze.<source> -> silver.<source>) in the daily DAG, and the silver
# tables a silver job reads besides its own bronze table (person_id via sessions).
SOURCES = (
    "experiment_assignments",
    "accounts",
    "billing_events",
    "products",
    "sessions",
    "orders",
    "product_usage",
    "support_tickets",
    "nps_responses",
)
SILVER_UPSTREAM: dict[str, tuple[str, ...]] = {"experiment_assignments": ("sessions",)}


def silver_order() -> list[str]:
    """SOURCES ordered so every silver job runs after the silver tables it reads."""
    ordered: list[str] = []

    def visit(source: str) -> None:
        for upstream in SILVER_UPSTREAM.get(source, ()):
            visit(upstream)
        if source not in ordered:
            ordered.append(source)

    for source in SOURCES:
        visit(source)
    return ordered


class ExperimentConfigError(ValueError):
    """A config file in ``experiments/`` that does not validate (message names the file)."""


def load_configs(directory: Path | None = None) -> list[ExperimentSpec]:
    """Every ``*.yaml`` in the experiments folder, validated; the error names the file."""
    folder = directory or experiments_dir()
    specs = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            specs.append(load_experiment(path.stem, folder))
        except Exception as exc:  # yaml errors, ValueError, KeyError: all mean "bad file"
            raise ExperimentConfigError(f"invalid experiment config {path}: {exc}") from exc
    return specs


def aggregated_table(spec: ExperimentSpec) -> str:
    return f"gold.{spec.name}_aggregated"


def has_aggregated_table(spec: ExperimentSpec) -> bool:
    """True when the catalog declares ``gold.<name>_aggregated`` for this experiment."""
    from include.table_catalog_experiments import experiment_contracts

    return any(c.name == f"{spec.name}_aggregated" for c in experiment_contracts(spec))


def readout_configs(directory: Path | None = None) -> list[ExperimentSpec]:
    """The configs that get a gold chain and a readout DAG (those with an aggregated table)."""
    return [s for s in load_configs(directory) if has_aggregated_table(s)]


def gold_chains(specs: Iterable[ExperimentSpec]) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """{experiment: ((job, task id, output table), ...)} for the daily DAG."""
    return {
        s.name: tuple(
            (job, tid, table.format(name=s.name)) for job, tid, table in GOLD_CHAINS[s.funnel]
        )
        for s in specs
    }


# Task ids of the gold jobs whose tables no later job of a chain reads (the readout reads
# them through their Assets): their gates run together, in one task at the end of the chain.
LEAF_TASKS = frozenset({"aggregated", "details"})


def gated_stages(
    chain: Sequence[tuple[str, str, str]],
) -> list[tuple[list[tuple[str, str, str]], list[str]]]:
    """Split a gold chain at every table with an expectation suite that a later job reads:
    [(jobs, gated tables)].

    Each stage's jobs run in one task; its gated tables are checked by one gate task before
    the next stage reads them. Gated leaves (``LEAF_TASKS``) do not split the chain: they are
    gated together after its last job (SaaS: base, outcomes | gate outcomes | aggregated,
    details | gate both; shop: user_exposure | gate | user_outcomes | gate | aggregated |
    gate). A stage without a suite has no gated table.
    """
    from include.contracts import get_contract

    stages: list[tuple[list[tuple[str, str, str]], list[str]]] = []
    current: list[tuple[str, str, str]] = []
    gated: list[str] = []
    for step in chain:
        current.append(step)
        if get_contract(step[2]).suite:
            gated.append(step[2])
            if step[1] not in LEAF_TASKS:
                stages.append((current, gated))
                current, gated = [], []
    if current:
        stages.append((current, gated))
    return stages


def with_suite(tables: Iterable[str]) -> list[str]:
    """The tables among ``tables`` whose contract names an expectation suite."""
    from include.contracts import get_contract

    return [t for t in tables if get_contract(t).suite]


# Gold finance marts (seed 004), in run order: monthly ones rebuild the month of ds, daily
# snapshots the ds itself. Every mart with a suite is gated before the exports read them.
FINANCE_JOBS = (
    "gold.finance.mrr_bridge",
    "gold.finance.monthly_revenue",
    "gold.finance.cohort_retention",
    "gold.finance.user_master",
    "gold.finance.churn_flags",
    "gold.finance.monthly_funnel",
    "gold.finance.support_summary",
)
# Tables a job writes besides gold.<its name> (the bridge job's per-account snapshots).
EXTRA_TABLES = {"gold.finance.mrr_bridge": ("gold.mrr_snapshot_user_month",)}
GROWTH_JOBS = ("gold.growth.daily_growth", "gold.growth.traffic_breakdown")
# Silver tables gated after the sources' silver task: every source has a suite
# (expectations/silver_<source>.json); the gate also checks the quarantine every bronze /
# silver job writes to.
SILVER_GATED_SOURCES = SOURCES


# --------------------------------------------------------------------------- params
@dataclass(frozen=True)
class RunArgs:
    ds: str
    params: dict[str, Any]

    def to_xcom(self) -> dict[str, str]:
        return {"ds": self.ds, "params_json": json.dumps(self.params, sort_keys=True)}


def validate_alpha(value: Any) -> float:
    try:
        alpha = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a number in (0, {MAX_ALPHA}], got {value!r}") from None
    if not 0 < alpha <= MAX_ALPHA:  # NaN fails this too
        raise ValueError(f"alpha must be in (0, {MAX_ALPHA}] (confidence >= 80%), got {value!r}")
    return alpha


def validate_segments(spec: ExperimentSpec, value: Any) -> list[str]:
    if value is None:
        return list(spec.segments)
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) for s in value):
        raise ValueError(f"segments must be a list of names, got {value!r}")
    bad = [s for s in value if s not in spec.segments]
    if bad:
        raise ValueError(f"unknown segments {bad} for {spec.name}; configured: {spec.segments}")
    return list(dict.fromkeys(value))


def run_key(run_type: str | None, run_id: str | None) -> str:
    """The readout job's ``run`` param: ``daily`` for the automatic runs (Asset-triggered,
    scheduled, backfilled: one readout per day, a re-run replaces it), ``manual_<10 hex of
    the run id>`` for a run triggered by hand, whose result (other alpha or segments) is kept
    beside the daily one in gold.readouts and under reports/experiments/runs/."""
    import hashlib

    if str(run_type or "") != "manual":
        return "daily"
    return "manual_" + hashlib.sha256(str(run_id).encode()).hexdigest()[:10]


def resolve_run(
    spec: ExperimentSpec,
    params: Mapping[str, Any],
    logical_ds: str | None = None,
    event_days: Sequence[str] = (),
    run: str = "daily",
) -> RunArgs:
    """The day and job params of one readout run (see the module docstring); fails fast."""
    if params.get("experiment", spec.name) != spec.name:
        raise ValueError(f"this DAG reads out {spec.name}, not {params.get('experiment')!r}")
    alpha = validate_alpha(params.get("alpha", DEFAULT_ALPHA))
    segments = validate_segments(spec, params.get("segments"))
    days = sorted(d for d in event_days if d)
    ds = params.get("ds") or logical_ds or (days[-1] if days else None)
    if not ds:
        raise ValueError(
            "no ds to read out: set the 'ds' param (YYYY-MM-DD), or let the daily DAG's "
            f"update of {aggregated_table(spec)} trigger the run"
        )
    if not isinstance(ds, str) or not _DS.fullmatch(ds):
        raise ValueError(f"ds must be YYYY-MM-DD, got {ds!r}")
    spec.require_open(ds)
    job_params = {"experiment": spec.name, "alpha": alpha, "segments": segments, "run": run}
    return RunArgs(ds=ds, params=job_params)


def dag_params(spec: ExperimentSpec) -> dict:
    """Params of a manual run (JSON-schema validated by Airflow before the run starts)."""
    from airflow.sdk import Param

    return {
        "experiment": Param(
            spec.name, type="string", enum=[spec.name], description="Fixed for this DAG"
        ),
        "alpha": Param(
            DEFAULT_ALPHA,
            type="number",
            exclusiveMinimum=0,
            maximum=MAX_ALPHA,
            title="Significance level (alpha)",
            description="1 - confidence level: 0.05 = 95% intervals; at most 0.2",
        ),
        "segments": Param(
            list(spec.segments),
            type="array",
            items={"type": "string", "enum": list(spec.segments)},
            uniqueItems=True,
            description="Segment dimensions to read out besides 'overall'",
        ),
        "ds": Param(
            None,
            type=["null", "string"],
            pattern=_DS.pattern,
            description="Day to read out (YYYY-MM-DD); empty = the run's or trigger's ds",
        ),
    }


def doc_md(spec: ExperimentSpec) -> str:
    """The DAG's docs in the UI: hypothesis, variants, metrics, segments, how to run it."""
    variants = ", ".join(
        f"`{v.name}` {v.weight:.0%}{' (control)' if v.name == spec.control else ''}"
        for v in spec.variants
    )
    metrics = "\n".join(f"| `{m.name}` | {m.type} | {m.role} |" for m in spec.metrics)
    return f"""### Experiment readout: {spec.name}

**Hypothesis**: {spec.hypothesis or "(not stated)"}

**Window**: {spec.start_date} to {spec.end_date} · **decision day** {spec.decision_day}
(the sequential test's last look: the verdict is final from it) ·
**final day** {spec.final_day} (the last day its tables and readout can change; the daily
DAG skips the experiment after it) ·
**funnel**: {spec.funnel} · **variants**: {variants}

| metric | type | role |
| --- | --- | --- |
{metrics}

**Segments**: {", ".join(f"`{s}`" for s in spec.segments) or "overall only"}

Runs `spark_jobs/run.py {READOUT_JOB}` when the daily DAG updates
`{aggregated_table(spec)}` (Asset schedule): trust checks (SRM against the weights,
contamination, duplicates, quality gates) first, then frequentist + Bayesian results per
metric x variant x segment with multiple-testing correction, CUPED, MRR impact, and the
verdict. Writes `gold.readouts` (slice `readout = {DAG_PREFIX}{spec.name}`, with the Delta
versions it read) and `reports/experiments/{spec.name}/<ds>/readout.html`.

**Manual run**: *Trigger DAG w/ config*: `alpha`, `segments`, and `ds` (required unless
the run has a logical date). Generated by `include/dag_factory.py` from
`experiments/{spec.name}.yaml`: edit the config, not this DAG.
"""


def _event_days(triggering_asset_events: Any) -> list[str]:
    """The ds of the daily runs whose asset events triggered this run."""
    import logging

    days = []
    for events in (triggering_asset_events or {}).values():
        for event in events:
            extra_ds = (event.extra or {}).get("ds")
            try:
                run = None if extra_ds else event.source_dag_run
            except Exception as exc:  # noqa: BLE001 - the run the event came from is gone
                # (deleted, or replaced by a `dag.test` of the same date): that event names
                # no day; the run still reads out the days of the others (or fails clearly in
                # resolve_run when none is left)
                logging.getLogger(__name__).warning(
                    "skipping an asset event whose source run %s/%s no longer exists: %s",
                    getattr(event, "source_dag_id", "?"), getattr(event, "source_run_id", "?"),
                    exc,
                )
                continue
            if extra_ds:
                days.append(str(extra_ds))
            elif run is not None and run.logical_date is not None:
                days.append(run.logical_date.strftime("%Y-%m-%d"))
    return days


def build_experiment_dag(spec: ExperimentSpec):
    """The readout DAG of one experiment (see the module docstring)."""
    import pendulum
    from airflow.sdk import DAG, task

    from include.airflow_tasks import READOUTS_POOL, dag_default_args, spark_job, table_asset

    with DAG(
        dag_id=f"{DAG_PREFIX}{spec.name}",
        schedule=table_asset(aggregated_table(spec)),
        start_date=pendulum.datetime(
            spec.start_date.year, spec.start_date.month, spec.start_date.day, tz="UTC"
        ),
        catchup=False,
        max_active_runs=1,
        default_args=dag_default_args(),
        tags=["experiment", "readout", spec.funnel],
        doc_md=doc_md(spec),
        params=dag_params(spec),
    ) as dag:

        @task(task_id="resolve_run")
        def resolve(
            params=None, triggering_asset_events=None, logical_date=None, dag_run=None
        ) -> dict:
            """Pick the day to read out and validate the params (fails before Spark starts)."""
            logical_ds = logical_date.strftime("%Y-%m-%d") if logical_date else None
            run_type = getattr(dag_run, "run_type", None)  # a DagRunType (a str enum)
            kind = getattr(run_type, "value", run_type)
            run = resolve_run(
                spec,
                dict(params or {}),
                logical_ds,
                _event_days(triggering_asset_events),
                run_key(kind, getattr(dag_run, "run_id", None)),
            )
            return run.to_xcom()

        # The day and params come from resolve_run, not from `{{ ds }}` (undefined in
        # Asset-triggered runs); same runner, same job, whichever engine runs it.
        pulled = "ti.xcom_pull(task_ids='resolve_run')"
        readout = spark_job(
            READOUT_JOB,
            task_id="readout",
            run_ds="{{ " + pulled + "['ds'] }}",
            params_json="{{ " + pulled + "['params_json'] }}",
            outlets=[table_asset("gold.readouts")],
            pool=READOUTS_POOL,
        )
        resolve() >> readout
    return dag


def build_experiment_dags(directory: Path | None = None) -> dict[str, Any]:
    """{dag_id: DAG} for every config with an aggregated table."""
    return {
        f"{DAG_PREFIX}{spec.name}": build_experiment_dag(spec)
        for spec in readout_configs(directory)
    }
