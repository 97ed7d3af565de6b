"""Row accounting of the gold experiment jobs: rows in are counted on the job's input.

``base`` counts the exposed ids of the window, ``user_exposure`` the exposed persons,
``details`` the clean-cohort outcome rows, ``aggregated`` the outcome rows (and checks that
every segment of the written aggregate covers each of them once). Before, each job reported
its own output as rows in, so the check could not fail; here a row that appears between the
input and the write (a join that fans out) fails the job.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.unit.experiments.helpers import spec

DS = "2024-01-20"


def test_exposures_in_window_and_their_distinct_ids(spark):
    from include.table_catalog_sources import SILVER_EXPERIMENT_ASSIGNMENTS
    from spark_jobs.gold.experiments.common import distinct_count, exposures_in_window

    def row(aid, anon, day, experiment="homepage_cta_test"):
        at = datetime.fromisoformat(f"{day}T10:00:00")
        return (aid, experiment, "control", None, anon, anon, at, day)

    assignments = spark.createDataFrame(
        [
            row("a1", "c1", "2024-01-10"),
            row("a2", "c1", "2024-01-12"),  # c1 again: one id
            row("a3", "c2", "2024-01-20"),  # on ds: in
            row("a4", "c3", "2023-12-31"),  # before the start (2024-01-01): out
            row("a5", "c4", "2024-01-21"),  # after ds: out
            row("a6", "c5", "2024-01-10", "other_test"),  # another experiment: out
        ],
        SILVER_EXPERIMENT_ASSIGNMENTS.spark_schema(),
    )
    exposures = exposures_in_window(spec(), DS, assignments)
    assert sorted(r.assignment_id for r in exposures.collect()) == ["a1", "a2", "a3"]
    assert distinct_count(exposures, "anonymous_id") == 2  # c1, c2


def test_every_segment_must_cover_every_outcome_row_once():
    from spark_jobs.gold.experiments.aggregated import check_coverage

    s = spec()  # segments: region, package
    assert check_coverage({"overall": 3, "region": 3, "package": 3}, 3, s, DS) == 3
    with pytest.raises(ValueError, match=r"3 outcome rows in, but the aggregate covers "
                                         r"\{'package': 4\}"):  # fmt: skip
        check_coverage({"overall": 3, "region": 3, "package": 4}, 3, s, DS)
    with pytest.raises(ValueError, match=r"\{'overall': 0, 'region': 0, 'package': 0\}"):
        check_coverage({"overall": 0, "region": 0, "package": 0}, 2, s, DS)


def _with_one_more_row(module, contract_of, **values):
    """``module.transform`` whose output gains one row that no input row explains."""
    original = module.transform

    def fanned_out(*args, **kwargs):
        from pyspark.sql import functions as F

        out = original(*args, **kwargs)
        schema = contract_of().spark_schema()
        extra = out.sparkSession.range(1).select(
            *[F.lit(values.get(f.name)).cast(f.dataType).alias(f.name) for f in schema.fields]
        )
        return out.unionByName(extra)

    return fanned_out


@pytest.mark.parametrize(
    ("job", "experiment"),
    [
        ("base", "homepage_cta_test"),
        ("details", "homepage_cta_test"),
        ("user_exposure", "pdp_redesign"),
        ("aggregated", "homepage_cta_test"),
    ],
)
def test_a_row_no_input_explains_fails_the_job(spark, lakehouse_env, monkeypatch, job, experiment):
    """On an empty lakehouse every job has 0 rows in; a transform that adds one row (as a
    join fanning out would) must fail the job, not report 1 in and 1 out."""
    import importlib

    from include.table_catalog_experiments import USER_EXPOSURE, contract_for
    from spark_jobs.run import run

    module = importlib.import_module(f"spark_jobs.gold.experiments.{job}")
    if job == "user_exposure":
        contract_of = lambda: USER_EXPOSURE  # noqa: E731
    else:
        contract_of = lambda: contract_for(experiment, job)  # noqa: E731
    values = {"ds": DS, "experiment": experiment, "unit_id": "u1", "person_id": "u1"}
    if job == "aggregated":
        values |= {"variant": "control", "segment": "overall", "segment_value": "all",
                   "exposed_rows": 1}  # fmt: skip
    params = {"experiment": experiment}
    if job == "details":  # details reads the outcomes and base partitions of ds
        for upstream in ("base", "outcomes"):
            run(f"gold.experiments.{upstream}", DS, params, spark=spark)
    if job == "aggregated":
        run("gold.experiments.base", DS, params, spark=spark)
        run("gold.experiments.outcomes", DS, params, spark=spark)

    monkeypatch.setattr(module, "transform", _with_one_more_row(module, contract_of, **values))
    broken = ValueError if job == "aggregated" else RuntimeError
    message = "covers" if job == "aggregated" else "row accounting broken: in=0 out=1"
    with pytest.raises(broken, match=message):
        module.main(spark, DS, lakehouse_env, params)
