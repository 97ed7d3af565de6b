"""readouts.web_experiments: the same-day web readout of every running experiment.

Reads only ``silver.fct_website_events`` for ``ds``: a unit is a device
(``logged_out_user_id``) with an ``experiment_exposure`` event; for each experiment the
metrics are whether the unit signed up / purchased at or after its first exposure that day
(conversion type) and how many events it produced from exposure on (mean type, seed 002's
"engagement intensity"). Units exposed to several variants are contaminated and left out of
the comparison (counted in the trust checks). Spark aggregates units into sufficient
statistics per experiment x variant x segment; ``include.stats`` does the rest, so no user
rows reach the driver.

The experiment readouts built on the seed-001 outcome tables are separate jobs and the only
ones that decide; this one is the growth team's daily early-warning *monitor*: its rows'
verdict is ``monitor`` (no ship / no-ship from one day's data), the split is tested against
each experiment file's configured weights and compared with its configured control, and an
experiment without a file gets counts only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from include.engine import keep
from include.experiments import ExperimentSpec
from include.table_catalog import FCT_WEBSITE_EVENTS, QUALITY_RESULTS, READOUTS
from spark_jobs.common import JobResult

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

READOUT = "web_experiments"
METRICS = {
    "signup_rate": {"type": "conversion", "role": "primary", "action": "signup"},
    "purchase_rate": {"type": "conversion", "role": "guardrail", "action": "purchase"},
    "events_after_exposure": {"type": "revenue", "role": "secondary", "action": None},
}
SEGMENT_COLUMNS = ("dim_device_brand",)


def with_exposure(events: DataFrame) -> DataFrame:
    """Units' first exposure per experiment, and how many variants they saw."""
    from pyspark.sql import functions as F

    exposures = (
        events.where(F.col("dim_action_type") == "experiment_exposure")
        .select(
            "logged_out_user_id",
            F.col("other_properties")["experiment"].alias("experiment"),
            F.col("other_properties")["variant"].alias("variant"),
            "event_timestamp",
            *SEGMENT_COLUMNS,
        )
        .where(F.col("experiment").isNotNull() & F.col("variant").isNotNull())
    )
    return exposures.groupBy("experiment", "logged_out_user_id").agg(
        F.min("event_timestamp").alias("first_exposure"),
        F.min_by("variant", "event_timestamp").alias("variant"),
        F.countDistinct("variant").alias("n_variants"),
        *[F.min_by(c, "event_timestamp").alias(c) for c in SEGMENT_COLUMNS],
    )


def unit_outcomes(events: DataFrame) -> DataFrame:
    """One row per (experiment, unit) with each metric's value for that unit."""
    from pyspark.sql import functions as F

    units = with_exposure(events)
    after = events.alias("e").join(
        units.alias("u"),
        (F.col("e.logged_out_user_id") == F.col("u.logged_out_user_id"))
        & (F.col("e.event_timestamp") >= F.col("u.first_exposure")),
    )
    per_unit = after.groupBy("u.experiment", "u.logged_out_user_id").agg(
        *[
            F.max(F.when(F.col("e.dim_action_type") == spec["action"], 1).otherwise(0)).alias(m)
            for m, spec in METRICS.items()
            if spec["action"]
        ],
        F.sum(F.when(F.col("e.dim_action_type") != "experiment_exposure", 1).otherwise(0))
        .cast("double")
        .alias("events_after_exposure"),
    )
    return units.join(per_unit, ["experiment", "logged_out_user_id"], "left").fillna(
        0, subset=list(METRICS)
    )


def sufficient_stats(outcomes: DataFrame) -> DataFrame:
    """n, sum, sum of squares per experiment x variant x segment x metric (clean units)."""
    from pyspark.sql import functions as F

    clean = outcomes.where("n_variants = 1")
    frames = []
    for segment_col in (None, *SEGMENT_COLUMNS):
        seg = (
            F.lit("overall")
            if segment_col is None
            else F.concat_ws("=", F.lit(segment_col), F.col(segment_col))
        )
        for metric in METRICS:
            frames.append(
                clean.groupBy("experiment", "variant", seg.alias("segment")).agg(
                    F.lit(metric).alias("metric"),
                    F.count("*").cast("double").alias("n"),
                    F.sum(metric).cast("double").alias("sum"),
                    F.sum(F.col(metric) * F.col(metric)).cast("double").alias("sum_sq"),
                )
            )
    out = frames[0]
    for f in frames[1:]:
        out = out.unionByName(f)
    return out


