"""readouts.experiment main(): hand-made aggregated partitions -> gold.readouts + report.

One local Delta warehouse per test (``lakehouse_env``); the experiment is the repo's
homepage_cta_test config. Two as-of partitions feed the cumulative chart; re-running the
day replaces its readouts slice with identical rows.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from spark_jobs.readouts import experiment as job

DAY1, DAY2 = "2024-01-02", "2024-01-03"


def _row(spec, ds, variant, users, conv_rate, mrr_per_user, segment="overall", value="all"):
    row = {
        "experiment": spec.name,
        "variant": variant,
        "segment": segment,
        "segment_value": value,
        "exposed_rows": users + 2,
        "contaminated_rows": 1,
        "duplicate_rows": 1,
        "ineligible_rows": 0,
        "users": users,
        "activations": int(users * conv_rate),
        "conversions": int(users * conv_rate / 2),
        "new_bookings": int(users * conv_rate / 4),
        "total_new_mrr": Decimal(f"{users * mrr_per_user:.2f}"),
        "sum_x": 2.0 * users,
        "sum_x_sq": 6.0 * users,
        "ds": ds,
    }
    for m in spec.metrics:
        if m.type == "conversion":
            s = float(int(users * conv_rate))
            sq, xy = s, 2.5 * s
        else:
            s = users * mrr_per_user
            sq, xy = s * mrr_per_user * 3, 2.2 * s
        row.update(
            {
                f"{m.name}_n": users,
                f"{m.name}_sum": s,
                f"{m.name}_sum_sq": sq,
                f"{m.name}_sum_xy": xy,
            }
        )
    return row


def _write_aggregated(spark, spec, settings):
    from include.table_catalog_experiments import contract_for
    from include.tables import write_partition

    contract = contract_for(spec.name, "aggregated")
    for ds, scale in ((DAY1, 1), (DAY2, 2)):
        rows = [
            _row(spec, ds, "control", 1500 * scale, 0.10, 4.0),
            _row(spec, ds, "treatment", 1510 * scale, 0.12, 4.5),
            _row(spec, ds, "control", 700 * scale, 0.10, 4.0, "region", "emea"),
        ]  # no treatment row for region=emea: an empty arm
        df = spark.createDataFrame(rows, contract.spark_schema())
        version = write_partition(spark, df, contract, ds, settings)["version"]
    return contract, version


@pytest.mark.slow  # four Delta commits on a local Spark: minutes on a busy 2-core machine
def test_main_writes_readouts_slice_versions_and_report(spark, lakehouse_env):
    from include.experiments import load_experiment
    from include.table_catalog import READOUTS
    from include.tables import read_partition

    spec = load_experiment("homepage_cta_test")
    contract, version = _write_aggregated(spark, spec, lakehouse_env)
    params = {"experiment": spec.name, "alpha": 0.1, "segments": ["region"]}

    result = job.main(spark, DAY2, lakehouse_env, params)
    assert result.versions[contract.qualified_name] == version  # the version it read
    assert result.extra["readout"] == "experiment_homepage_cta_test"
    out = read_partition(spark, READOUTS, DAY2, lakehouse_env).collect()
    assert len(out) == result.rows_out
    records = [r for r in out if r.role != "diagnostic"]
    assert len(records) == len(spec.metrics) * 2  # overall + region=emea
    # the page's other results are rows too: the split, CUPED per metric (the covariate
    # sums exist; not for conversion_14d or support_tickets_14d, whose own 14-day windows
    # make their units other than the covariate's), the MRR impact of the treatment arm
    assert sorted((r.metric, r.variant) for r in out if r.role == "diagnostic") == sorted(
        [("sample_ratio", "all"), ("mrr_impact", "treatment")]
        + [(f"cuped:{m}", "treatment")
           for m in ("activation", "conversion", "new_booking", "nb_mrr")]  # fmt: skip
    )
    assert {m.name for m in spec.metrics} == {"activation", "conversion", "new_booking",
                                              "nb_mrr", "support_tickets_14d",
                                              "conversion_14d"}  # fmt: skip
    assert {r.readout for r in out} == {"experiment_homepage_cta_test"}
    assert {r.segment for r in out} == {"overall", "region=emea"}
    assert all(r.alpha == 0.1 for r in out)
    assert out[0].input_versions == {contract.qualified_name: version}
    emea = [r for r in out if r.segment == "region=emea"]
    assert {r.status for r in emea} == {"insufficient_data"}
    act = next(r for r in out if r.segment == "overall" and r.metric == "activation")
    assert act.control_n == 3000 and act.variant_n == 3020

    page = lakehouse_env.reports_dir / "experiments" / spec.name / DAY2 / "readout.html"
    html = page.read_text()
    assert spec.name in html and "readout.md" in {p.name for p in page.parent.iterdir()}

    # re-running the day replaces the slice with the same rows
    again = job.main(spark, DAY2, lakehouse_env, params)
    rows_again = read_partition(spark, READOUTS, DAY2, lakehouse_env).collect()
    assert again.rows_out == len(rows_again) == len(out)
    # every column of every row, provenance (input_versions) included: same inputs, same rows
    whole = lambda rows: sorted(repr(sorted(r.asDict().items())) for r in rows)  # noqa: E731
    assert whole(rows_again) == whole(out)


def _gate_rows(day: str, failed: tuple[str, ...] = ()) -> list[dict]:
    """quality_results rows of one day: one rule per daily source gate of the SaaS funnel,
    as the gate job writes them (a failed blocking rule for each suite in ``failed``)."""
    suites = ("bronze_web_events", "silver_fct_website_events", "silver_experiment_assignments",
              "silver_sessions", "silver_accounts", "silver_billing_events")  # fmt: skip
    return [
        {"suite": s, "table_name": s.replace("_", ".", 1), "rule": "row_count",
         "expectation": "expect_table_row_count_to_be_between", "kwargs": "{}",
         "severity": "block", "success": s not in failed, "observed": "1", "unexpected_count": 0,
         "sample": None, "data_docs": None, "ds": day}  # fmt: skip
        for s in suites
    ]


@pytest.mark.slow
def test_a_day_rejected_at_its_gate_blocks_the_verdict(spark, lakehouse_env):
    """The readout of 2024-01-03 spans 2024-01-01..03. The middle day's web events failed
    their gate (its partition was restored, so the experiment-to-date tables silently lack
    it): the verdict is blocked, naming the day, in gold.readouts. Once the day is re-run
    and passes, the same readout decides again and says what it covered."""
    from include.experiments import load_experiment
    from include.table_catalog import QUALITY_RESULTS, READOUTS
    from include.tables import read_partition, write_partition

    spec = load_experiment("homepage_cta_test")
    _write_aggregated(spark, spec, lakehouse_env)
    days = {"2024-01-01": (), "2024-01-02": ("silver_fct_website_events",), DAY2: ()}
    for day, failed in days.items():
        df = spark.createDataFrame(_gate_rows(day, failed), QUALITY_RESULTS.spark_schema())
        write_partition(spark, df, QUALITY_RESULTS, day, lakehouse_env)

    params = {"experiment": spec.name}
    assert job.main(spark, DAY2, lakehouse_env, params).extra["verdict"] == "blocked"
    rows = read_partition(spark, READOUTS, DAY2, lakehouse_env).collect()
    assert {r.verdict for r in rows} == {"blocked"}
    assert {r.trust_status for r in rows} == {"fail"}
    assert json.loads(rows[0].verdict_reasons) == [
        "incomplete data: 1 of 3 days of 2024-01-01..2024-01-03 did not pass their gates: "
        "2024-01-02 (failed: silver_fct_website_events)"
    ]
    page = lakehouse_env.reports_dir / "experiments" / spec.name / DAY2 / "readout.html"
    assert "BLOCKED: INCOMPLETE DATA" in page.read_text()

    # the day is re-run and passes its gates: the readout decides on complete data again
    df = spark.createDataFrame(_gate_rows("2024-01-02"), QUALITY_RESULTS.spark_schema())
    write_partition(spark, df, QUALITY_RESULTS, "2024-01-02", lakehouse_env)
    result = job.main(spark, DAY2, lakehouse_env, params)
    assert result.extra["verdict"] != "blocked"
    first = read_partition(spark, READOUTS, DAY2, lakehouse_env).first()
    reasons = json.loads(first.verdict_reasons)
    assert (
        "data covers 2024-01-01..2024-01-03: 3 days, each passed its 6 source gates "
        "(bronze_web_events, silver_fct_website_events, silver_experiment_assignments, "
        "silver_sessions, silver_accounts, silver_billing_events)"
    ) in reasons
