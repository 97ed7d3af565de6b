"""The silver fct_website_events gate: a clean day passes and renders Data Docs; a short day
blocks while a missing device brand only warns."""

from __future__ import annotations

import datetime as dt

import pytest

from include.quality import enforce, load_suite_file, validate
from include.table_catalog import FCT_WEBSITE_EVENTS

DS = "2024-01-05"
SUITE = "silver_fct_website_events"


def _rows(n=1200):
    return [
        (
            None,
            i,
            "www.learnlake.io",
            "US",
            "apple",
            "page_view",
            dt.datetime(2024, 1, 5, 0, 0) + dt.timedelta(seconds=i),
            {},
            DS,
        )
        for i in range(n)
    ]


@pytest.fixture
def settings(lakehouse_env, tmp_path, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_STATE_DIR", str(tmp_path / "state"))
    from include.settings import load_settings

    return load_settings()


def _validate(spark, rows, settings):
    df = spark.createDataFrame(rows, FCT_WEBSITE_EVENTS.spark_schema())
    return validate(df, SUITE, DS, settings)


def test_suite_file_is_well_formed():
    spec = load_suite_file(SUITE)
    assert spec["table"] == "silver.fct_website_events"
    rules = {e["meta"]["rule"] for e in spec["expectations"]}
    assert "dim_hostname is well formatted (www.xx.com)" in rules


def test_clean_partition_passes_and_renders_data_docs(spark, settings):
    result = enforce(_validate(spark, _rows(), settings))
    assert result.status == "pass" and len(result.rules) == 10
    assert result.data_docs and result.data_docs.endswith("index.html")


def test_each_ds_has_its_own_gx_project_so_history_does_not_slow_a_gate(spark, settings):
    """GX rebuilds the Data Docs index from every result in its store on each run: a project
    per ds keeps that work to one day's results however many days came before."""
    from include.quality import data_docs_index, gx_root

    df = spark.createDataFrame(_rows(), FCT_WEBSITE_EVENTS.spark_schema())
    first = validate(df, SUITE, DS, settings)
    second = validate(df, SUITE, "2024-01-06", settings)
    assert first.data_docs == str(data_docs_index(settings, DS))
    assert second.data_docs == str(data_docs_index(settings, "2024-01-06"))
    assert first.data_docs != second.data_docs
    for ds in (DS, "2024-01-06"):
        store = gx_root(settings, ds) / "gx" / "uncommitted" / "validations"
        stored = list(store.rglob("*.json"))
        assert len(stored) == 1, stored  # only that day's run
        index = data_docs_index(settings, ds).read_text()
        assert f"{SUITE}-{ds}" in index
        other = "2024-01-06" if ds == DS else DS
        assert f"{SUITE}-{other}" not in index
    with pytest.raises(ValueError):
        gx_root(settings, "../../etc")


# Each row-level rule broken on its own: tests/unit/quality/test_every_rule.py (every suite).


def test_minimum_count_blocks_and_brand_only_warns(spark, settings):
    rows = _rows(50)
    rows[0] = (*rows[0][:4], None, *rows[0][5:])
    result = _validate(spark, rows, settings)
    assert [r.rule for r in result.blocking_failures] == ["minimum daily event count"]
    assert [r.rule for r in result.warnings] == ["dim_device_brand is not null"]
