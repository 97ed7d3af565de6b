"""A rule GX cannot evaluate blocks the gate, whatever its severity, and never counts as passed.

The 10M-event benchmark ran a gate whose metric query died (Java heap space) and the gate
still finished WARN; a check that did not run vouches for nothing.
"""

from __future__ import annotations

import pandas as pd
import pytest

from include.quality import QualityGateFailed, enforce, validate

DS = "2024-01-15"


def spec(column: str, severity: str) -> dict:
    return {
        "name": "test_gate_errors",
        "table": "test.gate_errors",
        "expectations": [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": column, "min_value": 0, "max_value": 10},
                "meta": {"rule": f"{column} in [0, 10]", "severity": severity},
            }
        ],
    }


FRAME = pd.DataFrame({"score": [1, 5, 12], "ts": [1, 2, 3]})


def test_a_failing_warn_rule_warns(settings):
    result = validate(FRAME, "test_gate_errors", DS, settings, spec=spec("score", "warn"))
    (rule,) = result.rules
    assert (rule.success, rule.severity, rule.unexpected_count) == (False, "warn", 1)
    assert result.status == "warn"
    assert enforce(result) is result  # a warning does not stop anything


@pytest.mark.parametrize("severity", ["warn", "block"])
def test_a_rule_that_cannot_be_evaluated_blocks(settings, severity):
    # the column is gone: GX reports the metric's exception on the result, not as a failure
    result = validate(FRAME, "test_gate_errors", DS, settings, spec=spec("gone", severity))
    (rule,) = result.rules
    assert rule.success is False
    assert rule.severity == "block"
    assert rule.observed.startswith("error (could not be evaluated, so it blocks")
    assert f"suite severity '{severity}'" in rule.observed
    assert "gone" in rule.observed  # GX's own message names the missing column
    assert result.status == "fail"
    with pytest.raises(QualityGateFailed, match="could not be evaluated"):
        enforce(result)


def test_validate_releases_the_batch_gx_persisted(spark, settings):
    # GX's Spark engine persists each batch and never unpersists it; one JVM gating several
    # tables (sources.gate, the benchmark's day) piled the caches up until it ran out of heap
    df = spark.createDataFrame([(1,), (5,), (12,)], "score int")
    result = validate(df, "test_gate_errors", DS, settings, spec=spec("score", "block"))
    assert result.status == "fail" and result.rules[0].unexpected_count == 1
    assert not df.is_cached
    assert df.storageLevel.useMemory is False and df.storageLevel.useDisk is False
