"""Benchmark the experiment readout at scale: every metric x variant x segment for an
experiment with ``--users`` users (1M by default). Prints figures and writes
``bench/results/readout_<commit>.json``.

Why the per-user table is synthesized: the generator's traffic gives about 37k users a day
to homepage_cta_test at 1M web events a day, so 1M users through the whole pipeline would
take about 27 days of 1M events (hours on this machine). The readout's own cost starts at
the per-user gold table, so the bench writes that table directly, in its real contract,
with the real jobs' helpers where they exist, and times the real jobs from there:

* SaaS funnel (``homepage_cta_test``): ``gold.{experiment}_outcomes`` (seed 001's per-unit
  outcomes) and ``gold.{experiment}_details`` (the deep-dive rows);
* shop funnel (``pdp_redesign``): ``gold.user_outcomes`` slice (ds, experiment).

Timed, in a child process, a client of a Spark Connect server of the bench's own
(``--engine submit``: a JVM in the child, as a spark-submit'ed task has):
``gold.experiments.aggregated`` (users -> sufficient statistics per metric x variant x
segment) then ``readouts.experiment`` (tests, intervals, CUPED, corrections, SRM and trust
checks, the logistic model or the deep-dive page, the cumulative chart, the report).

The synthetic users have planted effects (treatment lifts activation, conversion and
purchase; pre-exposure sessions raise activation, so CUPED has a covariate to use), 1 %
contaminated, 1 % duplicate and 3 % ineligible rows (SaaS), so every branch of the readout
does real work. Everything runs in a private prefix (``bench/<id>``), metastore off,
removed afterwards unless ``--keep``.

    python bench/bench_readout.py                       # 1M users, both experiments
    python bench/bench_readout.py --users 20000         # a quick check
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_pipeline import (  # noqa: E402
    BENCH_PREFIX,
    BenchEngine,
    bench_env,
    cleanup,
    run_child,
    source_commit,
)

RESULTS = ROOT / "bench" / "results"
DS = "2024-02-15"  # inside both experiments' windows
# Share of synthesized rows outside the clean cohort (SaaS): contaminated, duplicate, ineligible.
CONTAMINATED, DUPLICATE, INELIGIBLE = 0.01, 0.01, 0.03
SHOP_CONTAMINATED = 0.01


# --------------------------------------------------------------------------- synthesis
def _pick(u, values):
    """A column taking ``values`` with equal probability from the uniform column ``u``."""
    from pyspark.sql import functions as F

    expr = F.lit(values[-1])
    for i in range(len(values) - 2, -1, -1):
        expr = F.when(u < (i + 1) / len(values), F.lit(values[i])).otherwise(expr)
    return expr


def _variant(u, spec):
    """Variant by the config's weights (cumulative) from the uniform column ``u``."""
    from pyspark.sql import functions as F

    total = sum(v.weight for v in spec.variants)
    expr, edge = F.lit(spec.variants[-1].name), 0.0
    cuts = []
    for v in spec.variants[:-1]:
        edge += v.weight / total
        cuts.append((edge, v.name))
    for edge, name in reversed(cuts):
        expr = F.when(u < edge, F.lit(name)).otherwise(expr)
    return expr


