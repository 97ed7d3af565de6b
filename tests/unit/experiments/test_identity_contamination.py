"""Identity and contamination through base -> outcomes -> aggregated (pure transforms).

- person 42: cookies c1 and c2 (both log in as user 42 in silver.sessions) and an assignment
  logged with user id 42 under cookie c3 -> three rows, one person, exactly one
  ``duplication_rank = 1`` row (the earliest exposed, c1);
- person 7: cookie c4 in control, cookie c5 in treatment, both linked to user 7 ->
  'Multiple Variants' on both rows, and left out of the aggregated statistics.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from spark_jobs.gold.experiments import aggregated, base, outcomes
from tests.unit.experiments.helpers import spec

DS = "2024-02-05"


def _empty(spark, contract):
    return spark.createDataFrame([], contract.spark_schema())


@pytest.fixture(scope="module")
def chain(spark):
    from include.table_catalog import FCT_WEBSITE_EVENTS
    from include.table_catalog_sources import (
        SILVER_ACCOUNTS,
        SILVER_BILLING_EVENTS,
        SILVER_EXPERIMENT_ASSIGNMENTS,
        SILVER_SESSIONS,
    )

    def at(h):
        return datetime(2024, 2, 1, h)

    assignments = spark.createDataFrame(
        [
            ("a1", "homepage_cta_test", "control", None, "c1", "c1", at(10), "2024-02-01"),
            ("a2", "homepage_cta_test", "control", None, "c2", "c2", at(11), "2024-02-01"),
            ("a3", "homepage_cta_test", "control", 42, "c3", "42", at(12), "2024-02-01"),
            ("a4", "homepage_cta_test", "control", None, "c4", "c4", at(9), "2024-02-01"),
            ("a5", "homepage_cta_test", "treatment", None, "c5", "c5", at(13), "2024-02-01"),
            ("a6", "other_test", "treatment", None, "c1", "c1", at(8), "2024-02-01"),
        ],
        SILVER_EXPERIMENT_ASSIGNMENTS.spark_schema(),
    )
    sessions = spark.createDataFrame(
        [
            ("s1", 42, "c1", "www", "desktop", at(10), at(10), "2024-02-01"),
            ("s2", 42, "c2", "www", "mobile", at(11), at(11), "2024-02-01"),
            ("s4", 7, "c4", "www", "desktop", at(9), at(9), "2024-02-01"),
            ("s5", 7, "c5", "www", "desktop", at(13), at(13), "2024-02-01"),
        ],
        SILVER_SESSIONS.spark_schema(),
    )
    s = spec()
    rows = base.transform(
        s,
        DS,
        assignments,
        sessions,
        _empty(spark, SILVER_ACCOUNTS),
        _empty(spark, SILVER_BILLING_EVENTS),
        _empty(spark, FCT_WEBSITE_EVENTS),
    ).cache()
    outs = outcomes.transform(s, rows, DS).cache()
    return s, rows, outs


def test_three_ids_one_person_one_primary_row(chain):
    _, rows, _ = chain
    got = {
        r.unit_id: (r.person_id, r.duplication_rank, r.person_id_count, r.contamination_flag)
        for r in rows.where("person_id = '42'").collect()
    }
    assert got == {
        "c1": ("42", 1, 3, "Not Contaminated"),
        "c2": ("42", 2, 3, "Not Contaminated"),
        "c3": ("42", 3, 3, "Not Contaminated"),
    }


def test_both_variants_flagged_on_every_row(chain):
    _, rows, _ = chain
    got = {
        r.unit_id: (r.person_id, r.variant, r.variants_seen, r.contamination_flag)
        for r in rows.where("person_id = '7'").collect()
    }
    assert got == {
        "c4": ("7", "control", 2, "Multiple Variants"),
        "c5": ("7", "treatment", 2, "Multiple Variants"),
    }


def test_aggregated_counts_only_the_clean_cohort(chain):
    s, _, outs = chain
    overall = {
        r.variant: r
        for r in aggregated.transform(s, outs, DS).where("segment = 'overall'").collect()
    }
    control, treatment = overall["control"], overall["treatment"]
    # control rows: c1 (clean), c2 and c3 (duplicates of 42), c4 (contaminated, rank 1 of 7)
    assert (control.exposed_rows, control.duplicate_rows, control.contaminated_rows) == (4, 2, 1)
    assert (control.users, control.activation_n) == (1, 1)
    # treatment: c5 only, contaminated and rank 2 -> no clean user at all
    assert (treatment.exposed_rows, treatment.contaminated_rows, treatment.users) == (1, 1, 0)
    assert treatment.activation_n == 0


def test_a_first_exposure_before_the_start_makes_the_visitor_ineligible(spark):
    """Seed 001: a visitor's first exposure lies between the start (2024-01-01) and the end.

    - p1: exposed 2023-12-28 (4 days before the start) and 2024-01-05 -> one row, first
      exposure 2023-12-28, not an eligible visitor (before, the pre-start exposure was
      dropped and 2024-01-05 counted as the first);
    - p2: exposed only 2023-12-20 -> not in the experiment: no row;
    - p3: exposed 2024-01-03 -> eligible;
    - p4: exposed 2023-11-01 (60 days before: beyond PRE_START_EXPOSURE_DAYS = 28, not
      read) and 2024-01-04 -> the bound: its first exposure read is 2024-01-04, eligible.
    """
    from include.experiments import PRE_START_EXPOSURE_DAYS
    from include.table_catalog import FCT_WEBSITE_EVENTS
    from include.table_catalog_sources import (
        SILVER_ACCOUNTS,
        SILVER_BILLING_EVENTS,
        SILVER_EXPERIMENT_ASSIGNMENTS,
        SILVER_SESSIONS,
    )

    def row(aid, cookie, day):
        at = datetime.fromisoformat(f"{day}T10:00:00")
        return (aid, "homepage_cta_test", "control", None, cookie, cookie, at, day)

    assert PRE_START_EXPOSURE_DAYS == 28
    assignments = spark.createDataFrame(
        [
            row("a1", "p1", "2023-12-28"),
            row("a2", "p1", "2024-01-05"),
            row("a3", "p2", "2023-12-20"),
            row("a4", "p3", "2024-01-03"),
            row("a5", "p4", "2023-11-01"),
            row("a6", "p4", "2024-01-04"),
        ],
        SILVER_EXPERIMENT_ASSIGNMENTS.spark_schema(),
    )
    s = spec()
    rows = base.transform(
        s, DS, assignments, _empty(spark, SILVER_SESSIONS), _empty(spark, SILVER_ACCOUNTS),
        _empty(spark, SILVER_BILLING_EVENTS), _empty(spark, FCT_WEBSITE_EVENTS),
    )  # fmt: skip
    counts = {r.unit_id: r.exposure_count for r in rows.collect()}
    got = {
        r.unit_id: (str(r.first_exposure_at.date()), counts[r.unit_id], r.is_eligible_visitor)
        for r in outcomes.transform(s, rows, DS).collect()
    }
    assert got == {
        "p1": ("2023-12-28", 2, 0),
        "p3": ("2024-01-03", 1, 1),
        "p4": ("2024-01-04", 1, 1),
    }


def test_a_conversion_long_before_the_window_disqualifies(spark):
    """Account 9 paid on 2023-06-10 (silver.person_conversions; its billing is outside the
    read window, which starts 90 days before 2024-01-01) and is exposed on 2024-02-01
    without any account row in the window. With the per-person state it is 'existing' at
    exposure and not an eligible visitor; without it, it came out an eligible prospect."""
    from include.table_catalog import FCT_WEBSITE_EVENTS
    from include.table_catalog_sources import (
        SILVER_ACCOUNTS,
        SILVER_BILLING_EVENTS,
        SILVER_EXPERIMENT_ASSIGNMENTS,
        SILVER_SESSIONS,
    )

    at = datetime(2024, 2, 1, 10)
    assignments = spark.createDataFrame(
        [("a9", "homepage_cta_test", "control", 9, "c9", "9", at, "2024-02-01")],
        SILVER_EXPERIMENT_ASSIGNMENTS.spark_schema(),
    )
    state = spark.createDataFrame([(9, datetime(2023, 6, 10, 9))], "user_id BIGINT, "
                                  "first_paid_at TIMESTAMP")  # fmt: skip
    s = spec()
    inputs = (s, DS, assignments, _empty(spark, SILVER_SESSIONS), _empty(spark, SILVER_ACCOUNTS),
              _empty(spark, SILVER_BILLING_EVENTS), _empty(spark, FCT_WEBSITE_EVENTS))  # fmt: skip
    with_state = base.transform(*inputs, state)
    (row,) = with_state.collect()
    assert (row.customer_type, row.first_paid_at) == ("existing", datetime(2023, 6, 10, 9))
    (out,) = outcomes.transform(s, with_state, DS).collect()
    assert (out.is_eligible_visitor, out.converted_before_exposure) == (0, 1)
    (before,) = outcomes.transform(s, base.transform(*inputs), DS).collect()
    assert (before.customer_type, before.is_eligible_visitor) == ("prospect", 1)
