"""The experiment file is read whole (issue: readouts that never decide on wrong data, item 8).

Every key is parsed and validated: an unknown key or a value of the wrong type is a clear
error naming the file and the key, and the ``readout:`` block (correction, minimum and
planned sample per arm) reaches the readout's statistics and verdict instead of being
ignored.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest
import yaml

from include.experiments import (
    CORRECTIONS,
    ReadoutRules,
    load_experiment,
    parse_experiment,
)

RAW = {
    "name": "cfg_test",
    "hypothesis": "a clearer button converts more",
    "funnel": "saas",
    "variants": [{"name": "control", "weight": 0.5}, {"name": "treatment", "weight": 0.5}],
    "control": "control",
    "start_date": "2024-01-01",
    "end_date": "2024-01-31",
    "exposure_event": "experiment_exposure",
    "activation_lookback_days": 30,
    "metrics": [{"name": "conversion", "type": "conversion", "role": "primary"}],
    "segments": ["region"],
    "readout": {"correction": "bh", "min_sample_per_arm": 200, "planned_sample_per_arm": 5000},
}


def _with(path: str, value) -> dict:
    """RAW with the key at ``path`` ('a.b', 'metrics.0.role') set to ``value``."""
    raw = copy.deepcopy(RAW)
    *parents, last = path.split(".")
    node = raw
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    node[int(last) if last.isdigit() else last] = value
    return raw


def test_the_readout_block_is_parsed():
    spec = parse_experiment(copy.deepcopy(RAW))
    assert spec.readout == ReadoutRules("bh", 200, 5000)
    assert spec.start_date == date(2024, 1, 1) and spec.activation_lookback_days == 30
    # absent: the documented defaults
    raw = copy.deepcopy(RAW)
    del raw["readout"]
    assert parse_experiment(raw).readout == ReadoutRules("holm", 1000, None)


def test_the_readout_block_reaches_the_statistics_and_the_verdict():
    from spark_jobs.readouts import experiment as job

    spec = parse_experiment(copy.deepcopy(RAW))
    assert job.stats_config(spec, 0.05)["correction"] == "bh"
    rules = job.verdict_rules(spec, "2024-01-15")
    assert (rules["min_sample_per_arm"], rules["planned_sample_per_arm"]) == (200, 5000)


def test_the_corrections_are_those_the_statistics_know():
    from include.stats.multiple import METHODS

    assert tuple(CORRECTIONS) == tuple(METHODS)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("colour", "blue", r"unknown key 'colour' in the file; allowed: name, hypothesis"),
        ("readout.alpha", 0.1, r"unknown key 'readout.alpha' in readout; allowed: correction"),
        ("variants.0.share", 1, r"unknown key 'variants\[0\].share' in variants\[0\]"),
        ("metrics.0.window", 7, r"unknown key 'metrics\[0\].window' in metrics\[0\]"),
        ("readout.correction", "bonferroni", r"readout.correction must be one of"),
        ("readout.min_sample_per_arm", "200", r"readout.min_sample_per_arm must be an integer"),
        ("readout.min_sample_per_arm", 0, r"readout.min_sample_per_arm must be an integer in"),
        ("readout.planned_sample_per_arm", 100, r"readout.planned_sample_per_arm must be an "
                                                r"integer in \[200, "),  # fmt: skip
        ("readout", ["holm"], r"readout must be a mapping"),
        ("activation_lookback_days", "30", r"activation_lookback_days must be an integer"),
        ("activation_lookback_days", True, r"activation_lookback_days must be an integer"),
        ("outcome_window_days", 7.5, r"outcome_window_days must be an integer"),
        ("variants.0.weight", "0.5", r"variants\[0\].weight must be a number"),
        ("metrics.0.role", "main", r"metrics\[0\].role must be in"),
        ("start_date", "01/01/2024", r"start_date must be a date YYYY-MM-DD, got '01/01/2024'"),
        ("segments", "region", r"segments must be a list"),
        ("segments", ["region", "region"], r"segments must be unique"),
        ("hypothesis", 42, r"hypothesis must be text"),
        ("exposure_event", "", r"exposure_event must be a non-empty string"),
    ],
)
def test_a_bad_key_is_an_error_naming_it(path, value, message):
    with pytest.raises(ValueError, match=r"experiment cfg_test: " + message):
        parse_experiment(_with(path, value))


def test_a_file_error_names_the_file(tmp_path):
    (tmp_path / "cfg_test.yaml").write_text(yaml.safe_dump(_with("readout.colour", 1)))
    with pytest.raises(ValueError) as err:
        load_experiment("cfg_test", tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'cfg_test.yaml'}: experiment cfg_test: ")
    assert "'readout.colour'" in str(err.value)

    # YAML's own dates (unquoted) are read as dates, like quoted ISO text
    text = yaml.safe_dump(copy.deepcopy(RAW)).replace("'2024-01-01'", "2024-01-01")
    assert "start_date: 2024-01-01" in text
    (tmp_path / "cfg_test.yaml").write_text(text)
    assert load_experiment("cfg_test", tmp_path).start_date == date(2024, 1, 1)


def test_the_shipped_experiment_files_are_valid():
    for name in ("homepage_cta_test", "pdp_redesign"):
        assert load_experiment(name).name == name