def synth_saas(spark, spec, ds: str, rows: int, seed: int):
    """``rows`` units of ``{experiment}_outcomes`` and their ``_details`` rows as of ds."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import details_contract, outcomes_contract
    from spark_jobs.gold.experiments.base import list_size_group
    from spark_jobs.gold.experiments.common import NOT_CONTAMINATED, cast_to_contract
    from spark_jobs.gold.experiments.details import USAGE_DAYS, filter_clean_cohort, with_tenure

    def u(k):
        return F.rand(seed * 100 + k)

    days = (date.fromisoformat(ds) - spec.start_date).days + 1
    end = F.lit(ds).cast("date")
    treated = F.col("variant") != F.lit(spec.control)
    x = F.col("pre_exposure_sessions")
    p_act = F.least(
        F.lit(0.9), 0.12 + 0.03 * F.least(x, F.lit(5)) + F.when(treated, 0.015).otherwise(0)
    )
    base = spark.range(rows).select(
        F.lit(spec.name).alias("experiment"),
        F.format_string("anon-%012d", "id").alias("unit_id"),
        F.col("id"),
        _variant(u(1), spec).alias("variant"),
        (
            F.lit(spec.start_date.isoformat()).cast("timestamp")
            + F.make_interval(secs=F.floor(u(2) * days * 86400).cast("int"))
        ).alias("first_exposure_at"),
        F.when(u(3) < 0.02, F.lit(None))
        .otherwise(_pick(u(4), ["NA", "EMEA", "APAC", "LATAM"]))
        .alias("region"),
        _pick(u(5), ["US", "GB", "DE", "FR", "BR", "IN", "JP", "AU"]).alias("country"),
        _pick(u(6), ["desktop", "mobile", "tablet"]).alias("device_type"),
        _pick(u(7), ["organic", "paid_search", "social", "email", "referral"]).alias(
            "traffic_source"
        ),
        _pick(u(8), ["new", "returning"]).alias("customer_type"),
        _pick(u(9), ["free", "lite", "standard", "premium"]).alias("plan"),
        _pick(u(10), ["starter", "growth", "pro"]).alias("package"),
        F.floor(F.exp(u(11) * 11)).cast("int").alias("list_size"),
        F.floor(-F.log(u(12) + F.lit(1e-12)) * 2).cast("int").alias("pre_exposure_sessions"),
        (u(13) >= INELIGIBLE).cast("int").alias("is_eligible_visitor"),
        F.when(u(14) < CONTAMINATED, F.lit("Contaminated"))
        .otherwise(F.lit(NOT_CONTAMINATED))
        .alias("contamination_flag"),
        F.when(u(15) < DUPLICATE, F.lit(2)).otherwise(F.lit(1)).alias("duplication_rank"),
        u(16).alias("_u_act"),
        u(17).alias("_u_conv"),
        u(18).alias("_u_book"),
        F.randn(seed * 100 + 19).alias("_z_mrr"),
        u(20).alias("_u_lag"),
        u(21).alias("_u_fraud"),
        u(22).alias("_u_tickets"),
    )
    exposure_date = F.to_date("first_exposure_at")
    lag = F.floor(F.col("_u_lag") * 6).cast("int")

    def capped(d):
        return F.least(d, end)

    outcomes = (
        base.withColumn("exposure_date", exposure_date)
        .withColumn("list_size_group", list_size_group(F.col("list_size")))
        .withColumn("is_activated", (F.col("_u_act") < p_act).cast("int"))
        .withColumn(
            "is_converted",
            (
                (F.col("is_activated") == 1)
                & (F.col("_u_conv") < F.when(treated, 0.27).otherwise(0.25))
            ).cast("int"),
        )
        .withColumn(
            "new_booking_flag",
            ((F.col("is_converted") == 1) & (F.col("_u_book") < 0.9)).cast("int"),
        )
        .withColumn(
            "user_id",
            F.when(
                (F.col("is_activated") == 1) | (F.col("_u_book") > 0.7), F.col("id") + 10_000_000
            ),
        )
        .withColumn("person_id", F.coalesce(F.col("user_id").cast("string"), F.col("unit_id")))
        .withColumn(
            "activation_date",
            F.when(F.col("is_activated") == 1, capped(F.date_add("exposure_date", lag))),
        )
        .withColumn("is_hybrid_activation", F.lit(0))
        .withColumn("user_type", F.lit("web_only"))  # activations on/after the exposure
        .withColumn("converted_before_exposure", F.lit(0))
        .withColumn(
            "conversion_date",
            F.when(F.col("is_converted") == 1, capped(F.date_add("activation_date", lag))),
        )
        .withColumn(
            "booking_date", F.when(F.col("new_booking_flag") == 1, F.col("conversion_date"))
        )
        .withColumn(
            "nb_mrr",
            F.when(
                F.col("new_booking_flag") == 1, F.round(49 * F.exp(0.6 * F.col("_z_mrr")), 2)
            ).otherwise(0),
        )
        .withColumn("total_revenue", F.col("nb_mrr"))
        .withColumn("onboarding_start_date", F.lit(None).cast("date"))
        .withColumn("onboarding_complete_date", F.lit(None).cast("date"))
        .withColumn("checkout_start_date", F.lit(None).cast("date"))
        .withColumn("checkout_complete_date", F.lit(None).cast("date"))
        .withColumn("is_fraud", (F.col("_u_fraud") < 0.002).cast("int"))
        .withColumn("is_closed", F.lit(0))
        # an account's tickets in 14 days: 0, 1 or 2 (0.10 / 0.02 of accounts; treatment -20 %)
        .withColumn(
            "support_tickets_14d",
            F.when(
                F.col("user_id").isNotNull(),
                (F.col("_u_tickets") < F.when(treated, 0.08).otherwise(0.10)).cast("int")
                + (F.col("_u_tickets") < F.when(treated, 0.016).otherwise(0.02)).cast("int"),
            ).otherwise(0),
        )
        .withColumn("ds", F.lit(ds))
    )
    outcomes = cast_to_contract(outcomes, outcomes_contract(spec.name))
    has_account = F.col("user_id").isNotNull()
    converted_at = F.col("conversion_date").cast("timestamp") + F.make_interval(
        hours=F.floor(F.col("_u") * 24).cast("int")
    )
    known_until = F.date_add(end, 1).cast("timestamp")

    def retained(k: int, p: float):
        due = F.col("converted_at") + F.expr(f"INTERVAL {k} MONTHS")
        return F.when(
            F.col("converted_at").isNotNull() & (due < known_until), (F.col("_u") < p).cast("int")
        )

    details = (
        filter_clean_cohort(outcomes)
        .select(
            "experiment",
            "unit_id",
            "person_id",
            "user_id",
            "variant",
            "first_exposure_at",
            "exposure_date",
            "is_converted",
            "conversion_date",
            F.rand(seed * 100 + 30).alias("_u"),
        )
        .withColumn(
            "signup_at",
            F.when(
                has_account,
                F.col("first_exposure_at")
                - F.make_interval(days=F.floor((F.col("_u") - 0.05) * 500).cast("int")),
            ),
        )
        .transform(with_tenure)
        .withColumn("converted_at", F.when(F.col("is_converted") == 1, converted_at))
        .withColumn(
            "promo_type",
            F.when(
                F.col("is_converted") == 1,
                F.when(F.col("_u") < 0.8, F.lit("none")).otherwise(F.lit("WELCOME20")),
            ),
        )
        .withColumn("m1_retained", retained(1, 0.85))
        .withColumn("m2_retained", retained(2, 0.75))
        .withColumn("logins", F.when(has_account, F.floor(F.col("_u") * 40)))
        .withColumn("emails_sent", F.when(has_account, F.floor(F.col("_u") * 300)))
        .withColumn("features_adopted", F.when(has_account, F.floor(F.col("_u") * 6)))
        .withColumn("usage_days", F.when(has_account, F.floor(F.col("_u") * (USAGE_DAYS + 1))))
        .withColumn("usage_window_complete", F.date_add("exposure_date", USAGE_DAYS - 1) <= end)
        .withColumn("ds", F.lit(ds))
    )
    return outcomes, cast_to_contract(details, details_contract(spec.name))


def synth_shop(spark, spec, ds: str, rows: int, seed: int):
    """``rows`` persons of ``gold.user_outcomes`` for (ds, experiment)."""
    from pyspark.sql import functions as F

    from include.table_catalog_experiments import USER_OUTCOMES
    from spark_jobs.gold.experiments.common import NOT_CONTAMINATED, cast_to_contract

    def u(k):
        return F.rand(seed * 100 + k)

    window = spec.outcome_window_days
    days = (date.fromisoformat(ds) - spec.start_date).days + 1
    known_until = F.date_add(F.lit(ds).cast("date"), 1).cast("timestamp")
    treated = F.col("variant") != F.lit(spec.control)
    intensity = F.col("engagement_intensity")
    p_buy = F.least(
        F.lit(0.6),
        0.04 + 0.004 * F.least(intensity, F.lit(20)) + F.when(treated, 0.006).otherwise(0),
    )
    df = (
        spark.range(rows)
        .select(
            F.lit(spec.name).alias("experiment"),
            F.format_string("p-%012d", "id").alias("person_id"),
            _variant(u(1), spec).alias("variant"),
            (
                F.lit(spec.start_date.isoformat()).cast("timestamp")
                + F.make_interval(secs=F.floor(u(2) * days * 86400).cast("int"))
            ).alias("first_exposure_at"),
            F.floor(-F.log(u(3) + F.lit(1e-12)) * 6).cast("long").alias("engagement_intensity"),
            F.when(u(4) < SHOP_CONTAMINATED, F.lit("Contaminated"))
            .otherwise(F.lit(NOT_CONTAMINATED))
            .alias("contamination_flag"),
            _pick(u(5), ["desktop", "mobile", "tablet"]).alias("device_type"),
            F.when(u(6) < 0.02, F.lit(None))
            .otherwise(_pick(u(7), ["US", "GB", "DE", "FR", "BR", "IN", "JP", "AU", "CA", "ES"]))
            .alias("country"),
            F.when(u(8) < 0.3, F.lit(None))
            .otherwise(_pick(u(9), ["google", "newsletter", "facebook", "partner", "youtube"]))
            .alias("utm_source"),
            F.format_string("crs_%03d", F.floor(u(13) * 12).cast("int")).alias("product_id"),
            F.when(u(13) < 3 / 12, F.lit("bootcamp")).otherwise(F.lit("course"))
            .alias("product_category"),
            u(10).alias("_u_buy"),
            u(11).alias("_u_more"),
            F.randn(seed * 100 + 12).alias("_z_rev"),
        )
        .withColumn(
            "window_end_at", F.col("first_exposure_at") + F.make_interval(days=F.lit(window))
        )
        .withColumn("window_complete", F.col("window_end_at") <= known_until)
        .withColumn("purchased", (F.col("_u_buy") < p_buy).cast("int"))
        .withColumn(
            "orders",
            F.when(F.col("purchased") == 1, 1 + (F.col("_u_more") < 0.2).cast("int")).otherwise(0),
        )
        .withColumn(
            "revenue",
            F.when(
                F.col("purchased") == 1,
                F.round(79 * F.exp(0.5 * F.col("_z_rev")) * F.col("orders"), 2),
            ).otherwise(0),
        )
        .withColumn("added_to_cart", F.greatest("purchased", (F.col("_u_more") < 0.1).cast("int")))
        .withColumn("reached_checkout", F.col("purchased"))
        # seed 002's intensity counts every event: browsing plus each order's cart, checkout,
        # completion and purchase steps
        .withColumnRenamed("engagement_intensity", "browsing_events")
        .withColumn("engagement_intensity", F.col("browsing_events") + 4 * F.col("orders"))
        .withColumn("ds", F.lit(ds))
    )
    return cast_to_contract(df, USER_OUTCOMES)


def child_synthesize(ds: str, users: int, seed: int) -> dict:
    """Write each experiment's per-user gold tables for ``ds`` (not timed as the readout)."""
    from spark_jobs.run import job_session

    with job_session(f"bench readout synth ds={ds}") as spark:
        return _synthesize(spark, ds, users, seed)


