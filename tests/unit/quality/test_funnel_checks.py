"""Seed 001 funnel ordering rules on gold.{experiment}_outcomes.

One partition holds a clean row per shape (converted + booked, hybrid activation, not
converted, a duplicate id of one person) and one row per rule built to break exactly that
rule: each rule's sample names exactly its row, and the clean rows alone pass.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from include import quality_checks as qc
from include.quality import QualityGateFailed, enforce, to_pandas, validate
from include.table_catalog_experiments import outcomes_contract

DS = "2024-02-01"
SUITE = "gold_experiment_outcomes"
D = dt.date
EXPOSURE = D(2024, 1, 10)


def row(
    unit,
    person=None,
    exposure=EXPOSURE,
    activation=None,
    conversion=None,
    booking=None,
    eligible=1,
    rank=1,
    onboarding=(None, None),
    **flags,
):
    columns = outcomes_contract("quality_test").columns
    r = dict.fromkeys(columns)
    r.update(
        experiment="quality_test",
        unit_id=unit,
        person_id=person or f"p-{unit}",
        variant="control",
        first_exposure_at=dt.datetime.combine(exposure, dt.time(9)),
        exposure_date=exposure,
        is_eligible_visitor=eligible,
        is_activated=int(activation is not None),
        activation_date=activation,
        is_converted=int(conversion is not None),
        conversion_date=conversion,
        new_booking_flag=int(booking is not None),
        booking_date=booking,
        nb_mrr=Decimal("49.00") if booking else Decimal("0.00"),
        onboarding_start_date=onboarding[0],
        onboarding_complete_date=onboarding[1],
        contamination_flag="Not Contaminated",
        duplication_rank=rank,
        ds=DS,
    )
    r.update(flags)
    return tuple(r[c] for c in columns)


CLEAN = [
    row(
        "u-booked",
        activation=D(2024, 1, 10),
        conversion=D(2024, 1, 12),
        booking=D(2024, 1, 12),
        onboarding=(D(2024, 1, 10), D(2024, 1, 11)),
    ),
    row("u-hybrid", activation=D(2023, 11, 1), conversion=D(2024, 1, 10)),
    row("u-visitor"),
    row("u-dup-1", person="p-dup", rank=1),
    row("u-dup-2", person="p-dup", rank=2, exposure=D(2024, 1, 11)),
    row("u-ineligible", eligible=0),
]
BROKEN = {
    "no conversion before exposure": row(
        "u-conv-early",
        activation=D(2024, 1, 5),
        conversion=D(2024, 1, 9),
        booking=D(2024, 1, 9),
    ),
    "no conversion before activation": row(
        "u-conv-before-act",
        activation=D(2024, 1, 12),
        conversion=D(2024, 1, 11),
    ),
    "no booking before conversion": row(
        "u-book-early",
        activation=D(2024, 1, 10),
        conversion=D(2024, 1, 12),
        booking=D(2024, 1, 11),
    ),
    "flags consistent with dates (activated/converted/new booking <=> date set)": row(
        "u-flag-no-date",
        activation=D(2024, 1, 10),
        is_converted=1,
    ),
    "funnel flags nested (booking => conversion => activation => eligible visitor)": row(
        "u-not-eligible-activated",
        activation=D(2024, 1, 10),
        eligible=0,
    ),
    "optional steps start on/before complete": row(
        "u-steps",
        activation=D(2024, 1, 10),
        onboarding=(D(2024, 1, 12), D(2024, 1, 11)),
    ),
}
RULE_PERSON = "one row per person with duplication_rank = 1 (clean cohort)"


def judge(frame, check, index, settings):
    return validate(
        to_pandas(frame),
        SUITE,
        DS,
        settings,
        check=check,
        index_columns=index,
        table="gold.quality_test_outcomes",
    )


def failed(result):
    return {r.rule: r for r in result.rules if not r.success}


@pytest.fixture(scope="module")
def outcomes_schema():
    return outcomes_contract("quality_test").spark_schema()


def test_each_ordering_rule_names_exactly_its_row(spark, settings, outcomes_schema):
    df = spark.createDataFrame(CLEAN + list(BROKEN.values()), outcomes_schema)
    result = judge(qc.funnel_order_frame(df), "funnel_order", ["unit_id"], settings)
    fails = failed(result)
    assert set(fails) == set(BROKEN)
    for rule, broken_row in BROKEN.items():
        assert [s["unit_id"] for s in fails[rule].sample] == [broken_row[1]], rule
    assert fails["optional steps start on/before complete"].severity == "warn"
    with pytest.raises(QualityGateFailed) as err:
        enforce(result)
    assert "gold.quality_test_outcomes" in str(err.value) and "u-conv-early" in str(err.value)


def test_clean_outcomes_pass_both_checks(spark, settings, outcomes_schema):
    df = spark.createDataFrame(CLEAN, outcomes_schema).cache()
    order = judge(qc.funnel_order_frame(df), "funnel_order", ["unit_id"], settings)
    person = judge(qc.person_rank_frame(df), "one_primary_row_per_person", ["person_id"], settings)
    assert order.status == "pass" and len(order.rules) == 6
    assert person.status == "pass" and len(person.rules) == 1


def test_two_primary_rows_for_one_person_blocks(spark, settings, outcomes_schema):
    rows = [
        *CLEAN,
        row("u-dup-3", person="p-dup", rank=1, exposure=D(2024, 1, 12)),
        row("u-orphan", person="p-orphan", rank=2),
    ]
    df = spark.createDataFrame(rows, outcomes_schema)
    result = judge(qc.person_rank_frame(df), "one_primary_row_per_person", ["person_id"], settings)
    assert list(failed(result)) == [RULE_PERSON]
    assert sorted(s["person_id"] for s in failed(result)[RULE_PERSON].sample) == [
        "p-dup",
        "p-orphan",
    ]