def trust_counts(outcomes: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    return outcomes.groupBy("experiment").agg(
        F.sum(F.when(F.col("n_variants") > 1, 1).otherwise(0)).alias("contaminated"),
        F.count("*").alias("units"),
    )


MONITOR = "monitor"  # the verdict column of this readout's rows: never a decision


def guardrail_notes(rows: list[tuple]) -> list[str]:
    """One line per significant day-over-day drop of a seed 003 guardrail rate
    (``include.quality_checks.guardrail_drop_rows``, the rule the daily_growth gate warns on)."""
    notes = []
    for host, metric, x1, n1, x0, n0, rate, before, change, p, flagged in rows:
        if flagged:
            notes.append(
                f"guardrail {metric} ({host}) down day over day: {before:.4f} ({x0}/{n0}) -> "
                f"{rate:.4f} ({x1}/{n1}), {change:+.1%}, one-sided p = {p:.2g}"
            )
    return notes


def monitor_verdict(
    exp: str, spec: ExperimentSpec | None, trust, ds: str, guardrails: Sequence[str] = ()
):
    """The daily page's status line: no ship / no-ship decision from one day's data (that is
    the experiment readout's, on experiment-to-date data and its own rules), only what the
    day's checks found and where the decision lives."""
    from include.stats import Verdict

    if spec is None:
        where = (
            f"{exp} has no experiment file (experiments/{exp}.yaml): the split is not judged "
            "and there is no control to compare with"
        )
    else:
        where = f"the decision is the experiment readout: experiments/{exp}/{ds}/readout.html"
    notes = [f"daily monitor, no verdict: {where}", f"trust checks: {trust.status}"]
    notes += [f"warning: {r}" for r in trust.reasons]
    notes += list(guardrails)
    return Verdict(MONITOR, None, tuple(notes))


def build_rows(
    cells: list[dict],
    trust_rows: list[dict],
    gates: dict[str, str],
    ds: str,
    versions: dict[str, int],
    specs: Mapping[str, ExperimentSpec] | None = None,
    guardrails: Sequence[str] = (),
) -> tuple[list[dict], dict[str, dict]]:
    """Pure: cells -> readout rows (status ``monitor``) and a per-experiment summary.

    ``specs``: the experiment files by name. A configured experiment's split is tested
    against its configured weights and its control is the configured one; an experiment
    seen in the web events without a file gets counts only (no comparison, no SRM test).
    """
    from include.stats import build_readout, run_trust_checks

    specs = specs or {}
    rows, summaries = [], {}
    experiments = sorted({c["experiment"] for c in cells})
    trust_by_exp = {t["experiment"]: t for t in trust_rows}
    for exp in experiments:
        spec = specs.get(exp)
        exp_cells = [c for c in cells if c["experiment"] == exp]
        config = {
            "experiment": exp,
            "control": spec.control if spec else None,
            "metrics": {m: {"type": s["type"], "role": s["role"]} for m, s in METRICS.items()},
        }
        records = build_readout(exp_cells, config)
        counts = {
            c["variant"]: c["n"]
            for c in exp_cells
            if c["segment"] == "overall" and c["metric"] == "signup_rate"
        }
        t = trust_by_exp.get(exp, {"contaminated": 0})
        if spec is not None:
            weights = {v.name: v.weight for v in spec.variants}
            for v in weights:
                counts.setdefault(v, 0.0)  # an arm without a unit today is still an arm
            trust = run_trust_checks(
                counts, weights, contaminated=t["contaminated"], quality_gates=gates
            )
        else:
            weights = {}
            trust = _unjudged_split(exp, t["contaminated"], sum(counts.values()), gates)
        verdict = monitor_verdict(exp, spec, trust, ds, guardrails)
        summaries[exp] = {
            "verdict": verdict,
            "trust": trust,
            "counts": counts,
            "weights": weights,
            "records": records,
            "config": config,
            "control": spec.control if spec else None,
        }
        for r in records:
            rows.append(
                {
                    "readout": READOUT,
                    "readout_id": f"{READOUT}:{exp}:{ds}",
                    **r,
                    "verdict": verdict.verdict,
                    "verdict_reasons": json.dumps(list(verdict.reasons)),
                    "trust_status": trust.status,
                    "input_versions": versions,
                    "ds": ds,
                }
            )
    return rows, summaries


def _unjudged_split(exp: str, contaminated: float, units: float, gates: dict[str, str]):
    """Trust checks of an experiment without a file: contamination and the gates; the
    split itself is shown as a warning (no configured weights to test it against)."""
    from include.stats.trust import (
        DEFAULT_TRUST_CONFIG,
        WARN,
        CheckResult,
        _gate_check,
        check_rate,
        combine_checks,
    )

    cfg = DEFAULT_TRUST_CONFIG
    checks = [
        CheckResult("sample_ratio_mismatch", WARN, None, None,
                    f"{exp}: no configured weights, the split is not tested"),  # fmt: skip
        check_rate("contamination_rate", contaminated, units + contaminated,
                   cfg["warn_contamination_rate"], cfg["max_contamination_rate"]),  # fmt: skip
    ]
    checks += [_gate_check(name, status) for name, status in gates.items()]
    return combine_checks(checks)


def funnel_counts(outcomes: DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """experiment -> stage -> variant -> units (clean units: exposed, signed up, purchased)."""
    from pyspark.sql import functions as F

    rows = (
        outcomes.where("n_variants = 1")
        .groupBy("experiment", "variant")
        .agg(
            F.count("*").alias("exposed"),
            F.sum("signup_rate").alias("signed_up"),
            F.sum("purchase_rate").alias("purchased"),
        )
        .collect()
    )
    out: dict[str, dict[str, dict[str, float]]] = {}
    for r in rows:
        for stage in ("exposed", "signed_up", "purchased"):
            out.setdefault(r.experiment, {}).setdefault(stage, {})[r.variant] = float(r[stage])
    return out


def write_reports(reports_dir, ds: str, summaries: dict, funnels: dict, versions: dict) -> list:
    from include.report import ReadoutBundle, write_report

    paths = []
    for exp, s in sorted(summaries.items()):
        bundle = ReadoutBundle(
            experiment=exp,
            ds=ds,
            records=s["records"],
            trust=s["trust"],
            verdict=s["verdict"],
            variants=sorted(s["counts"]),
            control=s["control"] or "",
            hypothesis="Same-day web monitor: do signups and purchases after exposure move "
            "today? An early warning, never a decision: the experiment readout decides.",
            config=s["config"],
            assignment_counts=s["counts"],
            weights=s["weights"],
            funnel=funnels.get(exp, {}),
            table_versions=versions,
        )
        paths.append(str(write_report(bundle, reports_dir / READOUT)["html"]))
    return paths


# The gates of the tables this readout depends on (not every gate that ran that day).
GATE_SUITES = ("bronze_web_events", "silver_fct_website_events", "gold_agg_website_events")


def gate_statuses(spark, ds: str, settings) -> dict[str, str]:
    """Worst status per upstream suite from gold.quality_results for ds."""
    from include.quality import gate_statuses as statuses
    from include.tables import read_partition, table_exists

    if not table_exists(spark, QUALITY_RESULTS, settings):
        return {}
    rows = read_partition(spark, QUALITY_RESULTS, ds, settings).collect()
    return statuses((r.asDict() for r in rows), GATE_SUITES)


def guardrail_drops(spark, ds: str, settings) -> list[str]:
    """:func:`guardrail_notes` of gold.daily_growth at ds against ds - 1 (none without it)."""
    from datetime import date, timedelta

    from include.quality_checks import guardrail_drop_rows
    from include.table_catalog_finance import DAILY_GROWTH
    from include.tables import read_partition, table_exists

    if not table_exists(spark, DAILY_GROWTH, settings):
        return []
    before = (date.fromisoformat(ds) - timedelta(days=1)).isoformat()
    cols = ("dim_hostname", "website_hits", "signups", "purchases")

    def day(d):
        return [r.asDict() for r in read_partition(spark, DAILY_GROWTH, d, settings)
                .select(*cols).collect()]  # fmt: skip

    return guardrail_notes(guardrail_drop_rows(day(ds), day(before)))


def experiment_files() -> dict[str, ExperimentSpec]:
    """Every experiment file by name (validated: a broken file fails the job clearly)."""
    from include.experiments import load_all

    return {spec.name: spec for spec in load_all()}


def main(spark, ds: str, settings, params: dict | None = None) -> JobResult:
    from include.tables import read_partition, table_version, write_partition

    events = read_partition(spark, FCT_WEBSITE_EVENTS, ds, settings)
    versions = {
        FCT_WEBSITE_EVENTS.qualified_name: table_version(spark, FCT_WEBSITE_EVENTS, settings)
    }
    outcomes = keep(unit_outcomes(events))
    cells = [r.asDict() for r in sufficient_stats(outcomes).collect()]
    trust_rows = [r.asDict() for r in trust_counts(outcomes).collect()]
    funnels = funnel_counts(outcomes)
    outcomes.unpersist()
    rows, summaries = build_rows(
        cells, trust_rows, gate_statuses(spark, ds, settings), ds, versions, experiment_files(),
        guardrail_drops(spark, ds, settings),
    )
    df = (
        spark.createDataFrame(rows, READOUTS.spark_schema())
        if rows
        else spark.createDataFrame([], READOUTS.spark_schema())
    )
    out = write_partition(spark, df, READOUTS, ds, settings, {"readout": READOUT})
    pages = write_reports(settings.reports_dir, ds, summaries, funnels, versions)
    return JobResult(
        job="readouts.web_experiments",
        ds=ds,
        rows_out=out["rows"],
        versions={**versions, READOUTS.qualified_name: out["version"]},
        extra={
            "reports": pages,
            "trust": {e: s["trust"].status for e, s in summaries.items()},
        },
    )
