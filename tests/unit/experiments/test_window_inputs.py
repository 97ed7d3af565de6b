"""The window inputs base persists: which web events it keeps, and that they are released."""

from __future__ import annotations

from datetime import datetime

from spark_jobs.gold.experiments.base import web_rows_used
from spark_jobs.gold.experiments.common import Pinned
from tests.unit.experiments.helpers import spec


def test_web_rows_used_keeps_own_exposures_and_logged_in_funnel_steps(spark):
    from include.table_catalog import FCT_WEBSITE_EVENTS

    t = datetime(2024, 2, 1, 10)

    def event(user_id, action, experiment=None):
        props = {"anonymous_id": "c1", **({"experiment": experiment} if experiment else {})}
        return (user_id, 99, "www", "NL", "Apple", action, t, props, "2024-02-01")

    web = spark.createDataFrame(
        [
            event(None, "experiment_exposure", "homepage_cta_test"),  # kept: its exposure
            event(None, "experiment_exposure", "other_test"),  # another experiment's
            event(5, "checkout_start"),  # kept: a logged-in funnel step
            event(None, "checkout_start"),  # funnel step without a user: funnel_arrays drops it
            event(5, "page_view"),  # neither
        ],
        FCT_WEBSITE_EVENTS.spark_schema(),
    )
    kept = web_rows_used(web, spec()).collect()
    assert sorted((r["dim_action_type"], r["user_id"]) for r in kept) == [
        ("checkout_start", 5),
        ("experiment_exposure", None),
    ]
    assert kept[0]["other_properties"]["anonymous_id"] == "c1"  # what exposure_context reads
    # applying it twice (main pins it, transform applies it again) changes nothing
    assert web_rows_used(web_rows_used(web, spec()), spec()).count() == 2


def test_pinned_frames_are_cached_inside_and_released_after(spark):
    df = spark.range(10)
    with Pinned() as pin:
        a, b = pin(df.where("id < 5")), pin(df.where("id >= 5"))
        assert a.is_cached and b.is_cached
        assert (a.count(), b.count()) == (5, 5)
    assert not a.is_cached and not b.is_cached
