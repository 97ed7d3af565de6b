"""Property tests: for any seed and day, generation is deterministic and the truth is coherent."""

from __future__ import annotations

import json
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from include.generator import GeneratorConfig, generate_day

days = st.integers(min_value=0, max_value=500).map(
    lambda i: (date(2023, 10, 1) + timedelta(days=i)).isoformat()
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**40), ds=days)
def test_any_seed_and_day_is_deterministic_and_coherent(seed, ds):
    cfg = GeneratorConfig(seed=seed, events_per_day=1_500)
    first, second = generate_day(ds, cfg), generate_day(ds, cfg)
    assert first == second
    manifest = json.loads(first[f"_truth/ds={ds}/manifest.json"])
    assert manifest["seed"] == seed and manifest["ds"] == ds
    for month, row in manifest["mrr_by_month"].items():
        bridge = row["start"] + row["new"] + row["expansion"] - row["contraction"] - row["churn"]
        assert abs(bridge - row["end"]) < 0.05, month
    lines = sum(data.count(b"\n") for path, data in first.items() if path.startswith("web_events/"))
    assert lines == manifest["volumes"]["web_event_lines"]
