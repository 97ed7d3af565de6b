"""Every kind of mess is planted, at the configured rate, and the manifest counts it exactly."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from include.generator.catalog import BAD_HOSTNAMES, NULLABLE_WEB_FIELDS, UNKNOWN_ACTIONS
from include.raw_sources import ACTION_TYPES, HOSTNAMES

BOT_WORDS = ("bot", "crawler", "spider")


def _is_bot(record: dict) -> bool:
    ua = (record["user_agent"] or "").lower()
    return any(w in ua for w in BOT_WORDS)


def test_counts_in_files_match_manifest(messy_day):
    m = messy_day.manifest["mess_counts"]
    records = messy_day.records("web_events")
    lines = messy_day.lines("web_events")
    assert len(lines) - len(records) == m["unparsable"] > 0
    ids = Counter(r["event_id"] for r in records)
    assert sum(c - 1 for c in ids.values()) == m["duplicate"] > 0
    assert sum(r["hostname"] in BAD_HOSTNAMES for r in records) == m["bad_hostname"] > 0
    assert sum(r["action_type"] in UNKNOWN_ACTIONS for r in records) == m["unknown_action"] > 0
    for field in NULLABLE_WEB_FIELDS:
        assert sum(r[field] is None for r in records) == m["null_field_by_field"][field] > 0
    assert sum(_is_bot(r) for r in records) == pytest.approx(m["bot_events"], rel=0.05)
    late_day = (date.fromisoformat(messy_day.ds) - timedelta(days=1)).isoformat()
    late = sum(1 for r in records if (r["event_time"] or "").startswith(late_day))
    assert late == pytest.approx(m["late"], rel=0.1)


def test_experiment_mess_counts_match_truth(messy_day):
    m = messy_day.manifest["mess_counts"]
    kinds = Counter(r["kind"] for r in messy_day.truth_csv("exposures.csv"))
    assert kinds["contamination"] == m["contamination"] > 0
    assert kinds["multi_id"] == m["multi_id_aliases"] > 0
    assert kinds["converted_before"] == m["conversion_before_exposure"] > 0
    identity = messy_day.truth_csv("identity_map.csv")
    cookies = [r for r in identity if r["id_type"] == "anonymous_id"]
    assert len(cookies) == m["multi_id_aliases"]
    assert len({r["person_id"] for r in cookies}) == m["multi_id_persons"]
    assert Counter(
        len([c for c in cookies if c["person_id"] == p]) for p in {c["person_id"] for c in cookies}
    ).keys() <= {1, 2}  # 2-3 ids per person
    assert m["out_of_order"] > 0


def test_contaminated_visitors_see_two_variants(messy_day):
    seen: dict[tuple[str, str], set[str]] = {}
    for a in messy_day.records("experiment_assignments"):
        seen.setdefault((a["experiment"], a["anonymous_id"]), set()).add(a["variant"])
    both = sum(len(v) > 1 for v in seen.values())
    assert both == messy_day.manifest["mess_counts"]["contamination"]


def test_out_of_order_checkout_before_cart(messy_day):
    by_session: dict[str, dict[str, str]] = {}
    for r in messy_day.records("web_events"):
        if r["action_type"] in ("add_to_cart", "checkout_start") and r["event_time"]:
            by_session.setdefault(r["session_id"], {})[r["action_type"]] = r["event_time"]
    flipped = sum(
        1 for s in by_session.values()
        if len(s) == 2 and s["checkout_start"] < s["add_to_cart"]
    )  # fmt: skip
    assert flipped == messy_day.manifest["mess_counts"]["out_of_order"]


def test_conversion_before_exposure_users_paid_earlier(messy_day):
    converted = [r for r in messy_day.truth_csv("exposures.csv") if r["kind"] == "converted_before"]
    assert converted and all(r["user_id"] for r in converted)
    accounts = {r["user_id"]: r for r in messy_day.rows("accounts")}
    assert all(accounts[r["user_id"]]["customer_type"] == "existing" for r in converted)


def test_fraud_and_closed_flags_present(messy_day):
    m = messy_day.manifest["mess_counts"]
    accounts = messy_day.rows("accounts")
    assert sum(r["is_fraud"] == "true" for r in accounts) == m["fraud_accounts_in_export"] > 0
    assert sum(r["is_closed"] == "true" for r in accounts) == m["closed_accounts_in_export"] > 0
    assert all(r["closed_at"] for r in accounts if r["is_closed"] == "true")


def test_rates_within_tolerance(messy_day):
    cfg = messy_day.config.mess
    m = messy_day.manifest["mess_counts"]
    n = messy_day.manifest["volumes"]["web_event_lines"] - m["duplicate"]
    assert m["duplicate"] / n == pytest.approx(cfg.duplicate, rel=0.15)
    for kind in ("bad_hostname", "unknown_action", "null_field", "unparsable"):
        assert m[kind] / n == pytest.approx(getattr(cfg, kind), rel=0.2), kind
    assert m["bot_events"] / n == pytest.approx(cfg.bot, rel=0.1)
    assert m["late"] / n == pytest.approx(cfg.late, rel=0.15)
    exposures = messy_day.manifest["volumes"]["assignments"]
    assert m["contamination"] / exposures == pytest.approx(cfg.contamination, rel=0.3)


def test_bots_have_very_high_rates_per_ip(messy_day):
    per_ip = Counter(r["ip"] for r in messy_day.records("web_events") if _is_bot(r) and r["ip"])
    human = Counter(r["ip"] for r in messy_day.records("web_events") if not _is_bot(r) and r["ip"])
    assert min(per_ip.values()) > 20 * (sum(human.values()) / len(human))


def test_default_rates_plant_a_little_of_everything(small_day):
    m = small_day.manifest["mess_counts"]
    for kind in ("duplicate", "bad_hostname", "unknown_action", "null_field", "unparsable",
                 "bot_events", "late", "contamination", "multi_id_aliases",
                 "conversion_before_exposure"):  # fmt: skip
        assert m[kind] > 0, kind
    records = small_day.records("web_events")
    assert {r["hostname"] for r in records} - set(HOSTNAMES) - {None}
    assert {r["action_type"] for r in records} - set(ACTION_TYPES) - {None}


def test_zero_rates_plant_nothing():
    from dataclasses import replace

    from gen_helpers import SMALL

    from include.generator import MessRates, generate_day

    cfg = replace(SMALL, events_per_day=5_000, mess=MessRates(**{
        k: 0.0 for k in MessRates.__dataclass_fields__}))  # fmt: skip
    files = generate_day("2024-01-10", cfg)
    import json

    m = json.loads(files["_truth/ds=2024-01-10/manifest.json"])["mess_counts"]
    for kind in ("duplicate", "bad_hostname", "unknown_action", "null_field", "unparsable",
                 "bot_events", "late", "contamination", "multi_id_aliases", "out_of_order",
                 "conversion_before_exposure", "fraud_accounts_in_export"):  # fmt: skip
        assert m[kind] == 0, kind


def test_duplicate_accounts_are_new_signups_of_earlier_people(messy_day):
    m = messy_day.manifest["mess_counts"]
    dups = [r for r in messy_day.truth_csv("identity_map.csv") if r["id_type"] == "user_id"]
    assert len(dups) == m["duplicate_accounts"] > 0
    trials = {r["user_id"] for r in messy_day.rows("billing_events")
              if r["event_type"] == "trial_start"}  # fmt: skip
    for r in dups:
        assert r["alias_id"] in trials
        assert int(r["person_id"]) < int(r["alias_id"])
