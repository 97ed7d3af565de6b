"""Every file follows the raw-zone contract: layout, formats and exactly the listed fields."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest

from include.raw_sources import ACTION_TYPES, HOSTNAMES, RAW_SOURCES

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_every_source_has_a_file(small_day):
    for source in RAW_SOURCES:
        paths = small_day.paths(source)
        assert paths, source
        ext = RAW_SOURCES[source].fmt
        assert all(re.search(rf"/part-\d{{5}}\.{ext}$", p) for p in paths), paths
    assert list(small_day.files)[-1] == f"_truth/ds={small_day.ds}/manifest.json"


@pytest.mark.parametrize("source", ["web_events", "experiment_assignments"])
def test_jsonl_lines_parse_with_contract_fields(small_day, source):
    lines = small_day.lines(source)
    records = small_day.records(source)
    bad = len(lines) - len(records)
    expected_bad = small_day.manifest["mess_counts"]["unparsable"] if source == "web_events" else 0
    assert bad == expected_bad
    fields = list(RAW_SOURCES[source].fields)
    assert all(list(r) == fields for r in records)


def test_web_event_values_are_well_formed_when_not_messed(small_day):
    records = small_day.records("web_events")
    clean = [r for r in records if r["hostname"] in HOSTNAMES and r["action_type"] in ACTION_TYPES]
    assert len(clean) > 0.9 * len(records)
    for r in clean[:2000]:
        assert r["event_time"] is None or ISO.match(r["event_time"])
        assert r["user_id"] is None or (isinstance(r["user_id"], int) and r["user_id"] > 0)
        assert isinstance(r["properties"], dict)
        assert all(isinstance(v, str) for v in r["properties"].values())
        assert r["url"].startswith("https://")
        assert r["session_id"].startswith("s_")


@pytest.mark.parametrize("source", [s for s, spec in RAW_SOURCES.items() if spec.fmt == "csv"])
def test_csv_files_have_contract_header_and_parse(small_day, source):
    for path in small_day.paths(source):
        frame = pd.read_csv(io.BytesIO(small_day.files[path]), dtype=str, keep_default_na=False)
        assert tuple(frame.columns) == RAW_SOURCES[source].fields


def test_csv_value_formats(small_day):
    billing = small_day.rows("billing_events")
    assert billing
    assert all(re.match(r"^\d+\.\d{2}$", r["mrr"]) for r in billing)
    assert {r["event_type"] for r in billing} <= {
        "trial_start", "activation", "paid_start", "booking", "plan_change", "cancellation"
    }  # fmt: skip
    accounts = small_day.rows("accounts")
    assert {r["is_fraud"] for r in accounts} <= {"true", "false"}
    assert {r["customer_type"] for r in accounts} <= {"prospect", "existing"}
    assert {r["region"] for r in accounts} <= {"NA", "EMEA", "APAC", "LATAM"}
    assert all(ISO.match(r["signup_at"]) for r in accounts)
    nps = small_day.rows("nps_responses")
    assert all(0 <= int(r["score"]) <= 10 for r in nps)


def test_assignments_match_exposure_truth(small_day):
    assignments = small_day.records("experiment_assignments")
    truth = small_day.truth_csv("exposures.csv")
    assert len(assignments) == len(truth)
    assert {a["experiment"] for a in assignments} == {"homepage_cta_test", "pdp_redesign"}
    assert all(a["anonymous_id"] for a in assignments)


def test_every_referenced_user_has_an_account_row(small_day):
    accounts = {int(r["user_id"]) for r in small_day.rows("accounts")}
    web_users = {r["user_id"] for r in small_day.records("web_events") if r["user_id"]}
    billing_users = {int(r["user_id"]) for r in small_day.rows("billing_events")}
    assert web_users <= accounts
    assert billing_users <= accounts


def test_manifest_is_valid_json_with_sections(small_day):
    manifest = json.loads(small_day.files[f"_truth/ds={small_day.ds}/manifest.json"])
    for key in ("ds", "seed", "config", "mess_rates", "mess_counts", "experiments",
                "mrr_by_month", "seasonality", "volumes"):  # fmt: skip
        assert key in manifest
    assert manifest["seed"] == small_day.config.seed
    assert manifest["ds"] == small_day.ds


def test_event_times_stay_in_their_day(messy_day):
    """Only the planted late events carry another day's date; nothing spills into ds + 1."""
    from datetime import date, timedelta

    prev = (date.fromisoformat(messy_day.ds) - timedelta(days=1)).isoformat()
    days = {r["event_time"][:10] for r in messy_day.records("web_events") if r["event_time"]}
    assert days == {messy_day.ds, prev}
    assignments = messy_day.records("experiment_assignments")
    assert {a["assigned_at"][:10] for a in assignments} == {messy_day.ds}