def _synthesize(spark, ds: str, users: int, seed: int) -> dict:
    from include.dag_factory import readout_configs
    from include.settings import load_settings
    from include.table_catalog_experiments import USER_OUTCOMES, contract_for
    from include.tables import write_partition

    settings = load_settings()
    out = {}
    for i, spec in enumerate(readout_configs()):
        t0 = time.perf_counter()
        if spec.funnel == "saas":
            # enough rows that the clean cohort reaches ``users``
            rows = math.ceil(users / ((1 - CONTAMINATED) * (1 - DUPLICATE) * (1 - INELIGIBLE)))
            outcomes, details = synth_saas(spark, spec, ds, rows, seed + i)
            written = write_partition(
                spark, outcomes, contract_for(spec.name, "outcomes"), ds, settings
            )
            detail_rows = write_partition(
                spark, details, contract_for(spec.name, "details"), ds, settings
            )["rows"]
        else:
            # first exposures are uniform over [start, ds]; a window still open as of ds
            # keeps its user out of the clean cohort, so scale up by the closed share
            days = (date.fromisoformat(ds) - spec.start_date).days + 1
            closed = (days - spec.outcome_window_days) / days
            rows = math.ceil(users / ((1 - SHOP_CONTAMINATED) * closed))
            written = write_partition(
                spark,
                synth_shop(spark, spec, ds, rows, seed + i),
                USER_OUTCOMES,
                ds,
                settings,
                slice_={"experiment": spec.name},
            )
            detail_rows = None
        out[spec.name] = {
            "funnel": spec.funnel,
            "rows": written["rows"],
            "details_rows": detail_rows,
            "seconds": round(time.perf_counter() - t0, 2),
        }
    return out


