"""The analyst's catalog: column comments from the data dictionary and the _current views.

Path tables here (the unit tests' engine has no metastore): comments land in the Delta
schema, which ``DESCRIBE TABLE`` shows; the views' SELECT is run on hand-made rows through a
temporary view. The metastore views over JDBC: ``tests/e2e/test_lockdown.py``.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from include.catalog import column_comments, columns_ddl, current_view, is_snapshot, sync_catalog
from include.contracts import get_contract
from include.data_dictionary import column_comment


def test_which_tables_get_a_current_view():
    assert is_snapshot(get_contract("gold.homepage_cta_test_outcomes"))
    assert is_snapshot(get_contract("gold.user_outcomes"))
    assert not is_snapshot(get_contract("gold.agg_website_events"))  # daily facts
    assert not is_snapshot(get_contract("silver.accounts"))
    with pytest.raises(ValueError, match="not an experiment-to-date snapshot"):
        current_view(get_contract("gold.readouts"))
    assert current_view(get_contract("gold.homepage_cta_test_base"))[0] == (
        "gold.homepage_cta_test_base_current"
    )


def _outcome(experiment, person, ds):
    at = datetime(2024, 1, 1, 10)
    return (experiment, person, "control", at, at, True, 0, 0, 0, 0, None, 0, 0,
            "Not Contaminated", "desktop", "NL", None, None, None, ds)  # fmt: skip


def test_the_current_view_holds_the_newest_state_per_experiment(spark):
    """pdp: p1 and p2 as of 01-02, then p1, p2, p3 as of 01-03; other: q1 as of 01-02 only.
    Current: pdp's 3 rows of 01-03 and other's 1 row of 01-02 (not 6 rows, not 01-02's)."""
    contract = get_contract("gold.user_outcomes")
    rows = [_outcome("pdp", "p1", "2024-01-02"), _outcome("pdp", "p2", "2024-01-02"),
            _outcome("pdp", "p1", "2024-01-03"), _outcome("pdp", "p2", "2024-01-03"),
            _outcome("pdp", "p3", "2024-01-03"), _outcome("other", "q1", "2024-01-02")]  # fmt: skip
    spark.createDataFrame(rows, contract.spark_schema()).createOrReplaceTempView("uo_rows")
    _, select = current_view(contract, "uo_rows")
    got = sorted((r.experiment, r.person_id, r.ds) for r in spark.sql(select).collect())
    assert got == [("other", "q1", "2024-01-02"), ("pdp", "p1", "2024-01-03"),
                   ("pdp", "p2", "2024-01-03"), ("pdp", "p3", "2024-01-03")]  # fmt: skip


def test_a_shop_experiment_s_users_are_reachable_under_the_saas_naming(spark):
    """gold.pdp_redesign_outcomes = pdp_redesign's user_outcomes rows (every ds); its
    _current view = those of the newest ds. Rows: pdp_redesign p1, p2 on 01-02, p1 on 01-03;
    other_test q1 on 01-04 (a newer ds of another experiment must not hide pdp's)."""
    from include.catalog import experiment_views
    from include.experiments import load_experiment

    contract = get_contract("gold.user_outcomes")
    rows = [_outcome("pdp_redesign", "p1", "2024-01-02"),
            _outcome("pdp_redesign", "p2", "2024-01-02"),
            _outcome("pdp_redesign", "p1", "2024-01-03"),
            _outcome("other_test", "q1", "2024-01-04")]  # fmt: skip
    spark.createDataFrame(rows, contract.spark_schema()).createOrReplaceTempView("uo_all")
    _, latest_select = current_view(contract, "uo_all")
    spark.sql(latest_select).createOrReplaceTempView("uo_latest")
    views = experiment_views(load_experiment("pdp_redesign"), "uo_all", "uo_latest")
    assert [v for v, _, _ in views] == [
        "gold.pdp_redesign_outcomes", "gold.pdp_redesign_outcomes_current"]  # fmt: skip
    every = sorted((r.person_id, r.ds) for r in spark.sql(views[0][1]).collect())
    assert every == [("p1", "2024-01-02"), ("p1", "2024-01-03"), ("p2", "2024-01-02")]
    current = sorted((r.person_id, r.ds) for r in spark.sql(views[1][1]).collect())
    assert current == [("p1", "2024-01-03")]
    assert "experiment" not in spark.sql(views[0][1]).columns  # the view is one experiment
    assert experiment_views(load_experiment("homepage_cta_test")) == []  # a table already


def test_a_single_experiment_table_keeps_its_newest_ds(spark):
    contract = get_contract("gold.homepage_cta_test_aggregated")
    schema = contract.spark_schema()
    day = {f.name: None for f in schema.fields}
    rows = [
        {**day, "experiment": "homepage_cta_test", "variant": v, "segment": "overall",
         "segment_value": "all", "ds": ds}  # fmt: skip
        for ds in ("2024-01-01", "2024-01-02") for v in ("control", "treatment")
    ]
    spark.createDataFrame(rows, schema).createOrReplaceTempView("agg_rows")
    _, select = current_view(contract, "agg_rows")
    assert sorted((r.variant, r.ds) for r in spark.sql(select).collect()) == [
        ("control", "2024-01-02"), ("treatment", "2024-01-02")]  # fmt: skip


def test_new_tables_carry_the_dictionary_and_old_ones_are_synced(spark, lakehouse_env):
    from include.tables import delta_ref, ensure_table, table_location

    accounts = get_contract("silver.accounts")
    ensure_table(spark, accounts, lakehouse_env)
    ref = delta_ref(table_location(accounts, lakehouse_env))
    assert column_comments(spark, ref) == {
        c: column_comment(accounts, c) for c in accounts.columns
    }
    # a table created before the dictionary (no comments): the sync sets each, once
    billing = get_contract("silver.billing_events")
    location = table_location(billing, lakehouse_env)
    spark.sql(f"CREATE TABLE {delta_ref(location)} ({billing.ddl}) USING DELTA "
              "PARTITIONED BY (ds)").collect()  # fmt: skip
    assert set(column_comments(spark, delta_ref(location)).values()) == {""}
    first = sync_catalog(spark, lakehouse_env)
    assert first == {"tables": 2, "comments_set": len(billing.columns), "views": 0}
    assert column_comments(spark, delta_ref(location))["mrr"] == column_comment(billing, "mrr")
    assert sync_catalog(spark, lakehouse_env)["comments_set"] == 0  # idempotent
    assert "COMMENT" not in columns_ddl(get_contract("bronze.web_events"))
