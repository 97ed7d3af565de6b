"""Tiny hand-built inputs for the experiment transforms."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from include.experiments import parse_experiment

EXPOSED = datetime(2024, 2, 1, 10, 0)


def spec(**overrides):
    raw = {
        "name": "homepage_cta_test",
        "funnel": "saas",
        "variants": [{"name": "control", "weight": 0.5}, {"name": "treatment", "weight": 0.5}],
        "control": "control",
        "start_date": "2024-01-01",
        "end_date": "2024-03-31",
        "exposure_event": "experiment_exposure",
        "activation_lookback_days": 90,
        "metrics": [
            {"name": "activation", "type": "conversion", "role": "primary"},
            {"name": "conversion", "type": "conversion", "role": "primary"},
            {"name": "new_booking", "type": "conversion", "role": "guardrail"},
            {"name": "nb_mrr", "type": "revenue", "role": "primary"},
        ],
        "segments": ["region", "package"],
    }
    raw.update(overrides)
    return parse_experiment(raw)


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s)


def d(s: str) -> date:
    return date.fromisoformat(s)


def base_row(unit_id: str, **kw) -> dict:
    row = {
        "experiment": "homepage_cta_test",
        "unit_id": unit_id,
        "person_id": unit_id,
        "user_id": 1,
        "variant": "control",
        "first_exposure_at": EXPOSED,
        "exposure_count": 1,
        "person_id_count": 1,
        "variants_seen": 1,
        "contamination_flag": "Not Contaminated",
        "duplication_rank": 1,
        "region": "EMEA",
        "country": "NL",
        "device_type": "desktop",
        "traffic_source": "google",
        "customer_type": "prospect",
        "plan": "pro",
        "package": "pg1",
        "list_size": 100,
        "list_size_group": "0-1k",
        "signup_at": None,
        "is_fraud": False,
        "is_closed": False,
        "pre_exposure_sessions": 0,
        "activation_times": [],
        "paid_start_times": [],
        "bookings": [],
        "onboarding_start_times": [],
        "onboarding_complete_times": [],
        "checkout_start_times": [],
        "checkout_complete_times": [],
        "first_paid_at": None,
        "pre_exposure_app_days": 0,
        "user_type": "web_only",
        "support_ticket_times": [],
        "ds": "2024-04-30",
    }
    for key, value in kw.items():
        if key == "bookings":
            value = [{"booked_at": ts(t), "mrr": Decimal(m)} for t, m in value]
        elif key.endswith("_times"):
            value = [ts(t) for t in value]
        elif key == "first_paid_at" and value is not None:
            value = ts(value)
        row[key] = value
    return row