def child_readouts(ds: str) -> dict:
    """Time ``aggregated`` then ``readouts.experiment`` of every experiment, in one session."""
    from spark_jobs.run import job_session

    # the session first, outside every timing: each experiment is then measured warm alike
    # (the first one used to carry the JVM start in its aggregation seconds)
    t0 = time.perf_counter()
    with job_session(f"bench readouts ds={ds}") as spark:
        return _readouts(spark, ds, round(time.perf_counter() - t0, 2))


def _readouts(spark, ds: str, session_start: float) -> dict:
    from pyspark.sql import functions as F

    from include.contracts import get_contract
    from include.dag_factory import readout_configs
    from include.settings import load_settings
    from include.tables import read_table
    from spark_jobs.run import run

    settings = load_settings()
    out: dict = {"session_start_seconds": session_start}
    for spec in readout_configs():
        params = {"experiment": spec.name}
        t0 = time.perf_counter()
        agg = run("gold.experiments.aggregated", ds, params, spark=spark)
        readout = run("readouts.experiment", ds, params, spark=spark)
        seconds = round(time.perf_counter() - t0, 2)
        table = read_table(spark, get_contract(f"gold.{spec.name}_aggregated"), settings)
        day = table.where(F.col("ds") == ds)
        users = day.where(F.col("segment") == "overall").agg(F.sum("users")).first()[0]
        readouts = read_table(spark, get_contract("gold.readouts"), settings).where(
            (F.col("ds") == ds) & (F.col("readout") == f"experiment_{spec.name}")
        )
        out[spec.name] = {
            "users": int(users or 0),
            "metrics": len(spec.metrics),
            "variant_segment_rows": day.count(),
            "readout_rows": readouts.count(),
            "aggregated_seconds": agg["seconds"],
            "readout_seconds": readout["seconds"],
            "seconds": seconds,
            "readout": {
                k: (readout.get("extra") or {}).get(k) for k in ("verdict", "trust", "logistic")
            },
        }
    return out


