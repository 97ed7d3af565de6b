"""The data dictionary covers every column of every silver and gold table (pure Python, no Spark).

Analysts read the comments with ``DESCRIBE TABLE EXTENDED`` over JDBC: each must exist, be one
plain ASCII sentence of at most 180 characters, and hold no newline and no single quote (it goes
into ``COMMENT '...'``). The generated experiment tables are checked from the two shipped
experiment configs, and the per-metric templates with every metric a config may name.
"""

from __future__ import annotations

import pytest

from include import data_dictionary as dd
from include.contracts import TableContract, all_contracts, get_contract
from include.experiments import load_experiment, metric_columns
from include.table_catalog_experiments import (
    aggregated_contract,
    experiment_contracts,
    shop_aggregated_contract,
)

SHIPPED = ("homepage_cta_test", "pdp_redesign")


def _contracts():
    """(contract, metrics) of every registered silver / gold contract and every generated
    contract of the shipped experiments, plus aggregated tables carrying every known metric."""
    seen = {}
    for c in all_contracts():
        if c.layer in ("silver", "gold"):
            seen[c.qualified_name] = (c, ())
    for name in SHIPPED:
        spec = load_experiment(name)
        metrics = tuple(m.name for m in spec.metrics)
        for c in experiment_contracts(spec):
            seen[c.qualified_name] = (c, metrics)
    every_saas, every_shop = tuple(metric_columns("saas")), tuple(metric_columns("shop"))
    for c, metrics in (
        (aggregated_contract("all_saas_metrics", every_saas), every_saas),
        (shop_aggregated_contract("all_shop_metrics", every_shop), every_shop),
    ):
        seen[c.qualified_name] = (c, metrics)
    return [seen[k] for k in sorted(seen)]


CONTRACTS = _contracts()


def test_the_shipped_experiments_generate_every_kind():
    keys = {dd.table_key(c) for c, _ in CONTRACTS if c.layer == "gold"}
    assert {
        "experiment_base",
        "experiment_outcomes",
        "experiment_aggregated",
        "experiment_shop_aggregated",
        "experiment_details",
        "gold.user_exposure",
        "gold.user_outcomes",
    } <= keys


@pytest.mark.parametrize(
    ("contract", "metrics"), CONTRACTS, ids=[c.qualified_name for c, _ in CONTRACTS]
)
def test_every_column_has_a_plain_comment(contract, metrics):
    for column in contract.columns:
        for given in (metrics, ()):  # the metrics passed, or read off the contract's columns
            comment = dd.column_comment(contract, column, given)
            where = f"{contract.qualified_name}.{column}"
            assert comment.strip(), where
            assert len(comment) <= dd.MAX_COMMENT_CHARS, (where, len(comment))
            assert comment.isascii(), where
            assert "'" not in comment, where
            assert "\n" not in comment and "\r" not in comment, where


def test_no_stale_comment_for_a_column_that_is_not_there():
    for contract, _ in CONTRACTS:
        stale = set(dd.COMMENTS[dd.table_key(contract)]) - set(contract.columns)
        assert not stale, (contract.qualified_name, stale)
    for key in dd.COMMENTS:
        if key.startswith(("silver.", "gold.")):
            assert set(dd.COMMENTS[key]) == set(get_contract(key).columns), key


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("silver.accounts", "no_such_column"),
        ("gold.homepage_cta_test_outcomes", "activation_sum"),
        ("gold.homepage_cta_test_aggregated", "purchase_n"),
        ("gold.pdp_redesign_aggregated", "activation_sum_xy"),
        ("gold.readouts", "p_value_sidak"),
    ],
)
def test_an_unknown_column_is_a_key_error_naming_table_and_column(table, column):
    with pytest.raises(KeyError) as err:
        dd.column_comment(get_contract(table), column)
    assert table in str(err.value) and column in str(err.value)


def test_a_bronze_or_undeclared_table_has_no_comments():
    with pytest.raises(KeyError, match="bronze.web_events"):
        dd.column_comment(get_contract("bronze.web_events"), "url")
    probe = TableContract(
        name="probe_details",
        layer="silver",
        ddl="id BIGINT, ds STRING",
        primary_key=("id",),
        description="a test's own table",
    )
    with pytest.raises(KeyError, match="silver.probe_details"):
        dd.column_comment(probe, "id")
    assert dd.find_comment(probe, "id") is None
    assert dd.find_comment(get_contract("silver.orders"), "amount").startswith("Order amount")


def test_longest_metric_suffix_wins():
    shop = get_contract("gold.pdp_redesign_aggregated")
    xy = dd.column_comment(shop, "engagement_intensity_intensity_sum_xy")
    assert xy.startswith("Metric engagement_intensity:") and "diagnostic" in xy
    assert "CUPED cross-product" in dd.column_comment(
        get_contract("gold.homepage_cta_test_aggregated"), "nb_mrr_sum_xy", ("nb_mrr",)
    )
    # a fixed column is never read as a metric column
    assert dd.column_comment(shop, "intensity_sum").startswith("Sum of engagement_intensity")


def test_spot_checks_against_the_code():
    outcomes = get_contract("gold.homepage_cta_test_outcomes")
    activated = dd.column_comment(outcomes, "is_activated")
    assert "Seed 001" in activated and "look-back" in activated and "0/1" in activated
    # nb_mrr is 0 (not null) without a new booking: outcomes.with_booking
    assert "0 without a new booking" in dd.column_comment(outcomes, "nb_mrr")
    # the shop outcome window is half-open and 7 days for pdp_redesign: user_outcomes.with_window
    window = dd.column_comment(get_contract("gold.user_outcomes"), "window_end_at")
    assert "exclusive" in window and "7" in window
    # a rate with a zero denominator is null: daily_growth.with_conversion_rates
    rate = dd.column_comment(get_contract("gold.daily_growth"), "signup_conversion_rate")
    assert "null when website_hits is 0" in rate


def test_table_comment_marks_the_experiment_to_date_tables():
    for name in (
        "gold.homepage_cta_test_base",
        "gold.homepage_cta_test_outcomes",
        "gold.homepage_cta_test_aggregated",
        "gold.homepage_cta_test_details",
        "gold.pdp_redesign_aggregated",
        "gold.user_exposure",
        "gold.user_outcomes",
    ):
        contract = get_contract(name)
        comment = dd.table_comment(contract)
        assert comment.startswith(contract.description.strip()), name
        assert comment.endswith(dd.SNAPSHOT_NOTE), name
    for name in ("silver.accounts", "gold.mrr_bridge", "gold.readouts", "gold.user_master"):
        contract = get_contract(name)
        assert dd.table_comment(contract) == contract.description.strip(), name
