"""Two days of gold.user_outcomes, written as a job writes them: through the engine of the
environment (scripts/env.sh) into the metastore, so the table gets its data-dictionary
comments and its ``_current`` view (include.catalog). ``tests/e2e/test_lockdown.py`` runs
it in its stack, then reads both over JDBC as the analyst.

pdp_redesign as of 2024-01-02 (p1, p2) and 2024-01-03 (p1, p2, p3); other_test as of
2024-01-02 (q1): 6 rows, of which the newest state per experiment is 4; then
pdp_redesign's views gold.pdp_redesign_outcomes (5 rows) and its ``_current`` (3 rows).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ROWS = {
    ("pdp_redesign", "2024-01-02"): ("p1", "p2"),
    ("pdp_redesign", "2024-01-03"): ("p1", "p2", "p3"),
    ("other_test", "2024-01-02"): ("q1",),
}


def main() -> int:
    from include.catalog import create_experiment_views
    from include.experiments import load_experiment
    from include.table_catalog_experiments import USER_OUTCOMES
    from include.tables import write_partition
    from spark_jobs.run import job_session

    at = datetime(2024, 1, 1, 10)
    with job_session("lockdown: user_outcomes of two days") as spark:
        for (experiment, ds), people in ROWS.items():
            rows = [(experiment, p, "control", at, at, True, 0, 0, 0, 0, None, 0, 0,
                     "Not Contaminated", "desktop", "NL", None, None, None, ds)
                    for p in people]  # fmt: skip
            df = spark.createDataFrame(rows, USER_OUTCOMES.spark_schema())
            write_partition(spark, df, USER_OUTCOMES, ds, slice_={"experiment": experiment})
        # what the user_outcomes job does after its write: pdp_redesign's own views
        create_experiment_views(spark, load_experiment("pdp_redesign"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
