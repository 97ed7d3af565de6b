"""Create or update the Airflow pools the DAGs use (``include.airflow_tasks.POOLS``): a task in
a missing pool is never scheduled. Run by ``scripts/setup.sh`` and docker-compose's
``airflow-init``, after ``airflow db migrate``; one process instead of one CLI call per pool."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> int:
    from airflow.models.pool import Pool

    from include.airflow_tasks import POOLS

    for name, (slots, description) in sorted(POOLS.items()):
        Pool.create_or_update_pool(name, slots, description, include_deferred=False)
        print(f"pool {name}: {slots} slot(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
