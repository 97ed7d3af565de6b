"""Bronze typing / quarantine of a CSV source with row accounting, and silver dedupe."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from chispa import assert_df_equality

from spark_jobs.bronze import billing_events as bronze_billing
from spark_jobs.bronze import raw_files
from spark_jobs.silver import accounts as silver_accounts

HEADER = "billing_event_id,user_id,event_type,event_time,plan,mrr,previous_mrr,promo_code"
LINES = [
    HEADER,
    "be_1,101,paid_start,2024-01-05T13:04:11.123Z,pro,49.00,0.00,",
    'be_2,102,booking,2024-01-05T13:04:12.000Z,"pro, annual",49.00,0.00,NEWYEAR',
    "be_3,abc,booking,2024-01-05T13:04:12.000Z,pro,49.00,0.00,",
    "be_4,104,booking,yesterday,pro,49.00,0.00,",
    "be_5,105,booking,2024-01-05T13:04:12.000Z,pro,lots,0.00,",
    ",106,booking,2024-01-05T13:04:12.000Z,pro,49.00,0.00,",
    "be_7,107,booking,2024-01-05T13:04:12.000Z,pro",
]


def test_csv_source_types_quarantines_and_accounts_rows(spark):
    lines = spark.createDataFrame(
        [(v, "part-00000.csv") for v in LINES], "value STRING, source_file STRING"
    )
    records = raw_files.filter_records(lines, "billing_events")
    good, bad = bronze_billing.transform(records, "2024-01-05")
    reasons = {r.record.split(",")[0] or "<blank>": r.reason for r in bad.collect()}
    assert reasons == {
        "be_3": "bad_user_id",
        "be_4": "bad_event_time",
        "be_5": "bad_mrr",
        "<blank>": "missing_billing_event_id",
        "be_7": "wrong_field_count",
    }
    # header is not a record; every record is either out or quarantined
    assert records.count() == good.count() + bad.count() == 7
    got = good.select("billing_event_id", "user_id", "event_time", "plan", "mrr", "promo_code")
    expected = spark.createDataFrame(
        [
            ("be_1", 101, datetime(2024, 1, 5, 13, 4, 11, 123000), "pro", Decimal("49.00"), None),
            (
                "be_2",
                102,
                datetime(2024, 1, 5, 13, 4, 12),
                "pro, annual",
                Decimal("49.00"),
                "NEWYEAR",
            ),
        ],
        got.schema,
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)
    assert {r.layer for r in bad.collect()} == {"bronze"}


def test_jsonl_source_quarantines_unparsable_line(spark):
    from spark_jobs.bronze import experiment_assignments as bronze_assign

    ok = (
        '{"assignment_id":"as_1","experiment":"homepage_cta_test","variant":"control",'
        '"user_id":null,"anonymous_id":"a1","assigned_at":"2024-01-02T00:02:24.024Z"}'
    )
    lines = spark.createDataFrame([(ok, "f"), (ok[:40], "f")], "value STRING, source_file STRING")
    good, bad = bronze_assign.transform(lines, "2024-01-02")
    assert good.count() == 1
    assert [r.reason for r in bad.collect()] == ["unparsable_json"]


def test_silver_dedupe_latest_wins_and_losers_quarantined(spark):
    from include.table_catalog_bronze_sources import BRONZE_SOURCES

    schema = BRONZE_SOURCES["accounts"].spark_schema()

    def row(uid, updated, ctype="prospect", h="h"):
        return (
            uid,
            ctype,
            "NL",
            "EMEA",
            "pro",
            "pg1",
            10,
            "seo",
            "desktop",
            datetime(2024, 1, 1),
            False,
            False,
            None,
            updated,
            "f",
            h,
            "2024-01-05",
        )

    bronze = spark.createDataFrame(
        [
            row(1, datetime(2024, 1, 5, 9), h="a"),
            row(1, datetime(2024, 1, 5, 12), ctype="existing", h="b"),  # latest wins
            row(1, datetime(2024, 1, 5, 12), ctype="existing", h="c"),  # tie: smaller hash wins
            row(2, datetime(2024, 1, 5, 9), ctype="alien", h="d"),  # not an enumerated type
            row(3, datetime(2024, 1, 5, 9), h="e"),
        ],
        schema,
    )
    facts, quarantine = silver_accounts.transform(bronze, "2024-01-05")
    got = facts.select("user_id", "customer_type")
    expected = spark.createDataFrame([(1, "existing"), (3, "prospect")], got.schema)
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)
    reasons = sorted((r.record_hash, r.reason) for r in quarantine.collect())
    assert reasons == [
        ("a", "duplicate_key"),
        ("c", "duplicate_key"),
        ("d", "unknown_customer_type"),
    ]
    assert facts.count() + quarantine.count() == bronze.count()
