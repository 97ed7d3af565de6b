"""Gold experiment jobs (seeds 000, 001, 002), one module per table kind.

Jobs (``spark_jobs/run.py <job> --ds DS --params '{"experiment": "<name>"}'``), in order:
``gold.experiments.base`` -> ``gold.experiments.outcomes`` -> ``gold.experiments.aggregated``
and ``gold.experiments.details`` for SaaS-funnel experiments; ``gold.experiments.user_exposure``
-> ``gold.experiments.user_outcomes`` for shop-funnel experiments (seed 002).
"""