def child_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["synthesize", "readouts"])
    p.add_argument("--ds", required=True)
    p.add_argument("--users", type=int, default=0)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    if args.mode == "synthesize":
        out = child_synthesize(args.ds, args.users, args.seed)
    else:
        out = child_readouts(args.ds)
    print(BENCH_PREFIX + json.dumps(out), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        return child_main(argv[1:])
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--users", type=int, default=1_000_000, help="clean-cohort users per experiment")
    p.add_argument("--ds", default=DS)
    p.add_argument("--timeout", type=int, default=3600)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--engine", choices=["connect", "submit"], default="connect",
                   help="the children's engine (default: a Connect server of the bench's own)")
    p.add_argument("--engine-memory", default=None,
                   help="heap of the bench's Connect server (default LAKEHOUSE_CONNECT_MEMORY)")
    p.add_argument("--output", type=Path,
                   help="JSON file (default bench/results/readout_<commit>.json)")
    args = p.parse_args(argv)
    from include.settings import load_settings

    settings = load_settings()
    report = {
        "benchmark": "readout",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": source_commit(),
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()},
        "spark": {
            "engine": args.engine,
            "master": settings.spark_master,
            "driver_memory": (args.engine_memory or settings.connect_memory)
            if args.engine == "connect" else settings.driver_memory,
            "shuffle_partitions": settings.shuffle_partitions,
            "min_partitions": settings.min_partitions,
        },
        "ds": args.ds,
        "users_target": args.users,
    }
    with tempfile.TemporaryDirectory(prefix="bench_readout_") as tmp:
        env = bench_env(f"bench/{uuid.uuid4().hex[:8]}", Path(tmp))
        engine = BenchEngine(args.engine, args.engine_memory or settings.connect_memory,
                             Path(tmp))  # fmt: skip
        # one engine for both children: the readout is timed on a server that has worked
        env.update(engine.fresh())
        try:
            print(f"== synthesizing {args.users:,} users per experiment, ds {args.ds}", flush=True)
            synth = run_child(
                ["synthesize", "--ds", args.ds, "--users", str(args.users)],
                env,
                args.timeout,
                script=__file__,
            )
            report["synthesize"] = synth
            print(f"   written in {synth['wall_seconds']} s", flush=True)
            timed = run_child(["readouts", "--ds", args.ds], env, args.timeout, script=__file__)
            report["readouts"] = timed
            for name, r in timed.items():
                if isinstance(r, dict):
                    print(
                        f"   {name}: {r['users']:,} users, {r['metrics']} metrics, "
                        f"{r['variant_segment_rows']} variant x segment rows -> aggregated "
                        f"{r['aggregated_seconds']} s + readout {r['readout_seconds']} s",
                        flush=True,
                    )
            print(
                f"   session start {timed['session_start_seconds']} s (not in the figures); "
                f"child wall {timed['wall_seconds']} s, peak RSS {timed['peak_rss_mib']} MiB, "
                f"engine server {timed['server_peak_rss_mib']} MiB",
                flush=True,
            )
        finally:
            engine.stop()
            if not args.keep:
                cleanup(env)
    report["load_average_at_end"] = os.getloadavg()
    if args.output is None:  # figures belong to the code that produced them: one file a commit
        args.output = RESULTS / f"readout_{report['commit'].replace('+', '_')}.json"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
