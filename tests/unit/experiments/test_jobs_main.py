"""The new gold jobs' main() wiring through spark_jobs.run on an empty local lakehouse.

Silver tables that do not exist read as empty (``common.read_range``), so every job runs its
bounded reads, transform, partition write (the shared seed 002 tables replace only their
(ds, experiment) slice) and row accounting without any generated data. The transforms'
answers are tested on hand-built rows elsewhere; this checks names, contracts and writes.
"""

from __future__ import annotations

import pytest

DS = "2024-01-20"


@pytest.mark.slow
def test_new_gold_jobs_run_end_to_end_on_empty_silver(spark, lakehouse_env):
    from include.table_catalog_experiments import USER_EXPOSURE, contract_for
    from include.tables import read_table
    from spark_jobs.run import run

    shop, saas = {"experiment": "pdp_redesign"}, {"experiment": "homepage_cta_test"}
    for job in ("user_exposure", "user_outcomes", "aggregated"):
        out = run(f"gold.experiments.{job}", DS, shop, spark=spark)
        assert (out["rows_in"], out["rows_out"]) == (0, 0), out
    assert out["versions"] == {"gold.pdp_redesign_aggregated": 0}
    assert set(read_table(spark, USER_EXPOSURE, lakehouse_env).columns) == set(
        USER_EXPOSURE.columns
    )

    for job in ("base", "outcomes", "details"):
        out = run(f"gold.experiments.{job}", DS, saas, spark=spark)
        assert out["rows_out"] == 0, out
    assert out["extra"]["read_ranges"] == {
        "billing": ("2024-01-01", DS),
        "usage": ("2024-01-01", DS),
    }
    details_c = contract_for("homepage_cta_test", "details")
    assert read_table(spark, details_c, lakehouse_env).columns == details_c.columns
